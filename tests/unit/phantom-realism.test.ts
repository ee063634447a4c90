import { join } from 'node:path';

import { readNrrd } from '../../src/imaging/nrrd';
import { makeVolume } from '../../src/imaging/volume';
import { generatePhantom } from '../../src/phantom/generate';
import {
  blockAverage,
  histogramIntersection,
  histogramPercentile,
  huHistogram,
} from '../../src/phantom/realism';
import { realCtDir } from '../helpers/shared';

describe('phantom realism measures', () => {
  it('gives intersection 1 for equal and 0 for disjoint histograms', () => {
    const a = makeVolume(Int16Array.from([-900, -900, -850, -800]), [4, 1, 1], [1, 1, 1]);
    const b = makeVolume(Int16Array.from([-100, -90, -80, -70]), [4, 1, 1], [1, 1, 1]);
    expect(histogramIntersection(huHistogram(a, undefined), huHistogram(a, undefined))).toBeCloseTo(
      1,
      9,
    );
    expect(histogramIntersection(huHistogram(a, undefined), huHistogram(b, undefined))).toBe(0);
    // 8 HU bins from -1024: -900 falls in [-904, -896), whose centre is -900.
    expect(histogramPercentile(huHistogram(a, undefined), 50)).toBe(-900);
  });

  it('block-averages a volume and moves its origin to the block centres', () => {
    const v = makeVolume(Int16Array.from([0, 2, 4, 6]), [4, 1, 1], [1, 1, 1], [10, 0, 0]);
    const pooled = blockAverage(v, [2, 1, 1]);
    expect(Array.from(pooled.data)).toEqual([1, 5]);
    expect(pooled.originMm[0]).toBeCloseTo(10.5, 9);
    expect(pooled.spacingMm[0]).toBe(2);
  });

  it('puts normal phantom lungs in the HU range of a real lung (COPDGene, 4 mm)', () => {
    const dir = realCtDir('copdgene-ct64');
    const ct = readNrrd(join(dir, 'ct-64.nrrd'));
    const labels = readNrrd(join(dir, 'lm-64.nrrd'));
    const lung = makeVolume(
      Uint8Array.from(labels.data, (v) => (v !== 0 ? 1 : 0)),
      labels.dims,
      labels.spacingMm,
      labels.originMm,
    );
    const real = huHistogram(ct, lung);

    // A 96 x 96 phantom has pixels of about 4 mm: the real scan's grid.
    const phantom = generatePhantom({ seed: 1, matrix: 96, sliceThicknessMm: 4 });
    const synthetic = huHistogram(phantom.volumeHu, phantom.lungMask);
    const overlap = histogramIntersection(synthetic, real);

    // Measured 0.38..0.63 on 512 x 512 phantoms pooled to this grid; the real
    // lung is emphysematous (darker), so the overlap is partial by design.
    expect(overlap).toBeGreaterThan(0.3);
    expect(
      Math.abs(histogramPercentile(synthetic, 50) - histogramPercentile(real, 50)),
    ).toBeLessThan(120);
  });
});
