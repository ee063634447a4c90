import { writeFileSync } from 'node:fs';

import { Volume } from '../imaging/volume';
import { Anatomy } from './anatomy';
import { PathologyFamily, ResolvedPhantomOptions } from './options';
import { PathologyPlan } from './pathology';
import { LesionTally } from './slice';
import { GENERATOR_NAME, GENERATOR_VERSION } from './version';

export interface LesionTruth {
  /** Value of this lesion in the lesion mask. */
  label: number;
  family: PathologyFamily;
  kind: string;
  severity: number;
  /** Centroid of the lesion mask, patient LPS mm. */
  centreMm: [number, number, number];
  /** Mask voxels times voxel volume, millilitres. */
  volumeMl: number;
  /** Designed size: nodule or bulla diameter, patch radius, effusion depth (0: none). */
  sizeMm: number;
  insideLung: boolean;
}

/** Ground truth of one study, written as truth.json beside its series. */
export interface PhantomTruth {
  generator: { name: string; version: string };
  seed: number;
  options: ResolvedPhantomOptions & { pixelSpacingMm: number };
  label: 'normal' | 'abnormal';
  families: PathologyFamily[];
  lesions: LesionTruth[];
  anatomy: { habitus: number; inspiration: number; lungVolumeMl: number; lungHeightMm: number };
  geometry: {
    dims: [number, number, number];
    spacingMm: [number, number, number];
    originMm: [number, number, number];
  };
  /** Filled when the study is written as DICOM. */
  dicom?: { StudyInstanceUID: string; SeriesInstanceUID: string; FrameOfReferenceUID: string };
  masks?: { lung: string; lesion: string };
}

export interface TruthInputs {
  resolved: ResolvedPhantomOptions;
  anatomy: Anatomy;
  plan: PathologyPlan;
  tally: LesionTally;
  lungMask: Volume<Uint8Array>;
}

export function buildTruth(inputs: TruthInputs): PhantomTruth {
  const { resolved, anatomy, plan, tally, lungMask } = inputs;
  const [sx, sy, sz] = lungMask.spacingMm;
  const voxelMl = (sx * sy * sz) / 1000;
  let lungVoxels = 0;
  const lungData = lungMask.data;
  for (let n = 0; n < lungData.length; n++) lungVoxels += lungData[n];

  // A lesion planned where no voxel shows it (a tiny lucency cut by the
  // slice grid) is reported with volume 0 and does not make the study abnormal.
  const lesions: LesionTruth[] = plan.lesions.map((lesion) => {
    const n = tally.count[lesion.label];
    const centre = [0, 1, 2].map((d) =>
      n > 0 ? round2(tally.sumMm[lesion.label * 3 + d] / n) : 0,
    );
    return {
      label: lesion.label,
      family: lesion.family,
      kind: lesion.kind,
      severity: round3(lesion.severity),
      centreMm: centre as [number, number, number],
      volumeMl: round3(n * voxelMl),
      sizeMm: round2(lesion.sizeMm),
      insideLung: lesion.insideLung,
    };
  });
  const abnormal = lesions.some((l) => l.volumeMl > 0);

  return {
    generator: { name: GENERATOR_NAME, version: GENERATOR_VERSION },
    seed: resolved.seed,
    options: {
      ...resolved,
      severity: round3(resolved.severity),
      noiseHu: round2(resolved.noiseHu),
      pixelSpacingMm: sx,
    },
    label: abnormal ? 'abnormal' : 'normal',
    families: plan.families,
    lesions,
    anatomy: {
      habitus: round3(anatomy.habitus),
      inspiration: round3(anatomy.inspiration),
      lungVolumeMl: round2(lungVoxels * voxelMl),
      lungHeightMm: round2(anatomy.lungHeightMm),
    },
    geometry: { dims: lungMask.dims, spacingMm: lungMask.spacingMm, originMm: lungMask.originMm },
  };
}

export function writeTruth(file: string, truth: PhantomTruth): void {
  writeFileSync(file, `${JSON.stringify(truth, null, 2)}\n`);
}

function round2(v: number): number {
  return Math.round(v * 100) / 100;
}

function round3(v: number): number {
  return Math.round(v * 1000) / 1000;
}
