import { seededRandom } from '../../util/seeded-random';
import { checkFlowConfig, type FlowConfig } from '../architecture';
import { flowParameterShapes, type FlowWeights } from '../weights';

function gaussian(random: () => number): number {
  const u = Math.max(random(), 1e-12);
  return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * random());
}

function permutationMatrix(channels: number, random: () => number): Float32Array {
  const order = Array.from({ length: channels }, (_, i) => i);
  for (let i = channels - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1));
    [order[i], order[j]] = [order[j], order[i]];
  }
  const matrix = new Float32Array(channels * channels);
  order.forEach((col, row) => (matrix[row * channels + col] = 1));
  return matrix;
}

/**
 * Random but non-trivial weights for every parameter of `config`: unlike a
 * fresh model, conv3 and the priors are non-zero, so a check of the exporter
 * against another forward exercises every term of logP. Not a trained model.
 */
export function randomFlowWeights(config: FlowConfig, seed: number, spread = 0.1): FlowWeights {
  checkFlowConfig(config);
  const random = seededRandom(seed);
  const weights: FlowWeights = new Map();
  for (const [name, shape] of flowParameterShapes(config)) {
    const length = shape.reduce((a, b) => a * b, 1);
    let data: Float32Array;
    if (name.endsWith('.invconv.P')) {
      data = permutationMatrix(shape[0], random);
    } else if (name.endsWith('.invconv.signS')) {
      data = Float32Array.from({ length }, () => (random() < 0.5 ? -1 : 1));
    } else if (name.endsWith('.kernel')) {
      // Scaled by fan-in so activations keep their size through the network.
      const fanIn = shape[0] * shape[1] * shape[2] * shape[3];
      const std = name.includes('conv3') || name.includes('prior') ? spread : 1;
      data = Float32Array.from({ length }, () => (gaussian(random) * std) / Math.sqrt(fanIn));
    } else {
      data = Float32Array.from({ length }, () => gaussian(random) * spread);
    }
    weights.set(name, { shape: [...shape], data });
  }
  return weights;
}
