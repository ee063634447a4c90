/** An error in what the user gave: its message names the file and the field. */
export class UsageError extends Error {
  override name = 'UsageError';
}
