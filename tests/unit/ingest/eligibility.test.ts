import { InstanceAttributes } from '../../../src/series/attributes';
import { judgeSeries, obliqueDegrees, SeriesInstance } from '../../../src/series/eligibility';

const thresholds = { minSlices: 10, maxSliceSpacingMm: 3, maxObliqueDegrees: 5 };

function slice(k: number, over: Partial<InstanceAttributes> = {}): SeriesInstance {
  return {
    sopInstanceUid: `1.2.3.${k}`,
    attributes: {
      sopClassUid: '1.2.840.10008.5.1.4.1.1.2',
      modality: 'CT',
      imageType: ['ORIGINAL', 'PRIMARY', 'AXIAL'],
      imageOrientationPatient: [1, 0, 0, 0, 1, 0],
      imagePositionPatientMm: [-100, -100, -k * 2],
      pixelSpacingMm: [0.7, 0.7],
      rows: 512,
      columns: 512,
      acquisitionNumber: 1,
      ...over,
    },
  };
}

function series(count: number, over: (k: number) => Partial<InstanceAttributes> = () => ({})) {
  return Array.from({ length: count }, (_, k) => slice(k, over(k)));
}

function rules(instances: SeriesInstance[]): string[] {
  return judgeSeries(instances, thresholds).reasons.map((r) => r.rule);
}

describe('eligibility rules', () => {
  it('accepts a plain axial CT series and orders it along the normal', () => {
    const result = judgeSeries(series(20), thresholds);

    expect(result.eligible).toBe(true);
    expect(result.reasons).toEqual([]);
    expect(result.summary.sliceCount).toBe(20);
    expect(result.summary.maxSliceSpacingMm).toBeCloseTo(2);
    expect(result.summary.sopInstanceUids[0]).toBe('1.2.3.19');
  });

  it('skips another modality with its reason', () => {
    const result = judgeSeries(
      series(20, () => ({ modality: 'MR' })),
      thresholds,
    );

    expect(result.eligible).toBe(false);
    expect(result.reasons[0]).toEqual({ rule: 'modality', reason: 'Modality is MR, not CT' });
  });

  it('skips a series of localizers', () => {
    expect(rules(series(3, () => ({ imageType: ['ORIGINAL', 'PRIMARY', 'LOCALIZER'] })))).toEqual([
      'localizer',
    ]);
  });

  it('sets a localizer aside and judges the rest', () => {
    const instances = [
      ...series(20),
      slice(99, { imageType: ['ORIGINAL', 'PRIMARY', 'LOCALIZER'], rows: 256 }),
    ];
    const result = judgeSeries(instances, thresholds);

    expect(result.eligible).toBe(true);
    expect(result.summary.sopInstanceUids).not.toContain('1.2.3.99');
  });

  it('skips a sagittal series as not axial', () => {
    const result = judgeSeries(
      series(20, () => ({ imageOrientationPatient: [0, 1, 0, 0, 0, -1] })),
      thresholds,
    );

    expect(result.reasons.map((r) => r.rule)).toEqual(['axial']);
    expect(result.reasons[0].reason).toMatch(/90\.0 degrees/);
  });

  it('measures obliquity against the z axis', () => {
    const tilt = (10 * Math.PI) / 180;
    const orientation = [1, 0, 0, 0, Math.cos(tilt), Math.sin(tilt)];
    expect(obliqueDegrees(orientation)).toBeCloseTo(10);
    expect(obliqueDegrees([1, 0, 0, 0, 1, 0])).toBe(0);
  });

  it('skips too few slices', () => {
    const result = judgeSeries(series(5), thresholds);
    expect(result.reasons).toEqual([
      { rule: 'min-slices', reason: '5 slices, at least 10 needed' },
    ]);
  });

  it('skips a slice gap wider than the maximum', () => {
    const instances = series(20).filter((_, k) => k !== 7 && k !== 8);
    const result = judgeSeries(instances, thresholds);

    expect(result.reasons.map((r) => r.rule)).toEqual(['slice-spacing']);
    expect(result.reasons[0].reason).toMatch(/6\.00 mm exceeds 3 mm/);
  });

  it('skips inconsistent rows, columns or pixel spacing', () => {
    expect(rules(series(20, (k) => (k === 4 ? { rows: 256 } : {})))).toEqual([
      'consistent-geometry',
    ]);
    expect(rules(series(20, (k) => (k === 4 ? { pixelSpacingMm: [0.8, 0.8] } : {})))).toEqual([
      'consistent-geometry',
    ]);
  });

  it('keeps the largest acquisition when positions repeat across acquisitions', () => {
    const inspiration = series(20);
    const expiration = series(12, () => ({ acquisitionNumber: 2 })).map((s, k) => ({
      ...s,
      sopInstanceUid: `1.2.4.${k}`,
    }));
    const result = judgeSeries([...inspiration, ...expiration], thresholds);

    expect(result.eligible).toBe(true);
    expect(result.summary.acquisitionNumber).toBe(1);
    expect(result.summary.sliceCount).toBe(20);
  });

  it('skips duplicate positions inside one acquisition', () => {
    const instances = [...series(20), { ...slice(3), sopInstanceUid: '1.2.5.3' }];
    expect(rules(instances)).toEqual(['duplicate-positions']);
  });

  it('skips missing geometry', () => {
    const result = judgeSeries(
      series(20, () => ({ imageOrientationPatient: undefined })),
      thresholds,
    );
    expect(result.reasons.map((r) => r.rule)).toEqual(['geometry-missing']);
  });

  it('treats the frames of an Enhanced CT instance as slices', () => {
    const frames = Array.from({ length: 15 }, (_, k) => [-100, -100, k * 1.5]);
    const result = judgeSeries(
      [
        slice(0, {
          sopClassUid: '1.2.840.10008.5.1.4.1.1.2.1',
          imagePositionPatientMm: undefined,
          framePositionsMm: frames,
          numberOfFrames: 15,
        }),
      ],
      thresholds,
    );

    expect(result.eligible).toBe(true);
    expect(result.summary.sliceCount).toBe(15);
    expect(result.summary.sopInstanceUids).toEqual(['1.2.3.0']);
  });
});
