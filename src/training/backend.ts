import { dirname, join } from 'node:path';

import * as tf from '@tensorflow/tfjs';
import { setThreadsCount, setWasmPaths } from '@tensorflow/tfjs-backend-wasm';

/**
 * Which TensorFlow.js backend trains the flow, chosen at run time (issue 5):
 * the native bindings when installed (optional dependencies: they download
 * libtensorflow at install, which fails offline), else WASM (SIMD, offline,
 * its .wasm files read from node_modules), else the pure-JS CPU backend.
 */
export type BackendName = 'tensorflow-gpu' | 'tensorflow' | 'wasm' | 'cpu';

export const BACKEND_ORDER: readonly BackendName[] = [
  'tensorflow-gpu',
  'tensorflow',
  'wasm',
  'cpu',
];

export interface BackendReport {
  /** The backend in use (tf.getBackend()). */
  backend: string;
  /** Why each backend tried before it was passed over. */
  skipped: Array<{ backend: BackendName; reason: string }>;
  wasmSimd?: boolean;
  wasmThreads?: number;
}

export class BackendError extends Error {
  override name = 'BackendError';
}

const NATIVE_PACKAGES: Partial<Record<BackendName, string>> = {
  'tensorflow-gpu': '@tensorflow/tfjs-node-gpu',
  tensorflow: '@tensorflow/tfjs-node',
};

/** The folder holding tfjs-backend-wasm's .wasm files, found by module resolution. */
export function wasmDirectory(): string {
  return join(dirname(require.resolve('@tensorflow/tfjs-backend-wasm')), '/');
}

async function tryBackend(name: BackendName, wasmThreads: number): Promise<void> {
  const nativePackage = NATIVE_PACKAGES[name];
  if (nativePackage !== undefined) {
    // Registers the 'tensorflow' backend; absent here, present at GPU sites.
    await import(nativePackage);
    if (!(await tf.setBackend('tensorflow')))
      throw new BackendError(`${nativePackage} did not start`);
    return;
  }

  if (name === 'wasm') {
    setWasmPaths(wasmDirectory());
    // Node has no worker-backed wasm threads; the count matters where it does.
    setThreadsCount(wasmThreads);
  }
  if (!(await tf.setBackend(name))) throw new BackendError(`backend ${name} did not initialise`);
}

/**
 * Selects the first backend that starts, in `order`, and says which. An
 * explicit call, never a side effect of building a model.
 */
export async function initTrainingBackend(
  options: { order?: readonly BackendName[]; wasmThreads?: number } = {},
): Promise<BackendReport> {
  const order = options.order ?? BACKEND_ORDER;
  const wasmThreads = options.wasmThreads ?? 2;
  const skipped: BackendReport['skipped'] = [];
  for (const name of order) {
    try {
      await tryBackend(name, wasmThreads);
      await tf.ready();
      const report: BackendReport = { backend: tf.getBackend(), skipped };
      if (name === 'wasm') {
        report.wasmSimd = tf.env().getBool('WASM_HAS_SIMD_SUPPORT');
        report.wasmThreads = tf.env().getBool('WASM_HAS_MULTITHREAD_SUPPORT') ? wasmThreads : 1;
      }
      return report;
    } catch (error) {
      skipped.push({ backend: name, reason: (error as Error).message.split('\n')[0] });
    }
  }
  const reasons = skipped.map((s) => `${s.backend}: ${s.reason}`).join('; ');
  throw new BackendError(`no TensorFlow.js backend started: ${reasons}`);
}
