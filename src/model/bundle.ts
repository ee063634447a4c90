import { createHash, randomUUID } from 'node:crypto';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';

import { z } from 'zod';

import { checkFlowConfig, HU_MAX, HU_MIN, type FlowConfig } from './architecture';
import { exportFlowToOnnx, INPUT_NAME, LOG_P_NAME, mapOutputName } from './onnx/export-flow';
import { OPSET_VERSION } from './onnx/graph-builder';
import { loadFlowWeights, saveFlowWeights, type FlowWeights } from './weights';

/**
 * A model bundle (issue 5): one folder the node scores with and a site can
 * archive or copy between nodes.
 *
 *   model.onnx       image -> log-likelihood graph (export-flow.ts)
 *   manifest.json    what the model is, how to feed it, where it came from
 *   weights/         TensorFlow.js weights (weights.ts) to resume or fine-tune
 */
export const BUNDLE_FORMAT = 'ct3dflow-bundle';
export const BUNDLE_VERSION = 1;
export const MODEL_FILE = 'model.onnx';
export const MANIFEST_FILE = 'manifest.json';
export const WEIGHTS_DIR = 'weights';

/** A bundle whose files are missing, malformed or altered. */
export class BundleError extends Error {
  override name = 'BundleError';
}

const flowConfigSchema = z
  .object({
    patchSize: z.number().int().positive(),
    levels: z.number().int().positive(),
    stepsPerLevel: z.number().int().positive(),
    couplingWidth: z.number().int().positive(),
  })
  .strict();

/** Preprocessing the scorer must repeat exactly (METHOD.md section 1). */
const preprocessingSchema = z
  .object({
    spacingMm: z.number().positive(),
    huMin: z.number(),
    huMax: z.number(),
    normalizedMin: z.number(),
    normalizedMax: z.number(),
    patchSize: z.number().int().positive(),
    patchStrideVoxels: z.number().int().positive(),
    /** logP is in normalized units; see architecture.ts logPNormalizedToHu. */
    logPUnits: z.literal('nats, normalized intensity'),
  })
  .strict();

export const manifestSchema = z
  .object({
    format: z.literal(BUNDLE_FORMAT),
    bundleVersion: z.literal(BUNDLE_VERSION),
    /** The model's own version, as Algorithm Version in reports (TID 4019). */
    modelVersion: z.string().min(1),
    /** Device UID, 2.25.<UUID as integer> (PS3.5 B.2); new for every bundle. */
    deviceUid: z.string().regex(/^2\.25\.(0|[1-9][0-9]*)$/),
    createdAt: z.iso.datetime(),
    architecture: z
      .object({
        name: z.string(),
        preset: z.string().nullable(),
        config: flowConfigSchema,
        parameterCount: z.number().int().nonnegative(),
      })
      .strict(),
    preprocessing: preprocessingSchema,
    onnx: z
      .object({
        file: z.literal(MODEL_FILE),
        sha256: z.string().regex(/^[0-9a-f]{64}$/),
        opset: z.number().int().min(17),
        input: z.string(),
        logP: z.string(),
        maps: z.array(z.string()),
      })
      .strict(),
    weightsDir: z.literal(WEIGHTS_DIR),
    /** Decision thresholds set from held-out normals; null until calibrated. */
    calibration: z.record(z.string(), z.unknown()).nullable(),
    /** Where the weights came from; null for a model that was never trained. */
    trainingData: z.record(z.string(), z.unknown()).nullable(),
    metrics: z.record(z.string(), z.unknown()),
  })
  .strict();

export type BundleManifest = z.infer<typeof manifestSchema>;

export interface CreateBundleOptions {
  config: FlowConfig;
  weights: FlowWeights;
  modelVersion: string;
  preset?: string | null;
  trainingData?: Record<string, unknown> | null;
  metrics?: Record<string, unknown>;
  calibration?: Record<string, unknown> | null;
  /** Patch stride of the scorer, voxels (default: the paper's 38 of 48, scaled). */
  patchStrideVoxels?: number;
  spacingMm?: number;
  /** For tests only: a fixed creation time. */
  now?: Date;
}

/** A DICOM UID from a random UUID (PS3.5 B.2): "2.25." + its 128 bits in decimal. */
export function uuidDerivedUid(uuid: string = randomUUID()): string {
  return `2.25.${BigInt(`0x${uuid.replace(/-/g, '')}`).toString(10)}`;
}

/** The paper's 10-voxel overlap of 48-voxel patches (stride 38), scaled. */
function defaultStrideVoxels(patchSize: number): number {
  return Math.max(1, Math.round((patchSize * 38) / 48));
}

export function sha256Hex(bytes: Uint8Array): string {
  return createHash('sha256').update(bytes).digest('hex');
}

/** Exports the weights to ONNX and writes a complete bundle into dir. */
export async function createBundle(
  dir: string,
  options: CreateBundleOptions,
): Promise<BundleManifest> {
  const config = checkFlowConfig(options.config);
  const model = exportFlowToOnnx(config, options.weights);
  let parameterCount = 0;
  for (const tensor of options.weights.values()) parameterCount += tensor.data.length;

  const manifest: BundleManifest = manifestSchema.parse({
    format: BUNDLE_FORMAT,
    bundleVersion: BUNDLE_VERSION,
    modelVersion: options.modelVersion,
    deviceUid: uuidDerivedUid(),
    createdAt: (options.now ?? new Date()).toISOString(),
    architecture: {
      name: 'CT-3DFlow (3D GLOW)',
      preset: options.preset ?? null,
      config: { ...config },
      parameterCount,
    },
    preprocessing: {
      spacingMm: options.spacingMm ?? 2,
      huMin: HU_MIN,
      huMax: HU_MAX,
      normalizedMin: -0.5,
      normalizedMax: 0.5,
      patchSize: config.patchSize,
      patchStrideVoxels: options.patchStrideVoxels ?? defaultStrideVoxels(config.patchSize),
      logPUnits: 'nats, normalized intensity',
    },
    onnx: {
      file: MODEL_FILE,
      sha256: sha256Hex(model),
      opset: OPSET_VERSION,
      input: INPUT_NAME,
      logP: LOG_P_NAME,
      maps: Array.from({ length: config.levels }, (_, level) => mapOutputName(level)),
    },
    weightsDir: WEIGHTS_DIR,
    calibration: options.calibration ?? null,
    trainingData: options.trainingData ?? null,
    metrics: options.metrics ?? {},
  });

  await mkdir(dir, { recursive: true });
  await writeFile(join(dir, MODEL_FILE), model);
  await saveFlowWeights(join(dir, WEIGHTS_DIR), options.weights, {
    config,
    modelVersion: options.modelVersion,
    deviceUid: manifest.deviceUid,
  });
  await writeManifest(dir, manifest);
  return manifest;
}

export async function writeManifest(dir: string, manifest: BundleManifest): Promise<void> {
  const checked = manifestSchema.parse(manifest);
  await writeFile(join(dir, MANIFEST_FILE), JSON.stringify(checked, null, 2) + '\n');
}

/** Reads and checks manifest.json: every field, with its path on error. */
export async function readManifest(dir: string): Promise<BundleManifest> {
  const path = join(dir, MANIFEST_FILE);
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (error) {
    throw new BundleError(`${path} cannot be read`, { cause: error });
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (error) {
    throw new BundleError(`${path} is not JSON`, { cause: error });
  }
  const parsed = manifestSchema.safeParse(json);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    const key = issue.path.join('.');
    throw new BundleError(`${path}: ${key === '' ? '(root)' : key}: ${issue.message}`);
  }
  return parsed.data;
}

export interface LoadedBundle {
  manifest: BundleManifest;
  /** The bytes of model.onnx, hash checked. */
  model: Uint8Array;
}

/** The manifest and the ONNX model, refusing a model whose sha256 differs. */
export async function loadBundle(dir: string): Promise<LoadedBundle> {
  const manifest = await readManifest(dir);
  const modelPath = join(dir, manifest.onnx.file);
  let model: Buffer;
  try {
    model = await readFile(modelPath);
  } catch (error) {
    throw new BundleError(`${modelPath} cannot be read`, { cause: error });
  }
  const actual = sha256Hex(model);
  if (actual !== manifest.onnx.sha256) {
    throw new BundleError(
      `${modelPath}: sha256 ${actual} differs from manifest onnx.sha256 ${manifest.onnx.sha256}`,
    );
  }
  return { manifest, model };
}

/** The TensorFlow.js weights of a bundle, checked against its architecture. */
export async function loadBundleWeights(
  dir: string,
  manifest: BundleManifest,
): Promise<FlowWeights> {
  const { config, weights } = await loadFlowWeights(join(dir, manifest.weightsDir));
  const expected = manifest.architecture.config;
  const keys = Object.keys(expected) as Array<keyof FlowConfig>;
  const differing = keys.find((key) => config[key] !== expected[key]);
  if (differing !== undefined) {
    throw new BundleError(
      `${join(dir, manifest.weightsDir)}: ${differing} ${config[differing]} differs from ` +
        `manifest architecture.config.${differing} ${expected[differing]}`,
    );
  }
  return weights;
}
