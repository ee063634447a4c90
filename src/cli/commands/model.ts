import { readFile } from 'node:fs/promises';

import { Command } from 'commander';

import { createBundle, BundleError } from '../../model/bundle';
import { loadFlowWeights, WeightsError } from '../../model/weights';
import { openTfjsReference } from '../../inference/tfjs-reference';
import { verifyBundle, VerifyError, type VerifyReport } from '../../inference/verify-bundle';
import { getLogger } from '../../log/logger';
import { initTrainingBackend } from '../../training/backend';
import { UsageError } from '../errors';

function numberFlag(flag: string, integer = false): (value: string) => number {
  return (value) => {
    const parsed = Number(value);
    const bad =
      value.trim() === '' || !Number.isFinite(parsed) || (integer && !Number.isInteger(parsed));
    if (bad || parsed < 0) {
      throw new UsageError(
        `${flag}: ${JSON.stringify(value)} is not a non-negative ${integer ? 'integer' : 'number'}`,
      );
    }
    return parsed;
  };
}

async function readJsonFlag(
  flag: string,
  path: string | undefined,
): Promise<Record<string, unknown> | undefined> {
  if (path === undefined) return undefined;
  let json: unknown;
  try {
    json = JSON.parse(await readFile(path, 'utf8'));
  } catch (error) {
    throw new UsageError(`${flag} ${path}: ${(error as Error).message}`, { cause: error });
  }
  if (typeof json !== 'object' || json === null || Array.isArray(json)) {
    throw new UsageError(`${flag} ${path}: expected a JSON object`);
  }
  return json as Record<string, unknown>;
}

interface ExportFlags {
  weights: string;
  out: string;
  modelVersion: string;
  preset?: string;
  trainingData?: string;
  metrics?: string;
}

async function exportCommand(flags: ExportFlags): Promise<void> {
  let loaded: Awaited<ReturnType<typeof loadFlowWeights>>;
  try {
    loaded = await loadFlowWeights(flags.weights);
  } catch (error) {
    if (error instanceof WeightsError)
      throw new UsageError(`--weights: ${error.message}`, { cause: error });
    throw error;
  }

  const manifest = await createBundle(flags.out, {
    config: loaded.config,
    weights: loaded.weights,
    modelVersion: flags.modelVersion,
    preset: flags.preset ?? null,
    trainingData: (await readJsonFlag('--training-data', flags.trainingData)) ?? null,
    metrics: await readJsonFlag('--metrics', flags.metrics),
  });
  process.stdout.write(
    `bundle ${flags.out}: model ${manifest.modelVersion}, Device UID ${manifest.deviceUid}, ` +
      `model.onnx sha256 ${manifest.onnx.sha256}\n`,
  );
}

interface VerifyFlags {
  patches: number;
  seed: number;
  tolerance: number;
  inverseTolerance: number;
  threads: number;
}

function printReport(dir: string, report: VerifyReport): void {
  const { manifest } = report;
  const config = JSON.stringify(manifest.architecture.config);
  const lines = [
    `bundle ${dir}`,
    `  manifest: ok (model ${manifest.modelVersion}, Device UID ${manifest.deviceUid}, ` +
      `created ${manifest.createdAt})`,
    `  model.onnx sha256: ok (${manifest.onnx.sha256})`,
    `  weights: ${report.tensorCount} tensors match ${config}`,
    `  logP ONNX Runtime:  ${report.onnxLogP.map((v) => v.toFixed(3)).join(' ')}`,
    `  logP ${report.backend}: ${report.referenceLogP.map((v) => v.toFixed(3)).join(' ')}`,
    `  largest logP difference: ${report.largestAbsoluteDifference.toExponential(3)} nats ` +
      `(relative ${report.largestRelativeDifference.toExponential(3)})`,
    `  inverse(forward(x)) largest error: ${report.inverseError.toExponential(3)}`,
  ];
  process.stdout.write(lines.join('\n') + '\n');
}

async function verifyCommand(dir: string, flags: VerifyFlags): Promise<void> {
  if (flags.patches < 1) throw new UsageError(`--patches: ${flags.patches} must be at least 1`);
  const log = getLogger({ component: 'model-verify' });
  // The fastest TensorFlow.js backend that starts (native, wasm, cpu), as in
  // training, chosen once the bundle has passed its file checks.
  const openReference: typeof openTfjsReference = async (config, weights) => {
    const backend = await initTrainingBackend();
    log.info('tfjs backend', { backend: backend.backend, skipped: backend.skipped });
    return openTfjsReference(config, weights);
  };

  let report: VerifyReport;
  try {
    report = await verifyBundle(
      dir,
      {
        patches: flags.patches,
        seed: flags.seed,
        relativeTolerance: flags.tolerance,
        inverseTolerance: flags.inverseTolerance,
        intraOpThreads: flags.threads,
      },
      openReference,
      log,
    );
  } catch (error) {
    if (error instanceof BundleError || error instanceof WeightsError) {
      throw new VerifyError(`bundle ${dir} FAILED: ${error.message}`, { cause: error });
    }
    throw error;
  }

  printReport(dir, report);
  if (report.failures.length > 0) {
    throw new VerifyError(`bundle ${dir} FAILED: ${report.failures.join('; ')}`);
  }
  process.stdout.write(`bundle ${dir}: PASSED\n`);
}

/** `ct3dflow model export` and `ct3dflow model verify` (issue 5). */
export function registerModel(program: Command): void {
  const model = program.command('model').description('Export and verify model bundles');

  model
    .command('export')
    .description('Export TensorFlow.js flow weights to a bundle (model.onnx, manifest, weights)')
    .requiredOption('--weights <dir>', 'folder with weights.json and weights.bin')
    .requiredOption('--out <dir>', 'bundle folder to write')
    .requiredOption(
      '--model-version <version>',
      'model version recorded in the manifest and reports',
    )
    .option('--preset <name>', 'preset the weights were trained with (paper, cpu)')
    .option('--training-data <file>', 'JSON object: what the model was trained on')
    .option('--metrics <file>', 'JSON object: validation metrics')
    .action(exportCommand);

  model
    .command('verify <bundle>')
    .description(
      'Check manifest and sha256, compare ONNX Runtime with TensorFlow.js logP, ' +
        'check inverse(forward(x))',
    )
    .option(
      '--patches <count>',
      'synthetic check patches (the first is all air)',
      numberFlag('--patches', true),
      3,
    )
    .option('--seed <n>', 'seed of the check patches', numberFlag('--seed', true), 1)
    .option(
      '--tolerance <relative>',
      'largest relative logP difference',
      numberFlag('--tolerance'),
      1e-3,
    )
    .option(
      '--inverse-tolerance <value>',
      'largest inverse(forward(x)) error, normalized units',
      numberFlag('--inverse-tolerance'),
      1e-4,
    )
    .option(
      '--threads <n>',
      'ONNX Runtime intra-op threads (0: its default)',
      numberFlag('--threads', true),
      0,
    )
    .action(verifyCommand);
}
