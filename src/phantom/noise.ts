import { Kernel } from './options';
import { Rng } from './random';
import { SliceGrid } from './slice';

// Jest runs tests in a vm context where every lookup of the global Math costs about
// 0.5 us (measured: 5e6 Math.imul calls 2.4 s, 0.06 s through a module binding); the
// generator calls Math in its inner loops, so it binds it once per module.
const Math = globalThis.Math;

/**
 * What the scanner adds to the ideal attenuation map: the reconstruction
 * kernel's point spread (blur for "soft", edge overshoot for "sharp") and
 * quantum noise whose texture the same kernel shapes. CT noise is spatially
 * correlated in-plane (filtered back projection), so white noise is filtered
 * separably with the kernel's noise filter and rescaled to the requested
 * standard deviation.
 */
export interface KernelModel {
  imageBlurTaps: Float32Array;
  /** Edge enhancement: out = in + sharpen * (in - blurred). */
  sharpen: number;
  noiseTaps: Float32Array;
}

export function kernelModel(kernel: Kernel): KernelModel {
  if (kernel === 'soft') {
    return {
      imageBlurTaps: gaussianTaps(0.7, 1),
      sharpen: 0,
      noiseTaps: normalizeEnergy(gaussianTaps(1.3)),
    };
  }
  return {
    imageBlurTaps: gaussianTaps(0.9, 1),
    sharpen: 0.6,
    noiseTaps: normalizeEnergy(Float32Array.from([-0.12, 0.28, 1, 0.28, -0.12])),
  };
}

function gaussianTaps(sigmaPx: number, halfWidthPx = Math.ceil(3 * sigmaPx)): Float32Array {
  const half = halfWidthPx;
  const taps = new Float32Array(2 * half + 1);
  let sum = 0;
  for (let n = -half; n <= half; n++) {
    taps[n + half] = Math.exp((-n * n) / (2 * sigmaPx * sigmaPx));
    sum += taps[n + half];
  }
  return taps.map((t) => t / sum);
}

/** Scales taps so that filtering unit white noise keeps unit variance. */
function normalizeEnergy(taps: Float32Array): Float32Array {
  const energy = Math.sqrt(taps.reduce((s, t) => s + t * t, 0));
  return taps.map((t) => t / energy);
}

/**
 * Separable 2D convolution, in place; `scratch` as large as `image`. Edges
 * are clamped, or wrapped when `periodic` (noise tiles that are shifted
 * cyclically must have no seam). Both passes walk rows, for the cache.
 */
export function convolveSeparable(
  image: Float32Array,
  nx: number,
  ny: number,
  taps: Float32Array,
  scratch: Float32Array,
  periodic = false,
): void {
  const half = taps.length >> 1;
  const wrap = (m: number, n: number): number =>
    periodic ? (m + n) % n : m < 0 ? 0 : m >= n ? n - 1 : m;

  for (let j = 0; j < ny; j++) {
    const row = j * nx;
    for (let i = 0; i < nx; i++) {
      let sum = 0;
      if (i >= half && i + half < nx) {
        const start = row + i - half;
        for (let t = 0; t < taps.length; t++) sum += taps[t] * image[start + t];
      } else {
        for (let t = 0; t < taps.length; t++) sum += taps[t] * image[row + wrap(i + t - half, nx)];
      }
      scratch[row + i] = sum;
    }
  }

  image.fill(0);
  for (let j = 0; j < ny; j++) {
    const row = j * nx;
    for (let t = 0; t < taps.length; t++) {
      const from = wrap(j + t - half, ny) * nx;
      const tap = taps[t];
      for (let i = 0; i < nx; i++) image[row + i] += tap * scratch[from + i];
    }
  }
}

/** Normal quantiles at 65,536 equal-probability steps: two deviates per 32 random bits. */
const NORMAL_TABLE = (() => {
  const table = new Float32Array(65536);
  for (let n = 0; n < table.length; n++) table[n] = inverseNormal((n + 0.5) / table.length);
  return table;
})();

/** Acklam's rational approximation of the standard normal quantile (|error| < 1.2e-9). */
function inverseNormal(p: number): number {
  const a = [
    -39.6968302866538, 220.946098424521, -275.928510446969, 138.357751867269, -30.6647980661472,
    2.50662827745924,
  ];
  const b = [
    -54.4760987982241, 161.585836858041, -155.698979859887, 66.8013118877197, -13.2806815528857,
  ];
  const c = [
    -0.00778489400243029, -0.322396458041136, -2.40075827716184, -2.54973253934373,
    4.37466414146497, 2.93816398269878,
  ];
  const d = [0.00778469570904146, 0.32246712907004, 2.445134137143, 3.75440866190742];
  const low = 0.02425;
  if (p < low || p > 1 - low) {
    const q = Math.sqrt(-2 * Math.log(p < low ? p : 1 - p));
    const x =
      (((((c[0] * q + c[1]) * q + c[2]) * q + c[3]) * q + c[4]) * q + c[5]) /
      ((((d[0] * q + d[1]) * q + d[2]) * q + d[3]) * q + 1);
    return p < low ? x : -x;
  }
  const q = p - 0.5;
  const r = q * q;
  return (
    ((((((a[0] * r + a[1]) * r + a[2]) * r + a[3]) * r + a[4]) * r + a[5]) * q) /
    (((((b[0] * r + b[1]) * r + b[2]) * r + b[3]) * r + b[4]) * r + 1)
  );
}

/**
 * Correlated noise for every slice from a few periodic tiles: generating and
 * filtering fresh noise for each of 300 slices of 512 x 512 would take most
 * of the time budget, so each slice sums two tiles at random cyclic shifts
 * (scaled by 1/sqrt(2) to keep the variance), drawn from the slice's stream.
 */
export class NoiseBank {
  private readonly tiles: Float32Array[] = [];

  constructor(
    private readonly grid: SliceGrid,
    model: KernelModel,
    rng: Rng,
    tileCount = 6,
  ) {
    const size = grid.nx * grid.ny;
    const scratch = new Float32Array(size);
    for (let t = 0; t < tileCount; t++) {
      const tile = new Float32Array(size);
      for (let n = 0; n < size; n += 2) {
        const bits = rng.nextUint32();
        tile[n] = NORMAL_TABLE[bits & 0xffff];
        if (n + 1 < size) tile[n + 1] = NORMAL_TABLE[bits >>> 16];
      }
      convolveSeparable(tile, grid.nx, grid.ny, model.noiseTaps, scratch, true);
      this.tiles.push(tile);
    }
  }

  /** Adds noise of standard deviation `sigmaHu` to one slice. */
  addTo(hu: Float32Array, sigmaHu: number, rng: Rng): void {
    const { nx, ny } = this.grid;
    const scale = sigmaHu / Math.SQRT2;
    const a = this.tiles[rng.int(0, this.tiles.length - 1)];
    const b = this.tiles[rng.int(0, this.tiles.length - 1)];
    const ax = rng.int(0, nx - 1);
    const ay = rng.int(0, ny - 1);
    const bx = rng.int(0, nx - 1);
    const by = rng.int(0, ny - 1);
    for (let j = 0; j < ny; j++) {
      const rowA = ((j + ay) % ny) * nx;
      const rowB = ((j + by) % ny) * nx;
      const row = j * nx;
      for (let i = 0; i < nx; i++) {
        let ia = i + ax;
        if (ia >= nx) ia -= nx;
        let ib = i + bx;
        if (ib >= nx) ib -= nx;
        hu[row + i] += scale * (a[rowA + ia] + b[rowB + ib]);
      }
    }
  }
}

/** Applies the kernel's point spread to the ideal slice, in place. */
export function applyKernel(
  hu: Float32Array,
  grid: SliceGrid,
  model: KernelModel,
  blurred: Float32Array,
  scratch: Float32Array,
): void {
  blurred.set(hu);
  convolveSeparable(blurred, grid.nx, grid.ny, model.imageBlurTaps, scratch);
  if (model.sharpen === 0) {
    hu.set(blurred);
    return;
  }
  for (let n = 0; n < hu.length; n++) hu[n] += model.sharpen * (hu[n] - blurred[n]);
}
