import { checkFlowWeights, type FlowWeights } from '../model/weights';
import { loadBundle, loadBundleWeights, type BundleManifest } from '../model/bundle';
import { seededRandom } from '../util/seeded-random';
import type { FlowConfig } from '../model/architecture';
import { FlowInferenceEngine } from './engine';
import type { Logger } from '../log/logger';

/** What `model verify` compares ONNX Runtime against: the training model. */
export interface ReferenceFlow {
  /** Human-readable backend, e.g. "tfjs cpu". */
  readonly backend: string;
  /**
   * logP (nats) of [count, P, P, P, 1] patches, and the largest
   * |inverse(forward(x)) - x| over them.
   */
  evaluate(
    patches: Float32Array,
    count: number,
  ): Promise<{ logP: Float64Array; inverseError: number }>;
}

export interface VerifyOptions {
  patches: number;
  seed: number;
  /** Largest accepted |logP_onnx - logP_ref| / |logP_ref|. */
  relativeTolerance: number;
  /** Largest accepted reconstruction error, normalized intensity units. */
  inverseTolerance: number;
  intraOpThreads: number;
}

export interface VerifyReport {
  manifest: BundleManifest;
  tensorCount: number;
  backend: string;
  onnxLogP: number[];
  referenceLogP: number[];
  largestAbsoluteDifference: number;
  largestRelativeDifference: number;
  inverseError: number;
  failures: string[];
}

/** A bundle that fails verification; the message lists every failed check. */
export class VerifyError extends Error {
  override name = 'VerifyError';
}

/**
 * Synthetic check patches (not CT): the first is all air (-0.5, the constant
 * input METHOD.md says must give no NaN), the others a random level with
 * noise, inside the normalized range [-0.5, 0.5].
 */
export function verificationPatches(config: FlowConfig, count: number, seed: number): Float32Array {
  const voxels = config.patchSize ** 3;
  const random = seededRandom(seed);
  const patches = new Float32Array(count * voxels);
  for (let n = 0; n < count; n++) {
    const level = n === 0 ? -0.5 : -0.45 + 0.6 * random();
    const noise = n === 0 ? 0 : 0.05;
    for (let i = n * voxels; i < (n + 1) * voxels; i++) {
      patches[i] = Math.min(0.5, Math.max(-0.5, level + noise * (random() - 0.5)));
    }
  }
  return patches;
}

/**
 * `ct3dflow model verify` (issue 5): manifest fields and sha256, weights
 * against the architecture, then the ONNX model and the reference (training)
 * model on the same patches, and the reference model's inverse.
 */
export async function verifyBundle(
  dir: string,
  options: VerifyOptions,
  openReference: (config: FlowConfig, weights: FlowWeights) => Promise<ReferenceFlow>,
  log: Logger,
): Promise<VerifyReport> {
  const { manifest, model } = await loadBundle(dir);
  const config = manifest.architecture.config;
  const weights = await loadBundleWeights(dir, manifest);
  checkFlowWeights(config, weights);

  const patches = verificationPatches(config, options.patches, options.seed);
  const engine = await FlowInferenceEngine.open(
    model,
    config,
    { intraOpThreads: options.intraOpThreads, batchSize: options.patches, warmUpBatches: 0 },
    log,
  );
  let onnxLogP: Float32Array;
  try {
    onnxLogP = (await engine.score(patches, options.patches)).logP;
  } finally {
    await engine.close();
  }

  const reference = await openReference(config, weights);
  const { logP: referenceLogP, inverseError } = await reference.evaluate(patches, options.patches);

  let largestAbsoluteDifference = 0;
  let largestRelativeDifference = 0;
  const failures: string[] = [];
  for (let n = 0; n < options.patches; n++) {
    if (!Number.isFinite(onnxLogP[n])) failures.push(`ONNX logP of patch ${n} is ${onnxLogP[n]}`);
    if (!Number.isFinite(referenceLogP[n])) {
      failures.push(`${reference.backend} logP of patch ${n} is ${referenceLogP[n]}`);
    }
    const difference = Math.abs(onnxLogP[n] - referenceLogP[n]);
    largestAbsoluteDifference = Math.max(largestAbsoluteDifference, difference);
    const relative = difference / Math.max(Math.abs(referenceLogP[n]), Number.MIN_VALUE);
    largestRelativeDifference = Math.max(largestRelativeDifference, relative);
  }
  if (!(largestRelativeDifference <= options.relativeTolerance)) {
    failures.push(
      `largest relative logP difference ${largestRelativeDifference.toExponential(3)} ` +
        `exceeds tolerance ${options.relativeTolerance}`,
    );
  }
  if (!(inverseError <= options.inverseTolerance)) {
    const error = inverseError.toExponential(3);
    failures.push(`inverse(forward(x)) error ${error} exceeds ${options.inverseTolerance}`);
  }

  return {
    manifest,
    tensorCount: weights.size,
    backend: reference.backend,
    onnxLogP: Array.from(onnxLogP),
    referenceLogP: Array.from(referenceLogP),
    largestAbsoluteDifference,
    largestRelativeDifference,
    inverseError,
    failures,
  };
}
