import * as tf from '@tensorflow/tfjs';

import { checkFlowConfig, levelShape, type FlowConfig } from '../architecture';
import type { FlowWeights } from '../weights';
import { squeeze, splitChannels, concatChannels, unsqueeze } from './ops';
import {
  initialFlowWeights,
  variablesToWeights,
  weightsToVariables,
  type FlowVariables,
} from './params';
import {
  actNormForward,
  actNormInverse,
  couplingForward,
  couplingInverse,
  gaussianLogDensityMap,
  initializeActNorm,
  invConvForward,
  invConvInverse,
  splitPrior,
  topPrior,
} from './steps';

/** What forward gives for a batch of N patches. */
export interface FlowOutput {
  /** log p(x) per patch in nats, normalized units (architecture.ts). */
  logP: tf.Tensor1D;
  /** Split-off latents z_l for l < L-1, then the top latent. */
  latents: tf.Tensor5D[];
  /** Sum of all log|det| per patch (nats). */
  logdet: tf.Tensor1D;
  /** Per level, log p(z_l) summed over channels: [N, d, d, d]. */
  maps: tf.Tensor4D[];
}

/** A patch batch whose shape does not fit the flow's configuration. */
export class FlowInputError extends RangeError {
  override name = 'FlowInputError';
}

/**
 * CT-3DFlow: a multi-scale 3D GLOW in TensorFlow.js (architecture.ts has the
 * math and the parameter names). Constructing one touches no global tfjs
 * state beyond creating its variables; call initTrainingBackend() first.
 */
export class Glow3D {
  readonly config: FlowConfig;

  readonly variables: FlowVariables;

  private constructor(config: FlowConfig, weights: FlowWeights) {
    this.config = checkFlowConfig(config);
    this.variables = weightsToVariables(config, weights);
  }

  /** A fresh model: same config and seed give the same weights. */
  static create(config: FlowConfig, seed: number): Glow3D {
    return new Glow3D(config, initialFlowWeights(checkFlowConfig(config), seed));
  }

  static fromFlowWeights(config: FlowConfig, weights: FlowWeights): Glow3D {
    return new Glow3D(config, weights);
  }

  toFlowWeights(): FlowWeights {
    return variablesToWeights(this.variables);
  }

  /** The variables an optimizer updates (all but P and signS). */
  trainableVariables(): tf.Variable[] {
    return [...this.variables.values()].filter((variable) => variable.trainable);
  }

  forward(x: tf.Tensor5D): FlowOutput {
    this.checkInput(x);
    // tidy keeps the tensors of the returned object and disposes the rest.
    return tf.tidy(
      () => this.run(x, false) as unknown as tf.TensorContainer,
    ) as unknown as FlowOutput;
  }

  /**
   * Data-dependent actnorm initialization (GLOW): each actnorm is set from
   * the batch's activations as they arrive at it.
   */
  initializeActNorm(x: tf.Tensor5D): void {
    this.checkInput(x);
    tf.tidy(() => {
      this.run(x, true);
    });
  }

  /** x from the latents of forward (tests, sampling; no gradients needed). */
  inverse(latents: tf.Tensor5D[]): tf.Tensor5D {
    const { levels, stepsPerLevel } = this.config;
    if (latents.length !== levels) {
      throw new FlowInputError(`inverse needs ${levels} latents, got ${latents.length}`);
    }
    return tf.tidy(() => {
      let h = latents[levels - 1];
      for (let level = levels - 1; level >= 0; level--) {
        if (level < levels - 1) h = concatChannels(h, latents[level]);
        for (let step = stepsPerLevel - 1; step >= 0; step--) {
          const prefix = `l${level}.k${step}`;
          h = couplingInverse(this.variables, prefix, h);
          h = invConvInverse(this.variables, prefix, h);
          h = actNormInverse(this.variables, prefix, h);
        }
        h = unsqueeze(h);
      }
      return h;
    });
  }

  dispose(): void {
    for (const variable of this.variables.values()) variable.dispose();
  }

  private checkInput(x: tf.Tensor5D): void {
    const p = this.config.patchSize;
    const [, d, h, w, c] = x.shape;
    if (x.rank !== 5 || d !== p || h !== p || w !== p || c !== 1) {
      throw new FlowInputError(
        `patch batch shape [${x.shape.join(',')}], expected [N,${p},${p},${p},1]`,
      );
    }
  }

  private run(x: tf.Tensor5D, initActNorm: boolean): FlowOutput {
    const { levels, stepsPerLevel } = this.config;
    let h = x;
    let logdet = tf.zeros([x.shape[0]]) as tf.Tensor1D;
    const latents: tf.Tensor5D[] = [];
    const maps: tf.Tensor4D[] = [];

    for (let level = 0; level < levels; level++) {
      h = squeeze(h);
      for (let step = 0; step < stepsPerLevel; step++) {
        const prefix = `l${level}.k${step}`;
        if (initActNorm) initializeActNorm(this.variables, prefix, h);
        for (const part of [actNormForward, invConvForward, couplingForward]) {
          const result = part(this.variables, prefix, h);
          h = result.y;
          logdet = logdet.add(result.logdet);
        }
      }

      if (level < levels - 1) {
        const [kept, z] = splitChannels(h);
        const { mean, logsd } = splitPrior(this.variables, level, kept);
        maps.push(gaussianLogDensityMap(z, mean, logsd));
        latents.push(z);
        h = kept;
      } else {
        const { mean, logsd } = topPrior(this.variables, levelShape(this.config, level).channels);
        maps.push(gaussianLogDensityMap(h, mean, logsd));
        latents.push(h);
      }
    }

    const logPz = maps.map((map) => map.reshape([x.shape[0], -1]).sum(1));
    const logP = tf.addN([...logPz, logdet]) as tf.Tensor1D;
    return { logP, latents, logdet, maps };
  }
}
