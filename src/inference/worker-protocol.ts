/** Messages between the inference engine and its ONNX Runtime thread. */

export interface WorkerInit {
  /** The serialized ONNX model. */
  model: Uint8Array;
  executionProvider: 'cpu' | 'cuda';
  cudaDeviceId: number;
  /** 0: ONNX Runtime's default. */
  intraOpThreads: number;
  /** Whether idle intra-op threads spin (session.intra_op.allow_spinning). */
  allowSpinning: boolean;
  patchSize: number;
  inputName: string;
  logPName: string;
  mapNames: string[];
}

export interface WorkerRequest {
  type: 'run';
  id: number;
  /** [count, P, P, P, 1] float32, normalized units. */
  patches: Float32Array;
  count: number;
}

export type WorkerReply =
  | { type: 'ready'; provider: 'cpu' | 'cuda'; fallback?: string }
  | { type: 'failed'; message: string }
  | { type: 'result'; id: number; logP: Float32Array; maps: Float32Array[] }
  | { type: 'error'; id: number; message: string };
