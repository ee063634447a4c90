import { Rng } from './random';

/** The six pathology families of the phantom (issue 3). */
export const PATHOLOGY_FAMILIES = [
  'nodule',
  'ggo',
  'consolidation',
  'emphysema',
  'fibrosis',
  'effusion',
] as const;
export type PathologyFamily = (typeof PATHOLOGY_FAMILIES)[number];

export const PATHOLOGY_CHOICES = ['none', ...PATHOLOGY_FAMILIES, 'mixed'] as const;
export type PathologyChoice = (typeof PATHOLOGY_CHOICES)[number];

/** Reconstruction kernel: smooth noise and edges, or fine grain and overshoot. */
export const KERNELS = ['soft', 'sharp'] as const;
export type Kernel = (typeof KERNELS)[number];

export interface PhantomOptions {
  seed: number;
  pathology?: PathologyChoice;
  /** 0 = subtle, 1 = obvious; drawn from the seed when absent. */
  severity?: number;
  /** Rows and columns of each slice. */
  matrix?: number;
  /** In-plane pixel size; fitted to the body (field of view) when absent. */
  pixelSpacingMm?: number;
  /** Slice thickness, equal to the slice spacing (contiguous slices). */
  sliceThicknessMm?: number;
  /** Slice count; absent: enough to cover the lungs with a margin. */
  slices?: number;
  /** Standard deviation of the image noise (dose); drawn from the seed when absent. */
  noiseHu?: number;
  kernel?: Kernel;
  /** Voxels outside the reconstruction circle get PixelPaddingValue. */
  padOutsideScanCircle?: boolean;
  /** Territory points per lung for each vessel tree (more = finer trees). */
  vesselPointsPerLung?: number;
}

export interface ResolvedPhantomOptions {
  seed: number;
  pathology: PathologyChoice;
  severity: number;
  matrix: number;
  pixelSpacingMm: number | undefined;
  sliceThicknessMm: number;
  slices: number | undefined;
  noiseHu: number;
  kernel: Kernel;
  padOutsideScanCircle: boolean;
  vesselPointsPerLung: number;
}

export class PhantomOptionsError extends RangeError {
  override name = 'PhantomOptionsError';
}

function check(ok: boolean, name: string, value: unknown, rule: string): void {
  if (!ok) throw new PhantomOptionsError(`phantom option ${name} ${rule}, got ${String(value)}`);
}

/** Fills the defaults (the random ones from the seed) and checks ranges. */
export function resolveOptions(options: PhantomOptions): ResolvedPhantomOptions {
  const o = options;
  check(Number.isSafeInteger(o.seed) && o.seed >= 0, 'seed', o.seed, 'must be an integer >= 0');
  const rng = new Rng(o.seed, 'options');
  const drawnSeverity = rng.range(0.15, 0.95);
  const drawnNoiseHu = rng.range(10, 32);
  const drawnKernel = rng.pick(KERNELS);

  const resolved: ResolvedPhantomOptions = {
    seed: o.seed,
    pathology: o.pathology ?? 'none',
    severity: o.severity ?? drawnSeverity,
    matrix: o.matrix ?? 512,
    pixelSpacingMm: o.pixelSpacingMm,
    sliceThicknessMm: o.sliceThicknessMm ?? 1.25,
    slices: o.slices,
    noiseHu: o.noiseHu ?? drawnNoiseHu,
    kernel: o.kernel ?? drawnKernel,
    padOutsideScanCircle: o.padOutsideScanCircle ?? true,
    vesselPointsPerLung: o.vesselPointsPerLung ?? 3500,
  };

  const r = resolved;
  check(PATHOLOGY_CHOICES.includes(r.pathology), 'pathology', r.pathology, 'is unknown');
  check(r.severity >= 0 && r.severity <= 1, 'severity', r.severity, 'must be in 0..1');
  check(
    Number.isInteger(r.matrix) && r.matrix >= 32 && r.matrix <= 1024,
    'matrix',
    r.matrix,
    'must be an integer in 32..1024',
  );
  const spacing = r.pixelSpacingMm;
  check(
    spacing === undefined || (spacing >= 0.2 && spacing <= 5),
    'pixelSpacingMm',
    spacing,
    'must be in 0.2..5 mm',
  );
  check(
    r.sliceThicknessMm >= 0.5 && r.sliceThicknessMm <= 10,
    'sliceThicknessMm',
    r.sliceThicknessMm,
    'must be in 0.5..10 mm',
  );
  check(
    r.slices === undefined || (Number.isInteger(r.slices) && r.slices >= 1 && r.slices <= 2000),
    'slices',
    r.slices,
    'must be an integer in 1..2000',
  );
  check(r.noiseHu >= 0 && r.noiseHu <= 200, 'noiseHu', r.noiseHu, 'must be in 0..200 HU');
  check(KERNELS.includes(r.kernel), 'kernel', r.kernel, 'must be soft or sharp');
  check(
    Number.isInteger(r.vesselPointsPerLung) && r.vesselPointsPerLung >= 16,
    'vesselPointsPerLung',
    r.vesselPointsPerLung,
    'must be an integer >= 16',
  );
  return resolved;
}
