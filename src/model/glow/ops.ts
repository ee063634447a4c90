import * as tf from '@tensorflow/tfjs';

import { addChannelBias, matMul2d } from './channel-ops';
import { conv3x3x3 } from './conv3d';

/**
 * Shape-level operations of the flow, written with tensors of rank 4 or
 * less wherever data moves: the WASM backend slices and transposes rank <= 4
 * natively but falls back to a slow generic loop at rank 5 (measured, see
 * docs/model.md).
 */

/**
 * Squeeze 2x2x2 as architecture.ts defines it: the new channel index is
 * ((dz * 2 + dy) * 2 + dx) * C + c. Two rank-4 transposes instead of one rank-8.
 */
export function squeeze(x: tf.Tensor5D): tf.Tensor5D {
  const [n, d, h, w, c] = x.shape;
  const [d2, h2, w2] = [d / 2, h / 2, w / 2];

  // [n d2 dz h2, dy, w2, dx c] -> [n d2 dz h2, w2, dy, dx c]
  const a = x.reshape([n * d2 * 2 * h2, 2, w2, 2 * c]).transpose([0, 2, 1, 3]);

  // [n d2, dz, h2 w2, dy dx c] -> [n d2, h2 w2, dz, dy dx c]
  const b = a.reshape([n * d2, 2, h2 * w2, 4 * c]).transpose([0, 2, 1, 3]);
  return b.reshape([n, d2, h2, w2, 8 * c]);
}

/** The exact inverse of squeeze. */
export function unsqueeze(y: tf.Tensor5D): tf.Tensor5D {
  const [n, d2, h2, w2, c8] = y.shape;
  const c = c8 / 8;
  const b = y.reshape([n * d2, h2 * w2, 2, 4 * c]).transpose([0, 2, 1, 3]);
  const a = b.reshape([n * d2 * 2 * h2, w2, 2, 2 * c]).transpose([0, 2, 1, 3]);
  return a.reshape([n, 2 * d2, 2 * h2, 2 * w2, c]);
}

/** Rows of channel vectors: [N,D,H,W,C] -> [N*D*H*W, C]. */
export function toRows(x: tf.Tensor5D): tf.Tensor2D {
  return x.reshape([-1, x.shape[4]]);
}

export function fromRows(rows: tf.Tensor2D, like: readonly number[]): tf.Tensor5D {
  return rows.reshape([like[0], like[1], like[2], like[3], rows.shape[1]]);
}

/** Channel halves [..., :C/2] and [..., C/2:], split as rank-2 slices. */
export function splitChannels(x: tf.Tensor5D): [tf.Tensor5D, tf.Tensor5D] {
  const c = x.shape[4];
  const rows = toRows(x);
  const first = rows.slice([0, 0], [-1, c / 2]);
  const second = rows.slice([0, c / 2], [-1, c - c / 2]);
  return [fromRows(first, x.shape), fromRows(second, x.shape)];
}

export function concatChannels(a: tf.Tensor5D, b: tf.Tensor5D): tf.Tensor5D {
  return fromRows(tf.concat([toRows(a), toRows(b)], 1), a.shape);
}

/** 1x1x1 convolution as one matMul on [N*D*H*W, C] (kernel [1,1,1,in,out]). */
export function conv1x1x1(x: tf.Tensor5D, kernel: tf.Tensor, bias: tf.Tensor): tf.Tensor5D {
  const [inChannels, outChannels] = kernel.shape.slice(3);
  const rows = matMul2d(toRows(x), kernel.reshape([inChannels, outChannels]));
  return fromRows(addChannelBias(rows, bias), x.shape);
}

/** 3x3x3 'same' convolution with zero padding, plus bias. */
export function conv3x3x3Bias(x: tf.Tensor5D, kernel: tf.Tensor, bias: tf.Tensor): tf.Tensor5D {
  return addChannelBias(conv3x3x3(x, kernel as tf.Tensor5D), bias);
}

/** Per-sample sum over all axes but the first: [N, ...] -> [N]. */
export function sumPerSample(x: tf.Tensor): tf.Tensor1D {
  return x.reshape([x.shape[0], -1]).sum(1);
}
