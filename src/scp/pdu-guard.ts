/** A PDU whose length breaks what was negotiated (PS3.8 9.3.1, 9.3.5). */
export class PduLengthError extends Error {
  override name = 'PduLengthError';
}

const P_DATA_TF = 0x04;

/**
 * Follows PDU boundaries in the raw byte stream of one connection, before
 * dcmjs-dimse accumulates a PDU in memory, and throws when a PDU is longer
 * than allowed. The library itself sets no limit, so a peer could otherwise
 * announce a 4 GiB PDU and have the node buffer it.
 */
export class PduGuard {
  private header = Buffer.alloc(6);
  private headerFill = 0;
  private remaining = 0;

  /**
   * @param maxPDataLengthBytes the Maximum Length this node announced
   *   (PS3.8 D.1): P-DATA-TF PDUs may not exceed it.
   * @param maxOtherLengthBytes the limit for association-control PDUs.
   */
  constructor(
    private readonly maxPDataLengthBytes: number,
    private readonly maxOtherLengthBytes = 1024 * 1024,
  ) {}

  inspect(data: Buffer): void {
    let offset = 0;
    while (offset < data.length) {
      if (this.remaining > 0) {
        const skip = Math.min(this.remaining, data.length - offset);
        this.remaining -= skip;
        offset += skip;
        continue;
      }

      const take = Math.min(6 - this.headerFill, data.length - offset);
      data.copy(this.header, this.headerFill, offset, offset + take);
      this.headerFill += take;
      offset += take;

      if (this.headerFill === 6) {
        this.headerFill = 0;
        this.remaining = this.checkedLength(this.header[0], this.header.readUInt32BE(2));
      }
    }
  }

  private checkedLength(type: number, length: number): number {
    const limit = type === P_DATA_TF ? this.maxPDataLengthBytes : this.maxOtherLengthBytes;
    if (length > limit) {
      throw new PduLengthError(
        `PDU type 0x${type.toString(16).padStart(2, '0')} of ${length} bytes ` +
          `exceeds the limit of ${limit} bytes`,
      );
    }
    return length;
  }
}
