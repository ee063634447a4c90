import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import type { FlowConfig } from '../../src/model/architecture';
import {
  BundleError,
  createBundle,
  loadBundle,
  loadBundleWeights,
  readManifest,
  uuidDerivedUid,
} from '../../src/model/bundle';
import { randomFlowWeights } from '../../src/model/onnx/random-weights';
import { WeightsError } from '../../src/model/weights';

const tiny: FlowConfig = { patchSize: 8, levels: 2, stepsPerLevel: 1, couplingWidth: 4 };

describe('model bundle', () => {
  let dir: string;
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'ct3dflow-bundle-'));
  });
  afterEach(async () => rm(dir, { recursive: true, force: true }));

  it('writes model, manifest and weights that read back identical', async () => {
    const weights = randomFlowWeights(tiny, 2);

    const written = await createBundle(dir, { config: tiny, weights, modelVersion: '0.1.0-test' });
    const { manifest, model } = await loadBundle(dir);
    const readWeights = await loadBundleWeights(dir, manifest);

    expect(manifest).toEqual(written);
    expect(manifest.calibration).toBeNull();
    expect(manifest.trainingData).toBeNull();
    expect(manifest.onnx.opset).toBeGreaterThanOrEqual(17);
    expect(model.length).toBeGreaterThan(1000);
    expect(readWeights.size).toBe(weights.size);
    for (const [name, tensor] of weights) {
      expect(readWeights.get(name)?.shape).toEqual(tensor.shape);
      expect(Array.from(readWeights.get(name)!.data)).toEqual(Array.from(tensor.data));
    }
  });

  it('gives every bundle a new 2.25 Device UID of at most 64 characters', async () => {
    const first = await createBundle(join(dir, 'a'), {
      config: tiny,
      weights: randomFlowWeights(tiny, 1),
      modelVersion: '1',
    });
    const second = await createBundle(join(dir, 'b'), {
      config: tiny,
      weights: randomFlowWeights(tiny, 1),
      modelVersion: '1',
    });

    expect(first.deviceUid).not.toBe(second.deviceUid);
    expect(first.deviceUid.length).toBeLessThanOrEqual(64);
    expect(uuidDerivedUid('00000000-0000-0000-0000-000000000001')).toBe('2.25.1');
    expect(uuidDerivedUid('ffffffff-ffff-ffff-ffff-ffffffffffff')).toBe(
      `2.25.${(2n ** 128n - 1n).toString()}`,
    );
  });

  it('BAD CALL - model.onnx altered after export', async () => {
    await createBundle(dir, {
      config: tiny,
      weights: randomFlowWeights(tiny, 1),
      modelVersion: '1',
    });
    const model = await readFile(join(dir, 'model.onnx'));
    model[model.length - 1] ^= 1;
    await writeFile(join(dir, 'model.onnx'), model);

    await expect(loadBundle(dir)).rejects.toThrow(BundleError);
    await expect(loadBundle(dir)).rejects.toThrow(/sha256 [0-9a-f]{64} differs from manifest/);
  });

  it('BAD CALL - manifest with a bad Device UID names the field', async () => {
    await createBundle(dir, {
      config: tiny,
      weights: randomFlowWeights(tiny, 1),
      modelVersion: '1',
    });
    const manifest = JSON.parse(await readFile(join(dir, 'manifest.json'), 'utf8'));
    manifest.deviceUid = '2.25.01';
    await writeFile(join(dir, 'manifest.json'), JSON.stringify(manifest));

    await expect(readManifest(dir)).rejects.toThrow(/manifest\.json: deviceUid: /);
  });

  it('BAD CALL - truncated weights.bin names the tensor that does not fit', async () => {
    await createBundle(dir, {
      config: tiny,
      weights: randomFlowWeights(tiny, 1),
      modelVersion: '1',
    });
    const binPath = join(dir, 'weights', 'weights.bin');
    const bin = await readFile(binPath);
    await writeFile(binPath, bin.subarray(0, bin.length - 4));
    const { manifest } = await loadBundle(dir);

    await expect(loadBundleWeights(dir, manifest)).rejects.toThrow(WeightsError);
    await expect(loadBundleWeights(dir, manifest)).rejects.toThrow(
      /weights\.bin: tensor top\.prior\.bias needs bytes \d+\.\.\d+, file has \d+/,
    );
  });
});
