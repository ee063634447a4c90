import * as tf from '@tensorflow/tfjs';

import type { FlowConfig } from '../model/architecture';
import { Glow3D } from '../model/glow';
import type { FlowWeights } from '../model/weights';
import type { ReferenceFlow } from './verify-bundle';

/**
 * The training model (TensorFlow.js Glow3D) as the reference the ONNX export
 * is checked against, on whatever tfjs backend the caller selected. Patches
 * go one at a time: the CPU preset's forward holds hundreds of MB of
 * activations per patch.
 */
export class TfjsReferenceFlow implements ReferenceFlow {
  readonly backend = `tfjs ${tf.getBackend()}`;

  constructor(
    private readonly model: Glow3D,
    private readonly config: FlowConfig,
  ) {}

  async evaluate(
    patches: Float32Array,
    count: number,
  ): Promise<{ logP: Float64Array; inverseError: number }> {
    const edge = this.config.patchSize;
    const voxels = edge ** 3;
    const logP = new Float64Array(count);
    let inverseError = 0;

    for (let n = 0; n < count; n++) {
      const [patchLogP, error] = tf.tidy(() => {
        const x = tf.tensor5d(patches.subarray(n * voxels, (n + 1) * voxels), [
          1,
          edge,
          edge,
          edge,
          1,
        ]);
        const output = this.model.forward(x);
        const reconstructed = this.model.inverse(output.latents);
        return [output.logP, tf.max(tf.abs(tf.sub(reconstructed, x)))];
      });
      logP[n] = (await patchLogP.data())[0];
      inverseError = Math.max(inverseError, (await error.data())[0]);
      tf.dispose([patchLogP, error]);
    }
    return { logP, inverseError };
  }
}

/** Builds the Glow3D of the weights on the current tfjs backend. */
export async function openTfjsReference(
  config: FlowConfig,
  weights: FlowWeights,
): Promise<ReferenceFlow> {
  await tf.ready();
  return new TfjsReferenceFlow(Glow3D.fromFlowWeights(config, weights), config);
}
