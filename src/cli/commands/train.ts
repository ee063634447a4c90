import { existsSync } from 'node:fs';
import { join } from 'node:path';

import { Command } from 'commander';

import { loadConfig } from '../../config/load';
import { PRESETS, type FlowConfig } from '../../model/architecture';
import { getLogger } from '../../log/logger';
import { initTrainingBackend } from '../../training/backend';
import { patchPoolFromNrrdFolder } from '../../training/patch-pool';
import { FlowTrainer } from '../../training/trainer';
import { UsageError } from '../errors';
import { numberFlag } from './serve';

interface TrainFlags {
  patches: string;
  out: string;
  preset?: string;
  steps?: number;
  batch?: number;
  patchesPerVolume: number;
  validation?: string;
  config?: string;
}

function positiveInteger(flag: string): (value: string) => number {
  const parse = numberFlag(flag);
  return (value) => {
    const parsed = parse(value);
    if (!Number.isInteger(parsed) || parsed < 1) {
      throw new UsageError(`${flag}: ${JSON.stringify(value)} is not a positive integer`);
    }
    return parsed;
  };
}

/**
 * `ct3dflow model train`: maximum-likelihood training on normal volumes
 * (METHOD.md section 1), resumable: a checkpoint in `<out>/checkpoint` is
 * continued. The trained weights are `<out>/checkpoint/weights`, the input of
 * `ct3dflow model export`.
 */
async function train(flags: TrainFlags): Promise<void> {
  const config = loadConfig({ file: flags.config });
  const settings = config.training;
  const presetName = flags.preset ?? settings.preset;
  if (!(presetName in PRESETS)) {
    throw new UsageError(`--preset: ${JSON.stringify(presetName)} is not one of cpu, paper`);
  }
  const flow: FlowConfig = {
    ...PRESETS[presetName as keyof typeof PRESETS],
    ...(settings.levels !== undefined ? { levels: settings.levels } : {}),
    ...(settings.stepsPerLevel !== undefined ? { stepsPerLevel: settings.stepsPerLevel } : {}),
    ...(settings.couplingWidth !== undefined ? { couplingWidth: settings.couplingWidth } : {}),
  };
  const steps = flags.steps ?? settings.steps;
  const log = getLogger({ component: 'train' });

  const backend = await initTrainingBackend({ order: settings.backends });
  log.info('training backend', backend);

  const pool = patchPoolFromNrrdFolder(flags.patches, {
    patchSize: flow.patchSize,
    patchesPerVolume: flags.patchesPerVolume,
    seed: settings.seed,
    imaging: config.imaging,
  });
  log.info('patch pool ready', { patches: pool.count, folder: flags.patches });

  const validation =
    flags.validation === undefined
      ? undefined
      : patchPoolFromNrrdFolder(flags.validation, {
          patchSize: flow.patchSize,
          patchesPerVolume: flags.patchesPerVolume,
          seed: settings.seed + 1000,
          imaging: config.imaging,
        });

  const checkpointDir = join(flags.out, 'checkpoint');
  const trainer = existsSync(join(checkpointDir, 'trainer.json'))
    ? await FlowTrainer.resume(checkpointDir)
    : FlowTrainer.create(flow, {
        batchSize: flags.batch ?? settings.batchSize,
        seed: settings.seed,
        adam: {
          learningRate: settings.learningRate,
          beta1: 0.9,
          beta2: 0.999,
          epsilon: 1e-8,
          weightDecay: settings.weightDecay,
          clipNorm: settings.clipNorm,
        },
      });
  log.info('training', { fromStep: trainer.step, toStep: steps, config: trainer.model.config });

  while (trainer.step < steps) {
    const report = trainer.trainStep(pool);
    if (report.step % 10 === 0 || report.step === steps) log.info('step', report);
    if (report.step % settings.checkpointEverySteps === 0 || report.step === steps) {
      await trainer.saveCheckpoint(checkpointDir);
      if (validation !== undefined) {
        log.info('validation', { step: report.step, bitsPerDim: trainer.evaluate(validation) });
      }
    }
  }
  await trainer.saveCheckpoint(checkpointDir);
  const summary = {
    step: trainer.step,
    weights: join(checkpointDir, 'weights'),
    patches: pool.count,
  };
  process.stdout.write(`${JSON.stringify(summary)}\n`);
  trainer.dispose();
}

/** Adds `train` to the `model` command (issue 5). */
export function registerTrain(program: Command): void {
  const model =
    program.commands.find((command) => command.name() === 'model') ??
    program.command('model').description('Train, export and verify models');
  model
    .command('train')
    .description('Train the flow on normal HU volumes (a folder of .nrrd); resumes from <out>')
    .requiredOption('--patches <dir>', 'folder of normal HU volumes (.nrrd or .nrrd.gz)')
    .requiredOption('--out <dir>', 'run folder; <out>/checkpoint is written and resumed')
    .option('--preset <name>', 'architecture preset: cpu or paper (default: training.preset)')
    .option('--steps <n>', 'train until this optimizer step', positiveInteger('--steps'))
    .option('--batch <n>', 'patches per step (a new run only)', positiveInteger('--batch'))
    .option(
      '--patches-per-volume <n>',
      'lung-centred patches drawn from each volume',
      positiveInteger('--patches-per-volume'),
      64,
    )
    .option(
      '--validation <dir>',
      'folder of held-out normal volumes: mean bits/dim logged at each checkpoint',
    )
    .option('--config <file>', 'configuration file (default config/ct3dflow.json)')
    .action(train);
}
