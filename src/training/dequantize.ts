import { HU_RANGE } from '../model/architecture';
import type { SeededRandom } from '../util/seeded-random';

/** One HU step in normalized units (architecture.ts: [-1020, 200] -> 1). */
export const HU_STEP_NORMALIZED = 1 / HU_RANGE;

/**
 * Uniform dequantization (METHOD.md section 1): CT values are integers, so
 * training adds noise of one HU step to each voxel, turning the likelihood
 * of a continuous density into a lower bound on that of the integer HU.
 * Writes into `out` (same length as patches) and returns it.
 */
export function dequantize(
  patches: Float32Array,
  random: SeededRandom,
  out = new Float32Array(patches.length),
): Float32Array {
  for (let i = 0; i < patches.length; i++) {
    out[i] = patches[i] + HU_STEP_NORMALIZED * random.uniform();
  }
  return out;
}
