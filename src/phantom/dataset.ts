import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

import { PATHOLOGY_FAMILIES, PathologyChoice, PhantomOptions } from './options';
import { Rng } from './random';
import { STUDY_FILES, writeStudy } from './study';
import { PhantomTruth } from './truth';

export type Split = 'train' | 'validation' | 'test';

/** Studies per split; the defaults are the paper's (CT-3DFlow, section 2). */
export interface DatasetCounts {
  trainNormal: number;
  validationNormal: number;
  validationAbnormal: number;
  testNormal: number;
  testAbnormal: number;
}

export const PAPER_COUNTS: DatasetCounts = {
  trainNormal: 470,
  validationNormal: 50,
  validationAbnormal: 61,
  testNormal: 50,
  testAbnormal: 191,
};

/**
 * Study options a dataset uses unless told otherwise: the model works on a
 * 2 mm grid (METHOD.md section 1), so 256 x 256 pixels of about 1.5 mm and
 * 2 mm slices lose little and make the paper-sized dataset about seven
 * times faster to generate than 512 x 512 x 1.25 mm.
 */
export const DATASET_STUDY_DEFAULTS = { matrix: 256, sliceThicknessMm: 2 } as const;

export interface DatasetEntry {
  /** Folder of the study, relative to the dataset folder. */
  path: string;
  split: Split;
  seed: number;
  pathology: PathologyChoice;
  severity: number;
}

export interface ManifestRow extends DatasetEntry {
  label: 'normal' | 'abnormal';
  families: string[];
  lesionVolumeMl: number;
}

/**
 * Which study goes where. Abnormal studies cycle through the six families
 * and "mixed", and within each family the severities are stratified over
 * 0.05..1, so every split sees subtle and obvious cases of every family.
 */
export function planDataset(seed: number, counts: DatasetCounts): DatasetEntry[] {
  const rng = new Rng(seed, 'dataset');
  const entries: DatasetEntry[] = [];
  const choices: PathologyChoice[] = [...PATHOLOGY_FAMILIES, 'mixed'];

  const add = (split: Split, abnormal: boolean, count: number): void => {
    const rounds = Math.ceil(count / choices.length);
    for (let n = 0; n < count; n++) {
      const studySeed = rng.nextUint32();
      const pathology = abnormal ? choices[n % choices.length] : 'none';
      const stratum = Math.floor(n / choices.length);
      const severity = abnormal ? 0.05 + (0.95 * (stratum + rng.uniform())) / rounds : 0;
      const name = `${abnormal ? 'abnormal' : 'normal'}-${String(n + 1).padStart(4, '0')}`;
      entries.push({
        path: `${split}/${name}`,
        split,
        seed: studySeed,
        pathology,
        severity: round3(severity),
      });
    }
  };

  add('train', false, counts.trainNormal);
  add('validation', false, counts.validationNormal);
  add('validation', true, counts.validationAbnormal);
  add('test', false, counts.testNormal);
  add('test', true, counts.testAbnormal);
  return entries;
}

export interface DatasetOptions {
  seed: number;
  counts?: DatasetCounts;
  format?: 'dicom' | 'nrrd';
  /** Options passed to every study (matrix, slice thickness...). */
  study?: Omit<PhantomOptions, 'seed' | 'pathology' | 'severity'>;
  preview?: boolean;
  onStudy?: (done: number, total: number, entry: DatasetEntry) => void;
  /**
   * Only studies number `index`, `index + count`, ... (one process per core);
   * a shard writes no manifest. A last run without a shard finds the studies
   * done, keeps them and writes the manifest.
   */
  shard?: { index: number; count: number };
}

/**
 * Writes every study of the plan and a manifest (manifest.json and
 * manifest.csv: path, split, label, families). A study whose truth.json
 * already exists is kept, so an interrupted run resumes where it stopped.
 */
export function writeDataset(dir: string, options: DatasetOptions): ManifestRow[] {
  const entries = planDataset(options.seed, options.counts ?? PAPER_COUNTS);
  const given = Object.entries(options.study ?? {}).filter(([, value]) => value !== undefined);
  const study = { ...DATASET_STUDY_DEFAULTS, ...Object.fromEntries(given) };
  mkdirSync(dir, { recursive: true });
  const rows: ManifestRow[] = [];

  const shard = options.shard;
  if (shard !== undefined && !(shard.index >= 0 && shard.index < shard.count)) {
    throw new RangeError(`shard ${shard.index}/${shard.count}: index must be in 0..count-1`);
  }

  entries.forEach((entry, n) => {
    if (shard !== undefined && n % shard.count !== shard.index) return;
    const studyDir = join(dir, entry.path);
    const truthFile = join(studyDir, STUDY_FILES.truth);
    const truth = existsSync(truthFile)
      ? (JSON.parse(readFileSync(truthFile, 'utf8')) as PhantomTruth)
      : writeStudy(
          studyDir,
          {
            ...study,
            seed: entry.seed,
            pathology: entry.pathology,
            severity: entry.severity,
          },
          { format: options.format, preview: options.preview },
        ).truth;
    const lesionVolumeMl = truth.lesions.reduce((sum, l) => sum + l.volumeMl, 0);
    rows.push({
      ...entry,
      label: truth.label,
      families: truth.families,
      lesionVolumeMl: round3(lesionVolumeMl),
    });
    options.onStudy?.(n + 1, entries.length, entry);
  });

  if (shard !== undefined) return rows;
  writeFileSync(join(dir, 'manifest.json'), `${JSON.stringify(rows, null, 2)}\n`);
  const header = 'path,split,label,families,seed,pathology,severity,lesion_volume_ml';
  const lines = rows.map((r) =>
    [
      r.path,
      r.split,
      r.label,
      r.families.join(';'),
      r.seed,
      r.pathology,
      r.severity,
      r.lesionVolumeMl,
    ].join(','),
  );
  writeFileSync(join(dir, 'manifest.csv'), `${[header, ...lines].join('\n')}\n`);
  return rows;
}

function round3(v: number): number {
  return Math.round(v * 1000) / 1000;
}
