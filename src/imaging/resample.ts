import {
  Direction3,
  indexToPatient,
  makeVolume,
  patientToIndex,
  Vec3,
  Volume,
  VoxelArray,
} from './volume';

/**
 * Resampling between grids that share a direction (the original slices and
 * the isotropic 2 mm grid of METHOD.md section 1, in both directions).
 *
 * Linear interpolation is done one axis at a time with a triangle kernel
 * widened by the shrink factor when the target voxel is larger than the
 * source voxel: plain (tri)linear when upsampling, an area-weighted low-pass
 * when downsampling, so 0.7 mm noise and edges do not alias into the 2 mm grid.
 */

export class ResampleError extends RangeError {
  override name = 'ResampleError';
}

/** Where a grid lies in patient space, without its data. */
export interface GridGeometry {
  dims: Vec3;
  spacingMm: Vec3;
  originMm: Vec3;
  direction: Direction3;
}

export function geometryOf(volume: Volume): GridGeometry {
  return {
    dims: [...volume.dims],
    spacingMm: [...volume.spacingMm],
    originMm: [...volume.originMm],
    direction: [...volume.direction],
  };
}

/**
 * The isotropic grid over the same field of view: same origin (centre of the
 * first voxel) and direction, `spacingMm` steps that stay inside the source.
 */
export function isotropicGrid(source: GridGeometry, spacingMm: number): GridGeometry {
  if (!(spacingMm > 0)) throw new ResampleError(`spacing must be positive, got ${spacingMm} mm`);
  const dims = source.dims.map(
    (n, axis) => Math.floor(((n - 1) * source.spacingMm[axis]) / spacingMm + 1e-6) + 1,
  ) as Vec3;
  return {
    dims,
    spacingMm: [spacingMm, spacingMm, spacingMm],
    originMm: [...source.originMm],
    direction: [...source.direction],
  };
}

/** Continuous index in `to` of a continuous index in `from`, through patient space. */
export function mapIndex(from: GridGeometry, to: GridGeometry, index: Vec3): Vec3 {
  return patientToIndex(to as Volume, indexToPatient(from as Volume, index));
}

/**
 * For each target index along one axis, the source position in source
 * voxels: `offset + scale * u`. Needs the same direction on both grids.
 */
function axisMaps(source: GridGeometry, target: GridGeometry): Array<[number, number]> {
  const differs = source.direction.some((c, n) => Math.abs(c - target.direction[n]) > 1e-6);
  if (differs) {
    throw new ResampleError(
      `grids must share a direction: [${source.direction}] vs [${target.direction}]`,
    );
  }
  const start = mapIndex(target, source, [0, 0, 0]);
  return [0, 1, 2].map((axis) => [start[axis], target.spacingMm[axis] / source.spacingMm[axis]]);
}

interface AxisTaps {
  /** First source index of each target sample, or -1 when it lies outside. */
  first: Int32Array;
  count: Int32Array;
  /** `maxTaps` weights per target sample, normalized to sum 1. */
  weights: Float32Array;
  maxTaps: number;
}

function linearTaps(n: number, m: number, offset: number, scale: number): AxisTaps {
  const width = Math.max(1, scale);
  const maxTaps = Math.ceil(2 * width) + 1;
  const first = new Int32Array(m).fill(-1);
  const count = new Int32Array(m);
  const weights = new Float32Array(m * maxTaps);

  for (let u = 0; u < m; u++) {
    const x = offset + scale * u;
    // A sample more than half a voxel beyond the outermost centres is outside.
    if (x < -0.5 || x > n - 0.5) continue;
    const low = Math.max(0, Math.ceil(x - width + 1e-9));
    const high = Math.min(n - 1, Math.floor(x + width - 1e-9));
    let sum = 0;
    for (let i = low; i <= high; i++) sum += Math.max(0, 1 - Math.abs(x - i) / width);
    if (high < low || sum <= 0) {
      // Between the last centre and the half-voxel border: nearest value.
      first[u] = Math.min(n - 1, Math.max(0, Math.round(x)));
      count[u] = 1;
      weights[u * maxTaps] = 1;
      continue;
    }
    first[u] = low;
    count[u] = high - low + 1;
    for (let i = low; i <= high; i++) {
      weights[u * maxTaps + i - low] = Math.max(0, 1 - Math.abs(x - i) / width) / sum;
    }
  }
  return { first, count, weights, maxTaps };
}

/** Resampling along i, the contiguous axis: one dot product per output voxel. */
function resampleRows(
  input: ArrayLike<number>,
  dims: Vec3,
  m: number,
  taps: AxisTaps,
  outsideValue: number,
): Float32Array {
  const n = dims[0];
  const lines = dims[1] * dims[2];
  const output = new Float32Array(lines * m);
  const { first, count, weights, maxTaps } = taps;

  for (let line = 0; line < lines; line++) {
    const from = line * n;
    const to = line * m;
    for (let u = 0; u < m; u++) {
      if (first[u] < 0) {
        output[to + u] = outsideValue;
        continue;
      }
      let sum = 0;
      const start = from + first[u];
      const w = u * maxTaps;
      for (let t = 0; t < count[u]; t++) sum += weights[w + t] * input[start + t];
      output[to + u] = sum;
    }
  }
  return output;
}

/**
 * Resampling along j or k. The data is seen as [outer, n, inner] (inner =
 * voxels before the axis), so the innermost loop runs over contiguous rows.
 */
function resampleAxis(
  input: Float32Array,
  dims: Vec3,
  axis: 1 | 2,
  m: number,
  taps: AxisTaps,
  outsideValue: number,
): Float32Array {
  const n = dims[axis];
  const inner = axis === 1 ? dims[0] : dims[0] * dims[1];
  const outer = axis === 1 ? dims[2] : 1;
  const output = new Float32Array(outer * m * inner);

  for (let o = 0; o < outer; o++) {
    for (let u = 0; u < m; u++) {
      const out = (o * m + u) * inner;
      if (taps.first[u] < 0) {
        output.fill(outsideValue, out, out + inner);
        continue;
      }
      for (let t = 0; t < taps.count[u]; t++) {
        const w = taps.weights[u * taps.maxTaps + t];
        const from = (o * n + taps.first[u] + t) * inner;
        for (let q = 0; q < inner; q++) output[out + q] += w * input[from + q];
      }
    }
  }
  return output;
}

/**
 * Linear resampling of `source` onto `target` (anti-aliased when shrinking).
 * Target voxels outside the source get `outsideValue` (air, -1024 HU, for CT).
 */
export function resampleLinear(
  source: Volume,
  target: GridGeometry,
  outsideValue = 0,
): Volume<Float32Array> {
  const maps = axisMaps(source, target);
  const taps = [0, 1, 2].map((axis) =>
    linearTaps(source.dims[axis], target.dims[axis], maps[axis][0], maps[axis][1]),
  );
  const [mI, mJ, mK] = target.dims;
  const [nI, nJ, nK] = source.dims;

  // i first: it shrinks the data most (0.7 mm pixels) and reads the input once.
  let data = resampleRows(source.data, [nI, nJ, nK], mI, taps[0], outsideValue);
  data = resampleAxis(data, [mI, nJ, nK], 1, mJ, taps[1], outsideValue);
  data = resampleAxis(data, [mI, mJ, nK], 2, mK, taps[2], outsideValue);
  return volumeOnGrid(data, target);
}

/** Nearest-neighbour resampling for masks and labels; outside voxels are 0. */
export function resampleNearest<T extends VoxelArray>(
  source: Volume<T>,
  target: GridGeometry,
): Volume<T> {
  const maps = axisMaps(source, target);
  const nearest = [0, 1, 2].map((axis) => {
    const [offset, scale] = maps[axis];
    return Int32Array.from({ length: target.dims[axis] }, (_, u) => {
      const i = Math.round(offset + scale * u);
      return i >= 0 && i < source.dims[axis] ? i : -1;
    });
  });
  const [nI, nJ] = source.dims;
  const [mI, mJ, mK] = target.dims;
  const data = new (source.data.constructor as new (n: number) => T)(mI * mJ * mK);

  for (let k = 0; k < mK; k++) {
    const sk = nearest[2][k];
    if (sk < 0) continue;
    for (let j = 0; j < mJ; j++) {
      const sj = nearest[1][j];
      if (sj < 0) continue;
      const from = nI * (sj + nJ * sk);
      const to = mI * (j + mJ * k);
      for (let i = 0; i < mI; i++) {
        const si = nearest[0][i];
        if (si >= 0) data[to + i] = source.data[from + si];
      }
    }
  }
  return volumeOnGrid(data, target);
}

/** Wraps resampled data in a volume with its own copy of the target geometry. */
function volumeOnGrid<T extends VoxelArray>(data: T, target: GridGeometry): Volume<T> {
  return makeVolume(
    data,
    [...target.dims],
    [...target.spacingMm],
    [...target.originMm],
    [...target.direction],
  );
}
