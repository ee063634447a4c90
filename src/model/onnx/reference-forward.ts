import { checkFlowConfig, type FlowConfig } from '../architecture';
import { requireTensor, type FlowWeights } from '../weights';

/**
 * A slow, literal float64 transcription of the forward pass described in
 * architecture.ts, channels-last, one patch at a time. It shares no code with
 * the exporter's folding, so it is an independent check of the ONNX graph.
 * Meant for tiny configurations in tests, not for scoring.
 */

interface Field {
  edge: number;
  channels: number;
  /** [edge, edge, edge, channels] row-major. */
  data: Float64Array;
}

const LOG_TWO_PI = Math.log(2 * Math.PI);

function at(field: Field, z: number, y: number, x: number, c: number): number {
  const e = field.edge;
  return field.data[((z * e + y) * e + x) * field.channels + c];
}

function squeeze(field: Field): Field {
  const edge = field.edge / 2;
  const channels = field.channels * 8;
  const data = new Float64Array(field.data.length);
  for (let z = 0; z < edge; z++) {
    for (let y = 0; y < edge; y++) {
      for (let x = 0; x < edge; x++) {
        for (let sub = 0; sub < 8; sub++) {
          const [dz, dy, dx] = [sub >> 2, (sub >> 1) & 1, sub & 1];
          for (let c = 0; c < field.channels; c++) {
            const value = at(field, 2 * z + dz, 2 * y + dy, 2 * x + dx, c);
            data[((z * edge + y) * edge + x) * channels + sub * field.channels + c] = value;
          }
        }
      }
    }
  }
  return { edge, channels, data };
}

/** 'same' zero-padded 3D cross-correlation with a tfjs [k,k,k,in,out] kernel. */
function conv3d(
  field: Field,
  kernel: Float32Array,
  bias: Float32Array,
  k: number,
  out: number,
): Field {
  const { edge, channels } = field;
  const data = new Float64Array(edge ** 3 * out);
  const pad = (k - 1) / 2;
  for (let z = 0; z < edge; z++) {
    for (let y = 0; y < edge; y++) {
      for (let x = 0; x < edge; x++) {
        const base = ((z * edge + y) * edge + x) * out;
        for (let o = 0; o < out; o++) data[base + o] = bias[o];
        for (let kz = 0; kz < k; kz++) {
          for (let ky = 0; ky < k; ky++) {
            for (let kx = 0; kx < k; kx++) {
              const [sz, sy, sx] = [z + kz - pad, y + ky - pad, x + kx - pad];
              if (sz < 0 || sy < 0 || sx < 0 || sz >= edge || sy >= edge || sx >= edge) continue;
              for (let c = 0; c < channels; c++) {
                const value = at(field, sz, sy, sx, c);
                const row = (((kz * k + ky) * k + kx) * channels + c) * out;
                for (let o = 0; o < out; o++) data[base + o] += value * kernel[row + o];
              }
            }
          }
        }
      }
    }
  }
  return { edge, channels: out, data };
}

function mapChannels(field: Field, channels: number, fn: (v: number[]) => number[]): Field {
  const voxels = field.edge ** 3;
  const data = new Float64Array(voxels * channels);
  for (let v = 0; v < voxels; v++) {
    const row = Array.from(field.data.subarray(v * field.channels, (v + 1) * field.channels));
    data.set(fn(row), v * channels);
  }
  return { edge: field.edge, channels, data };
}

function relu(field: Field): Field {
  return { ...field, data: field.data.map((v) => Math.max(0, v)) };
}

function invconvMatrix(weights: FlowWeights, prefix: string, n: number): number[][] {
  const p = requireTensor(weights, `${prefix}.invconv.P`, [n, n]);
  const l = requireTensor(weights, `${prefix}.invconv.L`, [n, n]);
  const u = requireTensor(weights, `${prefix}.invconv.U`, [n, n]);
  const logS = requireTensor(weights, `${prefix}.invconv.logS`, [n]);
  const signS = requireTensor(weights, `${prefix}.invconv.signS`, [n]);
  const lu = (i: number, j: number): number => {
    let sum = 0;
    for (let m = 0; m <= Math.min(i, j); m++) {
      const lim = m === i ? 1 : l[i * n + m];
      const umj = m === j ? signS[m] * Math.exp(logS[m]) : u[m * n + j];
      sum += lim * umj;
    }
    return sum;
  };
  const luMatrix = Array.from({ length: n }, (_, i) =>
    Array.from({ length: n }, (_, j) => lu(i, j)),
  );
  return Array.from({ length: n }, (_, i) =>
    Array.from({ length: n }, (_, j) => {
      let sum = 0;
      for (let m = 0; m < n; m++) sum += p[i * n + m] * luMatrix[m][j];
      return sum;
    }),
  );
}

export interface ReferenceResult {
  logP: number;
  /** Per level, [d, d, d] row-major: log p(z_l) summed over channels. */
  maps: Float64Array[];
}

/** logP (nats, normalized units) and per-level maps of one [P,P,P] patch. */
export function referenceForward(
  config: FlowConfig,
  weights: FlowWeights,
  patch: ArrayLike<number>,
): ReferenceResult {
  checkFlowConfig(config);
  const width = config.couplingWidth;
  let field: Field = { edge: config.patchSize, channels: 1, data: Float64Array.from(patch) };
  let logP = 0;
  const maps: Float64Array[] = [];

  for (let level = 0; level < config.levels; level++) {
    field = squeeze(field);
    const c = field.channels;
    const half = c / 2;
    const voxels = field.edge ** 3;
    for (let step = 0; step < config.stepsPerLevel; step++) {
      const prefix = `l${level}.k${step}`;
      const bias = requireTensor(weights, `${prefix}.actnorm.bias`, [c]);
      const logs = requireTensor(weights, `${prefix}.actnorm.logs`, [c]);
      field = mapChannels(field, c, (v) => v.map((x, i) => (x + bias[i]) * Math.exp(logs[i])));
      for (let i = 0; i < c; i++) logP += logs[i] * voxels;

      const w = invconvMatrix(weights, prefix, c);
      field = mapChannels(field, c, (v) =>
        w.map((row) => row.reduce((s, wij, j) => s + wij * v[j], 0)),
      );
      const logS = requireTensor(weights, `${prefix}.invconv.logS`, [c]);
      for (let i = 0; i < c; i++) logP += logS[i] * voxels;

      const name = `${prefix}.coupling`;
      const tensor = (suffix: string, shape: number[]): Float32Array =>
        requireTensor(weights, `${name}.${suffix}`, shape);
      const xa = mapChannels(field, half, (v) => v.slice(0, half));
      let h = conv3d(
        xa,
        tensor('conv1.kernel', [3, 3, 3, half, width]),
        tensor('conv1.bias', [width]),
        3,
        width,
      );
      h = conv3d(
        relu(h),
        tensor('conv2.kernel', [1, 1, 1, width, width]),
        tensor('conv2.bias', [width]),
        1,
        width,
      );
      h = conv3d(
        relu(h),
        tensor('conv3.kernel', [3, 3, 3, width, c]),
        tensor('conv3.bias', [c]),
        3,
        c,
      );
      for (let v = 0; v < voxels; v++) {
        for (let i = 0; i < half; i++) {
          const shift = h.data[v * c + i];
          const scale = 1 / (1 + Math.exp(-(h.data[v * c + half + i] + 2)));
          field.data[v * c + half + i] = (field.data[v * c + half + i] + shift) * scale;
          logP += Math.log(scale);
        }
      }
    }

    const map = new Float64Array(voxels);
    const last = level === config.levels - 1;
    const latentChannels = last ? c : half;
    let prior: Field;
    if (last) {
      const top = requireTensor(weights, 'top.prior.bias', [2 * c]);
      prior = mapChannels(field, 2 * c, () => Array.from(top));
    } else {
      const kernel = requireTensor(weights, `l${level}.prior.kernel`, [3, 3, 3, half, c]);
      const priorBias = requireTensor(weights, `l${level}.prior.bias`, [c]);
      prior = conv3d(
        mapChannels(field, half, (v) => v.slice(0, half)),
        kernel,
        priorBias,
        3,
        c,
      );
    }
    const offset = last ? 0 : half;
    for (let v = 0; v < voxels; v++) {
      for (let i = 0; i < latentChannels; i++) {
        const z = field.data[v * c + offset + i];
        const mean = prior.data[v * prior.channels + i];
        const logsd = prior.data[v * prior.channels + latentChannels + i];
        map[v] += -0.5 * (LOG_TWO_PI + 2 * logsd + (z - mean) ** 2 * Math.exp(-2 * logsd));
      }
      logP += map[v];
    }
    maps.push(map);
    if (!last) field = mapChannels(field, half, (v) => v.slice(0, half));
  }
  return { logP, maps };
}
