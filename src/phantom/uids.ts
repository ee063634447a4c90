import { createHash } from 'node:crypto';

/**
 * UIDs under the 2.25 root (PS3.5 B.2: a UUID as one decimal integer),
 * derived from a hash of the study's identity so that regenerating the same
 * phantom gives the same UIDs, and any other phantom different ones.
 */
export function derivedUid(...parts: Array<string | number>): string {
  const digest = createHash('sha256').update(parts.join('/')).digest('hex');
  // 122 bits, as many as a random UUID carries; never a leading zero.
  const value = (BigInt(`0x${digest.slice(0, 32)}`) >> 6n) | (1n << 121n);
  return `2.25.${value.toString()}`;
}

/** Identifies this implementation in File Meta Information (PS3.10 7.1). */
export const IMPLEMENTATION_CLASS_UID = derivedUid('ct3dflow', 'phantom', 'implementation');
