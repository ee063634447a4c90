import * as tf from '@tensorflow/tfjs';

/**
 * 3x3x3 'same' convolution, zero padding, stride 1, tfjs kernel layout
 * [kd, kh, kw, in, out].
 */
export function conv3x3x3(x: tf.Tensor5D, kernel: tf.Tensor5D): tf.Tensor5D {
  return tf.conv3d(x, kernel, 1, 'same');
}
