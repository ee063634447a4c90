import { mkdirSync } from 'node:fs';
import { join } from 'node:path';

import { writeNrrd } from '../imaging/nrrd';
import { writePng } from '../imaging/render';
import { seriesUids, writeCtSeries } from './dicom';
import { generatePhantom, Phantom } from './generate';
import { PhantomOptions } from './options';
import { phantomMontage, previewLevels } from './preview';
import { PhantomTruth, writeTruth } from './truth';

/** File names inside a study folder. */
export const STUDY_FILES = {
  dicomDir: 'dicom',
  truth: 'truth.json',
  lungMask: 'lung-mask.nrrd',
  lesionMask: 'lesion-mask.nrrd',
  volume: 'volume.nrrd',
  preview: 'preview.png',
} as const;

export interface StudyOutput {
  /** DICOM series (the default) or one HU volume as NRRD (faster, for bulk training data). */
  format?: 'dicom' | 'nrrd';
  preview?: boolean;
}

export interface WrittenStudy {
  dir: string;
  truth: PhantomTruth;
  files: string[];
}

/**
 * Generates one phantom and writes it with its ground truth: the series,
 * truth.json, the lung and lesion masks (gzip NRRD on the series grid) and,
 * when asked, a PNG montage.
 */
export function writeStudy(
  dir: string,
  options: PhantomOptions,
  output: StudyOutput = {},
): WrittenStudy {
  const phantom = generatePhantom(options);
  return writeGeneratedStudy(dir, phantom, output);
}

export function writeGeneratedStudy(
  dir: string,
  phantom: Phantom,
  output: StudyOutput = {},
): WrittenStudy {
  mkdirSync(dir, { recursive: true });
  const truth: PhantomTruth = {
    ...phantom.truth,
    masks: { lung: STUDY_FILES.lungMask, lesion: STUDY_FILES.lesionMask },
  };
  const files: string[] = [];

  if ((output.format ?? 'dicom') === 'dicom') {
    truth.dicom = seriesUids(truth);
    files.push(...writeCtSeries(join(dir, STUDY_FILES.dicomDir), phantom.volumeHu, truth));
  } else {
    const file = join(dir, STUDY_FILES.volume);
    writeNrrd(file, phantom.volumeHu);
    files.push(file);
  }

  writeNrrd(join(dir, STUDY_FILES.lungMask), phantom.lungMask);
  writeNrrd(join(dir, STUDY_FILES.lesionMask), phantom.lesionMask);
  writeTruth(join(dir, STUDY_FILES.truth), truth);
  files.push(
    ...[STUDY_FILES.lungMask, STUDY_FILES.lesionMask, STUDY_FILES.truth].map((f) => join(dir, f)),
  );

  if (output.preview === true) {
    const file = join(dir, STUDY_FILES.preview);
    const levels = previewLevels(phantom.volumeHu, phantom.truth);
    writePng(file, phantomMontage(phantom.volumeHu, phantom.lesionMask, undefined, 256, levels));
    files.push(file);
  }
  return { dir, truth, files };
}
