import { z } from 'zod';

/**
 * From a DICOM series to model input (METHOD.md section 1): series checks,
 * the 2 mm grid, the classical lung mask and the patch grid.
 */
export const imagingSection = z
  .object({
    /**
     * Largest difference between one slice gap and the median gap before a
     * series is refused as `unequal-spacing`; a gap over 1.5 times the median
     * is `missing-slices` whatever this says.
     */
    sliceGapToleranceMm: z.number().positive().default(0.1),
    /** Isotropic voxel size of the analysis grid (the paper resamples to 2 mm). */
    resampleSpacingMm: z.number().positive().default(2),
    lung: z
      .object({
        /** Voxels below this are air or lung before morphology. */
        airThresholdHu: z.number().min(-1000).max(0).default(-400),
        /**
         * Radius of the spherical closing that keeps juxtapleural nodules and
         * consolidation inside the mask; notches narrower than twice this close.
         */
        closingRadiusMm: z.number().min(0).max(30).default(10),
        /** Air components smaller than this (bowel gas, noise) are not lung. */
        minComponentMl: z.number().min(0).default(50),
        /** A 2D airway cross-section larger than this is lung, not trachea or bronchus. */
        maxAirwayAreaMm2: z.number().positive().default(600),
        /**
         * Add dense bites at the costal pleura (consolidation, peripheral
         * masses wider than the closing ball) to the lung; see docs/imaging.md.
         */
        fillPleuralBites: z.boolean().default(true),
      })
      .strict()
      .prefault({}),
    patch: z
      .object({
        /** Patch edge in voxels (48 = 96 mm in the paper). */
        sizeVoxels: z.number().int().min(8).default(48),
        /** 38 leaves a 10-voxel overlap between neighbours (paper). */
        strideVoxels: z.number().int().min(1).default(38),
        /** Patches with less lung than this fraction of their voxels are skipped. */
        minLungFraction: z.number().min(0).max(1).default(0.1),
      })
      .strict()
      .prefault({}),
  })
  .strict()
  .prefault({});

export type ImagingConfig = z.infer<typeof imagingSection>;
