import { mkdtemp, rm, writeFile, mkdir } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import * as tf from '@tensorflow/tfjs';

import type { FlowConfig } from '../../src/model/architecture';
import { FlowInputError, Glow3D } from '../../src/model/glow';
import { initTrainingBackend, BackendError } from '../../src/training/backend';
import { CheckpointError, loadCheckpoint } from '../../src/training/checkpoint';
import { patchPoolFromNrrdFolder, PatchSourceError } from '../../src/training/patch-pool';
import { FlowTrainer, PatchPoolError } from '../../src/training/trainer';

const tiny: FlowConfig = { patchSize: 8, levels: 2, stepsPerLevel: 1, couplingWidth: 4 };

let dir: string;

beforeAll(async () => {
  await initTrainingBackend({ order: ['wasm', 'cpu'] });
  dir = await mkdtemp(join(tmpdir(), 'ct3dflow-train-errors-'));
});

afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('BAD CALL', () => {
  it('a patch batch of the wrong edge names its shape', () => {
    const model = Glow3D.create(tiny, 1);
    const x = tf.zeros([1, 16, 16, 16, 1]) as tf.Tensor5D;
    expect(() => model.forward(x)).toThrow(FlowInputError);
    expect(() => model.forward(x)).toThrow('[1,16,16,16,1], expected [N,8,8,8,1]');
    x.dispose();
    model.dispose();
  });

  it('a patch pool that does not fit the patch size', () => {
    const trainer = FlowTrainer.create(tiny, { batchSize: 2 });
    const pool = { patchSize: 16, count: 1, data: new Float32Array(16 ** 3) };
    expect(() => trainer.trainStep(pool)).toThrow(PatchPoolError);
    expect(() => trainer.trainStep(pool)).toThrow('does not fit patchSize 8');
    trainer.dispose();
  });

  it('a folder without NRRD volumes', () => {
    const options = { patchSize: 8, patchesPerVolume: 1, seed: 1, imaging: {} as never };
    expect(() => patchPoolFromNrrdFolder(dir, options)).toThrow(PatchSourceError);
    expect(() => patchPoolFromNrrdFolder(dir, options)).toThrow(`no .nrrd volumes in ${dir}`);
  });

  it('a checkpoint folder of another format', async () => {
    const bad = join(dir, 'not-a-checkpoint');
    await mkdir(bad, { recursive: true });
    await writeFile(join(bad, 'trainer.json'), JSON.stringify({ format: 'other', version: 1 }));
    await expect(loadCheckpoint(bad)).rejects.toThrow(CheckpointError);
    await expect(loadCheckpoint(join(dir, 'missing'))).rejects.toThrow('cannot read');
  });

  it('no backend in the list starts', async () => {
    await expect(initTrainingBackend({ order: ['tensorflow'] })).rejects.toThrow(BackendError);
    await initTrainingBackend({ order: ['wasm', 'cpu'] });
  });
});
