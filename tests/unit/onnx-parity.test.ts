import * as tf from '@tensorflow/tfjs';

import type { FlowConfig } from '../../src/model/architecture';
import { Glow3D } from '../../src/model/glow';
import { exportFlowToOnnx } from '../../src/model/onnx/export-flow';
import { seededRandom } from '../../src/util/seeded-random';
import type { FlowWeights } from '../../src/model/weights';
import { FlowInferenceEngine } from '../../src/inference/engine';

/**
 * Issue 5: ONNX vs TensorFlow.js log-likelihood within 1e-3 relative, on a
 * tiny flow with actnorm initialised on data and the zero-initialised layers
 * (conv3, priors) set to random values, so every term of logP is exercised.
 */
const tiny: FlowConfig = { patchSize: 8, levels: 3, stepsPerLevel: 2, couplingWidth: 8 };
const voxels = tiny.patchSize ** 3;

function smoothPatches(count: number, seed: number): Float32Array {
  const random = seededRandom(seed);
  const patches = new Float32Array(count * voxels);
  for (let n = 0; n < count; n++) {
    const level = random() - 0.5;
    for (let i = 0; i < voxels; i++) {
      const z = Math.floor(i / 64);
      patches[n * voxels + i] = Math.max(
        -0.5,
        Math.min(0.5, level + 0.05 * z + 0.1 * (random() - 0.5)),
      );
    }
  }
  return patches;
}

function withNonZeroZeroInitLayers(weights: FlowWeights, seed: number): FlowWeights {
  const random = seededRandom(seed);
  for (const [name, tensor] of weights) {
    if (!/conv3\.(kernel|bias)$|prior\.(kernel|bias)$/.test(name)) continue;
    for (let i = 0; i < tensor.data.length; i++) tensor.data[i] = 0.05 * (random() - 0.5);
  }
  return weights;
}

describe('ONNX vs TensorFlow.js parity', () => {
  it('gives the same logP within 1e-3 relative and the same per-level maps', async () => {
    const patches = smoothPatches(4, 3);
    const x = tf.tensor5d(patches, [4, 8, 8, 8, 1]);
    const fresh = Glow3D.create(tiny, 17);
    fresh.initializeActNorm(x);
    const weights = withNonZeroZeroInitLayers(fresh.toFlowWeights(), 5);
    fresh.dispose();
    const model = Glow3D.fromFlowWeights(tiny, weights);

    const output = model.forward(x);
    const tfjsLogP = await output.logP.data();
    const tfjsMaps = await Promise.all(output.maps.map((map) => map.data()));
    const engine = await FlowInferenceEngine.open(exportFlowToOnnx(tiny, weights), tiny, {
      warmUpBatches: 0,
    });
    const onnx = await engine.score(patches);
    await engine.close();
    tf.dispose([x, output.logP, output.logdet, ...output.latents, ...output.maps]);
    model.dispose();

    for (let n = 0; n < 4; n++) {
      expect(Number.isFinite(onnx.logP[n])).toBe(true);
      const relative = Math.abs(onnx.logP[n] - tfjsLogP[n]) / Math.abs(tfjsLogP[n]);
      expect(relative).toBeLessThan(1e-3);
    }
    tfjsMaps.forEach((map, level) => {
      expect(onnx.maps[level]).toHaveLength(map.length);
      map.forEach((value, i) => {
        expect(Math.abs(onnx.maps[level][i] - value)).toBeLessThan(1e-3 * Math.abs(value) + 1e-3);
      });
    });
  }, 60_000);
});
