import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import type { FlowConfig } from '../../src/model/architecture';
import { SeededRandom } from '../../src/model/glow';
import { PAPER_ADAM } from '../../src/training/adam';
import { initTrainingBackend } from '../../src/training/backend';
import { FlowTrainer, type PatchPool } from '../../src/training/trainer';

const tiny: FlowConfig = { patchSize: 8, levels: 2, stepsPerLevel: 2, couplingWidth: 8 };
const toyAdam = { ...PAPER_ADAM, learningRate: 2e-3 };

beforeAll(async () => {
  await initTrainingBackend({ order: ['wasm', 'cpu'] });
});

/**
 * A toy density (synthetic): a smooth ramp along z with a random level and
 * slope per patch, plus small voxel noise; `shift` moves every value.
 */
function toyPool(count: number, seed: number, shift = 0): PatchPool {
  const p = tiny.patchSize;
  const random = new SeededRandom(seed);
  const data = new Float32Array(count * p ** 3);
  for (let n = 0; n < count; n++) {
    const level = -0.2 + 0.1 * random.normal();
    const slope = 0.01 * random.normal();
    for (let i = 0; i < p ** 3; i++) {
      const z = Math.floor(i / (p * p));
      data[n * p ** 3 + i] = level + slope * z + 0.01 * random.normal() + shift;
    }
  }
  return { patchSize: p, count, data };
}

function mean(values: ArrayLike<number>): number {
  return Array.from(values).reduce((a, b) => a + b, 0) / values.length;
}

describe('FlowTrainer on a toy density', () => {
  it('lowers the NLL and ranks shifted inputs below held-out samples', () => {
    const trainer = FlowTrainer.create(tiny, { adam: toyAdam, batchSize: 8, seed: 3 });
    const train = toyPool(256, 1);
    const heldOut = toyPool(16, 2);
    const shifted = toyPool(16, 2, 0.25);

    const losses: number[] = [];
    losses.push(trainer.trainStep(train).loss);
    const heldOutBitsBefore = trainer.evaluate(heldOut);
    expect(trainer.evaluate(heldOut)).toBe(heldOutBitsBefore);
    for (let step = 1; step < 80; step++) losses.push(trainer.trainStep(train).loss);
    expect(trainer.evaluate(heldOut)).toBeLessThan(heldOutBitsBefore - 0.1);

    expect(losses.every(Number.isFinite)).toBe(true);
    expect(mean(losses.slice(-10))).toBeLessThan(mean(losses.slice(0, 10)) - 0.1);
    const heldOutLogP = mean(trainer.logP(heldOut.data, heldOut.count));
    const shiftedLogP = mean(trainer.logP(shifted.data, shifted.count));
    expect(shiftedLogP).toBeLessThan(heldOutLogP);
    trainer.dispose();
  });
});

describe('checkpoints', () => {
  let dir: string;

  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'ct3dflow-ckpt-'));
  });

  afterEach(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('resuming gives the same weights as an uninterrupted run', async () => {
    const pool = toyPool(32, 4);
    const uninterrupted = FlowTrainer.create(tiny, { adam: toyAdam, batchSize: 4, seed: 7 });
    for (let step = 0; step < 4; step++) uninterrupted.trainStep(pool);

    const first = FlowTrainer.create(tiny, { adam: toyAdam, batchSize: 4, seed: 7 });
    first.trainStep(pool);
    first.trainStep(pool);
    await first.saveCheckpoint(join(dir, 'ckpt'));
    first.dispose();
    const resumed = await FlowTrainer.resume(join(dir, 'ckpt'));
    expect(resumed.step).toBe(2);
    resumed.trainStep(pool);
    resumed.trainStep(pool);

    const expected = uninterrupted.model.toFlowWeights();
    let largest = 0;
    for (const [name, tensor] of resumed.model.toFlowWeights()) {
      const reference = expected.get(name)!.data;
      tensor.data.forEach((v, i) => (largest = Math.max(largest, Math.abs(v - reference[i]))));
    }
    expect(largest).toBeLessThan(1e-6);

    // The run really moved the weights away from their initial values.
    const fresh = FlowTrainer.create(tiny, { adam: toyAdam, batchSize: 4, seed: 7 });
    const conv3 = 'l0.k0.coupling.conv3.kernel';
    const moved = expected
      .get(conv3)!
      .data.some((v, i) => v !== fresh.model.toFlowWeights().get(conv3)!.data[i]);
    expect(moved).toBe(true);
    [uninterrupted, resumed, fresh].forEach((t) => t.dispose());
  });
});
