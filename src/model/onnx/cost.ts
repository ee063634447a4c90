import { levelShape, type FlowConfig } from '../architecture';
import { flowParameterShapes } from '../weights';

/** Size and arithmetic cost of one flow (for the model card and benches). */
export interface FlowCost {
  /** Values stored in the weights files (including fixed P and signS). */
  storedValues: number;
  /** Values that training changes: actnorm, strict triangles of L and U, logS, convs. */
  trainableParameters: number;
  /** Multiply-adds of the image -> logP direction for one patch. */
  multiplyAddsPerPatch: number;
}

/**
 * Counts multiply-adds of the convolutions and the 1x1x1 mixing, which are
 * all but a fraction of a percent of the work; element-wise ops are left out.
 */
export function flowCost(config: FlowConfig): FlowCost {
  let storedValues = 0;
  let fixedValues = 0;
  for (const [name, shape] of flowParameterShapes(config)) {
    const count = shape.reduce((a, b) => a * b, 1);
    storedValues += count;
    const channels = shape[0];
    // P and signS are fixed; of L and U only the strict triangles are trained.
    if (name.endsWith('.invconv.P') || name.endsWith('.invconv.signS')) fixedValues += count;
    if (name.endsWith('.invconv.L') || name.endsWith('.invconv.U')) {
      fixedValues += (channels * (channels + 1)) / 2;
    }
  }

  const width = config.couplingWidth;
  let multiplyAdds = 0;
  for (let level = 0; level < config.levels; level++) {
    const { edge, channels } = levelShape(config, level);
    const voxels = edge ** 3;
    const half = channels / 2;
    const perStep = channels * channels + 27 * half * width + width * width + 27 * width * channels;
    multiplyAdds += perStep * voxels * config.stepsPerLevel;
    if (level < config.levels - 1) multiplyAdds += 27 * half * channels * voxels;
  }

  return {
    storedValues,
    trainableParameters: storedValues - fixedValues,
    multiplyAddsPerPatch: multiplyAdds,
  };
}
