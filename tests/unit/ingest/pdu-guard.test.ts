import { PduGuard, PduLengthError } from '../../../src/scp/pdu-guard';

function pdu(type: number, length: number): Buffer {
  const bytes = Buffer.alloc(6 + length);
  bytes[0] = type;
  bytes.writeUInt32BE(length, 2);
  return bytes;
}

describe('PduGuard', () => {
  it('follows PDU boundaries across arbitrary chunking', () => {
    const guard = new PduGuard(1000);
    const stream = Buffer.concat([pdu(0x01, 300), pdu(0x04, 1000), pdu(0x04, 10), pdu(0x05, 4)]);

    for (let offset = 0; offset < stream.length; offset += 7) {
      guard.inspect(stream.subarray(offset, offset + 7));
    }
  });

  it('BAD PDU - throws for a P-DATA-TF longer than the announced maximum, quoting both', () => {
    const guard = new PduGuard(1000);
    guard.inspect(pdu(0x04, 1000));

    const header = pdu(0x04, 1001).subarray(0, 6);
    expect(() => guard.inspect(header.subarray(0, 3))).not.toThrow();
    expect(() => guard.inspect(header.subarray(3))).toThrow(PduLengthError);
    expect(() => new PduGuard(1000).inspect(header)).toThrow(
      'PDU type 0x04 of 1001 bytes exceeds the limit of 1000 bytes',
    );
  });

  it('BAD PDU - throws for an association request announcing 4 GiB', () => {
    const header = Buffer.from([0x01, 0, 0xff, 0xff, 0xff, 0xff]);
    expect(() => new PduGuard(65536).inspect(header)).toThrow(/4294967295 bytes/);
  });
});
