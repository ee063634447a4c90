import { HU_MAX, HU_MIN, HU_RANGE } from '../model/architecture';
import { boundingBox } from './morphology';
import { makeVolume, Vec3, Volume } from './volume';

/**
 * Model input (METHOD.md section 1): HU clipped to [-1020, 200] and mapped to
 * [-0.5, 0.5]; 48^3 patches 38 voxels apart over the lungs. Tensors are
 * channels-last [N, 48, 48, 48, 1], element ((n*48 + z)*48 + y)*48 + x with
 * x along i (columns), y along j (rows), z along k (slices).
 */

export class PatchError extends RangeError {
  override name = 'PatchError';
}

/** Value of voxels outside the volume: air, the low end of the range. */
export const OUTSIDE_NORMALIZED = -0.5;

/** huToNormalized over a whole volume, into a new Float32 volume. */
export function normalizeVolume(hu: Volume): Volume<Float32Array> {
  // Local copies: imported bindings can compile to getter calls per voxel.
  const low = HU_MIN;
  const high = HU_MAX;
  const range = HU_RANGE;
  const data = new Float32Array(hu.data.length);
  for (let p = 0; p < data.length; p++) {
    const value = hu.data[p];
    const clipped = value > high ? high : value < low ? low : value;
    data[p] = (clipped - low) / range - 0.5;
  }
  return makeVolume(data, [...hu.dims], [...hu.spacingMm], [...hu.originMm], [...hu.direction]);
}

export interface PatchGridOptions {
  sizeVoxels: number;
  strideVoxels: number;
  minLungFraction: number;
}

export const DEFAULT_PATCH_GRID: PatchGridOptions = {
  sizeVoxels: 48,
  strideVoxels: 38,
  minLungFraction: 0.1,
};

export interface PatchGrid {
  sizeVoxels: number;
  strideVoxels: number;
  /** Index (i, j, k) of each kept patch's first voxel; may be negative or run past the edge. */
  origins: Vec3[];
  /** Lung fraction of each kept patch. */
  lungFractions: number[];
  /** Patches on the grid before the lung-fraction filter. */
  candidateCount: number;
}

/**
 * Origins along one axis: the fewest patches `stride` apart that cover
 * [low, high], centred on that span.
 */
function axisOrigins(low: number, high: number, size: number, stride: number): number[] {
  const span = high - low + 1;
  const count = span <= size ? 1 : Math.ceil((span - size) / stride) + 1;
  const covered = size + (count - 1) * stride;
  const start = low - Math.floor((covered - span) / 2);
  return Array.from({ length: count }, (_, n) => start + n * stride);
}

/** The regular patch grid over the lung bounding box, keeping patches with enough lung. */
export function patchGrid(lung: Volume<Uint8Array>, options: Partial<PatchGridOptions> = {}) {
  const { sizeVoxels, strideVoxels, minLungFraction } = { ...DEFAULT_PATCH_GRID, ...options };
  const grid: PatchGrid = {
    sizeVoxels,
    strideVoxels,
    origins: [],
    lungFractions: [],
    candidateCount: 0,
  };
  const box = boundingBox(lung.data, lung.dims);
  if (box === undefined) return grid;

  const along = [0, 1, 2].map((axis) =>
    axisOrigins(box[0][axis], box[1][axis], sizeVoxels, strideVoxels),
  );
  const patchVoxels = sizeVoxels ** 3;
  for (const k of along[2]) {
    for (const j of along[1]) {
      for (const i of along[0]) {
        grid.candidateCount++;
        const fraction = countInBox(lung, [i, j, k], sizeVoxels) / patchVoxels;
        if (fraction >= minLungFraction && fraction > 0) {
          grid.origins.push([i, j, k]);
          grid.lungFractions.push(fraction);
        }
      }
    }
  }
  return grid;
}

function countInBox(mask: Volume<Uint8Array>, origin: Vec3, size: number): number {
  const [nI, nJ, nK] = mask.dims;
  const i0 = Math.max(0, origin[0]);
  const i1 = Math.min(nI, origin[0] + size);
  let count = 0;
  const k1 = Math.min(nK, origin[2] + size);
  const j1 = Math.min(nJ, origin[1] + size);
  for (let k = Math.max(0, origin[2]); k < k1; k++) {
    for (let j = Math.max(0, origin[1]); j < j1; j++) {
      const row = nI * (j + nJ * k);
      for (let i = i0; i < i1; i++) count += mask.data[row + i];
    }
  }
  return count;
}

export interface PatchFlips {
  /** Mirror along i (left-right), j (anterior-posterior), k (superior-inferior). */
  i: boolean;
  j: boolean;
  k: boolean;
}

const NO_FLIPS: PatchFlips = { i: false, j: false, k: false };

/**
 * Copies one patch into `target` at patch slot `slot` (channels-last, one
 * channel). Rows fully inside the volume are copied with one `set` each;
 * voxels outside the volume are air.
 */
export function copyPatch(
  volume: Volume<Float32Array>,
  origin: Vec3,
  size: number,
  target: Float32Array,
  slot: number,
  flips: PatchFlips = NO_FLIPS,
): void {
  const patchVoxels = size ** 3;
  if ((slot + 1) * patchVoxels > target.length) {
    throw new PatchError(
      `target holds ${target.length} values, patch slot ${slot} of ${size}^3 needs ` +
        `${(slot + 1) * patchVoxels}`,
    );
  }
  const [nI, nJ, nK] = volume.dims;
  const base = slot * patchVoxels;

  for (let z = 0; z < size; z++) {
    const k = origin[2] + (flips.k ? size - 1 - z : z);
    for (let y = 0; y < size; y++) {
      const j = origin[1] + (flips.j ? size - 1 - y : y);
      const to = base + (z * size + y) * size;
      if (k < 0 || k >= nK || j < 0 || j >= nJ) {
        target.fill(OUTSIDE_NORMALIZED, to, to + size);
        continue;
      }
      const row = nI * (j + nJ * k);
      const inside = origin[0] >= 0 && origin[0] + size <= nI;
      if (inside && !flips.i) {
        target.set(volume.data.subarray(row + origin[0], row + origin[0] + size), to);
        continue;
      }
      for (let x = 0; x < size; x++) {
        const i = origin[0] + (flips.i ? size - 1 - x : x);
        target[to + x] = i >= 0 && i < nI ? volume.data[row + i] : OUTSIDE_NORMALIZED;
      }
    }
  }
}

export interface PatchBatch {
  /** Patches filled in this batch (the last batch may be short). */
  count: number;
  /** Index into the grid's origins of the batch's first patch. */
  firstPatch: number;
  origins: Vec3[];
}

/**
 * Fills the caller's buffer with consecutive batches of grid patches. The
 * buffer is reused for every batch, so an ONNX Runtime tensor created once
 * over it sees each batch without a copy; read it before asking for the next.
 */
export function* patchBatches(
  volume: Volume<Float32Array>,
  grid: PatchGrid,
  batchSize: number,
  buffer: Float32Array,
): Generator<PatchBatch> {
  const needed = batchSize * grid.sizeVoxels ** 3;
  if (!Number.isInteger(batchSize) || batchSize < 1 || buffer.length < needed) {
    throw new PatchError(
      `buffer of ${buffer.length} values cannot hold a batch of ${batchSize} patches ` +
        `of ${grid.sizeVoxels}^3 (${needed} values)`,
    );
  }
  for (let first = 0; first < grid.origins.length; first += batchSize) {
    const origins = grid.origins.slice(first, first + batchSize);
    origins.forEach((origin, slot) => copyPatch(volume, origin, grid.sizeVoxels, buffer, slot));
    yield { count: origins.length, firstPatch: first, origins };
  }
}
