import * as tf from '@tensorflow/tfjs';

import type { FlowConfig } from '../../src/model/architecture';
import { Glow3D } from '../../src/model/glow';
import { randomFlowWeights } from '../../src/model/onnx/random-weights';
import { referenceForward } from '../../src/model/onnx/reference-forward';
import { initTrainingBackend } from '../../src/training/backend';

const tiny: FlowConfig = { patchSize: 8, levels: 2, stepsPerLevel: 2, couplingWidth: 8 };

beforeAll(async () => {
  await initTrainingBackend({ order: ['wasm', 'cpu'] });
});

function randomPatches(n: number, seed: number): tf.Tensor5D {
  const p = tiny.patchSize;
  return tf.randomUniform([n, p, p, p, 1], -0.5, 0.5, 'float32', seed) as tf.Tensor5D;
}

describe('Glow3D forward against the float64 reference transcription', () => {
  it('gives the same logP and maps for non-trivial random weights', () => {
    const weights = randomFlowWeights(tiny, 7);
    const model = Glow3D.fromFlowWeights(tiny, weights);
    const x = randomPatches(2, 3);
    const out = model.forward(x);
    const logP = out.logP.dataSync();
    const p3 = tiny.patchSize ** 3;
    const xs = x.dataSync();

    for (let n = 0; n < 2; n++) {
      const reference = referenceForward(tiny, weights, xs.subarray(n * p3, (n + 1) * p3));
      expect(Math.abs(logP[n] - reference.logP)).toBeLessThan(
        1e-3 * Math.abs(reference.logP) + 1e-3,
      );
      out.maps.forEach((map, level) => {
        const size = reference.maps[level].length;
        const ours = map.dataSync().subarray(n * size, (n + 1) * size);
        for (let i = 0; i < size; i++) {
          expect(ours[i]).toBeCloseTo(reference.maps[level][i], 2);
        }
      });
    }
    tf.dispose([x, out.logP, out.logdet, ...out.latents, ...out.maps]);
    model.dispose();
  });

  it('inverse(forward(x)) == x within 1e-4', () => {
    const model = Glow3D.fromFlowWeights(tiny, randomFlowWeights(tiny, 11));
    const x = randomPatches(2, 5);
    const out = model.forward(x);
    const back = model.inverse(out.latents);
    const error = tf.max(tf.abs(back.sub(x))).dataSync()[0];
    expect(error).toBeLessThan(1e-4);
    tf.dispose([x, back, out.logP, out.logdet, ...out.latents, ...out.maps]);
    model.dispose();
  });
});
