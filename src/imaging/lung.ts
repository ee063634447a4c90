import {
  boundingBox,
  closeBall,
  cropMask,
  fillHoles,
  fillHolesPerSlice,
  labelComponents,
  labelComponents2d,
  pasteMaskOr,
} from './morphology';
import { fillPleuralBites } from './pleural-fill';
import { makeVolume, Vec3, Volume } from './volume';

/**
 * Classical lung segmentation on the isotropic grid (METHOD.md section 1:
 * the paper's learned model is not public). Steps:
 * 1. air = HU below a threshold; air reachable from the edge of its axial
 *    plane is outside the body;
 * 2. the trachea and main bronchi are followed slice by slice from the top
 *    and removed, so they neither join the lungs nor count as lung;
 * 3. 3D components: the lungs are the one or two large ones;
 * 4. per lung, a closing with a ball and hole filling bring back vessels and
 *    pathology at the pleura (juxtapleural nodules, consolidation).
 */

export interface LungOptions {
  airThresholdHu: number;
  closingRadiusMm: number;
  minComponentMl: number;
  maxAirwayAreaMm2: number;
  /** Add dense bites at the costal pleura (consolidation, masses) to the lung. */
  fillPleuralBites: boolean;
}

export const DEFAULT_LUNG_OPTIONS: LungOptions = {
  airThresholdHu: -400,
  closingRadiusMm: 10,
  minComponentMl: 50,
  maxAirwayAreaMm2: 600,
  fillPleuralBites: true,
};

/** A second component smaller than this fraction of the first is gas in the gut, not a lung. */
const SECOND_LUNG_MIN_FRACTION = 0.1;

export interface LungMask {
  /** 1 = lung, on the grid of the HU volume it came from. */
  mask: Volume<Uint8Array>;
  lungVolumeMl: number;
  /** Lung components kept: 2 normally, 1 when the lungs touch. */
  componentCount: number;
  airwayVolumeMl: number;
}

export class LungSegmentationError extends Error {
  override name = 'LungSegmentationError';
}

export function segmentLungs(hu: Volume, options: Partial<LungOptions> = {}): LungMask {
  const settings = { ...DEFAULT_LUNG_OPTIONS, ...options };
  const { dims, spacingMm } = hu;
  const voxelMl = (spacingMm[0] * spacingMm[1] * spacingMm[2]) / 1000;

  const internalAir = new Uint8Array(hu.data.length);
  for (let p = 0; p < hu.data.length; p++) {
    internalAir[p] = hu.data[p] < settings.airThresholdHu ? 1 : 0;
  }
  const outside = removeOutsideAir(internalAir, dims);

  const airway = trackAirway(internalAir, hu, settings.maxAirwayAreaMm2);
  let airwayVoxels = 0;
  for (let p = 0; p < airway.length; p++) {
    if (!airway[p]) continue;
    airwayVoxels++;
    internalAir[p] = 0;
  }

  const lungs = largeComponents(internalAir, dims, settings.minComponentMl / voxelMl);
  if (lungs.length === 0) {
    throw new LungSegmentationError(
      `no air component of at least ${settings.minComponentMl} ml inside the body ` +
        `(threshold ${settings.airThresholdHu} HU)`,
    );
  }

  const mask = new Uint8Array(hu.data.length);
  const radius = settings.closingRadiusMm / spacingMm[0];
  for (const lung of lungs) closeAndFill(lung, dims, radius, mask);
  if (settings.fillPleuralBites) {
    for (let p = 0; p < outside.length; p++) outside[p] = outside[p] ? 0 : 1;
    fillPleuralBites(mask, outside, dims, spacingMm, hu.direction);
  }
  fillHoles(mask, dims);

  let lungVoxels = 0;
  for (let p = 0; p < mask.length; p++) lungVoxels += mask[p];
  return {
    mask: makeVolume(mask, [...dims], [...spacingMm], [...hu.originMm], [...hu.direction]),
    lungVolumeMl: lungVoxels * voxelMl,
    componentCount: lungs.length,
    airwayVolumeMl: airwayVoxels * voxelMl,
  };
}

/** Clears air connected (in its axial plane) to the plane's edge; returns that outside air. */
function removeOutsideAir(air: Uint8Array, dims: Vec3): Uint8Array {
  const [nI, nJ, nK] = dims;
  const plane = nI * nJ;
  const outside = new Uint8Array(air.length);
  for (let k = 0; k < nK; k++) {
    const slice = air.subarray(k * plane, (k + 1) * plane);
    const { labels, sizes } = labelComponents2d(slice, nI, nJ);
    const touching = new Uint8Array(sizes.length);
    for (let i = 0; i < nI; i++) {
      touching[labels[i]] = 1;
      touching[labels[i + nI * (nJ - 1)]] = 1;
    }
    for (let j = 0; j < nJ; j++) {
      touching[labels[nI * j]] = 1;
      touching[labels[nI - 1 + nI * j]] = 1;
    }
    for (let p = 0; p < plane; p++) {
      if (!touching[labels[p]]) continue;
      slice[p] = 0;
      outside[k * plane + p] = 1;
    }
  }
  return outside;
}

/**
 * Trachea and bronchi as small air cross-sections followed from the top
 * slice down: the seed is the most central small air region in the upper
 * third; below, a region is airway while it overlaps the airway of the slice
 * above and stays small. Where a bronchus opens into the lung the region
 * becomes large and the track ends.
 */
function trackAirway(air: Uint8Array, hu: Volume, maxAreaMm2: number): Uint8Array {
  const [nI, nJ, nK] = hu.dims;
  const plane = nI * nJ;
  const maxArea = maxAreaMm2 / (hu.spacingMm[0] * hu.spacingMm[1]);
  const airway = new Uint8Array(air.length);
  // Superior is +z in LPS; slices run inferior to superior when the normal points up.
  const superiorFirst = hu.direction[8] >= 0;
  const sliceAt = (step: number): number => (superiorFirst ? nK - 1 - step : step);
  let previous: Uint8Array | undefined;

  for (let step = 0; step < nK; step++) {
    const k = sliceAt(step);
    const slice = air.subarray(k * plane, (k + 1) * plane);
    const { labels, sizes } = labelComponents2d(slice, nI, nJ);
    const chosen = new Uint8Array(sizes.length);

    if (previous === undefined) {
      if (step > nK / 3) break;
      const seed = centralSmallComponent(labels, sizes, nI, nJ, maxArea);
      if (seed > 0) chosen[seed] = 1;
    } else {
      for (let p = 0; p < plane; p++) {
        const label = labels[p];
        if (label && previous[p] && sizes[label] <= maxArea) chosen[label] = 1;
      }
    }

    const current = new Uint8Array(plane);
    let any = false;
    for (let p = 0; p < plane; p++) {
      if (!chosen[labels[p]] || !labels[p]) continue;
      current[p] = 1;
      airway[k * plane + p] = 1;
      any = true;
    }
    if (previous !== undefined && !any) break;
    if (any) previous = current;
  }
  return airway;
}

/** The small component whose centroid is nearest the plane's centre line (left-right). */
function centralSmallComponent(
  labels: Int32Array,
  sizes: number[],
  nI: number,
  nJ: number,
  maxArea: number,
): number {
  const sumI = new Float64Array(sizes.length);
  const sumJ = new Float64Array(sizes.length);
  for (let p = 0; p < labels.length; p++) {
    sumI[labels[p]] += p % nI;
    sumJ[labels[p]] += (p / nI) | 0;
  }

  let best = 0;
  let bestOffset = Infinity;
  for (let label = 1; label < sizes.length; label++) {
    if (sizes[label] > maxArea || sizes[label] < 3) continue;
    const offset = Math.abs(sumI[label] / sizes[label] - nI / 2) / nI;
    const vertical = Math.abs(sumJ[label] / sizes[label] - nJ / 2) / nJ;
    // The trachea lies on the midline; lung apices are lateral.
    if (offset < 0.12 && vertical < 0.3 && offset < bestOffset) {
      best = label;
      bestOffset = offset;
    }
  }
  return best;
}

/** The largest component and, if big enough, the second: each as its own mask. */
function largeComponents(air: Uint8Array, dims: Vec3, minVoxels: number): Uint8Array[] {
  const { labels, sizes } = labelComponents(air, dims);
  const order = sizes
    .map((size, label) => ({ size, label }))
    .slice(1)
    .sort((a, b) => b.size - a.size)
    .filter(({ size }) => size >= minVoxels);
  const kept = order.filter(
    ({ size }, n) => n === 0 || (n === 1 && size >= SECOND_LUNG_MIN_FRACTION * order[0].size),
  );

  return kept.map(({ label }) => {
    const mask = new Uint8Array(air.length);
    for (let p = 0; p < labels.length; p++) if (labels[p] === label) mask[p] = 1;
    return mask;
  });
}

/** Closing and per-slice hole filling of one lung, inside its padded bounding box. */
function closeAndFill(lung: Uint8Array, dims: Vec3, radius: number, into: Uint8Array): void {
  const box = boundingBox(lung, dims);
  if (box === undefined) return;
  const pad = Math.ceil(radius) + 1;
  const lo = box[0].map((v) => Math.max(0, v - pad)) as Vec3;
  const hi = box[1].map((v, axis) => Math.min(dims[axis] - 1, v + pad)) as Vec3;
  const size = [0, 1, 2].map((axis) => hi[axis] - lo[axis] + 1) as Vec3;

  const closed = closeBall(cropMask(lung, dims, lo, size), size, radius);
  fillHolesPerSlice(closed, size);
  pasteMaskOr(into, dims, lo, size, closed);
}
