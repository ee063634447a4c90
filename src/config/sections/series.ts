import { z } from 'zod';

/** When a series counts as complete, and which series can be analysed. */
export const seriesSection = z
  .object({
    /** A series is complete after this long without a new instance. */
    idleSeconds: z.number().positive().default(30),
    eligibility: z
      .object({
        minSlices: z.number().int().min(1).default(50),
        maxSliceSpacingMm: z.number().positive().default(3),
        /** Largest angle between the slice normal and the patient z axis. */
        maxObliqueDegrees: z.number().min(0).max(90).default(5),
      })
      .strict()
      .prefault({}),
  })
  .strict()
  .prefault({});
