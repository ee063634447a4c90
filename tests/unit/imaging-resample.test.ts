import {
  geometryOf,
  isotropicGrid,
  mapIndex,
  resampleLinear,
  resampleNearest,
  ResampleError,
} from '../../src/imaging/resample';
import { indexToPatient, makeVolume, Vec3 } from '../../src/imaging/volume';

describe('resampling to the 2 mm grid and back', () => {
  const spacing: Vec3 = [0.7, 0.7, 1.25];
  const origin: Vec3 = [-180.3, -150.6, -402.5];

  it('covers the same field of view with 2 mm voxels from the same first voxel', () => {
    const source = makeVolume(new Int16Array(512 * 512 * 40), [512, 512, 40], spacing, origin);

    const grid = isotropicGrid(geometryOf(source), 2);

    expect(grid.dims).toEqual([179, 179, 25]);
    expect(grid.originMm).toEqual(origin);
    expect(grid.spacingMm).toEqual([2, 2, 2]);
  });

  it('reproduces a linear ramp exactly when upsampling (trilinear)', () => {
    const dims: Vec3 = [10, 8, 6];
    const data = new Float32Array(480);
    for (let k = 0; k < 6; k++) {
      for (let j = 0; j < 8; j++)
        for (let i = 0; i < 10; i++) data[i + 10 * (j + 8 * k)] = 3 * i + 2 * j - k;
    }
    const source = makeVolume(data, dims, [4, 4, 4], [0, 0, 0]);

    const fine = resampleLinear(source, isotropicGrid(geometryOf(source), 2));

    // Fine voxel (5, 3, 7) lies at source index (2.5, 1.5, 3.5).
    expect(fine.data[5 + fine.dims[0] * (3 + fine.dims[1] * 7)]).toBeCloseTo(
      3 * 2.5 + 2 * 1.5 - 3.5,
      4,
    );
  });

  it('low-passes when downsampling: 0.7 mm stripes average out instead of aliasing', () => {
    const dims: Vec3 = [300, 4, 4];
    const data = new Int16Array(300 * 16);
    for (let p = 0; p < data.length; p++) data[p] = (p % 300) % 2 === 0 ? -900 : 100;
    const source = makeVolume(data, dims, [0.7, 2, 2]);

    const coarse = resampleLinear(source, isotropicGrid(geometryOf(source), 2));

    const row = Array.from(coarse.data.subarray(2, coarse.dims[0] - 2));
    // Plain trilinear picks near-raw samples (spread of hundreds of HU); the
    // widened kernel keeps every value near the mean of -400.
    expect(Math.max(...row.map((v) => Math.abs(v + 400)))).toBeLessThan(60);
  });

  it('maps a point of the 2 mm grid back to the right original slice and pixel', () => {
    const source = makeVolume(new Int16Array(64 * 64 * 30), [64, 64, 30], spacing, origin);
    const grid = isotropicGrid(geometryOf(source), 2);

    const index = mapIndex(grid, geometryOf(source), [10, 20, 6]);

    // 10 * 2 / 0.7, 20 * 2 / 0.7, 6 * 2 / 1.25 in original voxels.
    expect(index[0]).toBeCloseTo(28.5714, 3);
    expect(index[1]).toBeCloseTo(57.1429, 3);
    expect(index[2]).toBeCloseTo(9.6, 6);
    const back = indexToPatient(source, index);
    expect(back).toEqual(
      indexToPatient(grid as never, [10, 20, 6]).map((v) => expect.closeTo(v, 6)),
    );
  });

  it('brings a 2 mm map back onto the original slices (nearest and linear)', () => {
    const source = makeVolume(new Int16Array(40 * 40 * 20), [40, 40, 20], [0.8, 0.8, 1.6], origin);
    const grid = isotropicGrid(geometryOf(source), 2);
    const map = makeVolume(
      new Uint8Array(grid.dims[0] * grid.dims[1] * grid.dims[2]),
      grid.dims,
      grid.spacingMm,
      grid.originMm,
      grid.direction,
    );
    // Mark 2 mm voxel (5, 6, 4): it covers original x in [4.0, 6.0) mm-ish.
    map.data[5 + grid.dims[0] * (6 + grid.dims[1] * 4)] = 1;

    const nearest = resampleNearest(map, geometryOf(source));
    const linear = resampleLinear(map, geometryOf(source));

    // Original voxel (i, j, k) at (0.8 i, 0.8 j, 1.6 k) mm from the origin; the marked
    // 2 mm voxel is at (10, 12, 8) mm, i.e. original (12.5, 15, 5).
    const at = (v: { data: ArrayLike<number>; dims: Vec3 }, i: number, j: number, k: number) =>
      v.data[i + v.dims[0] * (j + v.dims[1] * k)];
    expect(at(nearest, 12, 15, 5)).toBe(1);
    expect(at(nearest, 15, 15, 5)).toBe(0);
    expect(at(linear, 12, 15, 5)).toBeGreaterThan(0.5);
    expect(at(linear, 20, 15, 5)).toBe(0);
  });

  it('BAD CALL - refuses grids with different directions', () => {
    const source = makeVolume(new Int16Array(8), [2, 2, 2], [1, 1, 1]);
    const target = { ...geometryOf(source), direction: [0, 1, 0, 1, 0, 0, 0, 0, 1] as never };

    expect(() => resampleLinear(source, target)).toThrow(ResampleError);
    expect(() => isotropicGrid(geometryOf(source), 0)).toThrow(/spacing must be positive, got 0/);
  });
});
