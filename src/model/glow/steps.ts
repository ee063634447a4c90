import * as tf from '@tensorflow/tfjs';

import { addChannelBias, matMul2d, scaleChannels } from './channel-ops';
import { invert } from '../linalg';
import type { FlowVariables } from './params';
import {
  concatChannels,
  conv1x1x1,
  conv3x3x3Bias,
  fromRows,
  splitChannels,
  sumPerSample,
  toRows,
} from './ops';

/**
 * The three parts of one flow step (architecture.ts), forward and inverse.
 * Each forward returns y and its per-sample log|det| ([N], nats).
 */
export interface StepResult {
  y: tf.Tensor5D;
  logdet: tf.Tensor1D;
}

const LOG_TWO_PI = Math.log(2 * Math.PI);

/** Floor of the actnorm variance: an all-air channel has variance 0 (METHOD.md 2). */
export const ACTNORM_EPSILON = 1e-6;

function voxelsOf(x: tf.Tensor5D): number {
  return x.shape[1] * x.shape[2] * x.shape[3];
}

function param(variables: FlowVariables, name: string): tf.Variable {
  const variable = variables.get(name);
  if (variable === undefined) throw new RangeError(`flow parameter ${name} is missing`);
  return variable;
}

/**
 * Data-dependent actnorm initialization (GLOW): bias = -mean, scale =
 * 1 / sqrt(var + epsilon) per channel over the batch and all positions.
 */
export function initializeActNorm(variables: FlowVariables, prefix: string, x: tf.Tensor5D): void {
  tf.tidy(() => {
    const { mean, variance } = tf.moments(toRows(x), 0);
    param(variables, `${prefix}.actnorm.bias`).assign(mean.neg());
    param(variables, `${prefix}.actnorm.logs`).assign(
      variance.add(ACTNORM_EPSILON).log().mul(-0.5),
    );
  });
}

export function actNormForward(
  variables: FlowVariables,
  prefix: string,
  x: tf.Tensor5D,
): StepResult {
  const bias = param(variables, `${prefix}.actnorm.bias`);
  const logs = param(variables, `${prefix}.actnorm.logs`);
  const y = scaleChannels(addChannelBias(x, bias), logs.exp());
  const logdet = logs.sum().mul(voxelsOf(x)).broadcastTo([x.shape[0]]) as tf.Tensor1D;
  return { y, logdet };
}

export function actNormInverse(
  variables: FlowVariables,
  prefix: string,
  y: tf.Tensor5D,
): tf.Tensor5D {
  const bias = param(variables, `${prefix}.actnorm.bias`);
  const logs = param(variables, `${prefix}.actnorm.logs`);
  return y.mul(logs.neg().exp()).sub(bias);
}

/** Masks of the strict upper and strict lower triangle of an n x n matrix. */
function triangleMasks(n: number): { upper: tf.Tensor2D; lower: tf.Tensor2D } {
  const upper = new Float32Array(n * n);
  const lower = new Float32Array(n * n);
  for (let i = 0; i < n; i++) {
    for (let j = 0; j < n; j++) {
      if (j > i) upper[i * n + j] = 1;
      if (j < i) lower[i * n + j] = 1;
    }
  }
  return { upper: tf.tensor2d(upper, [n, n]), lower: tf.tensor2d(lower, [n, n]) };
}

/**
 * The factors of W = P L (U + diag(signS * exp(logS))): L unit lower and U
 * strictly upper triangular (only those entries of the stored L and U count).
 */
function invConvFactors(
  variables: FlowVariables,
  prefix: string,
): { p: tf.Tensor2D; lower: tf.Tensor2D; upper: tf.Tensor2D } {
  const p = param(variables, `${prefix}.invconv.P`) as tf.Tensor2D;
  const l = param(variables, `${prefix}.invconv.L`);
  const u = param(variables, `${prefix}.invconv.U`);
  const logS = param(variables, `${prefix}.invconv.logS`);
  const signS = param(variables, `${prefix}.invconv.signS`);
  const n = p.shape[0];
  const masks = triangleMasks(n);
  const lower = l.mul(masks.lower).add(tf.eye(n)) as tf.Tensor2D;

  // eye * v puts v on the diagonal; tf.diag has no gradient.
  const upper = u.mul(masks.upper).add(tf.eye(n).mul(signS.mul(logS.exp()))) as tf.Tensor2D;
  return { p, lower, upper };
}

/** The dense W (tests, the inverse pass). */
export function invConvMatrix(variables: FlowVariables, prefix: string): tf.Tensor2D {
  const { p, lower, upper } = invConvFactors(variables, prefix);
  return tf.matMul(p, tf.matMul(lower, upper));
}

export function invConvForward(
  variables: FlowVariables,
  prefix: string,
  x: tf.Tensor5D,
): StepResult {
  // y_c = sum_c' W[c][c'] x_c', i.e. rows times W^T = U^T L^T P^T: three
  // [M,C]x[C,C] products, far cheaper than forming W (C^3) at C = 512.
  const { p, lower, upper } = invConvFactors(variables, prefix);
  let rows = matMul2d(toRows(x), upper.transpose());
  rows = matMul2d(rows, lower.transpose());
  rows = matMul2d(rows, p.transpose());
  const logS = param(variables, `${prefix}.invconv.logS`);
  const logdet = logS.sum().mul(voxelsOf(x)).broadcastTo([x.shape[0]]) as tf.Tensor1D;
  return { y: fromRows(rows, x.shape), logdet };
}

/** Inverse 1x1x1 convolution; W^-1 is computed in float64 outside the graph. */
export function invConvInverse(
  variables: FlowVariables,
  prefix: string,
  y: tf.Tensor5D,
): tf.Tensor5D {
  const n = y.shape[4];
  const w = Float64Array.from(invConvMatrix(variables, prefix).dataSync());
  const inverse = tf.tensor2d(Float32Array.from(invert(w, n)), [n, n]);
  return fromRows(tf.matMul(toRows(y), inverse, false, true), y.shape);
}

/** h = conv3(relu(conv2(relu(conv1(xa))))), C outputs (shift, raw scale). */
function couplingNetwork(variables: FlowVariables, prefix: string, xa: tf.Tensor5D): tf.Tensor5D {
  const get = (name: string): tf.Variable => param(variables, `${prefix}.coupling.${name}`);
  const h1 = conv3x3x3Bias(xa, get('conv1.kernel'), get('conv1.bias')).relu() as tf.Tensor5D;
  const h2 = conv1x1x1(h1, get('conv2.kernel'), get('conv2.bias')).relu() as tf.Tensor5D;
  return conv3x3x3Bias(h2, get('conv3.kernel'), get('conv3.bias'));
}

/** scale = sigmoid(h + 2) (architecture.ts); log scale = -softplus(-(h + 2)). */
function shiftAndLogScale(h: tf.Tensor5D): { shift: tf.Tensor5D; logScale: tf.Tensor5D } {
  const [shift, raw] = splitChannels(h);
  return { shift, logScale: tf.softplus(raw.add(2).neg()).neg() as tf.Tensor5D };
}

export function couplingForward(
  variables: FlowVariables,
  prefix: string,
  x: tf.Tensor5D,
): StepResult {
  const [xa, xb] = splitChannels(x);
  const { shift, logScale } = shiftAndLogScale(couplingNetwork(variables, prefix, xa));
  const yb = xb.add(shift).mul(logScale.exp()) as tf.Tensor5D;
  return { y: concatChannels(xa, yb), logdet: sumPerSample(logScale) };
}

export function couplingInverse(
  variables: FlowVariables,
  prefix: string,
  y: tf.Tensor5D,
): tf.Tensor5D {
  const [ya, yb] = splitChannels(y);
  const { shift, logScale } = shiftAndLogScale(couplingNetwork(variables, prefix, ya));
  const xb = yb.mul(logScale.neg().exp()).sub(shift) as tf.Tensor5D;
  return concatChannels(ya, xb);
}

/**
 * log N(z; mean, exp(logsd)^2) summed over channels: the per-position map
 * [N, d, d, d] of architecture.ts.
 */
export function gaussianLogDensityMap(
  z: tf.Tensor5D,
  mean: tf.Tensor,
  logsd: tf.Tensor,
): tf.Tensor4D {
  const standardized = z.sub(mean).mul(logsd.neg().exp());
  const perChannel = standardized.square().add(logsd.mul(2)).add(LOG_TWO_PI).mul(-0.5);
  return perChannel.sum(4) as tf.Tensor4D;
}

/** Conditional prior of level l: mean and logsd of z from the kept half. */
export function splitPrior(
  variables: FlowVariables,
  level: number,
  kept: tf.Tensor5D,
): { mean: tf.Tensor5D; logsd: tf.Tensor5D } {
  const kernel = param(variables, `l${level}.prior.kernel`);
  const bias = param(variables, `l${level}.prior.bias`);
  const [mean, logsd] = splitChannels(conv3x3x3Bias(kept, kernel, bias));
  return { mean, logsd };
}

/** Top prior: per-channel mean = bias[:C], logsd = bias[C:]. */
export function topPrior(
  variables: FlowVariables,
  channels: number,
): { mean: tf.Tensor; logsd: tf.Tensor } {
  const bias = param(variables, 'top.prior.bias');
  return { mean: bias.slice([0], [channels]), logsd: bias.slice([channels], [channels]) };
}
