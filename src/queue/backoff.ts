/**
 * Delay before the next attempt after `attempts` failed ones: the base
 * doubles with each attempt up to the maximum, then "equal jitter" keeps half
 * of it fixed and draws the other half, so that jobs which failed together
 * (a database outage) do not all come back in the same second.
 */
export function backoffSeconds(
  attempts: number,
  baseSeconds: number,
  maxSeconds: number,
  random: () => number = Math.random,
): number {
  const exponent = Math.max(0, attempts - 1);
  const capped = Math.min(maxSeconds, baseSeconds * 2 ** exponent);
  return capped / 2 + (random() * capped) / 2;
}
