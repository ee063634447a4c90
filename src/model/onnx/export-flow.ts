import { checkFlowConfig, levelShape, type FlowConfig } from '../architecture';
import { checkFlowWeights, requireTensor, type FlowWeights } from '../weights';
import { foldActnormInvconv, kernelToOnnx, stepLogDetPerVoxel } from './fold';
import { GraphBuilder } from './graph-builder';

/** Graph input: patches [N, P, P, P, 1], channels-last, normalized units. */
export const INPUT_NAME = 'x';
/** Graph output: log-likelihood per patch [N] in nats (normalized units). */
export const LOG_P_NAME = 'log_p';
/** Graph output of level l: per-position log p(z_l) [N, d, d, d] in nats. */
export function mapOutputName(level: number): string {
  return `map_l${level}`;
}

const HALF_LOG_TWO_PI = 0.5 * Math.log(2 * Math.PI);

/**
 * Exports the image -> log-likelihood direction of the flow (architecture.ts)
 * as an ONNX model (issue 5). Inside the graph tensors are NCDHW, the layout
 * ONNX Conv wants; the patch input has one channel, so entering NCDHW is a
 * Reshape, not a Transpose. Folded at export: actnorm into the 1x1x1
 * convolution, W from its LU factors, the "+2" of the coupling scale into
 * conv3's bias, the factor -2 of the prior's log-sd into the prior kernel,
 * and all actnorm/invconv log-dets into one constant.
 */
export function exportFlowToOnnx(config: FlowConfig, weights: FlowWeights): Uint8Array {
  checkFlowConfig(config);
  checkFlowWeights(config, weights);
  const graph = new GraphBuilder();
  const patch = config.patchSize;

  const input = graph.input(INPUT_NAME, ['N', patch, patch, patch, 1]);
  let h = reshape(graph, input, [0, 1, patch, patch, patch]);
  let inChannels = 1;
  let edge = patch;
  let logDetConstant = 0;
  const patchTerms: string[] = [];
  const negativeTerms: string[] = [];

  for (let level = 0; level < config.levels; level++) {
    h = squeeze(graph, h, inChannels, edge);
    const { edge: levelEdge, channels } = levelShape(config, level);
    const voxels = levelEdge ** 3;

    for (let step = 0; step < config.stepsPerLevel; step++) {
      const prefix = `l${level}.k${step}`;
      h = invconvStep(graph, weights, prefix, channels, h);
      logDetConstant += stepLogDetPerVoxel(weights, prefix, channels) * voxels;
      const coupled = couplingStep(graph, weights, config, prefix, channels, h);
      h = coupled.y;
      negativeTerms.push(coupled.negLogDet);
    }

    const map =
      level < config.levels - 1
        ? splitPrior(graph, weights, level, channels, h)
        : topPrior(graph, weights, channels, h);
    h = map.rest ?? h;
    graph.rename(map.map, mapOutputName(level));
    graph.output(mapOutputName(level), ['N', levelEdge, levelEdge, levelEdge]);
    patchTerms.push(reduceSum(graph, map.map, [1, 2, 3]));

    inChannels = channels / 2;
    edge = levelEdge;
  }

  let logP = graph.op1('Add', [sumAll(graph, patchTerms), scalar(graph, logDetConstant)]);
  logP = graph.op1('Sub', [logP, sumAll(graph, negativeTerms)]);
  graph.rename(logP, LOG_P_NAME);
  graph.output(LOG_P_NAME, ['N']);

  return graph.encode('ct3dflow', { flowConfig: JSON.stringify(config) });
}

function reshape(graph: GraphBuilder, x: string, shape: number[]): string {
  // 0 copies the input's dimension, which keeps the batch symbolic.
  return graph.op1('Reshape', [x, graph.intConstant('shape', shape)]);
}

/**
 * Squeeze 2x2x2 in NCDHW with the channel order of the channels-last
 * definition in architecture.ts: new channel = ((dd * 2 + dh) * 2 + dw) * C + c.
 */
function squeeze(graph: GraphBuilder, x: string, channels: number, edge: number): string {
  const half = edge / 2;
  const split = reshape(graph, x, [0, channels, half, 2, half, 2, half, 2]);
  const moved = graph.op1('Transpose', [split], { perm: [0, 3, 5, 7, 1, 2, 4, 6] });
  return reshape(graph, moved, [0, 8 * channels, half, half, half]);
}

function scalar(graph: GraphBuilder, value: number): string {
  return graph.floatConstant('scalar', [], [value]);
}

function reduceSum(graph: GraphBuilder, x: string, axes: number[]): string {
  return graph.op1('ReduceSum', [x, graph.intConstant('axes', axes)], { keepdims: 0 });
}

function sumAll(graph: GraphBuilder, terms: string[]): string {
  return terms.length === 1 ? terms[0] : graph.op1('Sum', terms);
}

function splitHalves(graph: GraphBuilder, x: string, channels: number): [string, string] {
  const sizes = graph.intConstant('split', [channels / 2, channels / 2]);
  const [first, second] = graph.op('Split', [x, sizes], { axis: 1 }, 2);
  return [first, second];
}

function conv(
  graph: GraphBuilder,
  x: string,
  kernel: Float32Array,
  bias: ArrayLike<number>,
  shape: [number, number, number, number, number],
): string {
  const [kd, kh, kw, inputs, outputs] = shape;
  const weight = graph.floatConstant('kernel', [outputs, inputs, kd, kh, kw], kernel);
  const biasName = graph.floatConstant('bias', [outputs], bias);
  const pad = (kd - 1) / 2;
  return graph.op1('Conv', [x, weight, biasName], {
    kernel_shape: [kd, kh, kw],
    pads: [pad, pad, pad, pad, pad, pad],
  });
}

/** Actnorm and the invertible 1x1x1 convolution, folded into one Conv. */
function invconvStep(
  graph: GraphBuilder,
  weights: FlowWeights,
  prefix: string,
  channels: number,
  x: string,
): string {
  const { kernel, bias } = foldActnormInvconv(weights, prefix, channels);
  return conv(graph, x, Float32Array.from(kernel), bias, [1, 1, 1, channels, channels]);
}

/**
 * Affine coupling: y_b = (x_b + shift) * sigmoid(u), u = h_scale + 2. The
 * log-det is sum(log sigmoid(u)) = -sum(softplus(-u)); softplus stays finite
 * where log(sigmoid(u)) would underflow to -Infinity on far-off inputs.
 * Returns y and the per-patch sum of softplus(-u) (to subtract).
 */
function couplingStep(
  graph: GraphBuilder,
  weights: FlowWeights,
  config: FlowConfig,
  prefix: string,
  channels: number,
  x: string,
): { y: string; negLogDet: string } {
  const half = channels / 2;
  const width = config.couplingWidth;
  const name = `${prefix}.coupling`;
  const [xa, xb] = splitHalves(graph, x, channels);

  const shape1: [number, number, number, number, number] = [3, 3, 3, half, width];
  const shape2: [number, number, number, number, number] = [1, 1, 1, width, width];
  const shape3: [number, number, number, number, number] = [3, 3, 3, width, channels];
  const kernel1 = requireTensor(weights, `${name}.conv1.kernel`, shape1);
  const kernel2 = requireTensor(weights, `${name}.conv2.kernel`, shape2);
  const kernel3 = requireTensor(weights, `${name}.conv3.kernel`, shape3);
  const bias3 = Float64Array.from(requireTensor(weights, `${name}.conv3.bias`, [channels]));
  for (let c = half; c < channels; c++) bias3[c] += 2;

  let t = conv(
    graph,
    xa,
    kernelToOnnx(kernel1, shape1),
    bias(weights, `${name}.conv1`, width),
    shape1,
  );
  t = graph.op1('Relu', [t]);
  t = conv(graph, t, kernelToOnnx(kernel2, shape2), bias(weights, `${name}.conv2`, width), shape2);
  t = graph.op1('Relu', [t]);
  const h = conv(graph, t, kernelToOnnx(kernel3, shape3), bias3, shape3);
  const [shift, u] = splitHalves(graph, h, channels);

  const scale = graph.op1('Sigmoid', [u]);
  const yb = graph.op1('Mul', [graph.op1('Add', [xb, shift]), scale]);
  const y = graph.op1('Concat', [xa, yb], { axis: 1 });
  const softplus = graph.op1('Softplus', [graph.op1('Neg', [u])]);
  return { y, negLogDet: reduceSum(graph, softplus, [1, 2, 3, 4]) };
}

function bias(weights: FlowWeights, prefix: string, length: number): Float32Array {
  return requireTensor(weights, `${prefix}.bias`, [length]);
}

/**
 * Split and the learned conditional prior of level l: z = x[C/2:] under
 * N(mean, exp(logsd)) with [mean, logsd] = conv3x3x3(x[:C/2]). The logsd half
 * of the prior kernel is multiplied by -2 at export, giving v = -2 logsd, so
 * log p(z) summed over channels = 0.5 sum(v - (z - mean)^2 exp(v)) - (C/2) log(2 pi)/2.
 */
function splitPrior(
  graph: GraphBuilder,
  weights: FlowWeights,
  level: number,
  channels: number,
  x: string,
): { map: string; rest: string } {
  const half = channels / 2;
  const shape: [number, number, number, number, number] = [3, 3, 3, half, channels];
  const kernel = requireTensor(weights, `l${level}.prior.kernel`, shape);
  const priorBias = requireTensor(weights, `l${level}.prior.bias`, [channels]);
  const factor = (out: number): number => (out < half ? 1 : -2);
  const foldedBias = Array.from(priorBias, (value, out) => value * factor(out));
  const [rest, z] = splitHalves(graph, x, channels);

  const prior = conv(graph, rest, kernelToOnnx(kernel, shape, factor), foldedBias, shape);
  const [mean, v] = splitHalves(graph, prior, channels);
  const d = graph.op1('Sub', [z, mean]);
  const q = graph.op1('Mul', [graph.op1('Mul', [d, d]), graph.op1('Exp', [v])]);
  const perPosition = reduceSum(graph, graph.op1('Sub', [v, q]), [1]);
  const halved = graph.op1('Mul', [perPosition, scalar(graph, 0.5)]);
  const map = graph.op1('Add', [halved, scalar(graph, -half * HALF_LOG_TWO_PI)]);
  return { map, rest };
}

/**
 * The top level's prior, one learned mean and log-sd per channel: per position
 * sum_c -(z_c - mean_c)^2 exp(-2 logsd_c) / 2 - logsd_c - log(2 pi) / 2.
 */
function topPrior(
  graph: GraphBuilder,
  weights: FlowWeights,
  channels: number,
  z: string,
): { map: string; rest?: string } {
  const priorBias = requireTensor(weights, 'top.prior.bias', [2 * channels]);
  const mean = priorBias.slice(0, channels);
  const logsd = priorBias.slice(channels);
  const negHalfPrecision = Array.from(logsd, (value) => -0.5 * Math.exp(-2 * value));
  let constant = 0;
  for (const value of logsd) constant -= value + HALF_LOG_TWO_PI;

  const perChannel = [1, channels, 1, 1, 1];
  const d = graph.op1('Sub', [z, graph.floatConstant('mean', perChannel, mean)]);
  const weighted = graph.op1('Mul', [
    graph.op1('Mul', [d, d]),
    graph.floatConstant('precision', perChannel, negHalfPrecision),
  ]);
  const map = graph.op1('Add', [reduceSum(graph, weighted, [1]), scalar(graph, constant)]);
  return { map };
}
