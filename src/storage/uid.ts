/**
 * A UID that cannot name a file safely. UIDs come from the network, so the
 * message quotes the offending value for the sender's log.
 */
export class InvalidUidError extends Error {
  override name = 'InvalidUidError';

  constructor(
    readonly keyword: string,
    readonly value: unknown,
    reason: string,
  ) {
    super(`${keyword} ${JSON.stringify(value)} is not a valid UID: ${reason}`);
  }
}

/** PS3.5 9.1: components of digits separated by dots, at most 64 characters. */
const UID_MAX_LENGTH = 64;
const UID_PATTERN = /^[0-9]+(\.[0-9]+)*$/;

/**
 * Checks a UID before it becomes part of a path or a database key. Only
 * `[0-9.]` is allowed, which rules out `/`, `..`, NUL and anything a
 * filesystem could interpret. Leading zeros (PS3.5 9.1) are tolerated
 * because real scanners emit them and they are harmless in a file name.
 */
export function validateUid(keyword: string, value: unknown): string {
  if (typeof value !== 'string') throw new InvalidUidError(keyword, value, 'not a string');

  // A trailing NUL pads a UID to even length on the wire (PS3.5 9.1).
  const uid = value.replace(/\0+$/, '');

  if (uid.length === 0) throw new InvalidUidError(keyword, value, 'empty');
  if (uid.length > UID_MAX_LENGTH) {
    throw new InvalidUidError(keyword, value, `longer than ${UID_MAX_LENGTH} characters`);
  }
  if (!UID_PATTERN.test(uid)) {
    throw new InvalidUidError(keyword, value, 'only digits separated by single dots allowed');
  }
  return uid;
}
