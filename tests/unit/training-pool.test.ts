import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { validateConfig } from '../../src/config/load';
import { writeNrrd } from '../../src/imaging/nrrd';
import { syntheticChest } from '../../src/imaging/synthetic-chest';
import { initTrainingBackend } from '../../src/training/backend';
import { patchPoolFromNrrdFolder } from '../../src/training/patch-pool';
import { FlowTrainer } from '../../src/training/trainer';

let dir: string;

beforeAll(async () => {
  await initTrainingBackend({ order: ['wasm', 'cpu'] });
  dir = await mkdtemp(join(tmpdir(), 'ct3dflow-pool-'));
  const chest = syntheticChest([120, 120, 80], [2.5, 2.5, 3], 4);
  writeNrrd(join(dir, 'normal-4.nrrd'), chest.volume, { gzip: true });
});

afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('patch pool from a folder of NRRD volumes (synthetic chest)', () => {
  it('draws lung patches in normalized units and trains on them', () => {
    const imaging = validateConfig({}).imaging;
    const pool = patchPoolFromNrrdFolder(dir, {
      patchSize: 16,
      patchesPerVolume: 6,
      seed: 1,
      imaging,
    });
    expect(pool.count).toBe(6);
    expect(pool.data.length).toBe(6 * 16 ** 3);
    expect(pool.data.every((v) => v >= -0.5 && v <= 0.5)).toBe(true);

    // Lung-centred: most voxels are lung-dark, well below soft tissue.
    const below = pool.data.filter((v) => v < -0.2).length;
    expect(below / pool.data.length).toBeGreaterThan(0.4);

    const config = { patchSize: 16, levels: 2, stepsPerLevel: 1, couplingWidth: 4 };
    const trainer = FlowTrainer.create(config, { batchSize: 2, seed: 2 });
    const report = trainer.trainStep(pool);
    expect(Number.isFinite(report.loss)).toBe(true);
    expect(report.step).toBe(1);
    trainer.dispose();
  });
});
