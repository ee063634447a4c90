import { readdirSync } from 'node:fs';
import { join } from 'node:path';

import type { ImagingConfig } from '../config/sections/imaging';
import { readNrrd } from '../imaging/nrrd';
import { preprocessVolume } from '../imaging/preprocess';
import { LungPatchSampler } from '../imaging/sampler';
import type { PatchPool } from './trainer';

export class PatchSourceError extends Error {
  override name = 'PatchSourceError';
}

export interface NrrdPoolOptions {
  patchSize: number;
  patchesPerVolume: number;
  seed: number;
  imaging: ImagingConfig;
}

/**
 * Training patches from a folder of HU volumes in NRRD (normal scans, one
 * per file): each goes through the same preprocessing as inference (2 mm
 * grid, lung mask, normalization) and gives `patchesPerVolume` patches
 * centred on lung voxels, mirrored at random in-plane (METHOD.md section 1).
 */
export function patchPoolFromNrrdFolder(dir: string, options: NrrdPoolOptions): PatchPool {
  let files: string[];
  try {
    files = readdirSync(dir)
      .filter((name) => /\.nrrd(\.gz)?$/.test(name))
      .sort();
  } catch (error) {
    throw new PatchSourceError(`cannot list ${dir}`, { cause: error });
  }
  if (files.length === 0) throw new PatchSourceError(`no .nrrd volumes in ${dir}`);

  const { patchSize, patchesPerVolume, seed } = options;
  const voxels = patchSize ** 3;
  const data = new Float32Array(files.length * patchesPerVolume * voxels);
  files.forEach((name, index) => {
    const prepared = preprocessVolume(readNrrd(join(dir, name)), options.imaging);
    const sampler = new LungPatchSampler(prepared.normalized, prepared.lung.mask, {
      sizeVoxels: patchSize,
      seed: seed + index,
      flipAxes: { i: true, j: true },
    });
    const slice = data.subarray(index * patchesPerVolume * voxels);
    sampler.fillBatch(slice, patchesPerVolume);
  });
  return { patchSize, count: files.length * patchesPerVolume, data };
}
