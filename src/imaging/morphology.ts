import { Vec3 } from './volume';

/**
 * Binary morphology on 0/1 masks stored like volumes (i fastest). Distances
 * are in voxels; callers convert mm with the (isotropic) spacing.
 */

export interface Components {
  /** 0 for background, 1..count for the components. */
  labels: Int32Array;
  /** sizes[label] in voxels; sizes[0] is unused. */
  sizes: number[];
}

/**
 * Pushes the unvisited 6-neighbours of p that have `value` in `mask` onto
 * the queue and marks them; returns the new queue tail. Kept at module level
 * (not a closure in the loop) because it runs once per voxel.
 */
function pushNeighbours(
  p: number,
  dims: Vec3,
  mask: Uint8Array,
  value: number,
  marks: Int32Array | Uint8Array,
  mark: number,
  queue: Int32Array,
  tail: number,
): number {
  const nI = dims[0];
  const plane = nI * dims[1];
  const i = p % nI;
  const j = ((p - i) / nI) % dims[1];
  const k = (p - i - nI * j) / plane;
  if (i > 0 && mask[p - 1] === value && !marks[p - 1]) {
    marks[p - 1] = mark;
    queue[tail++] = p - 1;
  }
  if (i < nI - 1 && mask[p + 1] === value && !marks[p + 1]) {
    marks[p + 1] = mark;
    queue[tail++] = p + 1;
  }
  if (j > 0 && mask[p - nI] === value && !marks[p - nI]) {
    marks[p - nI] = mark;
    queue[tail++] = p - nI;
  }
  if (j < dims[1] - 1 && mask[p + nI] === value && !marks[p + nI]) {
    marks[p + nI] = mark;
    queue[tail++] = p + nI;
  }
  if (k > 0 && mask[p - plane] === value && !marks[p - plane]) {
    marks[p - plane] = mark;
    queue[tail++] = p - plane;
  }
  if (k < dims[2] - 1 && mask[p + plane] === value && !marks[p + plane]) {
    marks[p + plane] = mark;
    queue[tail++] = p + plane;
  }
  return tail;
}

/** Face-connected (6-neighbour) components, labelled in scan order. */
export function labelComponents(mask: Uint8Array, dims: Vec3): Components {
  const labels = new Int32Array(mask.length);
  const sizes = [0];
  const queue = new Int32Array(mask.length);

  for (let seed = 0; seed < mask.length; seed++) {
    if (mask[seed] !== 1 || labels[seed]) continue;
    const label = sizes.length;
    let tail = 0;
    queue[tail++] = seed;
    labels[seed] = label;
    for (let head = 0; head < tail; head++) {
      tail = pushNeighbours(queue[head], dims, mask, 1, labels, label, queue, tail);
    }
    sizes.push(tail);
  }
  return { labels, sizes };
}

/** 4-connected components of one 2D plane (width x height). */
export function labelComponents2d(mask: Uint8Array, width: number, height: number): Components {
  return labelComponents(mask, [width, height, 1]);
}

/**
 * Sets every background voxel that cannot reach the volume's border through
 * background (6-connectivity): enclosed cavities such as vessels in a lung.
 */
export function fillHoles(mask: Uint8Array, dims: Vec3): void {
  const [nI, nJ, nK] = dims;
  const outside = new Uint8Array(mask.length);
  const queue = new Int32Array(mask.length);
  let tail = 0;

  for (let k = 0; k < nK; k++) {
    for (let j = 0; j < nJ; j++) {
      for (let i = 0; i < nI; i++) {
        const border =
          i === 0 || j === 0 || k === 0 || i === nI - 1 || j === nJ - 1 || k === nK - 1;
        const p = i + nI * (j + nJ * k);
        if (border && !mask[p]) {
          outside[p] = 1;
          queue[tail++] = p;
        }
      }
    }
  }

  for (let head = 0; head < tail; head++) {
    tail = pushNeighbours(queue[head], dims, mask, 0, outside, 1, queue, tail);
  }
  for (let p = 0; p < mask.length; p++) if (!outside[p]) mask[p] = 1;
}

/** fillHoles on each axial plane (fixed k) separately. */
export function fillHolesPerSlice(mask: Uint8Array, dims: Vec3): void {
  const plane = dims[0] * dims[1];
  for (let k = 0; k < dims[2]; k++) {
    fillHoles(mask.subarray(k * plane, (k + 1) * plane), [dims[0], dims[1], 1]);
  }
}

const FAR = 1e20;

/** Felzenszwalb-Huttenlocher lower envelope of parabolas along one line. */
function distanceLine(f: Float64Array, n: number, d: Float64Array, v: Int32Array, z: Float64Array) {
  let k = 0;
  v[0] = 0;
  z[0] = -Infinity;
  z[1] = Infinity;
  for (let q = 1; q < n; q++) {
    let s = (f[q] + q * q - (f[v[k]] + v[k] * v[k])) / (2 * q - 2 * v[k]);
    while (s <= z[k]) {
      k--;
      s = (f[q] + q * q - (f[v[k]] + v[k] * v[k])) / (2 * q - 2 * v[k]);
    }
    k++;
    v[k] = q;
    z[k] = s;
    z[k + 1] = Infinity;
  }
  k = 0;
  for (let q = 0; q < n; q++) {
    while (z[k + 1] < q) k++;
    d[q] = (q - v[k]) * (q - v[k]) + f[v[k]];
  }
}

/**
 * Squared Euclidean distance (voxels) from each voxel to the nearest voxel
 * where `isFeature` holds; exact, separable, linear time.
 */
export function squaredDistance(mask: Uint8Array, dims: Vec3, featureValue: 0 | 1): Float32Array {
  const distance = new Float32Array(mask.length);
  for (let p = 0; p < mask.length; p++) distance[p] = (mask[p] ? 1 : 0) === featureValue ? 0 : FAR;

  const longest = Math.max(...dims);
  const f = new Float64Array(longest);
  const d = new Float64Array(longest);
  const v = new Int32Array(longest);
  const z = new Float64Array(longest + 1);
  const strides = [1, dims[0], dims[0] * dims[1]];

  for (let axis = 0; axis < 3; axis++) {
    const n = dims[axis];
    const stride = strides[axis];
    const others = [0, 1, 2].filter((a) => a !== axis);
    for (let b = 0; b < dims[others[1]]; b++) {
      for (let a = 0; a < dims[others[0]]; a++) {
        const start = a * strides[others[0]] + b * strides[others[1]];
        for (let q = 0; q < n; q++) f[q] = distance[start + q * stride];
        distanceLine(f, n, d, v, z);
        for (let q = 0; q < n; q++) distance[start + q * stride] = d[q];
      }
    }
  }
  return distance;
}

/**
 * The digital ball of `radius` holds the voxels within radius + 1/2 of its
 * centre: with the bare radius, distances like sqrt(r^2 + 1) just miss and a
 * closing leaves one-voxel pits in flat faces.
 */
function ballLimit(radius: number): number {
  return (radius + 0.5) * (radius + 0.5);
}

/** Dilation by a ball of `radius` voxels. */
export function dilateBall(mask: Uint8Array, dims: Vec3, radius: number): Uint8Array {
  const distance = squaredDistance(mask, dims, 1);
  const limit = ballLimit(radius);
  const out = new Uint8Array(mask.length);
  for (let p = 0; p < mask.length; p++) out[p] = distance[p] <= limit ? 1 : 0;
  return out;
}

/** Erosion by a ball of `radius` voxels; beyond the border counts as set. */
export function erodeBall(mask: Uint8Array, dims: Vec3, radius: number): Uint8Array {
  const distance = squaredDistance(mask, dims, 0);
  const limit = ballLimit(radius);
  const out = new Uint8Array(mask.length);
  for (let p = 0; p < mask.length; p++) out[p] = distance[p] > limit ? 1 : 0;
  return out;
}

/** Closing (dilation then erosion) by a ball: fills notches narrower than 2 * radius. */
export function closeBall(mask: Uint8Array, dims: Vec3, radius: number): Uint8Array {
  if (radius <= 0) return mask.slice();
  return erodeBall(dilateBall(mask, dims, radius), dims, radius);
}

/** Bounding box [min, max] (inclusive) of the set voxels, or undefined when empty. */
export function boundingBox(mask: ArrayLike<number>, dims: Vec3): [Vec3, Vec3] | undefined {
  const min: Vec3 = [Infinity, Infinity, Infinity];
  const max: Vec3 = [-1, -1, -1];
  let p = 0;
  for (let k = 0; k < dims[2]; k++) {
    for (let j = 0; j < dims[1]; j++) {
      for (let i = 0; i < dims[0]; i++, p++) {
        if (!mask[p]) continue;
        if (i < min[0]) min[0] = i;
        if (i > max[0]) max[0] = i;
        if (j < min[1]) min[1] = j;
        if (j > max[1]) max[1] = j;
        if (k < min[2]) min[2] = k;
        if (k > max[2]) max[2] = k;
      }
    }
  }
  return max[0] < 0 ? undefined : [min, max];
}

/** Copies the box [lo, lo + size) out of a mask. */
export function cropMask(mask: Uint8Array, dims: Vec3, lo: Vec3, size: Vec3): Uint8Array {
  const out = new Uint8Array(size[0] * size[1] * size[2]);
  for (let k = 0; k < size[2]; k++) {
    for (let j = 0; j < size[1]; j++) {
      const from = lo[0] + dims[0] * (lo[1] + j + dims[1] * (lo[2] + k));
      out.set(mask.subarray(from, from + size[0]), size[0] * (j + size[1] * k));
    }
  }
  return out;
}

/** ORs a cropped mask back into the full mask at `lo`. */
export function pasteMaskOr(mask: Uint8Array, dims: Vec3, lo: Vec3, size: Vec3, part: Uint8Array) {
  for (let k = 0; k < size[2]; k++) {
    for (let j = 0; j < size[1]; j++) {
      const to = lo[0] + dims[0] * (lo[1] + j + dims[1] * (lo[2] + k));
      const from = size[0] * (j + size[1] * k);
      for (let i = 0; i < size[0]; i++) if (part[from + i]) mask[to + i] = 1;
    }
  }
}
