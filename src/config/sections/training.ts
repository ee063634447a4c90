import { z } from 'zod';

/**
 * Training of the flow (issue 5; METHOD.md section 1). Defaults are the
 * paper's optimizer settings with the `cpu` architecture preset; a site
 * with a GPU backend can choose `paper`.
 */
export const trainingSection = z
  .object({
    preset: z.enum(['cpu', 'paper']).default('cpu'),
    /** Overrides of the preset's architecture (any of them). */
    levels: z.number().int().min(1).optional(),
    stepsPerLevel: z.number().int().min(1).optional(),
    couplingWidth: z.number().int().min(1).optional(),
    batchSize: z.number().int().min(1).default(4),
    steps: z.number().int().min(1).default(1000),
    learningRate: z.number().positive().default(1e-4),
    weightDecay: z.number().min(0).default(1e-5),
    /** Global gradient norm above which gradients are scaled down. */
    clipNorm: z.number().positive().default(50),
    seed: z.number().int().min(0).default(1),
    checkpointEverySteps: z.number().int().min(1).default(100),
    /** Backends tried in order; the first that starts is used and logged. */
    backends: z
      .array(z.enum(['tensorflow-gpu', 'tensorflow', 'wasm', 'cpu']))
      .min(1)
      .default(['tensorflow-gpu', 'tensorflow', 'wasm', 'cpu']),
  })
  .strict()
  .prefault({});
