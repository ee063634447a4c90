import * as tf from '@tensorflow/tfjs';

import { levelShape, type FlowConfig } from '../architecture';
import { checkFlowWeights, flowParameterShapes, type FlowWeights } from '../weights';
import { luDecompose, randomOrthogonal } from '../linalg';
import { SeededRandom } from '../../util/seeded-random';

/** Parameters that training leaves fixed (architecture.ts: P and signS). */
export function isFixedParameter(name: string): boolean {
  return name.endsWith('.invconv.P') || name.endsWith('.invconv.signS');
}

/**
 * Initial values (GLOW, METHOD.md section 2): actnorm identity (set from
 * data later), invconv from a random rotation in LU form, coupling conv1 and
 * conv2 small Gaussians, conv3 and every prior zero so each step starts as
 * the identity and each latent as a standard normal.
 */
export function initialFlowWeights(config: FlowConfig, seed: number): FlowWeights {
  const random = new SeededRandom(seed);
  const weights: FlowWeights = new Map();
  for (const [name, shape] of flowParameterShapes(config)) {
    const data = new Float32Array(shape.reduce((a, b) => a * b, 1));
    if (/coupling\.conv[12]\.kernel$/.test(name)) random.fillNormal(data, 0.05);
    weights.set(name, { shape, data });
  }

  for (let level = 0; level < config.levels; level++) {
    const n = levelShape(config, level).channels;
    for (let step = 0; step < config.stepsPerLevel; step++) {
      const prefix = `l${level}.k${step}.invconv`;
      const { p, l, u } = luDecompose(randomOrthogonal(n, random), n);
      const put = (key: string, values: ArrayLike<number>): void => {
        weights.get(`${prefix}.${key}`)!.data.set(values);
      };
      const diagonal = Array.from({ length: n }, (_, i) => u[i * n + i]);
      put('P', p);
      put('L', l);
      put(
        'U',
        u.map((value, index) => (index % n > Math.floor(index / n) ? value : 0)),
      );
      put(
        'logS',
        diagonal.map((s) => Math.log(Math.abs(s))),
      );
      put(
        'signS',
        diagonal.map((s) => Math.sign(s)),
      );
    }
  }
  return weights;
}

/** tf.Variables by parameter name; P and signS are not trainable. */
export type FlowVariables = Map<string, tf.Variable>;

// tfjs registers variables by a global name; a model number keeps two
// models in one process apart.
let modelsMade = 0;

export function weightsToVariables(config: FlowConfig, weights: FlowWeights): FlowVariables {
  checkFlowWeights(config, weights);
  const scope = `flow${modelsMade++}`;
  const variables: FlowVariables = new Map();
  for (const name of flowParameterShapes(config).keys()) {
    const { shape, data } = weights.get(name)!;
    const initial = tf.tensor(data, shape);
    const trainable = !isFixedParameter(name);
    variables.set(name, tf.variable(initial, trainable, `${scope}/${name}`));
    initial.dispose();
  }
  return variables;
}

export function variablesToWeights(variables: FlowVariables): FlowWeights {
  const weights: FlowWeights = new Map();
  for (const [name, variable] of variables) {
    weights.set(name, { shape: [...variable.shape], data: Float32Array.from(variable.dataSync()) });
  }
  return weights;
}
