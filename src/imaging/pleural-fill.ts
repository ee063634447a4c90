import { Direction3, Vec3 } from './volume';

/**
 * Brings dense pathology at the costal pleura back into the lung mask:
 * consolidation or a large peripheral mass is too wide for the closing ball,
 * and a threshold cuts it out as a bite in the lung outline.
 *
 * Per axial slice and per side of the body midline, the convex hull of the
 * lung is drawn; the pixels between hull and lung are bites. Bite pixels
 * on the costal side (see below) become lung, unless there are more of them
 * than half the lung section (then the slice is left as it is).
 */

/** How much nearer the midline than the lung's centre a posterior bite may lie, in lung widths. */
const MEDIAL_TOLERANCE = 0.1;
/** Bites larger than half the lung section are organs (liver or spleen dome), not lung. */
const MAX_BITE_FRACTION = 0.5;
/**
 * A posterior ray may cross this much bite: dependent consolidation is
 * reached, the heart above a consolidation is not.
 */
const MAX_POSTERIOR_DEPTH_MM = 25;

export function fillPleuralBites(
  lung: Uint8Array,
  body: Uint8Array,
  dims: Vec3,
  spacingMm: Vec3,
  direction: Direction3,
): number {
  const [nI, nJ, nK] = dims;
  // Posterior is +y in LPS: the sign of the j axis' y component.
  const posteriorSign = direction[4] >= 0 ? 1 : -1;
  const maxPosteriorDepth = Math.round(MAX_POSTERIOR_DEPTH_MM / spacingMm[1]);
  const plane = nI * nJ;
  const midlineI = lungMidline(lung, dims);
  let added = 0;

  for (let k = 0; k < nK; k++) {
    const slice = lung.subarray(k * plane, (k + 1) * plane);
    const bodySlice = body.subarray(k * plane, (k + 1) * plane);
    for (const side of [-1, 1]) {
      added += fillSide(slice, bodySlice, nI, nJ, midlineI, side, posteriorSign, maxPosteriorDepth);
    }
  }
  return added;
}

/** The i between the two lungs: the middle of the lung mask's extent. */
function lungMidline(lung: Uint8Array, dims: Vec3): number {
  let low = Infinity;
  let high = -Infinity;
  for (let p = 0; p < lung.length; p++) {
    if (!lung[p]) continue;
    const i = p % dims[0];
    if (i < low) low = i;
    if (i > high) high = i;
  }
  return (low + high) / 2;
}

function fillSide(
  slice: Uint8Array,
  body: Uint8Array,
  nI: number,
  nJ: number,
  midlineI: number,
  side: number,
  posteriorSign: number,
  maxPosteriorDepth: number,
): number {
  const iFrom = side < 0 ? 0 : Math.ceil(midlineI);
  const iTo = side < 0 ? Math.ceil(midlineI) : nI;
  const rowLow = new Int32Array(nJ).fill(-1);
  const rowHigh = new Int32Array(nJ).fill(-1);
  let lungArea = 0;
  let lungSumI = 0;
  let lowI = Infinity;
  let highI = -Infinity;

  for (let j = 0; j < nJ; j++) {
    for (let i = iFrom; i < iTo; i++) {
      if (!slice[i + nI * j]) continue;
      if (rowLow[j] < 0) rowLow[j] = i;
      rowHigh[j] = i;
      lungArea++;
      lungSumI += i;
    }
    if (rowLow[j] >= 0) {
      lowI = Math.min(lowI, rowLow[j]);
      highI = Math.max(highI, rowHigh[j]);
    }
  }
  if (lungArea < 20) return 0;

  const hull = convexHull(rowLow, rowHigh);
  const bites = new Uint8Array(nI * nJ);
  for (let j = 0; j < nJ; j++) {
    const [from, to] = hullRow(hull, j);
    for (let i = Math.max(iFrom, from); i <= Math.min(iTo - 1, to); i++) {
      const p = i + nI * j;
      if (!slice[p] && body[p]) bites[p] = 1;
    }
  }

  // A bite pixel is costal when a ray from it leaves the hull without
  // crossing lung: sideways (away from the midline), or backwards (posterior,
  // through at most MAX_POSTERIOR_DEPTH_MM of bite) when it is not nearer the
  // midline than the lung's centre. The heart and
  // the liver dome have lung lateral and behind them; the spine is medial.
  const lungOffset = Math.abs(lungSumI / lungArea - midlineI);
  const width = highI - lowI + 1;
  const costal = new Uint8Array(nI * nJ);
  for (let j = 0; j < nJ; j++) {
    let free = true;
    for (let n = 0; n < iTo - iFrom; n++) {
      const i = side < 0 ? iFrom + n : iTo - 1 - n;
      const p = i + nI * j;
      if (slice[p]) free = false;
      else if (bites[p] && free) costal[p] = 1;
    }
  }
  for (let i = iFrom; i < iTo; i++) {
    if (Math.abs(i - midlineI) < lungOffset - MEDIAL_TOLERANCE * width) continue;
    let free = true;
    let depth = 0;
    for (let n = 0; n < nJ; n++) {
      const j = posteriorSign > 0 ? nJ - 1 - n : n;
      const p = i + nI * j;
      if (slice[p]) free = false;
      if (!bites[p]) continue;
      depth++;
      if (free && depth <= maxPosteriorDepth) costal[p] = 1;
    }
  }

  let added = 0;
  for (let p = 0; p < costal.length; p++) added += costal[p];
  if (added > MAX_BITE_FRACTION * lungArea) return 0;
  for (let p = 0; p < costal.length; p++) if (costal[p]) slice[p] = 1;
  return added;
}

type Point = [number, number];

/** Andrew's monotone chain over the row extremes (pixel centres), as [i, j] points. */
function convexHull(rowLow: Int32Array, rowHigh: Int32Array): Point[] {
  const points: Point[] = [];
  for (let j = 0; j < rowLow.length; j++) {
    if (rowLow[j] < 0) continue;
    points.push([rowLow[j], j]);
    if (rowHigh[j] !== rowLow[j]) points.push([rowHigh[j], j]);
  }
  points.sort((a, b) => a[0] - b[0] || a[1] - b[1]);
  if (points.length < 3) return points;

  const cross = (o: Point, a: Point, b: Point): number =>
    (a[0] - o[0]) * (b[1] - o[1]) - (a[1] - o[1]) * (b[0] - o[0]);
  const lower: Point[] = [];
  for (const p of points) {
    while (lower.length >= 2 && cross(lower[lower.length - 2], lower[lower.length - 1], p) <= 0) {
      lower.pop();
    }
    lower.push(p);
  }
  const upper: Point[] = [];
  for (const p of [...points].reverse()) {
    while (upper.length >= 2 && cross(upper[upper.length - 2], upper[upper.length - 1], p) <= 0) {
      upper.pop();
    }
    upper.push(p);
  }
  return [...lower.slice(0, -1), ...upper.slice(0, -1)];
}

/** The i range [from, to] of the convex polygon on row j; empty (from > to) when it misses. */
function hullRow(hull: Point[], j: number): [number, number] {
  let from = Infinity;
  let to = -Infinity;
  for (let n = 0; n < hull.length; n++) {
    const a = hull[n];
    const b = hull[(n + 1) % hull.length];
    if ((a[1] - j) * (b[1] - j) > 0) continue;
    if (a[1] === b[1]) {
      from = Math.min(from, a[0], b[0]);
      to = Math.max(to, a[0], b[0]);
      continue;
    }
    const i = a[0] + ((j - a[1]) * (b[0] - a[0])) / (b[1] - a[1]);
    from = Math.min(from, i);
    to = Math.max(to, i);
  }
  return [Math.ceil(from - 1e-9), Math.floor(to + 1e-9)];
}
