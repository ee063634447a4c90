import type { SeededRandom } from '../util/seeded-random';

/**
 * Dense float64 linear algebra for the invertible 1x1x1 convolution
 * (METHOD.md section 2), shared by the TensorFlow.js model and the ONNX
 * exporter. TensorFlow.js has no inverse or determinant, so the
 * LU factors are made here at initialization and W is inverted here for the
 * (gradient-free) inverse pass. Matrices are row-major n x n Float64Arrays.
 */
export type Matrix = Float64Array;

export function identity(n: number): Matrix {
  const m = new Float64Array(n * n);
  for (let i = 0; i < n; i++) m[i * n + i] = 1;
  return m;
}

export function multiply(a: Matrix, b: Matrix, n: number): Matrix {
  const out = new Float64Array(n * n);
  for (let i = 0; i < n; i++) {
    for (let k = 0; k < n; k++) {
      const aik = a[i * n + k];
      if (aik === 0) continue;
      for (let j = 0; j < n; j++) out[i * n + j] += aik * b[k * n + j];
    }
  }
  return out;
}

/** A random orthogonal matrix: Gram-Schmidt on a seeded Gaussian matrix. */
export function randomOrthogonal(n: number, random: SeededRandom): Matrix {
  const q = new Float64Array(n * n);
  for (let i = 0; i < n * n; i++) q[i] = random.normal();
  for (let row = 0; row < n; row++) {
    for (let prev = 0; prev < row; prev++) {
      let dot = 0;
      for (let j = 0; j < n; j++) dot += q[row * n + j] * q[prev * n + j];
      for (let j = 0; j < n; j++) q[row * n + j] -= dot * q[prev * n + j];
    }
    let norm = 0;
    for (let j = 0; j < n; j++) norm += q[row * n + j] ** 2;
    norm = Math.sqrt(norm);
    for (let j = 0; j < n; j++) q[row * n + j] /= norm;
  }
  return q;
}

export interface LuFactors {
  /** Permutation with W = P L U. */
  p: Matrix;
  /** Unit lower triangular. */
  l: Matrix;
  /** Upper triangular, diagonal included. */
  u: Matrix;
}

/** LU with partial pivoting, written as W = P L U (the form of architecture.ts). */
export function luDecompose(w: Matrix, n: number): LuFactors {
  const a = Float64Array.from(w);
  const rows = Array.from({ length: n }, (_, i) => i);
  const l = identity(n);
  for (let col = 0; col < n; col++) {
    let pivot = col;
    for (let r = col + 1; r < n; r++) {
      if (Math.abs(a[r * n + col]) > Math.abs(a[pivot * n + col])) pivot = r;
    }
    if (pivot !== col) {
      swapRows(a, n, pivot, col);
      [rows[pivot], rows[col]] = [rows[col], rows[pivot]];
      for (let j = 0; j < col; j++) {
        const t = l[pivot * n + j];
        l[pivot * n + j] = l[col * n + j];
        l[col * n + j] = t;
      }
    }
    for (let r = col + 1; r < n; r++) {
      const factor = a[r * n + col] / a[col * n + col];
      l[r * n + col] = factor;
      for (let j = col; j < n; j++) a[r * n + j] -= factor * a[col * n + j];
    }
  }

  // Row i of the pivoted matrix is row rows[i] of W, so W = P L U with
  // P[rows[i]][i] = 1.
  const p = new Float64Array(n * n);
  for (let i = 0; i < n; i++) p[rows[i] * n + i] = 1;
  return { p, l, u: a };
}

function swapRows(a: Matrix, n: number, r1: number, r2: number): void {
  for (let j = 0; j < n; j++) {
    const t = a[r1 * n + j];
    a[r1 * n + j] = a[r2 * n + j];
    a[r2 * n + j] = t;
  }
}

/** Inverse by Gauss-Jordan elimination with partial pivoting. */
export function invert(w: Matrix, n: number): Matrix {
  const a = Float64Array.from(w);
  const inv = identity(n);
  for (let col = 0; col < n; col++) {
    let pivot = col;
    for (let r = col + 1; r < n; r++) {
      if (Math.abs(a[r * n + col]) > Math.abs(a[pivot * n + col])) pivot = r;
    }
    if (a[pivot * n + col] === 0) throw new RangeError(`matrix is singular at column ${col}`);
    swapRows(a, n, pivot, col);
    swapRows(inv, n, pivot, col);
    const scale = 1 / a[col * n + col];
    for (let j = 0; j < n; j++) {
      a[col * n + j] *= scale;
      inv[col * n + j] *= scale;
    }
    for (let r = 0; r < n; r++) {
      const factor = a[r * n + col];
      if (r === col || factor === 0) continue;
      for (let j = 0; j < n; j++) {
        a[r * n + j] -= factor * a[col * n + j];
        inv[r * n + j] -= factor * inv[col * n + j];
      }
    }
  }
  return inv;
}

/** log|det W| by elimination (the dense reference for the LU log-det test). */
export function logAbsDeterminant(w: Matrix, n: number): number {
  const { u } = luDecompose(w, n);
  let sum = 0;
  for (let i = 0; i < n; i++) sum += Math.log(Math.abs(u[i * n + i]));
  return sum;
}
