import { Tensor } from 'onnxruntime-node';

import { HU_MAX, HU_MIN } from '../../src/model/architecture';
import {
  copyPatch,
  normalizeVolume,
  OUTSIDE_NORMALIZED,
  PatchError,
  patchBatches,
  patchGrid,
} from '../../src/imaging/patches';
import { LungPatchSampler } from '../../src/imaging/sampler';
import { seededRandom } from '../../src/util/seeded-random';
import { makeVolume, Vec3, Volume } from '../../src/imaging/volume';

const P = 48;

/** A volume whose value tells where it is: i + 128 j + 16384 k (exact in float32). */
function codedVolume(dims: Vec3): Volume<Float32Array> {
  const data = new Float32Array(dims[0] * dims[1] * dims[2]);
  for (let k = 0; k < dims[2]; k++) {
    for (let j = 0; j < dims[1]; j++) {
      for (let i = 0; i < dims[0]; i++)
        data[i + dims[0] * (j + dims[1] * k)] = i + 128 * j + 16384 * k;
    }
  }
  return makeVolume(data, dims, [2, 2, 2]);
}

function boxMask(dims: Vec3, lo: Vec3, hi: Vec3): Volume<Uint8Array> {
  const data = new Uint8Array(dims[0] * dims[1] * dims[2]);
  for (let k = lo[2]; k <= hi[2]; k++) {
    for (let j = lo[1]; j <= hi[1]; j++) {
      for (let i = lo[0]; i <= hi[0]; i++) data[i + dims[0] * (j + dims[1] * k)] = 1;
    }
  }
  return makeVolume(data, dims, [2, 2, 2]);
}

describe('model input', () => {
  it('clips HU to [-1020, 200] and maps it to [-0.5, 0.5]', () => {
    const hu = makeVolume(
      new Float32Array([-3000, HU_MIN, -410, HU_MAX, 3000]),
      [5, 1, 1],
      [2, 2, 2],
    );

    const normalized = normalizeVolume(hu).data;

    expect(Array.from(normalized)).toEqual([-0.5, -0.5, 0, 0.5, 0.5]);
  });

  it('lays the patch grid 38 voxels apart, centred on the lungs, and filters by lung fraction', () => {
    const dims: Vec3 = [140, 120, 100];
    const lung = boxMask(dims, [20, 30, 10], [119, 89, 89]);

    const grid = patchGrid(lung, { minLungFraction: 0.6 });
    const all = patchGrid(lung, { minLungFraction: 0 });

    // 100 voxels along i need 3 patches (48 + 2 * 38 = 124), centred: start 20 - 12;
    // 60 along j need 2 (86), start 30 - 13.
    expect([...new Set(all.origins.map((o) => o[0]))]).toEqual([8, 46, 84]);
    expect([...new Set(all.origins.map((o) => o[1]))]).toEqual([17, 55]);
    expect(all.candidateCount).toBe(3 * 2 * 2);
    expect(grid.origins.length).toBeLessThan(all.origins.length);
    expect(Math.min(...grid.lungFractions)).toBeGreaterThanOrEqual(0.6);
    expect(patchGrid(boxMask(dims, [0, 0, 0], [-1, -1, -1])).origins).toEqual([]);
  });

  it('fills [N, 48, 48, 48, 1] batches in place: ((n*48 + z)*48 + y)*48 + x', () => {
    const dims: Vec3 = [100, 90, 80];
    const volume = codedVolume(dims);
    const grid = patchGrid(boxMask(dims, [10, 10, 10], [89, 79, 69]), { minLungFraction: 0 });
    const buffer = new Float32Array(2 * P ** 3);

    const batches = [...patchBatches(volume, grid, 2, buffer)].map((b) => ({
      ...b,
      at: (n: number, x: number, y: number, z: number) => buffer[((n * P + z) * P + y) * P + x],
    }));

    expect(batches.map((b) => b.count)).toEqual([2, 2, 2, 2]);
    // The generator reuses the caller's buffer; check the last batch it filled.
    const last = batches[batches.length - 1];
    const [oi, oj, ok] = last.origins[1];
    const expected = (x: number, y: number, z: number): number => {
      const [i, j, k] = [oi + x, oj + y, ok + z];
      const inside = i >= 0 && j >= 0 && k >= 0 && i < dims[0] && j < dims[1] && k < dims[2];
      return inside ? i + 128 * j + 16384 * k : OUTSIDE_NORMALIZED;
    };
    for (const [x, y, z] of [
      [0, 0, 0],
      [47, 0, 0],
      [3, 17, 29],
      [47, 47, 47],
    ]) {
      expect(last.at(1, x, y, z)).toBe(expected(x, y, z));
    }
  });

  it('fills the very buffer an ONNX Runtime tensor wraps (no copy)', () => {
    const dims: Vec3 = [60, 60, 60];
    const volume = codedVolume(dims);
    const grid = patchGrid(boxMask(dims, [5, 5, 5], [54, 54, 54]), { minLungFraction: 0 });
    const buffer = new Float32Array(2 * P ** 3);
    const tensor = new Tensor('float32', buffer, [2, P, P, P, 1]);

    const [first] = patchBatches(volume, grid, 2, buffer);

    expect(tensor.data).toBe(buffer);
    const [i, j, k] = first.origins[0];
    const at = (x: number, y: number, z: number): number =>
      (tensor.data as Float32Array)[((0 * P + z) * P + y) * P + x];
    // The first patch starts at -13 (grid centred on the lungs): test a voxel inside.
    expect(at(30, 31, 32)).toBe(i + 30 + 128 * (j + 31) + 16384 * (k + 32));
    expect(at(0, 0, 0)).toBe(OUTSIDE_NORMALIZED);
  });

  it('pads patches that run past the volume with air and mirrors on request', () => {
    const volume = codedVolume([50, 50, 50]);
    const buffer = new Float32Array(P ** 3);

    copyPatch(volume, [-2, 5, 4], P, buffer, 0);
    expect(buffer[0]).toBe(OUTSIDE_NORMALIZED);
    expect(buffer[2]).toBe(0 + 128 * 5 + 16384 * 4);

    copyPatch(volume, [0, 0, 0], P, buffer, 0, { i: true, j: false, k: true });
    expect(buffer[0]).toBe(47 + 16384 * 47);
  });

  it('BAD CALL - refuses a buffer too small for the batch', () => {
    const volume = codedVolume([50, 50, 50]);
    const grid = patchGrid(boxMask([50, 50, 50], [0, 0, 0], [49, 49, 49]));

    expect(() => patchBatches(volume, grid, 2, new Float32Array(P ** 3)).next()).toThrow(
      PatchError,
    );
    expect(() => copyPatch(volume, [0, 0, 0], P, new Float32Array(10), 0)).toThrow(
      /target holds 10 values/,
    );
  });
});

describe('random training patches', () => {
  it('is reproducible from its seed and centres patches on lung voxels', () => {
    const dims: Vec3 = [120, 110, 100];
    const volume = codedVolume(dims);
    const lung = boxMask(dims, [70, 60, 50], [90, 80, 70]);
    const a = new LungPatchSampler(volume, lung, { seed: 42, flipAxes: { i: true } });
    const b = new LungPatchSampler(volume, lung, { seed: 42, flipAxes: { i: true } });
    const buffer = new Float32Array(3 * P ** 3);

    const drawnA = a.fillBatch(buffer, 3);
    const drawnB = b.fillBatch(new Float32Array(3 * P ** 3), 3);

    expect(drawnA).toEqual(drawnB);
    for (const { origin } of drawnA) {
      const centre = origin.map((o) => o + P / 2);
      expect(lung.data[centre[0] + dims[0] * (centre[1] + dims[1] * centre[2])]).toBe(1);
      origin.forEach((o, axis) => expect(o + P).toBeLessThanOrEqual(dims[axis]));
    }
    const flipped = Array.from({ length: 40 }, () => a.next().flips.i);
    expect(flipped).toContain(true);
    expect(flipped).toContain(false);
  });

  it('draws uniform numbers in [0, 1)', () => {
    const random = seededRandom(3);
    const values = Array.from({ length: 10000 }, random);

    expect(Math.min(...values)).toBeGreaterThanOrEqual(0);
    expect(Math.max(...values)).toBeLessThan(1);
    expect(values.reduce((s, v) => s + v, 0) / values.length).toBeCloseTo(0.5, 1);
  });
});
