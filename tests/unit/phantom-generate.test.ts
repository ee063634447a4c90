import { createHash } from 'node:crypto';

import { generatePhantom, PADDING_HU, Phantom } from '../../src/phantom/generate';
import { PATHOLOGY_FAMILIES, PhantomOptions, PhantomOptionsError } from '../../src/phantom/options';
import { tissueStats } from '../../src/phantom/realism';

/** Small phantoms (96 x 96, 5 mm slices) keep the suite fast; geometry is the same at 512. */
const SMALL: Omit<PhantomOptions, 'seed'> = { matrix: 96, sliceThicknessMm: 5 };

function small(options: PhantomOptions): Phantom {
  return generatePhantom({ ...SMALL, ...options });
}

function sha256(data: ArrayBufferView): string {
  return createHash('sha256')
    .update(Buffer.from(data.buffer, data.byteOffset, data.byteLength))
    .digest('hex');
}

function labelCounts(mask: Uint8Array): Map<number, number> {
  const counts = new Map<number, number>();
  for (const v of mask) if (v > 0) counts.set(v, (counts.get(v) ?? 0) + 1);
  return counts;
}

describe('phantom generator', () => {
  it('gives byte-identical pixels and masks for the same seed and options', () => {
    const a = small({ seed: 5, pathology: 'mixed', severity: 0.6 });
    const b = small({ seed: 5, pathology: 'mixed', severity: 0.6 });
    expect(sha256(a.volumeHu.data)).toBe(sha256(b.volumeHu.data));
    expect(sha256(a.lesionMask.data)).toBe(sha256(b.lesionMask.data));
    expect(a.truth).toEqual(b.truth);

    const other = small({ seed: 6, pathology: 'mixed', severity: 0.6 });
    expect(sha256(other.volumeHu.data)).not.toBe(sha256(a.volumeHu.data));
  });

  it('keeps the anatomy of a seed when only the pathology changes', () => {
    const normal = small({ seed: 9, pathology: 'none', noiseHu: 0 });
    const nodule = small({ seed: 9, pathology: 'nodule', severity: 0.8, noiseHu: 0 });
    expect(nodule.volumeHu.dims).toEqual(normal.volumeHu.dims);
    let differing = 0;
    for (let n = 0; n < normal.volumeHu.data.length; n++) {
      if (normal.volumeHu.data[n] !== nodule.volumeHu.data[n]) differing += 1;
    }
    const lesionVoxels = [...labelCounts(nodule.lesionMask.data).values()].reduce(
      (s, c) => s + c,
      0,
    );
    expect(lesionVoxels).toBeGreaterThan(0);
    // Only the nodules, their spicules and blurred edges change.
    expect(differing).toBeLessThan(lesionVoxels * 6);
  });

  it('has plausible HU by tissue: air, lung, padding outside the scan circle', () => {
    const { volumeHu, lungMask } = small({ seed: 2, noiseHu: 15 });
    const [nx, ny] = volumeHu.dims;
    const lung = tissueStats(volumeHu, (n) => lungMask.data[n] === 1);
    expect(lung.voxels).toBeGreaterThan(1000);
    expect(lung.meanHu).toBeGreaterThan(-920);
    expect(lung.meanHu).toBeLessThan(-700);

    // The top rows inside the scan circle are air in front of the chest.
    const air = tissueStats(volumeHu, (n) => {
      const i = n % nx;
      const j = Math.floor(n / nx) % ny;
      return j === 4 && Math.abs(i - nx / 2) < 8;
    });
    expect(air.meanHu).toBeLessThan(-960);
    expect(air.sdHu).toBeGreaterThan(3);

    expect(volumeHu.data[0]).toBe(PADDING_HU);
    const unpadded = small({ seed: 2, noiseHu: 15, padOutsideScanCircle: false });
    expect(unpadded.volumeHu.data[0]).toBeGreaterThan(-1025);
  });

  it('reports lung volume and geometry that match the masks', () => {
    const { lungMask, truth } = small({ seed: 3 });
    const voxelMl = lungMask.spacingMm.reduce((p, s) => p * s, 1) / 1000;
    const voxels = lungMask.data.reduce((s, v) => s + v, 0);
    expect(truth.anatomy.lungVolumeMl).toBeCloseTo(voxels * voxelMl, 1);
    // Adult lungs: a few litres.
    expect(truth.anatomy.lungVolumeMl).toBeGreaterThan(2000);
    expect(truth.anatomy.lungVolumeMl).toBeLessThan(9000);
    expect(truth.geometry.dims).toEqual(lungMask.dims);
    expect(truth.label).toBe('normal');
    expect(truth.lesions).toEqual([]);
  });

  it.each(PATHOLOGY_FAMILIES)('draws %s with truth matching the lesion mask', (family) => {
    const { lesionMask, lungMask, truth } = small({ seed: 21, pathology: family, severity: 0.7 });
    const voxelMl = lesionMask.spacingMm.reduce((p, s) => p * s, 1) / 1000;
    const counts = labelCounts(lesionMask.data);

    expect(truth.label).toBe('abnormal');
    expect(truth.families).toEqual([family]);
    for (const lesion of truth.lesions) {
      expect(lesion.family).toBe(family);
      expect(lesion.volumeMl).toBeCloseTo((counts.get(lesion.label) ?? 0) * voxelMl, 2);
    }
    expect(truth.lesions.some((l) => l.volumeMl > 0)).toBe(true);

    // Every lesion but effusion lies in the lung; effusion never does.
    let outside = 0;
    let inside = 0;
    for (let n = 0; n < lesionMask.data.length; n++) {
      if (lesionMask.data[n] === 0) continue;
      if (lungMask.data[n] === 1) inside += 1;
      else outside += 1;
    }
    if (family === 'effusion') expect(inside).toBe(0);
    else expect(outside).toBe(0);
  });

  it.each(PATHOLOGY_FAMILIES)('makes %s larger at higher severity', (family) => {
    const total = (severity: number): number =>
      small({ seed: 33, pathology: family, severity }).truth.lesions.reduce(
        (s, l) => s + l.volumeMl,
        0,
      );
    expect(total(0.9)).toBeGreaterThan(total(0.15));
  });

  it('sizes solid nodules near their designed diameter', () => {
    const { truth } = generatePhantom({
      seed: 4,
      pathology: 'nodule',
      severity: 0.8,
      matrix: 192,
      sliceThicknessMm: 2,
    });
    for (const nodule of truth.lesions) {
      const sphereMl = ((4 / 3) * Math.PI * (nodule.sizeMm / 2) ** 3) / 1000;
      expect(nodule.volumeMl).toBeGreaterThan(0.5 * sphereMl);
      expect(nodule.volumeMl).toBeLessThan(2.5 * sphereMl);
    }
  });

  it('BAD CALL - rejects out-of-range options, quoting the value', () => {
    expect(() => generatePhantom({ seed: 1, severity: 1.5 })).toThrow(PhantomOptionsError);
    expect(() => generatePhantom({ seed: 1, severity: 1.5 })).toThrow(/severity.*1\.5/);
    expect(() => generatePhantom({ seed: -3 })).toThrow(/seed.*-3/);
    expect(() => generatePhantom({ seed: 1, matrix: 20 })).toThrow(/matrix.*20/);
    expect(() => generatePhantom({ seed: 1, pathology: 'tumour' as never })).toThrow(/tumour/);
  });
});
