/**
 * bench:infer (issue 5): patches per second of the CPU preset's image -> logP
 * direction with ONNX Runtime (the node's engine: worker thread, batched,
 * warmed up) and with the TensorFlow.js forward of the same weights, in one
 * run. Weights are seeded random values (speed does not depend on them);
 * patches are synthetic noise in the normalized range. Ends with one JSON line.
 *
 * Environment: BENCH_THREADS (ORT intra-op threads, 0 = ORT default),
 * BENCH_BATCH (patches per ORT call), BENCH_SPIN=1 (spinning ORT threads),
 * BENCH_ORT_PATCHES, BENCH_TFJS_PATCHES (0 skips TensorFlow.js),
 * BENCH_WASM=0 to skip the tfjs wasm backend.
 */
import { cpus } from 'node:os';

import * as tf from '@tensorflow/tfjs';

import { FlowInferenceEngine } from '../src/inference/engine';
import { PRESETS } from '../src/model/architecture';
import { Glow3D } from '../src/model/glow';
import { flowCost } from '../src/model/onnx/cost';
import { exportFlowToOnnx } from '../src/model/onnx/export-flow';
import { randomFlowWeights } from '../src/model/onnx/random-weights';
import { seededRandom } from '../src/util/seeded-random';
import { initTrainingBackend } from '../src/training/backend';

const config = PRESETS.cpu;
const threads = Number(process.env.BENCH_THREADS ?? 0);
const batchSize = Number(process.env.BENCH_BATCH ?? 8);
const allowSpinning = process.env.BENCH_SPIN === '1';
const ortPatches = Number(process.env.BENCH_ORT_PATCHES ?? 32);
const tfjsPatches = Number(process.env.BENCH_TFJS_PATCHES ?? 2);
const voxels = config.patchSize ** 3;

function syntheticPatches(count: number): Float32Array {
  const random = seededRandom(5);
  return Float32Array.from({ length: count * voxels }, () => random() - 0.5);
}

async function ortPatchesPerSecond(model: Uint8Array, patches: Float32Array): Promise<number> {
  const engine = await FlowInferenceEngine.open(model, config, {
    intraOpThreads: threads,
    allowSpinning,
    batchSize,
    warmUpBatches: 1,
  });
  const start = performance.now();
  await engine.score(patches, ortPatches);
  const seconds = (performance.now() - start) / 1000;
  await engine.close();
  return ortPatches / seconds;
}

/** One patch per forward, after one warm-up forward; null if the backend cannot run it. */
async function tfjsPatchesPerSecond(
  backend: 'cpu' | 'wasm',
  weights: ReturnType<typeof randomFlowWeights>,
  patches: Float32Array,
): Promise<{ patchesPerSecond: number | null; note?: string }> {
  try {
    await initTrainingBackend({ order: [backend] });
  } catch (error) {
    return { patchesPerSecond: null, note: `backend did not start: ${(error as Error).message}` };
  }
  const model = Glow3D.fromFlowWeights(config, weights);
  const edge = config.patchSize;
  const forward = async (n: number): Promise<void> => {
    const x = tf.tensor5d(patches.subarray(n * voxels, (n + 1) * voxels), [1, edge, edge, edge, 1]);
    const logP = tf.tidy(() => model.forward(x).logP);
    await logP.data();
    tf.dispose([x, logP]);
  };
  try {
    await forward(0);
    const start = performance.now();
    for (let n = 0; n < tfjsPatches; n++) await forward(n);
    return { patchesPerSecond: tfjsPatches / ((performance.now() - start) / 1000) };
  } catch (error) {
    return { patchesPerSecond: null, note: (error as Error).message.slice(0, 200) };
  }
}

function round(value: number, digits: number): number {
  return Number(value.toFixed(digits));
}

function roundOrNull(value: number | null, digits: number): number | null {
  return value === null ? null : round(value, digits);
}

async function main(): Promise<void> {
  const weights = randomFlowWeights(config, 1);
  const model = exportFlowToOnnx(config, weights);
  const patches = syntheticPatches(Math.max(ortPatches, tfjsPatches));
  const cost = flowCost(config);

  const ort = await ortPatchesPerSecond(model, patches);
  console.error(`ONNX Runtime: ${ort.toFixed(2)} patches/s`);
  const skipped = { patchesPerSecond: null, note: 'skipped (BENCH_TFJS_PATCHES=0)' };
  const tfjsCpu = tfjsPatches > 0 ? await tfjsPatchesPerSecond('cpu', weights, patches) : skipped;
  console.error(`tfjs cpu: ${tfjsCpu.patchesPerSecond?.toFixed(3)} patches/s`);
  let tfjsWasm: Awaited<ReturnType<typeof tfjsPatchesPerSecond>> = {
    patchesPerSecond: null,
    note: 'skipped (BENCH_WASM=0)',
  };
  if (tfjsPatches === 0) tfjsWasm = skipped;
  else if (process.env.BENCH_WASM !== '0') {
    tfjsWasm = await tfjsPatchesPerSecond('wasm', weights, patches);
  }

  const gflop = (2 * cost.multiplyAddsPerPatch) / 1e9;
  console.log(
    JSON.stringify({
      bench: 'infer',
      preset: 'cpu',
      config,
      weights: 'seeded random (synthetic)',
      gflopPerPatch: Number(gflop.toFixed(3)),
      machineCores: cpus().length,
      ortIntraOpThreads: threads === 0 ? 'ort default' : threads,
      ortBatchSize: batchSize,
      ortAllowSpinning: allowSpinning,
      ortPatches,
      ortPatchesPerSecond: Number(ort.toFixed(3)),
      ortGflopPerSecond: Number((ort * gflop).toFixed(2)),
      tfjsPatches,
      tfjsCpuPatchesPerSecond: roundOrNull(tfjsCpu.patchesPerSecond, 4),
      tfjsWasmPatchesPerSecond: roundOrNull(tfjsWasm.patchesPerSecond, 4),
      tfjsWasmNote: tfjsWasm.note,
      ratio: tfjsCpu.patchesPerSecond === null ? null : round(ort / tfjsCpu.patchesPerSecond, 2),
      ratioReference: 'tfjs cpu backend forward, batch 1',
      ratioWasm:
        tfjsWasm.patchesPerSecond === null ? null : round(ort / tfjsWasm.patchesPerSecond, 2),
    }),
  );
}

void main();
