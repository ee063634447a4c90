import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { constants, Transcoder } from 'dcmjs-codecs';

import { writeCtSeries } from '../../src/imaging/ct-writer';
import { initializeCodecs, PADDING_HU, quietDcmjsWarnings } from '../../src/imaging/dicom-frames';
import {
  DEFAULT_SERIES_CHECKS,
  eligibilityProblems,
  loadSeriesDirectory,
  loadSeriesFiles,
} from '../../src/imaging/series';
import { SeriesError, SeriesRefusalReason } from '../../src/imaging/series-error';
import { Direction3, makeVolume, Vec3, Volume } from '../../src/imaging/volume';
import { realCtDir } from '../helpers/shared';

const SPACING: Vec3 = [0.8, 0.9, 2.5];
const ORIGIN: Vec3 = [-100, -120, -300];

/** A small volume whose every voxel is different, so any misplacement shows. */
function testVolume(dims: Vec3 = [24, 20, 12], direction?: Direction3): Volume<Int16Array> {
  const data = new Int16Array(dims[0] * dims[1] * dims[2]);
  for (let p = 0; p < data.length; p++) data[p] = (p % 3000) - 1500;
  return makeVolume(data, dims, SPACING, ORIGIN, direction);
}

beforeAll(() => quietDcmjsWarnings());

describe('series to HU volume', () => {
  let dir: string;
  const loose = { ...DEFAULT_SERIES_CHECKS, minSlices: 2 };

  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'ct3dflow-series-'));
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('sorts shuffled files along the slice normal and keeps geometry', async () => {
    const volume = testVolume();
    writeCtSeries(dir, volume, { order: 'shuffled' });

    const series = await loadSeriesDirectory(dir, loose);

    expect(series.volume.dims).toEqual(volume.dims);
    expect(series.volume.spacingMm.map((s) => Number(s.toFixed(6)))).toEqual(SPACING);
    expect(series.volume.originMm).toEqual(ORIGIN);
    expect(series.volume.direction).toEqual(volume.direction);
    expect(Buffer.from(series.volume.data.buffer).equals(Buffer.from(volume.data.buffer))).toBe(
      true,
    );
    expect(series.slices[3].imagePositionPatient[2]).toBeCloseTo(ORIGIN[2] + 3 * SPACING[2]);
  });

  it('sorts by position when the normal points down (feet-first order reversed)', async () => {
    // Rows along -x, columns along +y: the normal is -z, so slice k climbs down.
    const direction: Direction3 = [-1, 0, 0, 0, 1, 0, 0, 0, -1];
    const volume = testVolume([16, 12, 8], direction);
    writeCtSeries(dir, volume, { order: 'descending' });

    const series = await loadSeriesDirectory(dir, loose);

    expect(series.volume.direction).toEqual(direction);
    expect(series.volume.originMm).toEqual(ORIGIN);
    expect(Array.from(series.volume.data.subarray(0, 5))).toEqual(
      Array.from(volume.data.subarray(0, 5)),
    );
  });

  it('applies RescaleIntercept to unsigned pixels and turns padding into air', async () => {
    const volume = testVolume();
    const paddingMask = new Uint8Array(volume.data.length);
    paddingMask[7] = 1;
    writeCtSeries(dir, volume, { unsigned: true, pixelPaddingValue: 0, paddingMask });

    const series = await loadSeriesDirectory(dir, loose);

    expect(series.volume.data[7]).toBe(PADDING_HU);
    // Unsigned storage with intercept -1024 cannot hold values below -1024.
    const expected = Math.max(-1024, volume.data[8]);
    expect(series.volume.data[8]).toBe(expected);
    expect(series.volume.data[100]).toBe(Math.max(-1024, volume.data[100]));
  });

  it('reads Enhanced CT with per-frame functional groups', async () => {
    const volume = testVolume();
    writeCtSeries(dir, volume, { enhanced: true, order: 'descending' });

    const series = await loadSeriesDirectory(dir, loose);

    expect(series.volume.dims).toEqual(volume.dims);
    expect(series.volume.originMm).toEqual(ORIGIN);
    expect(series.slices[0].frameNumber).toBe(volume.dims[2]);
    expect(Buffer.from(series.volume.data.buffer).equals(Buffer.from(volume.data.buffer))).toBe(
      true,
    );
  });

  it('decodes compressed transfer syntaxes (RLE, JPEG-LS lossless) with dcmjs-codecs', async () => {
    await initializeCodecs();
    const volume = testVolume([16, 12, 4]);
    const files = writeCtSeries(dir, volume);
    const syntaxes = [
      constants.TransferSyntax.RleLossless,
      constants.TransferSyntax.JpegLsLossless,
    ];

    files.forEach((file, n) => {
      const bytes = readFileSync(file);
      const transcoder = new Transcoder(
        bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength) as ArrayBuffer,
      );
      transcoder.transcode(syntaxes[n % 2]);
      writeFileSync(file, Buffer.from(transcoder.getDicomPart10()));
    });
    expect(readFileSync(files[0]).includes(Buffer.from(syntaxes[0]))).toBe(true);

    const series = await loadSeriesFiles(files, loose);

    expect(Array.from(series.volume.data)).toEqual(Array.from(volume.data));
  });

  it('skips files that are not DICOM (e.g. annotations next to the slices)', async () => {
    writeCtSeries(dir, testVolume());
    writeFileSync(join(dir, 'notes.xml'), '<notes/>');

    await expect(loadSeriesDirectory(dir, loose)).resolves.toBeDefined();
  });

  it('reads the real LIDC series: 133 slices, 0.703 mm pixels, 2.5 mm apart', async () => {
    const series = await loadSeriesDirectory(realCtDir('lidc-idri-0001'));

    expect(series.volume.dims).toEqual([512, 512, 133]);
    expect(series.volume.spacingMm[0]).toBeCloseTo(0.703125, 6);
    expect(series.volume.spacingMm[2]).toBeCloseTo(2.5, 6);
    // Outside the reconstruction circle: stored -1024 with intercept -1024.
    expect(series.volume.data[0]).toBe(-2048);
    expect(series.volume.data[256 + 512 * 256 + 512 * 512 * 66]).toBeGreaterThan(-1100);
  });
});

describe('BAD CALL - series refusals', () => {
  let dir: string;
  const loose = { ...DEFAULT_SERIES_CHECKS, minSlices: 2 };

  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'ct3dflow-refuse-'));
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  async function reasonOf(load: Promise<unknown>): Promise<SeriesRefusalReason> {
    const error = await load.then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(SeriesError);
    return (error as SeriesError).reason;
  }

  it('refuses a gantry tilt, stated or seen as sheared slice origins', async () => {
    writeCtSeries(join(dir, 'a'), testVolume(), { gantryDetectorTiltDegrees: 15 });
    writeCtSeries(join(dir, 'b'), testVolume(), {
      positionOffsetMm: (k) => [0, k * 0.67, 0],
    });

    expect(await reasonOf(loadSeriesDirectory(join(dir, 'a'), loose))).toBe('gantry-tilt');
    expect(await reasonOf(loadSeriesDirectory(join(dir, 'b'), loose))).toBe('gantry-tilt');
  });

  it('refuses missing slices, unequal spacing and duplicate positions', async () => {
    writeCtSeries(join(dir, 'gap'), testVolume(), {
      positionOffsetMm: (k) => (k >= 6 ? [0, 0, SPACING[2]] : undefined),
    });
    writeCtSeries(join(dir, 'uneven'), testVolume(), {
      positionOffsetMm: (k) => (k === 5 ? [0, 0, 0.5] : undefined),
    });
    writeCtSeries(join(dir, 'duplicate'), testVolume(), {
      positionOffsetMm: (k) => (k === 4 ? [0, 0, -SPACING[2]] : undefined),
    });

    expect(await reasonOf(loadSeriesDirectory(join(dir, 'gap'), loose))).toBe('missing-slices');
    expect(await reasonOf(loadSeriesDirectory(join(dir, 'uneven'), loose))).toBe('unequal-spacing');
    expect(await reasonOf(loadSeriesDirectory(join(dir, 'duplicate'), loose))).toBe(
      'duplicate-positions',
    );
  });

  it('refuses mixed geometry and mixed series in one folder', async () => {
    const uid = '1.2.3.4';
    writeCtSeries(dir, testVolume(), { seriesInstanceUid: uid });
    const other = testVolume([20, 20, 4]);
    writeCtSeries(join(dir, 'x'), other, { seriesInstanceUid: uid });
    const mixedFiles = [
      ...writeCtSeries(join(dir, 'm1'), testVolume(), { seriesInstanceUid: uid }),
      ...writeCtSeries(join(dir, 'm2'), other, { seriesInstanceUid: uid }),
    ];
    const twoSeries = [
      ...writeCtSeries(join(dir, 's1'), testVolume()),
      ...writeCtSeries(join(dir, 's2'), testVolume()),
    ];

    expect(await reasonOf(loadSeriesFiles(mixedFiles, loose))).toBe('mixed-geometry');
    expect(await reasonOf(loadSeriesFiles(twoSeries, loose))).toBe('mixed-series');
  });

  it('refuses a folder without DICOM and a single slice', async () => {
    writeFileSync(join(dir, 'readme.txt'), 'no images');
    expect(await reasonOf(loadSeriesDirectory(dir, loose))).toBe('no-images');

    writeCtSeries(join(dir, 'one'), testVolume([8, 8, 1]));
    expect(await reasonOf(loadSeriesDirectory(join(dir, 'one'), loose))).toBe('too-few-slices');
  });

  it('lists too few slices, too large a gap and oblique slices as eligibility problems', async () => {
    const tilted: Direction3 = [
      1,
      0,
      0,
      0,
      Math.cos(0.3),
      -Math.sin(0.3),
      0,
      Math.sin(0.3),
      Math.cos(0.3),
    ];
    writeCtSeries(dir, testVolume([16, 12, 8], tilted));
    const series = await loadSeriesDirectory(dir, loose);

    const reasons = eligibilityProblems(series, {
      ...DEFAULT_SERIES_CHECKS,
      minSlices: 50,
      maxSliceSpacingMm: 2,
    }).map((p) => p.reason);

    expect(reasons).toEqual(['too-few-slices', 'slice-spacing-too-large', 'oblique']);
    expect(eligibilityProblems(series, { ...loose, maxObliqueDegrees: 20 })).toEqual([]);
  });
});
