import { closeSync, openSync, readdirSync, readFileSync, readSync, statSync } from 'node:fs';
import { join } from 'node:path';

import { CtFrame, ctFrames, parsePart10 } from './dicom-frames';
import { SeriesError } from './series-error';
import { Direction3, makeVolume, Vec3, Volume } from './volume';

/**
 * A CT series as one HU volume. Slices are ordered along the slice normal
 * (row x column cosines) by ImagePositionPatient, never by InstanceNumber,
 * which scanners number in either direction (PS3.3 C.7.6.2.1.1).
 */

export interface SeriesChecks {
  /** Fewest slices an analysis accepts (series.eligibility.minSlices). */
  minSlices: number;
  /** Largest slice gap accepted (series.eligibility.maxSliceSpacingMm). */
  maxSliceSpacingMm: number;
  /** Largest angle between the slice normal and the patient z axis. */
  maxObliqueDegrees: number;
  /** Largest deviation of one gap from the median gap (imaging.sliceGapToleranceMm). */
  sliceGapToleranceMm: number;
}

export const DEFAULT_SERIES_CHECKS: SeriesChecks = {
  minSlices: 50,
  maxSliceSpacingMm: 3,
  maxObliqueDegrees: 5,
  sliceGapToleranceMm: 0.1,
};

/** Where a slice of the volume came from, so results can point back at it. */
export interface SliceSource {
  sopInstanceUid: string;
  frameNumber: number;
  imagePositionPatient: Vec3;
}

export interface CtSeries {
  seriesInstanceUid: string;
  frameOfReferenceUid: string | undefined;
  /** HU, i along columns, j along rows, k along the slice normal. */
  volume: Volume<Int16Array>;
  /** slices[k] is the source of volume slice k. */
  slices: SliceSource[];
}

/** Lists the DICOM Part 10 files of a folder (files with the "DICM" marker). */
export function listDicomFiles(dir: string): string[] {
  return readdirSync(dir)
    .sort()
    .map((name) => join(dir, name))
    .filter((file) => statSync(file).isFile() && hasPart10Marker(file));
}

function hasPart10Marker(file: string): boolean {
  const marker = Buffer.alloc(4);
  const fd = openSync(file, 'r');
  try {
    return readSync(fd, marker, 0, 4, 128) === 4 && marker.toString('latin1') === 'DICM';
  } finally {
    closeSync(fd);
  }
}

/** Reads every DICOM file of `dir` as one series. */
export async function loadSeriesDirectory(
  dir: string,
  checks: Partial<SeriesChecks> = {},
): Promise<CtSeries> {
  const files = listDicomFiles(dir);
  if (files.length === 0) throw new SeriesError('no-images', `no DICOM Part 10 files in ${dir}`);
  return loadSeriesFiles(files, checks);
}

export async function loadSeriesFiles(
  files: string[],
  checks: Partial<SeriesChecks> = {},
): Promise<CtSeries> {
  const frames: CtFrame[] = [];
  for (const file of files) {
    const dataset = await parsePart10(readFileSync(file), file);
    frames.push(...ctFrames(dataset, file));
  }
  return assembleSeries(frames, { ...DEFAULT_SERIES_CHECKS, ...checks });
}

function cross(a: Vec3, b: Vec3): Vec3 {
  return [a[1] * b[2] - a[2] * b[1], a[2] * b[0] - a[0] * b[2], a[0] * b[1] - a[1] * b[0]];
}

function dot(a: Vec3, b: Vec3): number {
  return a[0] * b[0] + a[1] * b[1] + a[2] * b[2];
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)];
}

/** Checks a set of frames for one regular grid and stacks them into a volume. */
export function assembleSeries(frames: CtFrame[], checks: SeriesChecks): CtSeries {
  if (frames.length === 0) throw new SeriesError('no-images', 'the series holds no CT frames');
  const first = frames[0];
  checkSameGeometry(frames);

  const rowCosines = first.imageOrientationPatient.slice(0, 3) as Vec3;
  const columnCosines = first.imageOrientationPatient.slice(3, 6) as Vec3;
  const normal = cross(rowCosines, columnCosines);
  const tilted = frames.find((f) => Math.abs(f.gantryDetectorTiltDegrees) > 0.01);
  if (tilted !== undefined) {
    throw new SeriesError(
      'gantry-tilt',
      `GantryDetectorTilt is ${tilted.gantryDetectorTiltDegrees} degrees ` +
        `(${tilted.sopInstanceUid})`,
    );
  }

  const sorted = frames
    .map((frame) => ({ frame, along: dot(frame.imagePositionPatient, normal) }))
    .sort((a, b) => a.along - b.along);
  const gapsMm = sorted.slice(1).map((s, n) => s.along - sorted[n].along);
  checkSpacing(sorted, gapsMm, normal, checks);
  const sliceSpacingMm = gapsMm.reduce((a, b) => a + b, 0) / gapsMm.length;

  const planeSize = first.rows * first.columns;
  const data = new Int16Array(planeSize * sorted.length);
  sorted.forEach((s, k) => data.set(s.frame.hu, k * planeSize));

  // Columns of the direction matrix: i follows the row cosines (along a row,
  // across columns), j the column cosines, k the sorted normal.
  const direction: Direction3 = [
    rowCosines[0],
    columnCosines[0],
    normal[0],
    rowCosines[1],
    columnCosines[1],
    normal[1],
    rowCosines[2],
    columnCosines[2],
    normal[2],
  ];
  const volume = makeVolume(
    data,
    [first.columns, first.rows, sorted.length],
    [first.pixelSpacingMm[1], first.pixelSpacingMm[0], sliceSpacingMm],
    [...sorted[0].frame.imagePositionPatient] as Vec3,
    direction,
  );
  return {
    seriesInstanceUid: first.seriesInstanceUid,
    frameOfReferenceUid: first.frameOfReferenceUid,
    volume,
    slices: sorted.map(({ frame }) => ({
      sopInstanceUid: frame.sopInstanceUid,
      frameNumber: frame.frameNumber,
      imagePositionPatient: frame.imagePositionPatient,
    })),
  };
}

function checkSameGeometry(frames: CtFrame[]): void {
  const first = frames[0];
  for (const frame of frames) {
    if (frame.seriesInstanceUid !== first.seriesInstanceUid) {
      throw new SeriesError(
        'mixed-series',
        `SeriesInstanceUID "${frame.seriesInstanceUid}" differs from "${first.seriesInstanceUid}"`,
      );
    }
    const differences: string[] = [];
    if (frame.rows !== first.rows || frame.columns !== first.columns) {
      differences.push(`size ${frame.rows} x ${frame.columns} vs ${first.rows} x ${first.columns}`);
    }
    if (frame.pixelSpacingMm.some((s, n) => Math.abs(s - first.pixelSpacingMm[n]) > 1e-4)) {
      differences.push(`PixelSpacing ${frame.pixelSpacingMm} vs ${first.pixelSpacingMm}`);
    }
    const orientation = frame.imageOrientationPatient;
    if (orientation.some((c, n) => Math.abs(c - first.imageOrientationPatient[n]) > 1e-4)) {
      differences.push(
        `ImageOrientationPatient ${orientation} vs ${first.imageOrientationPatient}`,
      );
    }
    if (differences.length > 0) {
      throw new SeriesError(
        'mixed-geometry',
        `${frame.sopInstanceUid} frame ${frame.frameNumber}: ${differences.join('; ')}`,
      );
    }
  }
}

function checkSpacing(
  sorted: Array<{ frame: CtFrame; along: number }>,
  gapsMm: number[],
  normal: Vec3,
  checks: SeriesChecks,
): void {
  if (sorted.length < 2) {
    throw new SeriesError('too-few-slices', `${sorted.length} slice, a volume needs 2`);
  }

  const duplicate = gapsMm.findIndex((gap) => gap < 0.01);
  if (duplicate >= 0) {
    throw new SeriesError(
      'duplicate-positions',
      `${sorted[duplicate].frame.sopInstanceUid} and ` +
        `${sorted[duplicate + 1].frame.sopInstanceUid} share position ` +
        `[${sorted[duplicate].frame.imagePositionPatient}]`,
    );
  }

  // A slice origin that drifts across the plane from slice to slice means
  // the planes are sheared: a tilted gantry (PS3.3 C.8.2.1.1.1 ImagePositionPatient).
  const firstPosition = sorted[0].frame.imagePositionPatient;
  for (const { frame, along } of sorted) {
    const expected = firstPosition.map((c, n) => c + normal[n] * (along - sorted[0].along));
    const driftMm = Math.hypot(...frame.imagePositionPatient.map((c, n) => c - expected[n]));
    if (driftMm > checks.sliceGapToleranceMm + 0.01 * Math.abs(along - sorted[0].along)) {
      throw new SeriesError(
        'gantry-tilt',
        `slice origins move ${driftMm.toFixed(2)} mm across the plane over ` +
          `${(along - sorted[0].along).toFixed(1)} mm (${frame.sopInstanceUid})`,
      );
    }
  }

  const typicalGapMm = median(gapsMm);
  const missing = gapsMm.findIndex((gap) => gap > 1.5 * typicalGapMm);
  if (missing >= 0) {
    throw new SeriesError(
      'missing-slices',
      `gap of ${gapsMm[missing].toFixed(3)} mm after slice ${missing} ` +
        `(${sorted[missing].frame.sopInstanceUid}), typical gap ${typicalGapMm.toFixed(3)} mm`,
    );
  }
  const uneven = gapsMm.findIndex(
    (gap) => Math.abs(gap - typicalGapMm) > checks.sliceGapToleranceMm,
  );
  if (uneven >= 0) {
    throw new SeriesError(
      'unequal-spacing',
      `gap of ${gapsMm[uneven].toFixed(3)} mm after slice ${uneven}, typical gap ` +
        `${typicalGapMm.toFixed(3)} mm, tolerance ${checks.sliceGapToleranceMm} mm`,
    );
  }
}

/**
 * What makes a well-formed series unfit for the flow (series.eligibility):
 * all problems, not only the first, so a status can list them.
 */
export function eligibilityProblems(series: CtSeries, checks: SeriesChecks): SeriesError[] {
  const { volume } = series;
  const problems: SeriesError[] = [];

  if (volume.dims[2] < checks.minSlices) {
    problems.push(
      new SeriesError(
        'too-few-slices',
        `${volume.dims[2]} slices, at least ${checks.minSlices} needed`,
      ),
    );
  }
  if (volume.spacingMm[2] > checks.maxSliceSpacingMm) {
    problems.push(
      new SeriesError(
        'slice-spacing-too-large',
        `slice gap ${volume.spacingMm[2].toFixed(3)} mm exceeds ${checks.maxSliceSpacingMm} mm`,
      ),
    );
  }
  const normalZ = volume.direction[8];
  const obliqueDegrees = (Math.acos(Math.min(1, Math.abs(normalZ))) * 180) / Math.PI;
  if (obliqueDegrees > checks.maxObliqueDegrees) {
    problems.push(
      new SeriesError(
        'oblique',
        `slice normal is ${obliqueDegrees.toFixed(1)} degrees from the patient z axis ` +
          `(limit ${checks.maxObliqueDegrees})`,
      ),
    );
  }
  return problems;
}

/** Throws the first eligibility problem, if any. */
export function assertEligible(series: CtSeries, checks: SeriesChecks): void {
  const [first] = eligibilityProblems(series, checks);
  if (first !== undefined) throw first;
}
