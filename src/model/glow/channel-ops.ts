import * as tf from '@tensorflow/tfjs';

/**
 * Rank-2 products and per-channel bias and scale with gradients written so
 * that the WASM backend runs them fast (measured, docs/model.md): tfjs's own
 * gradients use transposed BatchMatMul (3-20x slower than an explicit
 * Transpose then a plain MatMul there) and reduce a [N,D,H,W,C] tensor over
 * four axes (a 5D transpose, ~100x slower than a ones-vector MatMul).
 */
type CustomGradientFunc = Parameters<typeof tf.customGrad>[0];
type Save = (saved: tf.Tensor[]) => void;

/** Sum over rows of a [M, C] tensor as one MatMul: [C]. */
function sumRows(rows: tf.Tensor2D): tf.Tensor1D {
  return tf.matMul(tf.ones([1, rows.shape[0]]), rows).reshape([rows.shape[1]]);
}

function asRows(x: tf.Tensor): tf.Tensor2D {
  return x.reshape([-1, x.shape[x.rank - 1]]);
}

function matMulWithGradient(...inputs: unknown[]): ReturnType<CustomGradientFunc> {
  const [a, b, save] = inputs as [tf.Tensor2D, tf.Tensor2D, Save];
  save([a, b]);
  const gradFunc = (dy: tf.Tensor, [aSaved, bSaved]: tf.Tensor[]): tf.Tensor[] => [
    tf.matMul(dy as tf.Tensor2D, bSaved.transpose() as tf.Tensor2D),
    tf.matMul(aSaved.transpose() as tf.Tensor2D, dy as tf.Tensor2D),
  ];
  return { value: tf.matMul(a, b), gradFunc };
}

function addBiasWithGradient(...inputs: unknown[]): ReturnType<CustomGradientFunc> {
  const [x, bias] = inputs as [tf.Tensor, tf.Tensor1D, Save];
  const gradFunc = (dy: tf.Tensor): tf.Tensor[] => [dy, sumRows(asRows(dy))];
  return { value: x.add(bias), gradFunc };
}

function scaleWithGradient(...inputs: unknown[]): ReturnType<CustomGradientFunc> {
  const [x, scale, save] = inputs as [tf.Tensor, tf.Tensor1D, Save];
  save([x, scale]);
  const gradFunc = (dy: tf.Tensor, [xSaved, scaleSaved]: tf.Tensor[]): tf.Tensor[] => [
    dy.mul(scaleSaved),
    sumRows(asRows(dy.mul(xSaved))),
  ];
  return { value: x.mul(scale), gradFunc };
}

const matMulOp = tf.customGrad(matMulWithGradient as CustomGradientFunc);
const addBiasOp = tf.customGrad(addBiasWithGradient as CustomGradientFunc);
const scaleOp = tf.customGrad(scaleWithGradient as CustomGradientFunc);

/** a @ b for rank-2 tensors. */
export function matMul2d(a: tf.Tensor2D, b: tf.Tensor2D): tf.Tensor2D {
  return matMulOp(a, b) as tf.Tensor2D;
}

/** x + bias along the last (channel) axis. */
export function addChannelBias<T extends tf.Tensor>(x: T, bias: tf.Tensor): T {
  return addBiasOp(x, bias) as T;
}

/** x * scale along the last (channel) axis. */
export function scaleChannels<T extends tf.Tensor>(x: T, scale: tf.Tensor): T {
  return scaleOp(x, scale) as T;
}
