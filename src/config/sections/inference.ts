import { z } from 'zod';

/** How the node runs the flow with ONNX Runtime (issue 5). */
export const inferenceSection = z
  .object({
    /**
     * Model bundle folder (model.onnx + manifest.json) used for scoring.
     * Absent: `<node.dataDir>/models/current`.
     */
    bundleDir: z.string().min(1).optional(),
    /**
     * `cuda` asks for the CUDA execution provider; when it does not load
     * (CPU-only onnxruntime-node build, no GPU) the engine falls back to CPU
     * and says so in the log.
     */
    executionProvider: z.enum(['cpu', 'cuda']).default('cpu'),
    /** ONNX Runtime intra-op threads; 0 lets ONNX Runtime choose (one per core). */
    intraOpThreads: z.number().int().min(0).default(0),
    /**
     * Let idle ONNX Runtime threads busy-wait. Off: on a node that also
     * receives and resamples, spinning took CPU from the other work and
     * halved throughput under load (docs/inference.md).
     */
    allowSpinning: z.boolean().default(false),
    /** CUDA device index when executionProvider is `cuda`. */
    cudaDeviceId: z.number().int().min(0).default(0),
    /** Patches per ONNX Runtime call. */
    batchSize: z.number().int().min(1).max(1024).default(8),
    /** Batches of zeros run at start, so the first study is not slow. */
    warmUpBatches: z.number().int().min(0).default(1),
  })
  .strict()
  .prefault({});

export type InferenceConfig = z.infer<typeof inferenceSection>;
