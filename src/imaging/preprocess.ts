import { performance } from 'node:perf_hooks';

import { ImagingConfig } from '../config/sections/imaging';
import { LungMask, segmentLungs } from './lung';
import { normalizeVolume, patchGrid, PatchGrid } from './patches';
import { geometryOf, GridGeometry, isotropicGrid, resampleLinear } from './resample';
import { PADDING_HU } from './dicom-frames';
import { Volume } from './volume';

/**
 * The imaging steps shared by inference and training (METHOD.md section 1):
 * HU volume -> 2 mm grid -> lung mask -> normalized volume -> patch grid.
 */
export interface Preprocessed {
  /** Geometry of the series as received, to bring 2 mm maps back to its slices. */
  originalGeometry: GridGeometry;
  /** HU on the isotropic grid. */
  hu: Volume<Float32Array>;
  /** Model input values in [-0.5, 0.5] on the same grid. */
  normalized: Volume<Float32Array>;
  lung: LungMask;
  grid: PatchGrid;
  timingsSeconds: { resample: number; lungMask: number; normalize: number; patchGrid: number };
}

export function preprocessVolume(hu: Volume, config: ImagingConfig): Preprocessed {
  const seconds = (from: number): number => (performance.now() - from) / 1000;

  let start = performance.now();
  const originalGeometry = geometryOf(hu);
  const target = isotropicGrid(originalGeometry, config.resampleSpacingMm);
  const resampled = resampleLinear(hu, target, PADDING_HU);
  const resample = seconds(start);

  start = performance.now();
  const lung = segmentLungs(resampled, config.lung);
  const lungMask = seconds(start);

  start = performance.now();
  const normalized = normalizeVolume(resampled);
  const normalize = seconds(start);

  start = performance.now();
  const grid = patchGrid(lung.mask, config.patch);
  return {
    originalGeometry,
    hu: resampled,
    normalized,
    lung,
    grid,
    timingsSeconds: { resample, lungMask, normalize, patchGrid: seconds(start) },
  };
}
