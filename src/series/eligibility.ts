import type { Config } from '../config/schema';
import type { InstanceAttributes } from './attributes';

type Thresholds = Config['series']['eligibility'];

/** One instance of a series as the rules see it. */
export interface SeriesInstance {
  sopInstanceUid: string;
  attributes: InstanceAttributes;
}

/** A rule that failed, with the values that made it fail. */
export interface SkipReason {
  rule:
    | 'modality'
    | 'localizer'
    | 'geometry-missing'
    | 'axial'
    | 'consistent-geometry'
    | 'duplicate-positions'
    | 'min-slices'
    | 'slice-spacing';
  reason: string;
}

/** What the rules measured, and the instances chosen for analysis. */
export interface EligibilitySummary {
  sliceCount: number;
  /** Largest gap between neighbouring slice positions along the normal. */
  maxSliceSpacingMm?: number;
  obliqueDegrees?: number;
  /** Set when several acquisitions were present and one was chosen. */
  acquisitionNumber?: number;
  /** Chosen instances, ordered along the slice normal (feet to head). */
  sopInstanceUids: string[];
}

export interface EligibilityResult {
  eligible: boolean;
  reasons: SkipReason[];
  summary: EligibilitySummary;
}

/** A slice: an instance, or one frame of an Enhanced CT instance. */
interface Slice {
  sopInstanceUid: string;
  attributes: InstanceAttributes;
  positionMm: number[];
}

/** Positions closer than this along the normal count as the same slice. */
const SAME_POSITION_MM = 0.01;
const GEOMETRY_TOLERANCE = 1e-3;

function isLocalizer(a: InstanceAttributes): boolean {
  return (a.imageType ?? []).some((v) => v.toUpperCase() === 'LOCALIZER');
}

function sliceNormal(orientation: number[]): number[] {
  const [r0, r1, r2, c0, c1, c2] = orientation;
  return [r1 * c2 - r2 * c1, r2 * c0 - r0 * c2, r0 * c1 - r1 * c0];
}

/** Angle between the slice normal and the patient's z axis (LPS), in degrees. */
export function obliqueDegrees(orientation: number[]): number {
  const n = sliceNormal(orientation);
  const length = Math.hypot(n[0], n[1], n[2]);
  const cos = Math.min(1, Math.abs(n[2]) / length);
  return (Math.acos(cos) * 180) / Math.PI;
}

function slicesOf(instance: SeriesInstance): Slice[] {
  const a = instance.attributes;
  if (a.framePositionsMm !== undefined) {
    return a.framePositionsMm.map((positionMm) => ({ ...instance, positionMm }));
  }
  if (a.imagePositionPatientMm === undefined) return [];
  return [{ ...instance, positionMm: a.imagePositionPatientMm }];
}

function near(a: number[] | undefined, b: number[] | undefined): boolean {
  if (a === undefined || b === undefined || a.length !== b.length) return false;
  return a.every((v, i) => Math.abs(v - b[i]) <= GEOMETRY_TOLERANCE);
}

function hasDuplicatePositions(distances: number[]): boolean {
  return distances.some((d, i) => i > 0 && d - distances[i - 1] < SAME_POSITION_MM);
}

/**
 * Multi-acquisition rule: when slice positions repeat, the series holds
 * several passes over the same anatomy (e.g. inspiration and expiration).
 * Slices are grouped by AcquisitionNumber and the largest group whose
 * positions are all distinct is kept (the lower AcquisitionNumber wins a
 * tie). If no group is free of duplicates, the series is skipped.
 */
function chooseAcquisition(slices: Slice[], distanceOf: (s: Slice) => number) {
  const groups = new Map<number, Slice[]>();
  for (const slice of slices) {
    const key = slice.attributes.acquisitionNumber ?? -1;
    groups.set(key, [...(groups.get(key) ?? []), slice]);
  }

  const candidates = [...groups.entries()]
    .filter(([, group]) => !hasDuplicatePositions(group.map(distanceOf).sort((a, b) => a - b)))
    .sort(([ka, a], [kb, b]) => b.length - a.length || ka - kb);
  if (groups.size < 2 || candidates.length === 0) return undefined;

  const [acquisitionNumber, chosen] = candidates[0];
  return { acquisitionNumber, slices: chosen };
}

/**
 * The eligibility rules of a complete series (issue 2). Every failed rule
 * is reported with its reason; later rules that depend on a failed one are
 * not evaluated.
 */
export function judgeSeries(
  instances: SeriesInstance[],
  thresholds: Thresholds,
): EligibilityResult {
  const reasons: SkipReason[] = [];
  const empty: EligibilitySummary = { sliceCount: 0, sopInstanceUids: [] };
  const fail = (): EligibilityResult => ({ eligible: false, reasons, summary: empty });

  const modalities = [...new Set(instances.map((i) => i.attributes.modality ?? '(none)'))];
  if (modalities.length !== 1 || modalities[0] !== 'CT') {
    reasons.push({ rule: 'modality', reason: `Modality is ${modalities.join(', ')}, not CT` });
  }

  // Localizers (scouts) are set aside; a series of nothing else is skipped.
  const images = instances.filter((i) => !isLocalizer(i.attributes));
  if (images.length === 0) {
    reasons.push({ rule: 'localizer', reason: 'every image has ImageType LOCALIZER' });
    return fail();
  }

  const slices = images.flatMap(slicesOf);
  const first = images[0].attributes;
  const orientation = first.imageOrientationPatient;
  if (orientation === undefined || orientation.length !== 6 || slices.length === 0) {
    reasons.push({
      rule: 'geometry-missing',
      reason: 'ImageOrientationPatient or ImagePositionPatient missing',
    });
    return fail();
  }

  const inconsistent = images.find(
    (i) =>
      !near(i.attributes.imageOrientationPatient, orientation) ||
      i.attributes.rows !== first.rows ||
      i.attributes.columns !== first.columns ||
      !near(i.attributes.pixelSpacingMm, first.pixelSpacingMm),
  );
  if (inconsistent !== undefined) {
    const a = inconsistent.attributes;
    reasons.push({
      rule: 'consistent-geometry',
      reason:
        `instance ${inconsistent.sopInstanceUid} has ${a.rows}x${a.columns}, ` +
        `PixelSpacing ${JSON.stringify(a.pixelSpacingMm)}, orientation ` +
        `${JSON.stringify(a.imageOrientationPatient)}; first has ${first.rows}x${first.columns}, ` +
        `${JSON.stringify(first.pixelSpacingMm)}, ${JSON.stringify(orientation)}`,
    });
  }

  const oblique = obliqueDegrees(orientation);
  if (oblique > thresholds.maxObliqueDegrees) {
    reasons.push({
      rule: 'axial',
      reason:
        `slice normal is ${oblique.toFixed(1)} degrees from the z axis ` +
        `(max ${thresholds.maxObliqueDegrees})`,
    });
  }
  if (reasons.length > 0) return fail();

  const normal = sliceNormal(orientation);
  const distanceOf = (s: Slice): number =>
    s.positionMm[0] * normal[0] + s.positionMm[1] * normal[1] + s.positionMm[2] * normal[2];

  let chosen = slices;
  let acquisitionNumber: number | undefined;
  if (hasDuplicatePositions(slices.map(distanceOf).sort((a, b) => a - b))) {
    const acquisition = chooseAcquisition(slices, distanceOf);
    if (acquisition === undefined) {
      reasons.push({
        rule: 'duplicate-positions',
        reason: 'several slices share a position and no single acquisition is free of duplicates',
      });
      return fail();
    }
    chosen = acquisition.slices;
    acquisitionNumber = acquisition.acquisitionNumber;
  }

  const ordered = [...chosen].sort((a, b) => distanceOf(a) - distanceOf(b));
  const distances = ordered.map(distanceOf);
  const gaps = distances.slice(1).map((d, i) => d - distances[i]);
  const maxGap = gaps.length > 0 ? Math.max(...gaps) : undefined;

  if (ordered.length < thresholds.minSlices) {
    reasons.push({
      rule: 'min-slices',
      reason: `${ordered.length} slices, at least ${thresholds.minSlices} needed`,
    });
  }
  const maxSpacingMm = thresholds.maxSliceSpacingMm;
  if (maxGap !== undefined && maxGap > maxSpacingMm + GEOMETRY_TOLERANCE) {
    reasons.push({
      rule: 'slice-spacing',
      reason: `largest slice gap ${maxGap.toFixed(2)} mm exceeds ${maxSpacingMm} mm`,
    });
  }

  const summary: EligibilitySummary = {
    sliceCount: ordered.length,
    maxSliceSpacingMm: maxGap,
    obliqueDegrees: oblique,
    acquisitionNumber,
    sopInstanceUids: [...new Set(ordered.map((s) => s.sopInstanceUid))],
  };
  return { eligible: reasons.length === 0, reasons, summary };
}
