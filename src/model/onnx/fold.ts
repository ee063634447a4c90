import { multiply } from '../linalg';
import { requireTensor, type FlowWeights } from '../weights';

/**
 * Constants computed once at export (issue 5: "constants folded"), in
 * float64 so the folding adds no error beyond the final float32 rounding.
 */

/**
 * The invertible 1x1x1 convolution's matrix W = P L (U + diag(signS exp(logS)))
 * (METHOD.md section 2), row-major [C, C], W[c][c'] maps input c' to output c.
 */
export function invconvMatrix(
  weights: FlowWeights,
  prefix: string,
  channels: number,
): Float64Array {
  const square = [channels, channels];
  const permutation = requireTensor(weights, `${prefix}.invconv.P`, square);
  const lower = requireTensor(weights, `${prefix}.invconv.L`, square);
  const upper = requireTensor(weights, `${prefix}.invconv.U`, square);
  const logS = requireTensor(weights, `${prefix}.invconv.logS`, [channels]);
  const signS = requireTensor(weights, `${prefix}.invconv.signS`, [channels]);

  // Only the strict triangles of L and U are parameters; the diagonals are
  // the implied 1 of L and s = signS exp(logS) of U.
  const lowerUnit = new Float64Array(channels * channels);
  const upperS = new Float64Array(channels * channels);
  for (let row = 0; row < channels; row++) {
    for (let col = 0; col < channels; col++) {
      const at = row * channels + col;
      if (col < row) lowerUnit[at] = lower[at];
      if (col === row) lowerUnit[at] = 1;
      if (col > row) upperS[at] = upper[at];
      if (col === row) upperS[at] = signS[row] * Math.exp(logS[row]);
    }
  }
  return multiply(Float64Array.from(permutation), multiply(lowerUnit, upperS, channels), channels);
}

/**
 * Activation normalization then the 1x1x1 convolution as one affine map:
 * W ((x + bias) exp(logs)) = (W diag(exp(logs))) x + W (bias exp(logs)).
 * Returns the ONNX Conv weight [C, C, 1, 1, 1] and bias [C].
 */
export function foldActnormInvconv(
  weights: FlowWeights,
  prefix: string,
  channels: number,
): { kernel: Float64Array; bias: Float64Array } {
  const matrix = invconvMatrix(weights, prefix, channels);
  const actBias = requireTensor(weights, `${prefix}.actnorm.bias`, [channels]);
  const actLogs = requireTensor(weights, `${prefix}.actnorm.logs`, [channels]);

  const kernel = new Float64Array(channels * channels);
  const bias = new Float64Array(channels);
  for (let row = 0; row < channels; row++) {
    for (let col = 0; col < channels; col++) {
      const scale = Math.exp(actLogs[col]);
      kernel[row * channels + col] = matrix[row * channels + col] * scale;
      bias[row] += matrix[row * channels + col] * actBias[col] * scale;
    }
  }
  return { kernel, bias };
}

/**
 * log|det| of actnorm plus invconv per voxel: sum(logs) + sum(logS)
 * (the LU form gives |det W| = prod |s|). Multiply by D*H*W for the patch.
 */
export function stepLogDetPerVoxel(weights: FlowWeights, prefix: string, channels: number): number {
  const actLogs = requireTensor(weights, `${prefix}.actnorm.logs`, [channels]);
  const logS = requireTensor(weights, `${prefix}.invconv.logS`, [channels]);
  let sum = 0;
  for (let c = 0; c < channels; c++) sum += actLogs[c] + logS[c];
  return sum;
}

/**
 * A tfjs conv3d kernel [kd, kh, kw, in, out] as an ONNX Conv weight
 * [out, in, kd, kh, kw]. Both are cross-correlations over (D, H, W), so no
 * flip is needed. `scaleOut` multiplies each output channel (for folding).
 */
export function kernelToOnnx(
  kernel: Float32Array,
  shape: [number, number, number, number, number],
  scaleOut?: (out: number) => number,
): Float32Array {
  const [kd, kh, kw, inputs, outputs] = shape;
  const taps = kd * kh * kw;
  const result = new Float32Array(kernel.length);
  for (let tap = 0; tap < taps; tap++) {
    for (let input = 0; input < inputs; input++) {
      for (let output = 0; output < outputs; output++) {
        const value = kernel[(tap * inputs + input) * outputs + output];
        const scale = scaleOut === undefined ? 1 : scaleOut(output);
        result[(output * inputs + input) * taps + tap] = value * scale;
      }
    }
  }
  return result;
}
