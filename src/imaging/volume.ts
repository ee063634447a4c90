/**
 * A 3D image on a regular grid in patient coordinates (LPS, PS3.3 C.7.6.2.1.1).
 *
 * Voxel (i, j, k) lies at `origin + i*spacing[0]*direction.col0 +
 * j*spacing[1]*direction.col1 + k*spacing[2]*direction.col2`; i runs along
 * columns (x), j along rows (y), k along slices (z). Data is stored with i
 * fastest: index = i + dims[0] * (j + dims[1] * k).
 */
export type VoxelArray = Float32Array | Int16Array | Uint8Array | Uint16Array | Int32Array;

export type Vec3 = [number, number, number];

/** Three unit column vectors, row-major: [c0x, c1x, c2x, c0y, c1y, c2y, c0z, c1z, c2z]. */
export type Direction3 = [number, number, number, number, number, number, number, number, number];

export const IDENTITY_DIRECTION: Direction3 = [1, 0, 0, 0, 1, 0, 0, 0, 1];

export interface Volume<T extends VoxelArray = VoxelArray> {
  data: T;
  /** Voxel counts along i, j, k. */
  dims: Vec3;
  /** Voxel size in mm along i, j, k. */
  spacingMm: Vec3;
  /** Centre of voxel (0, 0, 0) in patient coordinates, mm. */
  originMm: Vec3;
  direction: Direction3;
}

export class VolumeShapeError extends RangeError {
  override name = 'VolumeShapeError';
}

export function voxelCount(dims: Vec3): number {
  return dims[0] * dims[1] * dims[2];
}

/** Wraps data in a volume after checking that its length matches the dims. */
export function makeVolume<T extends VoxelArray>(
  data: T,
  dims: Vec3,
  spacingMm: Vec3,
  originMm: Vec3 = [0, 0, 0],
  direction: Direction3 = IDENTITY_DIRECTION,
): Volume<T> {
  if (dims.some((n) => !Number.isInteger(n) || n <= 0)) {
    throw new VolumeShapeError(`dims must be positive integers, got [${dims.join(', ')}]`);
  }
  if (data.length !== voxelCount(dims)) {
    throw new VolumeShapeError(
      `data has ${data.length} voxels but dims [${dims.join(', ')}] need ${voxelCount(dims)}`,
    );
  }
  if (spacingMm.some((s) => !(s > 0))) {
    throw new VolumeShapeError(`spacing must be positive, got [${spacingMm.join(', ')}] mm`);
  }
  return { data, dims, spacingMm, originMm, direction };
}

/** Patient coordinates (mm) of a continuous voxel index. */
export function indexToPatient(volume: Volume, index: Vec3): Vec3 {
  const d = volume.direction;
  const s = volume.spacingMm;
  const o = volume.originMm;
  const a = index[0] * s[0];
  const b = index[1] * s[1];
  const c = index[2] * s[2];
  return [
    o[0] + d[0] * a + d[1] * b + d[2] * c,
    o[1] + d[3] * a + d[4] * b + d[5] * c,
    o[2] + d[6] * a + d[7] * b + d[8] * c,
  ];
}

/** Continuous voxel index of a patient point; the direction must be orthonormal. */
export function patientToIndex(volume: Volume, point: Vec3): Vec3 {
  const d = volume.direction;
  const s = volume.spacingMm;
  const p = [
    point[0] - volume.originMm[0],
    point[1] - volume.originMm[1],
    point[2] - volume.originMm[2],
  ];
  // The inverse of an orthonormal matrix is its transpose.
  return [
    (d[0] * p[0] + d[3] * p[1] + d[6] * p[2]) / s[0],
    (d[1] * p[0] + d[4] * p[1] + d[7] * p[2]) / s[1],
    (d[2] * p[0] + d[5] * p[1] + d[8] * p[2]) / s[2],
  ];
}
