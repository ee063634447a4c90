import * as tf from '@tensorflow/tfjs';

import { huToNormalized, PRESETS, type FlowConfig } from '../../src/model/architecture';
import { Glow3D } from '../../src/model/glow';
import { logAbsDeterminant } from '../../src/model/linalg';
import { invConvMatrix } from '../../src/model/glow/steps';
import { randomFlowWeights } from '../../src/model/onnx/random-weights';
import { initTrainingBackend } from '../../src/training/backend';

beforeAll(async () => {
  await initTrainingBackend({ order: ['wasm', 'cpu'] });
});

function allFinite(tensors: tf.Tensor[]): boolean {
  return tensors.every((t) => t.dataSync().every((v) => Number.isFinite(v)));
}

function disposeOutput(out: ReturnType<Glow3D['forward']>): void {
  tf.dispose([out.logP, out.logdet, ...out.latents, ...out.maps]);
}

describe('flow log-determinants', () => {
  it('analytic log-det equals a finite-difference Jacobian log-det (4^3 voxels, one level)', () => {
    const config: FlowConfig = { patchSize: 4, levels: 1, stepsPerLevel: 2, couplingWidth: 4 };
    const model = Glow3D.fromFlowWeights(config, randomFlowWeights(config, 3, 0.3));
    const dims = 64;
    const x0 = tf.randomUniform([dims], -0.5, 0.5, 'float32', 9).dataSync();

    // Rows 2i and 2i+1 perturb voxel i by +eps and -eps: one batched forward.
    const eps = 1e-2;
    const batch = new Float32Array(2 * dims * dims + dims);
    for (let i = 0; i < dims; i++) {
      batch.set(x0, 2 * i * dims);
      batch.set(x0, (2 * i + 1) * dims);
      batch[2 * i * dims + i] += eps;
      batch[(2 * i + 1) * dims + i] -= eps;
    }
    batch.set(x0, 2 * dims * dims);
    const out = model.forward(tf.tensor5d(batch, [2 * dims + 1, 4, 4, 4, 1]));
    const z = out.latents[0].dataSync();
    const analytic = out.logdet.dataSync()[2 * dims];

    // Jacobian column i: d z / d x_i; the latent's element order is any fixed
    // order, which changes only the sign of det, not |det|.
    const jacobian = new Float64Array(dims * dims);
    for (let i = 0; i < dims; i++) {
      for (let j = 0; j < dims; j++) {
        jacobian[j * dims + i] = (z[2 * i * dims + j] - z[(2 * i + 1) * dims + j]) / (2 * eps);
      }
    }
    expect(Math.abs(analytic)).toBeGreaterThan(0.5);
    expect(Math.abs(logAbsDeterminant(jacobian, dims) - analytic)).toBeLessThan(1e-3);
    disposeOutput(out);
    model.dispose();
  });

  it('LU log-det sum(logS) equals the log|det| of the dense W', () => {
    const config: FlowConfig = { patchSize: 8, levels: 2, stepsPerLevel: 1, couplingWidth: 4 };
    const model = Glow3D.fromFlowWeights(config, randomFlowWeights(config, 5, 0.5));
    for (const prefix of ['l0.k0', 'l1.k0']) {
      const w = invConvMatrix(model.variables, prefix);
      const n = w.shape[0];
      const dense = logAbsDeterminant(Float64Array.from(w.dataSync()), n);
      const lu = model.variables.get(`${prefix}.invconv.logS`)!.sum().dataSync()[0];
      expect(Math.abs(dense)).toBeGreaterThan(0.1);
      expect(Math.abs(dense - lu)).toBeLessThan(1e-3);
      w.dispose();
    }
    model.dispose();
  });
});

describe('no NaN or Inf', () => {
  it('on an all-air constant patch after data-dependent actnorm init (cpu preset)', () => {
    const p = PRESETS.cpu.patchSize;
    const air = tf.fill([1, p, p, p, 1], huToNormalized(-1000)) as tf.Tensor5D;
    const model = Glow3D.create(PRESETS.cpu, 1);
    model.initializeActNorm(air);
    const out = model.forward(air);
    expect(allFinite([out.logP, out.logdet, ...out.maps])).toBe(true);
    expect(allFinite([...model.variables.values()])).toBe(true);
    disposeOutput(out);
    model.dispose();
    air.dispose();
  });

  it('at initialization, before any actnorm init, on random patches', () => {
    const config: FlowConfig = { patchSize: 16, levels: 3, stepsPerLevel: 2, couplingWidth: 8 };
    const model = Glow3D.create(config, 2);
    const x = tf.randomUniform([2, 16, 16, 16, 1], -0.5, 0.5, 'float32', 4) as tf.Tensor5D;
    const out = model.forward(x);
    expect(allFinite([out.logP, out.logdet, ...out.maps, ...out.latents])).toBe(true);
    disposeOutput(out);
    model.dispose();
  });
});
