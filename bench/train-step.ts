/**
 * Training speed of the flow: patches per second for one optimizer step
 * (forward, gradient, Adam) of a preset on this machine, the backend used,
 * and tf.memory() over the steps (no growth expected: every tensor of a
 * step is disposed). Patches are synthetic (uniform noise in normalized units);
 * speed does not depend on their content.
 *
 *   npm run bench:train-step -- [--steps 20] [--batch 4] [--preset cpu]
 *     [--config '{"couplingWidth":16}'] [--backend wasm] [--conv-compare]
 *
 * Ends with one JSON line. --conv-compare also times each 3x3x3 convolution
 * shape of the preset, forward + both gradients, with this project's
 * conv3x3x3 and with tf.conv3d, and reports their ratio.
 */
import * as tf from '@tensorflow/tfjs';

import { levelShape, PRESETS, type FlowConfig, type PresetName } from '../src/model/architecture';
import { SeededRandom } from '../src/model/glow';
import { conv3x3x3 } from '../src/model/glow/conv3d';
import { flowCost } from '../src/model/onnx/cost';
import { initTrainingBackend, type BackendName } from '../src/training/backend';
import { FlowTrainer } from '../src/training/trainer';

function flag(name: string): string | undefined {
  const index = process.argv.indexOf(`--${name}`);
  return index < 0 ? undefined : process.argv[index + 1];
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)];
}

function timeMs(run: () => void, repeats: number): number {
  run();
  const started = process.hrtime.bigint();
  for (let i = 0; i < repeats; i++) run();
  return Number(process.hrtime.bigint() - started) / 1e6 / repeats;
}

/** ms of forward + input and kernel gradients for one conv shape. */
function convStepMs(
  conv: (x: tf.Tensor5D, k: tf.Tensor5D) => tf.Tensor,
  shape: { batch: number; edge: number; inChannels: number; outChannels: number },
): number {
  const { batch, edge, inChannels, outChannels } = shape;
  const x = tf.randomNormal([batch, edge, edge, edge, inChannels]) as tf.Tensor5D;
  const kernel = tf.randomNormal([3, 3, 3, inChannels, outChannels], 0, 0.1) as tf.Tensor5D;
  const loss = (a: tf.Tensor, b: tf.Tensor): tf.Tensor =>
    conv(a as tf.Tensor5D, b as tf.Tensor5D).sum();
  const ms = timeMs(() => {
    const grads = tf.tidy(() => tf.grads(loss)([x, kernel]));
    grads.forEach((g) => g.dataSync());
    tf.dispose(grads);
  }, 2);
  tf.dispose([x, kernel]);
  return ms;
}

function convShapes(config: FlowConfig, batch: number) {
  const width = config.couplingWidth;
  const shapes = [];
  for (let level = 0; level < config.levels; level++) {
    const { edge, channels } = levelShape(config, level);
    shapes.push({ level, batch, edge, inChannels: channels / 2, outChannels: width });
    shapes.push({ level, batch, edge, inChannels: width, outChannels: channels });
  }
  return shapes;
}

async function main(): Promise<void> {
  const steps = Number(flag('steps') ?? 20);
  const batch = Number(flag('batch') ?? 4);
  const preset = (flag('preset') ?? 'cpu') as PresetName;
  const config: FlowConfig = { ...PRESETS[preset], ...JSON.parse(flag('config') ?? '{}') };
  const backendFlag = flag('backend') as BackendName | undefined;
  const report = await initTrainingBackend(backendFlag ? { order: [backendFlag] } : {});
  console.error(`backend ${report.backend}`, JSON.stringify(report));

  const trainer = FlowTrainer.create(config, { batchSize: batch, seed: 1 });
  const p = config.patchSize;
  const poolCount = 16;
  const pool = {
    patchSize: p,
    count: poolCount,
    data: new SeededRandom(2).fillUniform(new Float32Array(poolCount * p ** 3), -0.5, 0.5),
  };

  const speeds: number[] = [];
  let afterFirst = { numTensors: 0, numBytes: 0 };
  for (let step = 1; step <= steps; step++) {
    const result = trainer.trainStep(pool);
    // The first step also does the actnorm init and warms the kernels up.
    if (step > 1) speeds.push(result.patchesPerSecond);
    if (step === 2) afterFirst = { ...tf.memory() };
    if (step % 10 === 0 || step === steps) {
      const speed = result.patchesPerSecond.toFixed(3);
      console.error(`step ${step} loss ${result.loss.toFixed(4)} ${speed} patches/s`);
    }
  }
  const last = tf.memory();

  const cost = flowCost(config);
  const figures: Record<string, unknown> = {
    bench: 'train-step',
    backend: report.backend,
    preset,
    config,
    batch,
    steps,
    patchesPerSecond: median(speeds),
    secondsPerStep: batch / median(speeds),
    forwardGflopPerPatch: (2 * cost.multiplyAddsPerPatch) / 1e9,
    trainableParameters: cost.trainableParameters,
    memory: {
      afterStep2: afterFirst,
      afterLastStep: { numTensors: last.numTensors, numBytes: last.numBytes },
      tensorGrowth: last.numTensors - afterFirst.numTensors,
      byteGrowth: last.numBytes - afterFirst.numBytes,
    },
  };
  trainer.dispose();

  if (process.argv.includes('--conv-compare')) {
    const rows = convShapes(config, batch).map((shape) => {
      const oursMs = convStepMs(conv3x3x3, shape);
      const tfjsMs = convStepMs((x, k) => tf.conv3d(x, k, 1, 'same'), shape);
      return { ...shape, oursMs, tfjsConv3dMs: tfjsMs };
    });
    const ours = rows.reduce((sum, row) => sum + row.oursMs, 0);
    const tfjs = rows.reduce((sum, row) => sum + row.tfjsConv3dMs, 0);
    figures.convCompare = rows;
    figures.ratio = tfjs / ours;
  }
  console.log(JSON.stringify(figures));
}

void main();
