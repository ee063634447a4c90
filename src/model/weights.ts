import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';

import { checkFlowConfig, levelShape, type FlowConfig } from './architecture';

/**
 * The flow's parameters by name (`l{l}.k{k}.actnorm.bias`, ...; the naming is
 * in architecture.ts). Each tensor is row-major float32 with its shape.
 */
export interface FlowTensor {
  shape: number[];
  data: Float32Array;
}

export type FlowWeights = Map<string, FlowTensor>;

export const WEIGHTS_FORMAT = 'ct3dflow-weights';
export const WEIGHTS_VERSION = 1;
export const WEIGHTS_JSON = 'weights.json';
export const WEIGHTS_BIN = 'weights.bin';

/** One entry of `weights.json`: where a tensor lies in `weights.bin`. */
export interface TensorEntry {
  name: string;
  shape: number[];
  /** Offset in float32 elements (not bytes) from the start of weights.bin. */
  offset: number;
  /** Number of float32 elements. */
  length: number;
}

export interface WeightsManifest {
  format: typeof WEIGHTS_FORMAT;
  version: typeof WEIGHTS_VERSION;
  config: FlowConfig;
  tensors: TensorEntry[];
  /** Free-form facts the writer wants kept (step, seed, training summary). */
  meta?: Record<string, unknown>;
}

/** A weights folder that cannot be read, or a tensor whose size is wrong. */
export class WeightsError extends Error {
  override name = 'WeightsError';
}

function elementCount(shape: number[]): number {
  return shape.reduce((product, edge) => product * edge, 1);
}

/** What saveFlowWeights keeps beside the tensors: the config, and any facts. */
export interface WeightsMeta {
  config: FlowConfig;
  [key: string]: unknown;
}

/**
 * Writes `weights.json` and `weights.bin` (float32 little-endian) into dir.
 * Tensors are written in name order, so the same weights give the same files.
 */
export async function saveFlowWeights(
  dir: string,
  weights: FlowWeights,
  meta: WeightsMeta,
): Promise<void> {
  const { config, ...facts } = meta;
  checkFlowConfig(config);
  const names = [...weights.keys()].sort();
  const tensors: TensorEntry[] = [];
  let offset = 0;
  for (const name of names) {
    const { shape, data } = weights.get(name)!;
    const length = elementCount(shape);
    if (data.length !== length) {
      throw new WeightsError(
        `tensor ${name}: shape [${shape.join(',')}] needs ${length} values, has ${data.length}`,
      );
    }
    tensors.push({ name, shape: [...shape], offset, length });
    offset += length;
  }

  // Copy into one buffer with explicit little-endian writes: a Float32Array
  // view follows the host's byte order, the file format does not.
  const bin = Buffer.alloc(offset * 4);
  for (const entry of tensors) {
    const data = weights.get(entry.name)!.data;
    for (let i = 0; i < entry.length; i++) bin.writeFloatLE(data[i], (entry.offset + i) * 4);
  }

  const manifest: WeightsManifest = {
    format: WEIGHTS_FORMAT,
    version: WEIGHTS_VERSION,
    config: { ...config },
    tensors,
    ...(Object.keys(facts).length === 0 ? {} : { meta: facts }),
  };
  await mkdir(dir, { recursive: true });
  await writeFile(join(dir, WEIGHTS_BIN), bin);
  await writeFile(join(dir, WEIGHTS_JSON), JSON.stringify(manifest, null, 2) + '\n');
}

function parseManifest(text: string, path: string): WeightsManifest {
  let manifest: WeightsManifest;
  try {
    manifest = JSON.parse(text) as WeightsManifest;
  } catch (error) {
    throw new WeightsError(`${path}: not JSON`, { cause: error });
  }
  if (manifest.format !== WEIGHTS_FORMAT) {
    throw new WeightsError(`${path}: format is ${JSON.stringify(manifest.format)}`);
  }
  if (manifest.version !== WEIGHTS_VERSION) {
    throw new WeightsError(`${path}: version ${JSON.stringify(manifest.version)} is not 1`);
  }
  if (!Array.isArray(manifest.tensors)) throw new WeightsError(`${path}: tensors missing`);
  checkFlowConfig(manifest.config);
  return manifest;
}

/** Reads a folder written by saveFlowWeights, checking every tensor's size. */
export async function loadFlowWeights(
  dir: string,
): Promise<{ config: FlowConfig; weights: FlowWeights; meta?: Record<string, unknown> }> {
  const jsonPath = join(dir, WEIGHTS_JSON);
  const binPath = join(dir, WEIGHTS_BIN);
  let text: string;
  let bin: Buffer;
  try {
    text = await readFile(jsonPath, 'utf8');
    bin = await readFile(binPath);
  } catch (error) {
    throw new WeightsError(`cannot read weights in ${dir}`, { cause: error });
  }
  const manifest = parseManifest(text, jsonPath);

  const weights: FlowWeights = new Map();
  for (const entry of manifest.tensors) {
    const { name, shape, offset, length } = entry;
    if (elementCount(shape) !== length) {
      throw new WeightsError(
        `${jsonPath}: tensor ${name} shape [${shape.join(',')}] does not hold ${length} values`,
      );
    }
    const end = (offset + length) * 4;
    if (offset < 0 || end > bin.length) {
      throw new WeightsError(
        `${binPath}: tensor ${name} needs bytes ${offset * 4}..${end}, file has ${bin.length}`,
      );
    }
    const data = new Float32Array(length);
    for (let i = 0; i < length; i++) data[i] = bin.readFloatLE((offset + i) * 4);
    weights.set(name, { shape: [...shape], data });
  }
  return { config: manifest.config, weights, meta: manifest.meta };
}

/** The tensor `name`, checked against the shape the architecture expects. */
export function requireTensor(weights: FlowWeights, name: string, shape: number[]): Float32Array {
  const tensor = weights.get(name);
  if (tensor === undefined) throw new WeightsError(`tensor ${name} is missing`);
  const same =
    tensor.shape.length === shape.length && tensor.shape.every((edge, i) => edge === shape[i]);
  if (!same || tensor.data.length !== elementCount(shape)) {
    throw new WeightsError(
      `tensor ${name} has shape [${tensor.shape.join(',')}], expected [${shape.join(',')}]`,
    );
  }
  return tensor.data;
}

/**
 * Every parameter the flow of `config` has, with its shape (the naming
 * contract of architecture.ts). Used to check a weights folder is complete.
 */
export function flowParameterShapes(config: FlowConfig): Map<string, number[]> {
  const shapes = new Map<string, number[]>();
  const width = config.couplingWidth;
  for (let level = 0; level < config.levels; level++) {
    const channels = levelShape(config, level).channels;
    const half = channels / 2;
    for (let step = 0; step < config.stepsPerLevel; step++) {
      const prefix = `l${level}.k${step}`;
      shapes.set(`${prefix}.actnorm.bias`, [channels]);
      shapes.set(`${prefix}.actnorm.logs`, [channels]);
      for (const matrix of ['P', 'L', 'U']) {
        shapes.set(`${prefix}.invconv.${matrix}`, [channels, channels]);
      }
      shapes.set(`${prefix}.invconv.logS`, [channels]);
      shapes.set(`${prefix}.invconv.signS`, [channels]);
      shapes.set(`${prefix}.coupling.conv1.kernel`, [3, 3, 3, half, width]);
      shapes.set(`${prefix}.coupling.conv1.bias`, [width]);
      shapes.set(`${prefix}.coupling.conv2.kernel`, [1, 1, 1, width, width]);
      shapes.set(`${prefix}.coupling.conv2.bias`, [width]);
      shapes.set(`${prefix}.coupling.conv3.kernel`, [3, 3, 3, width, channels]);
      shapes.set(`${prefix}.coupling.conv3.bias`, [channels]);
    }
    if (level < config.levels - 1) {
      shapes.set(`l${level}.prior.kernel`, [3, 3, 3, half, channels]);
      shapes.set(`l${level}.prior.bias`, [channels]);
    } else {
      shapes.set('top.prior.bias', [2 * channels]);
    }
  }
  return shapes;
}

/** Throws a WeightsError naming the first missing or misshapen tensor. */
export function checkFlowWeights(config: FlowConfig, weights: FlowWeights): void {
  for (const [name, shape] of flowParameterShapes(config)) requireTensor(weights, name, shape);
}
