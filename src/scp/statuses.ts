/**
 * C-STORE response statuses this node sends (PS3.4 B.2.3, PS3.7 C).
 * Each failure goes with an ErrorComment (0000,0902) saying why.
 */
export const StoreStatus = {
  Success: 0x0000,
  /** Refused: Out of Resources (disk full, database unreachable). */
  OutOfResources: 0xa700,
  /** Error: Data Set does not match SOP Class (UIDs differ from the command). */
  DatasetDoesNotMatchSopClass: 0xa900,
  /** Error: Cannot understand (unparsable dataset, unsafe UID). */
  CannotUnderstand: 0xc000,
} as const;

export interface StoreOutcome {
  status: number;
  errorComment?: string;
}

/** ErrorComment is LO: at most 64 characters (PS3.7 C.4.2.1.4, PS3.5 6.2). */
export function errorComment(text: string): string {
  return text.length <= 64 ? text : `${text.slice(0, 61)}...`;
}
