import { join } from 'node:path';
import { Worker } from 'node:worker_threads';

import { bitsPerDim, levelShape, type FlowConfig } from '../model/architecture';
import { INPUT_NAME, LOG_P_NAME, mapOutputName } from '../model/onnx/export-flow';
import { getLogger, type Logger } from '../log/logger';
import type { WorkerInit, WorkerReply } from './worker-protocol';

export interface EngineOptions {
  executionProvider: 'cpu' | 'cuda';
  cudaDeviceId: number;
  /** 0: ONNX Runtime's default (one thread per core). */
  intraOpThreads: number;
  /**
   * Spinning intra-op threads wait for work by busy-looping: slightly lower
   * latency on an idle machine, CPU taken from everything else on a busy one.
   */
  allowSpinning: boolean;
  batchSize: number;
  warmUpBatches: number;
}

export const DEFAULT_ENGINE_OPTIONS: EngineOptions = {
  executionProvider: 'cpu',
  cudaDeviceId: 0,
  intraOpThreads: 0,
  allowSpinning: false,
  batchSize: 8,
  warmUpBatches: 1,
};

/** Scores of N patches, in patch order. */
export interface PatchScores {
  /** log-likelihood per patch, nats, normalized units [N]. */
  logP: Float32Array;
  /** Bits per dimension of integer HU per patch [N] (architecture.bitsPerDim). */
  bitsPerDim: Float64Array;
  /** Per level l: log p(z_l) per position, [N, d_l, d_l, d_l] row-major. */
  maps: Float32Array[];
  /** d_l of each map. */
  mapEdges: number[];
}

/** Input to the engine that does not fit the model, or a failed run. */
export class InferenceError extends Error {
  override name = 'InferenceError';
}

/**
 * The flow's scorer on ONNX Runtime (issue 5): one session in a worker
 * thread, batched, warmed up at open. CUDA is used when asked for and it
 * loads; otherwise CPU, with a warning line that gives the reason.
 */
export class FlowInferenceEngine {
  private nextId = 1;
  /** Why the worker can no longer run; set on close or when it dies. */
  private stopped: string | undefined;
  private readonly pending = new Map<number, (reply: WorkerReply) => void>();

  private constructor(
    private readonly worker: Worker,
    readonly config: FlowConfig,
    readonly options: EngineOptions,
    /** The execution provider that actually runs the model. */
    readonly provider: 'cpu' | 'cuda',
  ) {
    worker.on('message', (reply: WorkerReply) => {
      if (reply.type !== 'result' && reply.type !== 'error') return;
      this.pending.get(reply.id)?.(reply);
      this.pending.delete(reply.id);
    });
    worker.on('error', (error) => this.stop(`ONNX Runtime thread failed: ${error.message}`));
    worker.on('exit', (code) => this.stop(`ONNX Runtime thread exited with code ${code}`));
  }

  static async open(
    model: Uint8Array,
    config: FlowConfig,
    options: Partial<EngineOptions> = {},
    log: Logger = getLogger({ component: 'inference' }),
  ): Promise<FlowInferenceEngine> {
    const settings = { ...DEFAULT_ENGINE_OPTIONS, ...options };
    const init: WorkerInit = {
      model,
      executionProvider: settings.executionProvider,
      cudaDeviceId: settings.cudaDeviceId,
      intraOpThreads: settings.intraOpThreads,
      allowSpinning: settings.allowSpinning,
      patchSize: config.patchSize,
      inputName: INPUT_NAME,
      logPName: LOG_P_NAME,
      mapNames: Array.from({ length: config.levels }, (_, level) => mapOutputName(level)),
    };
    const worker = startWorker(init);
    const ready = await firstReply(worker);
    if (ready.type !== 'ready') {
      await worker.terminate();
      const message = ready.type === 'failed' ? ready.message : ready.type;
      throw new InferenceError(`ONNX Runtime could not load the model: ${message}`);
    }
    if (ready.fallback !== undefined) {
      log.warn('CUDA execution provider did not load; running on CPU', {
        reason: ready.fallback,
      });
    }

    const engine = new FlowInferenceEngine(worker, config, settings, ready.provider);
    await engine.warmUp();
    log.info('inference engine ready', {
      provider: ready.provider,
      intraOpThreads: settings.intraOpThreads,
      batchSize: settings.batchSize,
      warmUpBatches: settings.warmUpBatches,
    });
    return engine;
  }

  /** Voxels in one patch (P^3). */
  get patchVoxels(): number {
    return this.config.patchSize ** 3;
  }

  /**
   * Scores `count` patches laid out [count, P, P, P, 1] (element
   * ((n * P + z) * P + y) * P + x). The caller's array is left untouched.
   */
  async score(
    patches: Float32Array,
    count = patches.length / this.patchVoxels,
  ): Promise<PatchScores> {
    if (!Number.isInteger(count) || count < 0 || patches.length !== count * this.patchVoxels) {
      throw new InferenceError(
        `patches hold ${patches.length} values, not ${count} x ${this.config.patchSize}^3`,
      );
    }

    const mapEdges = Array.from(
      { length: this.config.levels },
      (_, l) => levelShape(this.config, l).edge,
    );
    const logP = new Float32Array(count);
    const maps = mapEdges.map((edge) => new Float32Array(count * edge ** 3));
    for (let start = 0; start < count; start += this.options.batchSize) {
      const batch = Math.min(this.options.batchSize, count - start);
      const view = patches.subarray(start * this.patchVoxels, (start + batch) * this.patchVoxels);
      const result = await this.runBatch(view, batch);
      logP.set(result.logP, start);
      result.maps.forEach((map, level) => maps[level].set(map, start * mapEdges[level] ** 3));
    }

    const bits = Float64Array.from(logP, (value) => bitsPerDim(value, this.patchVoxels));
    return { logP, bitsPerDim: bits, maps, mapEdges };
  }

  async close(): Promise<void> {
    if (this.stopped !== undefined) return;
    this.stopped = 'engine closed';
    this.worker.postMessage({ type: 'close' });
    await new Promise<void>((resolve) => this.worker.once('exit', () => resolve()));
  }

  private async warmUp(): Promise<void> {
    const zeros = new Float32Array(this.options.batchSize * this.patchVoxels);
    for (let i = 0; i < this.options.warmUpBatches; i++)
      await this.runBatch(zeros, this.options.batchSize);
  }

  private runBatch(
    view: Float32Array,
    count: number,
  ): Promise<{ logP: Float32Array; maps: Float32Array[] }> {
    if (this.stopped !== undefined) {
      return Promise.reject(new InferenceError(`cannot score: ${this.stopped}`));
    }
    const id = this.nextId++;
    // onnxruntime-node rejects typed arrays on a SharedArrayBuffer, and
    // posting a view would clone its whole buffer: copy just this batch and
    // hand that copy over (about 1 ms for 8 patches of 48^3, next to a run
    // that takes hundreds).
    const patches = view.slice();
    return new Promise((resolve, reject) => {
      this.pending.set(id, (reply) => {
        if (reply.type === 'result') resolve(reply);
        else if (reply.type === 'error') {
          reject(new InferenceError(`ONNX Runtime run failed: ${reply.message}`));
        }
      });
      this.worker.postMessage({ type: 'run', id, patches, count }, [patches.buffer]);
    });
  }

  private stop(reason: string): void {
    this.stopped ??= reason;
    for (const settle of this.pending.values()) settle({ type: 'error', id: 0, message: reason });
    this.pending.clear();
  }
}

/** Under ts-node style runners (jest, tsx) the worker is TypeScript too. */
function startWorker(init: WorkerInit): Worker {
  const typescript = __filename.endsWith('.ts');
  const file = join(__dirname, typescript ? 'session-worker.ts' : 'session-worker.js');
  const execArgv = typescript ? ['--require', require.resolve('tsx/cjs')] : [];
  return new Worker(file, { workerData: init, execArgv });
}

function firstReply(worker: Worker): Promise<WorkerReply> {
  return new Promise((resolve, reject) => {
    worker.once('message', resolve);
    worker.once('error', reject);
  });
}
