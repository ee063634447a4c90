import * as tf from '@tensorflow/tfjs';

import type { FlowWeights } from '../model/weights';

/**
 * Adam with L2 weight decay and gradient clipping by global norm, the
 * paper's optimizer (METHOD.md section 1: lr 1e-4, weight decay 1e-5).
 * Written out rather than tf.train.adam so that its state (moments and step)
 * is plain tensors a checkpoint can save and a resumed run can restore.
 */
export interface AdamOptions {
  learningRate: number;
  beta1: number;
  beta2: number;
  epsilon: number;
  /** L2 term added to the gradient after clipping (PyTorch Adam's weight_decay). */
  weightDecay: number;
  /** Largest global gradient norm; larger gradients are scaled down to it. */
  clipNorm: number;
}

export const PAPER_ADAM: AdamOptions = {
  learningRate: 1e-4,
  beta1: 0.9,
  beta2: 0.999,
  epsilon: 1e-8,
  weightDecay: 1e-5,
  clipNorm: 50,
};

export class AdamState {
  /** Optimizer steps taken. */
  step = 0;

  private readonly m = new Map<string, tf.Variable>();

  private readonly v = new Map<string, tf.Variable>();

  constructor(
    private readonly variables: Map<string, tf.Variable>,
    readonly options: AdamOptions,
  ) {
    for (const [name, variable] of variables) {
      if (!variable.trainable) continue;
      const zeros = tf.zerosLike(variable);
      this.m.set(name, tf.variable(zeros, false));
      this.v.set(name, tf.variable(zeros, false));
      // The variables hold their own reference to the buffer.
      zeros.dispose();
    }
  }

  /**
   * One update from gradients by parameter name; returns the global
   * gradient norm before clipping.
   */
  apply(grads: Map<string, tf.Tensor>): number {
    const { learningRate, beta1, beta2, epsilon, weightDecay, clipNorm } = this.options;
    this.step += 1;
    const names = [...this.m.keys()];
    const norm = tf.tidy(() => {
      const squares = names.map((name) => this.gradient(grads, name).square().sum());
      return tf.addN(squares).sqrt().dataSync()[0];
    });
    const clipScale = norm > clipNorm ? clipNorm / norm : 1;
    const correction1 = 1 - beta1 ** this.step;
    const correction2 = 1 - beta2 ** this.step;
    const stepSize = (learningRate * Math.sqrt(correction2)) / correction1;

    tf.tidy(() => {
      for (const name of names) {
        const parameter = this.variables.get(name)!;
        const g = this.gradient(grads, name).mul(clipScale).add(parameter.mul(weightDecay));
        const m = this.m.get(name)!;
        const v = this.v.get(name)!;
        m.assign(m.mul(beta1).add(g.mul(1 - beta1)));
        v.assign(v.mul(beta2).add(g.square().mul(1 - beta2)));
        parameter.assign(parameter.sub(m.div(v.sqrt().add(epsilon)).mul(stepSize)));
      }
    });
    return norm;
  }

  /** Moments as `m/<name>` and `v/<name>` tensors, for a checkpoint. */
  toWeights(): FlowWeights {
    const weights: FlowWeights = new Map();
    for (const [prefix, moments] of [
      ['m', this.m],
      ['v', this.v],
    ] as const) {
      for (const [name, variable] of moments) {
        const data = Float32Array.from(variable.dataSync());
        weights.set(`${prefix}/${name}`, { shape: [...variable.shape], data });
      }
    }
    return weights;
  }

  restore(weights: FlowWeights, step: number): void {
    for (const [prefix, moments] of [
      ['m', this.m],
      ['v', this.v],
    ] as const) {
      for (const [name, variable] of moments) {
        const saved = weights.get(`${prefix}/${name}`);
        if (saved === undefined || saved.data.length !== variable.size) {
          throw new RangeError(`optimizer state ${prefix}/${name} is missing or misshapen`);
        }
        tf.tidy(() => variable.assign(tf.tensor(saved.data, variable.shape)));
      }
    }
    this.step = step;
  }

  dispose(): void {
    for (const variable of [...this.m.values(), ...this.v.values()]) variable.dispose();
  }

  private gradient(grads: Map<string, tf.Tensor>, name: string): tf.Tensor {
    const g = grads.get(name);
    if (g === undefined) throw new RangeError(`no gradient for ${name}`);
    return g;
  }
}
