import { Command, Option } from 'commander';

import { DatasetCounts, PAPER_COUNTS, writeDataset } from '../../phantom/dataset';
import {
  KERNELS,
  PATHOLOGY_CHOICES,
  PhantomOptions,
  PhantomOptionsError,
} from '../../phantom/options';
import { writeStudy } from '../../phantom/study';
import { UsageError } from '../errors';

interface StudyFlags {
  out?: string;
  seed?: string;
  pathology?: string;
  severity?: string;
  matrix?: string;
  sliceThickness?: string;
  slices?: string;
  pixelSpacing?: string;
  noiseHu?: string;
  kernel?: string;
  padding: boolean;
  preview?: boolean;
}

interface DatasetFlags extends Omit<StudyFlags, 'pathology' | 'severity' | 'pixelSpacing'> {
  shard?: string;
  format: string;
  trainNormal: string;
  validationNormal: string;
  validationAbnormal: string;
  testNormal: string;
  testAbnormal: string;
}

function number(flag: string, text: string | undefined, integer = false): number | undefined {
  if (text === undefined) return undefined;
  const value = Number(text);
  if (text.trim() === '' || !Number.isFinite(value) || (integer && !Number.isInteger(value))) {
    throw new UsageError(
      `--${flag}: ${JSON.stringify(text)} is not ${integer ? 'an integer' : 'a number'}`,
    );
  }
  return value;
}

function seedOf(text: string): number {
  const seed = number('seed', text, true) ?? 0;
  if (seed < 0) throw new UsageError(`--seed: ${JSON.stringify(text)} must be >= 0`);
  return seed;
}

function commonOptions(flags: StudyFlags | DatasetFlags): Omit<PhantomOptions, 'seed'> {
  return {
    matrix: number('matrix', flags.matrix, true),
    sliceThicknessMm: number('slice-thickness', flags.sliceThickness),
    slices: number('slices', flags.slices, true),
    noiseHu: number('noise-hu', flags.noiseHu),
    kernel: flags.kernel as PhantomOptions['kernel'],
    padOutsideScanCircle: flags.padding,
  };
}

/** Option errors from the generator name the option; show them as usage errors. */
function asUsage<T>(run: () => T): T {
  try {
    return run();
  } catch (error) {
    if (error instanceof PhantomOptionsError) throw new UsageError(error.message, { cause: error });
    throw error;
  }
}

/**
 * The options of `phantom`; `phantom dataset` inherits them (commander's
 * global options): a subcommand that declared them again would lose them to
 * its parent's parser.
 */
function addStudyOptions(command: Command): Command {
  return command
    .option('--out <dir>', 'output folder (required)')
    .option('--seed <n>', 'integer seed: the same seed and options give the same pixels (required)')
    .option('--matrix <n>', 'rows and columns per slice (default: 512; dataset: 256)')
    .option('--slice-thickness <mm>', 'slice thickness = spacing, mm (default: 1.25; dataset: 2)')
    .option('--slices <n>', 'slice count (default: lungs plus margins)')
    .option('--noise-hu <sigma>', 'image noise standard deviation, HU (default: drawn 10..32)')
    .addOption(
      new Option('--kernel <kernel>', 'reconstruction kernel (default: drawn)').choices(KERNELS),
    )
    .option('--no-padding', 'no PixelPaddingValue outside the scan circle');
}

async function runStudy(flags: StudyFlags): Promise<void> {
  if (flags.out === undefined) throw new UsageError('--out: an output folder is required');
  if (flags.seed === undefined) throw new UsageError('--seed: a seed is required');
  const out = flags.out;
  const options: PhantomOptions = {
    ...commonOptions(flags),
    seed: seedOf(flags.seed),
    pathology: flags.pathology as PhantomOptions['pathology'],
    severity: number('severity', flags.severity),
    pixelSpacingMm: number('pixel-spacing', flags.pixelSpacing),
  };
  const study = asUsage(() => writeStudy(out, options, { preview: flags.preview === true }));
  const { truth } = study;
  const summary = {
    out: study.dir,
    label: truth.label,
    families: truth.families,
    lesions: truth.lesions.map((l) => ({ family: l.family, kind: l.kind, volumeMl: l.volumeMl })),
    files: study.files.length,
  };
  process.stdout.write(`${JSON.stringify(summary)}\n`);
}

async function runDataset(_local: unknown, command: Command): Promise<void> {
  const flags = command.optsWithGlobals<DatasetFlags & { out?: string; seed?: string }>();
  if (flags.out === undefined) throw new UsageError('--out: an output folder is required');
  if (flags.seed === undefined) throw new UsageError('--seed: a seed is required');
  const out = flags.out;
  const seed = seedOf(flags.seed);
  const counts: DatasetCounts = {
    trainNormal: number('train-normal', flags.trainNormal, true) ?? 0,
    validationNormal: number('validation-normal', flags.validationNormal, true) ?? 0,
    validationAbnormal: number('validation-abnormal', flags.validationAbnormal, true) ?? 0,
    testNormal: number('test-normal', flags.testNormal, true) ?? 0,
    testAbnormal: number('test-abnormal', flags.testAbnormal, true) ?? 0,
  };
  for (const [key, value] of Object.entries(counts)) {
    if (value < 0) throw new UsageError(`--${key}: ${value} must be >= 0`);
  }
  let shard: { index: number; count: number } | undefined;
  if (flags.shard !== undefined) {
    const match = /^(\d+)\/(\d+)$/.exec(flags.shard);
    const index = Number(match?.[1]);
    const count = Number(match?.[2]);
    if (match === null || count < 1 || index >= count) {
      throw new UsageError(`--shard: ${JSON.stringify(flags.shard)} is not K/N with 0 <= K < N`);
    }
    shard = { index, count };
  }
  const started = Date.now();
  const rows = asUsage(() =>
    writeDataset(out, {
      seed,
      counts,
      format: flags.format as 'dicom' | 'nrrd',
      study: commonOptions(flags),
      preview: flags.preview === true,
      shard,
      onStudy: (done, total, entry) =>
        process.stderr.write(`phantom dataset: ${done}/${total} ${entry.path}\n`),
    }),
  );
  const seconds = (Date.now() - started) / 1000;
  process.stdout.write(`${JSON.stringify({ out, studies: rows.length, seconds })}\n`);
}

/**
 * `ct3dflow phantom`: synthetic chest CT studies with ground truth (issue 3),
 * one study, or with `phantom dataset` the paper's train/validation/test sets.
 */
export function registerPhantom(program: Command): void {
  const phantom = addStudyOptions(
    program
      .command('phantom')
      .description('write a synthetic chest CT study (DICOM) with truth.json and masks'),
  )
    .addOption(
      new Option('--pathology <family>', 'what to put in the lungs')
        .choices(PATHOLOGY_CHOICES)
        .default('none'),
    )
    .option('--severity <0..1>', '0 subtle .. 1 obvious (default: drawn from the seed)')
    .option(
      '--pixel-spacing <mm>',
      'in-plane pixel size (default: field of view fitted to the body)',
    )
    .option('--preview', 'also write preview.png (axial and coronal, lung window)')
    .action(runStudy);

  phantom
    .command('dataset')
    .description(
      'write train/validation/test studies and manifest.json/.csv (paper sizes by default); ' +
        'takes the study options of `phantom` (--out, --seed, --matrix, --preview...)',
    )
    .configureHelp({ showGlobalOptions: true })
    .addOption(
      new Option('--format <format>', 'dicom series or one NRRD volume per study')
        .choices(['dicom', 'nrrd'])
        .default('dicom'),
    )
    .option('--train-normal <n>', 'normal training studies', String(PAPER_COUNTS.trainNormal))
    .option(
      '--validation-normal <n>',
      'normal validation studies',
      String(PAPER_COUNTS.validationNormal),
    )
    .option(
      '--validation-abnormal <n>',
      'abnormal validation studies',
      String(PAPER_COUNTS.validationAbnormal),
    )
    .option('--test-normal <n>', 'normal test studies', String(PAPER_COUNTS.testNormal))
    .option('--test-abnormal <n>', 'abnormal test studies', String(PAPER_COUNTS.testAbnormal))
    .option('--shard <K/N>', 'only every N-th study from K (run one per core, then once without)')
    .action(runDataset);
}
