import * as tf from '@tensorflow/tfjs';

/**
 * 3x3x3 'same' convolution (zero padding, stride 1, kernel [kd,kh,kw,in,out])
 * written as three depth-shifted 2D convolutions, with its own gradient.
 *
 * Why: on the WASM backend Conv3D and its gradients run at a fraction of a
 * GFLOP/s while Conv2D (XNNPACK) runs at several (docs/model.md has the
 * measurements), and WASM has no Conv2DBackpropFilter, so the kernel
 * gradient is itself a 'valid' Conv2D with batch and channels swapped.
 */

type CustomGradientFunc = Parameters<typeof tf.customGrad>[0];

function conv3x3x3WithGradient(...inputs: unknown[]): ReturnType<CustomGradientFunc> {
  const [x, kernel, save] = inputs as [tf.Tensor5D, tf.Tensor5D, (saved: tf.Tensor[]) => void];
  save([x, kernel]);
  const [n, d, h, w] = x.shape;
  const outChannels = kernel.shape[4];
  const slices = depthSlices(x);
  const parts = slices.map((slice, a) => tf.conv2d(slice, kernelAt(kernel, a), 1, 'same'));
  const value = tf.addN(parts).reshape([n, d, h, w, outChannels]);

  const gradFunc = (dy: tf.Tensor, saved: tf.Tensor[]): tf.Tensor[] => {
    const [xSaved, kernelSaved] = saved as [tf.Tensor5D, tf.Tensor5D];
    return [
      inputGradient(dy as tf.Tensor5D, kernelSaved, xSaved.shape),
      kernelGradient(xSaved, dy as tf.Tensor5D),
    ];
  };
  return { value, gradFunc };
}

const conv3x3x3Op = tf.customGrad(conv3x3x3WithGradient as CustomGradientFunc);

/** Kernel slice a of [3,3,3,in,out] as a 2D kernel [3,3,in,out]. */
function kernelAt(kernel: tf.Tensor5D, a: number): tf.Tensor4D {
  const [, kh, kw, inChannels, outChannels] = kernel.shape;
  return kernel
    .slice([a, 0, 0, 0, 0], [1, kh, kw, inChannels, outChannels])
    .reshape([kh, kw, inChannels, outChannels]);
}

/**
 * For a = 0, 1, 2 the input shifted by a - 1 along depth with zero fill,
 * as [N*D, H, W, C] for Conv2D. Rank-3 pad and slice: fast on WASM.
 */
function depthSlices(x: tf.Tensor5D): tf.Tensor4D[] {
  const [n, d, h, w, c] = x.shape;
  const padded = x.reshape([n, d, h * w * c]).pad([
    [0, 0],
    [1, 1],
    [0, 0],
  ]);
  return [0, 1, 2].map((a) => padded.slice([0, a, 0], [n, d, h * w * c]).reshape([n * d, h, w, c]));
}

function inputGradient(dy: tf.Tensor5D, kernel: tf.Tensor5D, xShape: number[]): tf.Tensor5D {
  const [n, d, h, w, c] = xShape;
  const dy2d = dy.reshape([n * d, h, w, dy.shape[4]]) as tf.Tensor4D;

  // Slice a read input depth z + a - 1 for output z: its gradient lands
  // a - 1 further along depth, i.e. at offset a in the padded volume.
  // The input gradient of a 'same' 3x3 Conv2D is a 'same' Conv2D of dy with
  // the kernel flipped in h and w and its in/out swapped. Written as Conv2D
  // because WASM's Conv2DBackpropInput is several times slower (measured).
  const padded = [0, 1, 2].map((a) => {
    const flipped = tf.reverse(kernelAt(kernel, a), [0, 1]).transpose([0, 1, 3, 2]) as tf.Tensor4D;
    const dSlice = tf.conv2d(dy2d, flipped, 1, 'same');
    return dSlice.reshape([n, d, h * w * c]).pad([
      [0, 0],
      [a, 2 - a],
      [0, 0],
    ]);
  });
  return tf
    .addN(padded)
    .slice([0, 1, 0], [n, d, h * w * c])
    .reshape([n, d, h, w, c]);
}

/**
 * dK[a, i, j, c, o] = sum over b, y, x of slice_a[b, y+i-1, x+j-1, c] * dy[b, y, x, o]:
 * a 'valid' Conv2D of the padded slice, batch and channels swapped
 * ([C, H+2, W+2, B]), with dy as a [H, W, B, O] filter.
 */
function kernelGradient(x: tf.Tensor5D, dy: tf.Tensor5D): tf.Tensor5D {
  const [n, d, h, w] = x.shape;
  const outChannels = dy.shape[4];
  const filter = dy.reshape([n * d, h, w, outChannels]).transpose([1, 2, 0, 3]) as tf.Tensor4D;
  const perDepth = depthSlices(x).map((slice) => {
    const swapped = slice
      .pad([
        [0, 0],
        [1, 1],
        [1, 1],
        [0, 0],
      ])
      .transpose([3, 1, 2, 0]) as tf.Tensor4D;
    return tf.conv2d(swapped, filter, 1, 'valid').transpose([1, 2, 0, 3]).expandDims(0);
  });
  return tf.concat(perDepth, 0) as tf.Tensor5D;
}

export function conv3x3x3(x: tf.Tensor5D, kernel: tf.Tensor5D): tf.Tensor5D {
  return conv3x3x3Op(x, kernel) as tf.Tensor5D;
}
