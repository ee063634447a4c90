import * as tf from '@tensorflow/tfjs';

import { bitsPerDim, type FlowConfig } from '../model/architecture';
import { Glow3D } from '../model/glow';
import { SeededRandom } from '../util/seeded-random';
import { AdamState, PAPER_ADAM, type AdamOptions } from './adam';
import { CHECKPOINT_FORMAT, loadCheckpoint, saveCheckpoint, type TrainerState } from './checkpoint';
import { dequantize } from './dequantize';

/** Training patches in the layout of architecture.ts: [count, P, P, P] normalized. */
export interface PatchPool {
  patchSize: number;
  count: number;
  data: Float32Array;
}

export interface TrainerOptions {
  adam: AdamOptions;
  batchSize: number;
  seed: number;
}

export interface StepReport {
  step: number;
  /** Negative log-likelihood in nats per voxel, normalized units (the loss). */
  loss: number;
  /** Bits per dimension of integer HU (architecture.ts bitsPerDim). */
  bitsPerDim: number;
  gradientNorm: number;
  patchesPerSecond: number;
}

export class PatchPoolError extends RangeError {
  override name = 'PatchPoolError';
}

/**
 * Maximum-likelihood training of the flow (METHOD.md section 1): batches
 * drawn at random from a patch pool, dequantized, Adam with clipping. All
 * randomness comes from one SeededRandom whose state is checkpointed, so a
 * resumed run continues exactly as an uninterrupted one.
 */
export class FlowTrainer {
  private actNormInitialized: boolean;

  private constructor(
    readonly model: Glow3D,
    readonly optimizer: AdamState,
    readonly random: SeededRandom,
    readonly options: TrainerOptions,
    actNormInitialized: boolean,
  ) {
    this.actNormInitialized = actNormInitialized;
  }

  static create(config: FlowConfig, options: Partial<TrainerOptions> = {}): FlowTrainer {
    const full: TrainerOptions = {
      adam: options.adam ?? PAPER_ADAM,
      batchSize: options.batchSize ?? 4,
      seed: options.seed ?? 1,
    };
    const model = Glow3D.create(config, full.seed);
    const optimizer = new AdamState(model.variables, full.adam);

    // The model's initialization used the seed; batches get a derived stream.
    const random = new SeededRandom(full.seed ^ 0x5eed);
    return new FlowTrainer(model, optimizer, random, full, false);
  }

  static async resume(dir: string): Promise<FlowTrainer> {
    const { state, weights, optimizer: moments } = await loadCheckpoint(dir);
    const model = Glow3D.fromFlowWeights(state.config, weights);
    const optimizer = new AdamState(model.variables, state.adam);
    optimizer.restore(moments, state.step);
    const random = new SeededRandom(0);
    random.setState(state.randomState);
    const options = { adam: state.adam, batchSize: state.batchSize, seed: state.seed };
    return new FlowTrainer(model, optimizer, random, options, state.actNormInitialized);
  }

  get step(): number {
    return this.optimizer.step;
  }

  async saveCheckpoint(dir: string): Promise<void> {
    const state: TrainerState = {
      format: CHECKPOINT_FORMAT,
      version: 1,
      config: this.model.config,
      step: this.optimizer.step,
      randomState: this.random.getState(),
      actNormInitialized: this.actNormInitialized,
      adam: this.options.adam,
      batchSize: this.options.batchSize,
      seed: this.options.seed,
    };
    const weights = this.model.toFlowWeights();
    await saveCheckpoint(dir, { state, weights, optimizer: this.optimizer.toWeights() });
  }

  /** One optimizer step on a random batch of the pool. */
  trainStep(pool: PatchPool): StepReport {
    const started = process.hrtime.bigint();
    const x = this.drawBatch(pool);
    if (!this.actNormInitialized) {
      this.model.initializeActNorm(x);
      this.actNormInitialized = true;
    }

    const voxels = pool.patchSize ** 3;
    const byVariableName = new Map<string, string>();
    for (const [name, variable] of this.model.variables) byVariableName.set(variable.name, name);
    const { value, grads } = tf.variableGrads(
      () => this.model.forward(x).logP.mean().neg().div(voxels) as tf.Scalar,
      this.model.trainableVariables(),
    );
    const gradsByName = new Map<string, tf.Tensor>();
    for (const [variableName, grad] of Object.entries(grads)) {
      gradsByName.set(byVariableName.get(variableName)!, grad);
    }
    const gradientNorm = this.optimizer.apply(gradsByName);
    const loss = value.dataSync()[0];
    tf.dispose([x, value, ...Object.values(grads)]);

    const seconds = Number(process.hrtime.bigint() - started) / 1e9;
    return {
      step: this.optimizer.step,
      loss,
      bitsPerDim: bitsPerDim(-loss * voxels, voxels),
      gradientNorm,
      patchesPerSecond: this.options.batchSize / seconds,
    };
  }

  /**
   * Mean bits per dimension of a held-out pool, dequantized with noise from
   * a fixed seed so that successive evaluations compare like with like.
   */
  evaluate(pool: PatchPool, seed = 1): number {
    const voxels = pool.patchSize ** 3;
    const noise = new SeededRandom(seed);
    const { batchSize } = this.options;
    let sumLogP = 0;
    for (let first = 0; first < pool.count; first += batchSize) {
      const count = Math.min(batchSize, pool.count - first);
      const patches = pool.data.slice(first * voxels, (first + count) * voxels);
      const logP = this.logP(dequantize(patches, noise, patches), count);
      sumLogP += logP.reduce((a, b) => a + b, 0);
    }
    return bitsPerDim(sumLogP / pool.count, voxels);
  }

  /** logP per patch (nats, normalized units) without noise or gradients. */
  logP(patches: Float32Array, count: number): Float32Array {
    const p = this.model.config.patchSize;
    const x = tf.tensor5d(patches, [count, p, p, p, 1]);
    const out = this.model.forward(x);
    const logP = Float32Array.from(out.logP.dataSync());
    tf.dispose([x, out.logP, out.logdet, ...out.latents, ...out.maps]);
    return logP;
  }

  dispose(): void {
    this.optimizer.dispose();
    this.model.dispose();
  }

  private drawBatch(pool: PatchPool): tf.Tensor5D {
    const p = this.model.config.patchSize;
    const voxels = p ** 3;
    if (pool.patchSize !== p || pool.data.length !== pool.count * voxels || pool.count < 1) {
      throw new PatchPoolError(
        `patch pool of ${pool.count} patches of ${pool.patchSize}^3 (${pool.data.length} values) ` +
          `does not fit patchSize ${p}`,
      );
    }
    const { batchSize } = this.options;
    const batch = new Float32Array(batchSize * voxels);
    for (let n = 0; n < batchSize; n++) {
      const index = this.random.below(pool.count);
      batch.set(pool.data.subarray(index * voxels, (index + 1) * voxels), n * voxels);
    }
    return tf.tensor5d(dequantize(batch, this.random, batch), [batchSize, p, p, p, 1]);
  }
}
