import { mkdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';

import type { FlowConfig } from '../model/architecture';
import { loadFlowWeights, saveFlowWeights, type FlowWeights } from '../model/weights';
import type { AdamOptions } from './adam';

/**
 * A training checkpoint folder: `weights/` (the flow, FlowWeights format, so
 * a bundle or `model verify` can read it as is), `optimizer/` (Adam moments
 * in the same format) and `trainer.json` (step, RNG state, options). Written
 * to a sibling folder and renamed, so a crash never leaves half a checkpoint.
 */
export const CHECKPOINT_FORMAT = 'ct3dflow-checkpoint';

export interface TrainerState {
  format: typeof CHECKPOINT_FORMAT;
  version: 1;
  config: FlowConfig;
  step: number;
  /** SeededRandom state after the last step: batches and noise continue from it. */
  randomState: number;
  actNormInitialized: boolean;
  adam: AdamOptions;
  batchSize: number;
  seed: number;
}

export interface Checkpoint {
  state: TrainerState;
  weights: FlowWeights;
  optimizer: FlowWeights;
}

export class CheckpointError extends Error {
  override name = 'CheckpointError';
}

export async function saveCheckpoint(dir: string, checkpoint: Checkpoint): Promise<void> {
  const { state, weights, optimizer } = checkpoint;
  const staging = `${dir}.partial-${process.pid}`;
  await rm(staging, { recursive: true, force: true });
  await mkdir(staging, { recursive: true });
  await saveFlowWeights(join(staging, 'weights'), weights, {
    config: state.config,
    step: state.step,
  });
  await saveFlowWeights(join(staging, 'optimizer'), optimizer, {
    config: state.config,
    step: state.step,
  });
  await writeFile(join(staging, 'trainer.json'), `${JSON.stringify(state, null, 2)}\n`);

  const previous = `${dir}.previous-${process.pid}`;
  await rm(previous, { recursive: true, force: true });
  await rename(dir, previous).catch((error: NodeJS.ErrnoException) => {
    if (error.code !== 'ENOENT') throw error;
  });
  await rename(staging, dir);
  await rm(previous, { recursive: true, force: true });
}

export async function loadCheckpoint(dir: string): Promise<Checkpoint> {
  const statePath = join(dir, 'trainer.json');
  let state: TrainerState;
  try {
    state = JSON.parse(await readFile(statePath, 'utf8')) as TrainerState;
  } catch (error) {
    throw new CheckpointError(`cannot read ${statePath}`, { cause: error });
  }
  if (state.format !== CHECKPOINT_FORMAT || state.version !== 1) {
    throw new CheckpointError(
      `${statePath}: format ${JSON.stringify(state.format)} v${state.version}`,
    );
  }
  const { weights } = await loadFlowWeights(join(dir, 'weights'));
  const { weights: optimizer } = await loadFlowWeights(join(dir, 'optimizer'));
  return { state, weights, optimizer };
}
