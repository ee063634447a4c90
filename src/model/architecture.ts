/**
 * The CT-3DFlow network: GLOW made 3D (paper section 2; METHOD.md sections 1
 * and 2). This file is the single description that the TensorFlow.js model
 * (training), the ONNX exporter (inference) and the bundle manifest share.
 *
 * Tensors are channels-last, [N, D, H, W, C], patch input C = 1.
 *
 * For level l = 0..L-1:
 *   squeeze 2x2x2: [N,D,H,W,C] -> reshape [N,D/2,2,H/2,2,W/2,2,C]
 *     -> transpose [N,D/2,H/2,W/2,2(d),2(h),2(w),C] -> reshape [N,D/2,H/2,W/2,8C]
 *   K steps, each (prefix `l{l}.k{k}.`):
 *     actnorm   y = (x + bias) * exp(logs)             logdet += sum(logs) * DHW
 *     invconv   y_c = sum_c' W[c][c'] x_c',  W = P L (U + diag(signS * exp(logS)))
 *               L unit lower triangular, U strictly upper; logdet += sum(logS) * DHW
 *     coupling  xa = x[..., :C/2], xb = x[..., C/2:]
 *               h = conv3(relu(conv2(relu(conv1(xa)))))  (conv1, conv3 3x3x3 'same'
 *               zero padding; conv2 1x1x1; conv3 zero-initialized, C outputs)
 *               shift = h[..., :C/2], scale = sigmoid(h[..., C/2:] + 2)
 *               y = concat(xa, (xb + shift) * scale); logdet += sum(log scale)
 *   if l < L-1: split z = x[..., C/2:], x = x[..., :C/2]; conditional prior
 *               p = conv3x3x3(x) (zero-initialized, `l{l}.prior`, C outputs for C/2
 *               latent channels): mean = p[..., :C/2], logsd = p[..., C/2:]
 *   else:       top prior: mean = bias[:C], logsd = bias[C:] per channel (`top.prior.bias`)
 * log p(z) = sum of -0.5 * (log(2 pi) + 2 logsd + (z - mean)^2 exp(-2 logsd)).
 * logP(x) = sum over levels of log p(z_l) + sum of all logdets (nats).
 * The per-position map of level l is log p(z_l) summed over channels only:
 * 24^3, 12^3, 6^3 and 3^3 for a 48^3 patch with L = 4.
 */
export interface FlowConfig {
  /** Edge of the cubic patch in voxels (48 in the paper, 2 mm voxels). */
  patchSize: number;
  /** Number of levels L (squeeze, K steps, split). */
  levels: number;
  /** Steps K per level. */
  stepsPerLevel: number;
  /** Hidden channels of the coupling network. */
  couplingWidth: number;
}

export const PRESETS = {
  /** The paper's setting: L = 4, K = 64 (trained on two A100s there). */
  paper: { patchSize: 48, levels: 4, stepsPerLevel: 64, couplingWidth: 512 },
  /**
   * Sized for a 2-core CPU machine: coupling width 16 trains about 1.5x
   * faster than 32 with half the forward FLOPs (docs/model.md has the figures).
   */
  cpu: { patchSize: 48, levels: 4, stepsPerLevel: 4, couplingWidth: 16 },
} as const satisfies Record<string, FlowConfig>;

export type PresetName = keyof typeof PRESETS;

/**
 * Intensity mapping (METHOD.md section 1): HU clipped to [-1020, 200] and
 * mapped linearly to [-0.5, 0.5]. One HU step is 1/1220 in normalized units.
 */
export const HU_MIN = -1020;
export const HU_MAX = 200;
export const HU_RANGE = HU_MAX - HU_MIN;

export function huToNormalized(hu: number): number {
  const clipped = Math.min(HU_MAX, Math.max(HU_MIN, hu));
  return (clipped - HU_MIN) / HU_RANGE - 0.5;
}

/**
 * A density over normalized values becomes a density over HU by the
 * Jacobian of the linear map: log p_HU = log p_x - n log(1220), n voxels.
 */
export function logPNormalizedToHu(logPNats: number, voxels: number): number {
  return logPNats - voxels * Math.log(HU_RANGE);
}

/** Bits per dimension of integer HU (bins one HU wide), from logP in normalized units. */
export function bitsPerDim(logPNats: number, voxels: number): number {
  return -logPNormalizedToHu(logPNats, voxels) / (voxels * Math.LN2);
}

/** Channels and edge of the tensor entering level l after its squeeze. */
export function levelShape(config: FlowConfig, level: number): { edge: number; channels: number } {
  const edge = config.patchSize / 2 ** (level + 1);
  const channels = 8 * 4 ** level;
  return { edge, channels };
}

export class FlowConfigError extends RangeError {
  override name = 'FlowConfigError';
}

export function checkFlowConfig(config: FlowConfig): FlowConfig {
  const divisor = 2 ** config.levels;
  if (!Number.isInteger(config.patchSize / divisor)) {
    throw new FlowConfigError(
      `patchSize ${config.patchSize} is not divisible by 2^levels = ${divisor}`,
    );
  }
  for (const key of ['levels', 'stepsPerLevel', 'couplingWidth'] as const) {
    if (!Number.isInteger(config[key]) || config[key] < 1) {
      throw new FlowConfigError(`${key} must be a positive integer, got ${config[key]}`);
    }
  }
  return config;
}
