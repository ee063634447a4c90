import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import * as tf from '@tensorflow/tfjs';

import { buildProgram } from '../../src/cli/main';
import { VerifyError } from '../../src/inference/verify-bundle';
import type { FlowConfig } from '../../src/model/architecture';
import { createBundle } from '../../src/model/bundle';
import { Glow3D } from '../../src/model/glow';
import { seededRandom } from '../../src/util/seeded-random';
import { saveFlowWeights } from '../../src/model/weights';

const tiny: FlowConfig = { patchSize: 8, levels: 2, stepsPerLevel: 2, couplingWidth: 4 };

/** A tiny Glow3D with its zero-initialised layers made non-zero. */
function tinyWeights(): ReturnType<Glow3D['toFlowWeights']> {
  const model = Glow3D.create(tiny, 3);
  const weights = model.toFlowWeights();
  model.dispose();
  const random = seededRandom(9);
  for (const [name, tensor] of weights) {
    if (!/conv3|prior/.test(name)) continue;
    for (let i = 0; i < tensor.data.length; i++) tensor.data[i] = 0.05 * (random() - 0.5);
  }
  return weights;
}

async function runCli(args: string[]): Promise<string> {
  const chunks: string[] = [];
  const write = jest.spyOn(process.stdout, 'write').mockImplementation((chunk) => {
    chunks.push(String(chunk));
    return true;
  });
  try {
    await buildProgram().parseAsync(['node', 'ct3dflow', ...args]);
  } finally {
    write.mockRestore();
  }
  return chunks.join('');
}

describe('ct3dflow model export and verify', () => {
  let dir: string;
  // The CLI registers the wasm backend; tfjs needs it started before use.
  beforeAll(async () => tf.ready());
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'ct3dflow-verify-'));
  });
  afterEach(async () => rm(dir, { recursive: true, force: true }));

  it('exports a weights folder and verifies the bundle: ONNX equals tfjs', async () => {
    await saveFlowWeights(join(dir, 'weights'), tinyWeights(), { config: tiny });
    const bundle = join(dir, 'bundle');

    const exported = await runCli([
      'model',
      'export',
      '--weights',
      join(dir, 'weights'),
      '--out',
      bundle,
      '--model-version',
      '0.0.1',
    ]);
    const verified = await runCli(['model', 'verify', bundle, '--patches', '2', '--threads', '1']);

    expect(exported).toMatch(/Device UID 2\.25\.\d+/);
    expect(verified).toMatch(/largest logP difference: \S+ nats \(relative \S+\)/);
    expect(verified).toMatch(/inverse\(forward\(x\)\) largest error: /);
    expect(verified).toMatch(/PASSED/);
  }, 60_000);

  it('BAD CALL - tfjs weights that no longer match model.onnx fail verification', async () => {
    const weights = tinyWeights();
    const bundle = join(dir, 'bundle');
    await createBundle(bundle, { config: tiny, weights, modelVersion: '1' });
    const edited = new Map(weights);
    const bias = edited.get('top.prior.bias')!;
    edited.set('top.prior.bias', { shape: bias.shape, data: bias.data.map((v) => v + 0.5) });
    await saveFlowWeights(join(bundle, 'weights'), edited, { config: tiny });

    const run = runCli(['model', 'verify', bundle, '--patches', '2']);

    await expect(run).rejects.toThrow(VerifyError);
    await expect(run).rejects.toThrow(
      /FAILED: largest relative logP difference \S+ exceeds tolerance 0\.001/,
    );
  }, 60_000);

  it('BAD CALL - a manifest that was edited by hand names the field', async () => {
    const bundle = join(dir, 'bundle');
    await createBundle(bundle, { config: tiny, weights: tinyWeights(), modelVersion: '1' });
    const manifest = JSON.parse(await readFile(join(bundle, 'manifest.json'), 'utf8'));
    delete manifest.preprocessing.huMin;
    await writeFile(join(bundle, 'manifest.json'), JSON.stringify(manifest));

    await expect(runCli(['model', 'verify', bundle])).rejects.toThrow(
      /FAILED: .*manifest\.json: preprocessing\.huMin: /,
    );
  });
});
