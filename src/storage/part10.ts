/** Identifies files and associations written by this node (PS3.7 D.3.3.2). */
export const IMPLEMENTATION_CLASS_UID = '2.25.56146948008587324502391847507305874505';
export const IMPLEMENTATION_VERSION_NAME = 'CT3DFLOW_010';

export interface FileMetaValues {
  mediaStorageSopClassUid: string;
  mediaStorageSopInstanceUid: string;
  transferSyntaxUid: string;
  sourceApplicationEntityTitle?: string;
}

/** Pads a value to even length (PS3.5 7.1.1): UIDs with NUL, text with space. */
function pad(value: string, padByte: number): Buffer {
  const bytes = Buffer.from(value, 'ascii');
  if (bytes.length % 2 === 0) return bytes;
  return Buffer.concat([bytes, Buffer.from([padByte])]);
}

/** One Explicit VR Little Endian element with a 2-byte length (PS3.5 7.1.2). */
function shortElement(element: number, vr: string, value: Buffer): Buffer {
  const head = Buffer.alloc(8);
  head.writeUInt16LE(0x0002, 0);
  head.writeUInt16LE(element, 2);
  head.write(vr, 4, 'ascii');
  head.writeUInt16LE(value.length, 6);
  return Buffer.concat([head, value]);
}

/** OB has a 4-byte length after two reserved bytes (PS3.5 7.1.2). */
function obElement(element: number, value: Buffer): Buffer {
  const head = Buffer.alloc(12);
  head.writeUInt16LE(0x0002, 0);
  head.writeUInt16LE(element, 2);
  head.write('OB', 4, 'ascii');
  head.writeUInt32LE(value.length, 8);
  return Buffer.concat([head, value]);
}

/**
 * The preamble, "DICM" and File Meta Information group (PS3.10 7.1) that
 * turn a dataset received over the network into a Part 10 file. The dataset
 * bytes follow unchanged, in the transfer syntax they arrived in.
 */
export function filePreambleAndMeta(values: FileMetaValues): Buffer {
  const elements = [
    obElement(0x0001, Buffer.from([0x00, 0x01])),
    shortElement(0x0002, 'UI', pad(values.mediaStorageSopClassUid, 0)),
    shortElement(0x0003, 'UI', pad(values.mediaStorageSopInstanceUid, 0)),
    shortElement(0x0010, 'UI', pad(values.transferSyntaxUid, 0)),
    shortElement(0x0012, 'UI', pad(IMPLEMENTATION_CLASS_UID, 0)),
    shortElement(0x0013, 'SH', pad(IMPLEMENTATION_VERSION_NAME, 0x20)),
  ];
  if (values.sourceApplicationEntityTitle !== undefined) {
    elements.push(shortElement(0x0016, 'AE', pad(values.sourceApplicationEntityTitle, 0x20)));
  }
  const body = Buffer.concat(elements);

  const groupLength = Buffer.alloc(4);
  groupLength.writeUInt32LE(body.length, 0);

  const preamble = Buffer.alloc(128);
  const magic = Buffer.from('DICM', 'ascii');
  return Buffer.concat([preamble, magic, shortElement(0x0000, 'UL', groupLength), body]);
}
