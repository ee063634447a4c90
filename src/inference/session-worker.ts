import { parentPort, workerData } from 'node:worker_threads';

import * as ort from 'onnxruntime-node';

import type { WorkerInit, WorkerReply, WorkerRequest } from './worker-protocol';

/**
 * The ONNX Runtime session, in its own thread: a batch of the CPU preset
 * takes a large fraction of a second, and the DICOM listener and HTTP server
 * on the main thread must keep answering meanwhile. Each thread also gets
 * its own JavaScript realm, which keeps ORT's typed-array checks working
 * under test runners that sandbox globals.
 */

const init = workerData as WorkerInit;
const port = parentPort!;

function sessionOptions(provider: 'cpu' | 'cuda'): ort.InferenceSession.SessionOptions {
  const executionProviders: ort.InferenceSession.ExecutionProviderConfig[] =
    provider === 'cuda' ? [{ name: 'cuda', deviceId: init.cudaDeviceId }, 'cpu'] : ['cpu'];
  return {
    executionProviders,
    graphOptimizationLevel: 'all',
    executionMode: 'sequential',
    intraOpNumThreads: init.intraOpThreads,
    interOpNumThreads: 1,
    extra: { session: { intra_op: { allow_spinning: init.allowSpinning ? '1' : '0' } } },
    // A CPU-only build reports the missing CUDA library at error level; the
    // engine logs the fallback itself, with the reason.
    ...(provider === 'cuda' ? { logSeverityLevel: 4 as const } : {}),
  };
}

async function openSession(): Promise<{ session: ort.InferenceSession; fallback?: string }> {
  if (init.executionProvider === 'cuda') {
    try {
      return { session: await ort.InferenceSession.create(init.model, sessionOptions('cuda')) };
    } catch (error) {
      const reason = error instanceof Error ? error.message : String(error);
      return {
        session: await ort.InferenceSession.create(init.model, sessionOptions('cpu')),
        fallback: reason,
      };
    }
  }
  return { session: await ort.InferenceSession.create(init.model, sessionOptions('cpu')) };
}

async function run(session: ort.InferenceSession, request: WorkerRequest): Promise<WorkerReply> {
  const edge = init.patchSize;
  const input = new ort.Tensor('float32', request.patches, [request.count, edge, edge, edge, 1]);
  const outputs = await session.run({ [init.inputName]: input });
  const logP = outputs[init.logPName].data as Float32Array;
  const maps = init.mapNames.map((name) => outputs[name].data as Float32Array);
  return { type: 'result', id: request.id, logP, maps };
}

async function main(): Promise<void> {
  let opened: Awaited<ReturnType<typeof openSession>>;
  try {
    opened = await openSession();
  } catch (error) {
    port.postMessage({ type: 'failed', message: (error as Error).message } satisfies WorkerReply);
    return;
  }
  const { session, fallback } = opened;
  const provider = init.executionProvider === 'cuda' && fallback === undefined ? 'cuda' : 'cpu';
  port.postMessage({ type: 'ready', provider, fallback } satisfies WorkerReply);

  port.on('message', (request: WorkerRequest | { type: 'close' }) => {
    if (request.type === 'close') {
      void session.release().finally(() => port.close());
      return;
    }
    run(session, request).then(
      (reply) => {
        if (reply.type !== 'result') return;
        const buffers = [reply.logP.buffer, ...reply.maps.map((map) => map.buffer)];
        port.postMessage(reply, buffers as ArrayBuffer[]);
      },
      (error: unknown) => {
        const message = error instanceof Error ? error.message : String(error);
        port.postMessage({ type: 'error', id: request.id, message } satisfies WorkerReply);
      },
    );
  });
}

void main();
