import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import winston from 'winston';
import Transport from 'winston-transport';

import { bitsPerDim, type FlowConfig } from '../../src/model/architecture';
import { exportFlowToOnnx } from '../../src/model/onnx/export-flow';
import { randomFlowWeights } from '../../src/model/onnx/random-weights';
import { seededRandom } from '../../src/util/seeded-random';
import { referenceForward } from '../../src/model/onnx/reference-forward';
import { FlowInferenceEngine, InferenceError } from '../../src/inference/engine';
import { openBundleEngine } from '../../src/inference/open-bundle-engine';
import { configSchema } from '../../src/config/schema';
import { createBundle } from '../../src/model/bundle';

const tiny: FlowConfig = { patchSize: 8, levels: 2, stepsPerLevel: 2, couplingWidth: 6 };
const voxels = tiny.patchSize ** 3;

/** Keeps every log line, so a test can look for the fallback warning. */
class MemoryTransport extends Transport {
  readonly lines: Array<Record<string, unknown>> = [];
  override log(info: Record<string, unknown>, next: () => void): void {
    this.lines.push(info);
    next();
  }
}

function capturingLogger(): { logger: winston.Logger; lines: Array<Record<string, unknown>> } {
  const transport = new MemoryTransport();
  return { logger: winston.createLogger({ transports: [transport] }), lines: transport.lines };
}

function randomPatches(count: number, seed: number): Float32Array {
  const random = seededRandom(seed);
  const patches = new Float32Array(count * voxels);
  for (let i = 0; i < patches.length; i++) patches[i] = random() - 0.5;
  return patches;
}

describe('FlowInferenceEngine', () => {
  const weights = randomFlowWeights(tiny, 3, 0.3);
  const model = exportFlowToOnnx(tiny, weights);
  let engine: FlowInferenceEngine;

  beforeAll(async () => {
    const { logger } = capturingLogger();
    engine = await FlowInferenceEngine.open(
      model,
      tiny,
      { batchSize: 2, intraOpThreads: 1 },
      logger,
    );
  });
  afterAll(async () => engine.close());

  it('scores patches across batch boundaries like the reference forward', async () => {
    const patches = randomPatches(5, 21);

    const scores = await engine.score(patches);

    expect(scores.logP).toHaveLength(5);
    expect(scores.mapEdges).toEqual([4, 2]);
    for (let n = 0; n < 5; n++) {
      const reference = referenceForward(
        tiny,
        weights,
        patches.subarray(n * voxels, (n + 1) * voxels),
      );
      expect(Math.abs(scores.logP[n] - reference.logP) / Math.abs(reference.logP)).toBeLessThan(
        1e-5,
      );
      expect(scores.bitsPerDim[n]).toBeCloseTo(bitsPerDim(scores.logP[n], voxels), 10);
      const lastMap = scores.maps[1].subarray(n * 8, (n + 1) * 8);
      reference.maps[1].forEach((value, i) => expect(lastMap[i]).toBeCloseTo(value, 2));
    }
    expect(patches[0]).not.toBe(0);
  });

  it("leaves the caller's patches intact and gives the same scores twice", async () => {
    const patches = randomPatches(3, 5);
    const copy = Float32Array.from(patches);

    const first = await engine.score(patches);
    const second = await engine.score(patches);

    expect(Array.from(patches)).toEqual(Array.from(copy));
    expect(Array.from(first.logP)).toEqual(Array.from(second.logP));
  });

  it('BAD CALL - patches that are not a whole number of P^3 blocks', async () => {
    const promise = engine.score(new Float32Array(voxels + 1));
    await expect(promise).rejects.toThrow(InferenceError);
    await expect(promise).rejects.toThrow(/513 values, not 1.00\d* x 8\^3/);
  });

  it('BAD CALL - scoring after close', async () => {
    const closing = await FlowInferenceEngine.open(model, tiny, { warmUpBatches: 0 });
    await closing.close();

    await expect(closing.score(new Float32Array(voxels))).rejects.toThrow(
      'cannot score: engine closed',
    );
  });

  it('opens the configured bundle with the inference section', async () => {
    const dataDir = await mkdtemp(join(tmpdir(), 'ct3dflow-engine-'));
    await createBundle(join(dataDir, 'models', 'current'), {
      config: tiny,
      weights,
      modelVersion: 'test',
    });
    const config = configSchema.parse({
      node: { dataDir },
      inference: { batchSize: 3, warmUpBatches: 0, intraOpThreads: 1 },
    });

    const opened = await openBundleEngine(config);
    const scores = await opened.engine.score(randomPatches(1, 9));
    await opened.engine.close();
    await rm(dataDir, { recursive: true, force: true });

    expect(opened.engine.options.batchSize).toBe(3);
    expect(opened.manifest.modelVersion).toBe('test');
    expect(Number.isFinite(scores.logP[0])).toBe(true);
  });

  it('falls back to CPU with a warning when CUDA does not load', async () => {
    const { logger, lines } = capturingLogger();

    const cuda = await FlowInferenceEngine.open(
      model,
      tiny,
      { executionProvider: 'cuda', warmUpBatches: 0 },
      logger,
    );
    await cuda.close();

    expect(cuda.provider).toBe('cpu');
    const warning = lines.find((line) => line.level === 'warn');
    expect(warning?.message).toMatch(/CUDA execution provider did not load/);
    expect(String(warning?.reason)).not.toBe('');
  });
});
