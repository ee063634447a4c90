import { onnx } from 'onnx-proto';

import type { FlowConfig } from '../../src/model/architecture';
import { FlowInferenceEngine } from '../../src/inference/engine';
import { exportFlowToOnnx } from '../../src/model/onnx/export-flow';
import { invconvMatrix } from '../../src/model/onnx/fold';
import { randomFlowWeights } from '../../src/model/onnx/random-weights';
import { seededRandom } from '../../src/util/seeded-random';
import { referenceForward } from '../../src/model/onnx/reference-forward';
import { WeightsError } from '../../src/model/weights';

const tiny: FlowConfig = { patchSize: 8, levels: 2, stepsPerLevel: 2, couplingWidth: 6 };

/** Determinant by Gaussian elimination with partial pivoting, float64. */
function denseDeterminant(matrix: Float64Array, n: number): number {
  const a = Float64Array.from(matrix);
  let det = 1;
  for (let col = 0; col < n; col++) {
    let pivot = col;
    for (let row = col + 1; row < n; row++) {
      if (Math.abs(a[row * n + col]) > Math.abs(a[pivot * n + col])) pivot = row;
    }
    if (pivot !== col) {
      det = -det;
      for (let k = 0; k < n; k++)
        [a[col * n + k], a[pivot * n + k]] = [a[pivot * n + k], a[col * n + k]];
    }
    det *= a[col * n + col];
    for (let row = col + 1; row < n; row++) {
      const factor = a[row * n + col] / a[col * n + col];
      for (let k = col; k < n; k++) a[row * n + k] -= factor * a[col * n + k];
    }
  }
  return det;
}

describe('ONNX export of the flow', () => {
  it('declares opset 17, a symbolic batch and one map per level', () => {
    const model = onnx.ModelProto.decode(exportFlowToOnnx(tiny, randomFlowWeights(tiny, 1)));

    expect(Number(model.opsetImport[0].version)).toBe(17);
    const graph = model.graph as onnx.GraphProto;
    const input = graph.input[0];
    expect(input.name).toBe('x');
    const shape = input.type?.tensorType?.shape?.dim ?? [];
    const dims = shape.map((dim) => (dim.dimParam ? dim.dimParam : Number(dim.dimValue)));
    expect(dims).toEqual(['N', 8, 8, 8, 1]);
    expect(graph.output.map((output) => output.name)).toEqual(['map_l0', 'map_l1', 'log_p']);
  });

  it('folds W = P L (U + diag(s)) with log|det W| = sum(logS)', () => {
    const weights = randomFlowWeights(tiny, 4, 0.5);
    const logS = weights.get('l1.k1.invconv.logS')!.data;

    const matrix = invconvMatrix(weights, 'l1.k1', 32);

    const expected = logS.reduce((sum, value) => sum + value, 0);
    expect(Math.log(Math.abs(denseDeterminant(matrix, 32)))).toBeCloseTo(expected, 6);
  });

  it('matches the float64 reference forward in logP and every map', async () => {
    const weights = randomFlowWeights(tiny, 7, 0.3);
    const engine = await FlowInferenceEngine.open(exportFlowToOnnx(tiny, weights), tiny, {
      warmUpBatches: 0,
    });
    const random = seededRandom(11);
    const voxels = tiny.patchSize ** 3;
    const patches = Float32Array.from({ length: 3 * voxels }, () => random() - 0.5);

    const scores = await engine.score(patches);
    await engine.close();

    for (let n = 0; n < 3; n++) {
      const reference = referenceForward(
        tiny,
        weights,
        patches.subarray(n * voxels, (n + 1) * voxels),
      );
      expect(Math.abs(scores.logP[n] - reference.logP) / Math.abs(reference.logP)).toBeLessThan(
        1e-5,
      );
      reference.maps.forEach((map, level) => {
        const got = scores.maps[level].subarray(n * map.length, (n + 1) * map.length);
        map.forEach((value, i) => {
          expect(Math.abs(got[i] - value)).toBeLessThan(1e-5 * Math.abs(value) + 1e-4);
        });
      });
    }
  });

  it('BAD CALL - weights missing a tensor', () => {
    const weights = randomFlowWeights(tiny, 1);
    weights.delete('l0.k1.coupling.conv2.bias');

    expect(() => exportFlowToOnnx(tiny, weights)).toThrow(WeightsError);
    expect(() => exportFlowToOnnx(tiny, weights)).toThrow(
      'tensor l0.k1.coupling.conv2.bias is missing',
    );
  });
});
