import { createHash } from 'node:crypto';

// Jest runs tests in a vm context where every lookup of the global Math costs about
// 0.5 us (measured: 5e6 Math.imul calls 2.4 s, 0.06 s through a module binding); the
// generator calls Math in its inner loops, so it binds it once per module.
const Math = globalThis.Math;

/**
 * Seeded pseudo-random numbers for the phantom generator. Math.random cannot
 * be seeded, and the generator must give byte-identical studies for the same
 * seed, so it uses xoshiro128** (Blackman and Vigna, 2018) seeded through a
 * SHA-256 of the seed and a stream name: each part of a study (anatomy, trees,
 * pathology, noise of slice k) draws from its own stream, so adding a lesion
 * does not move a single vessel.
 */
export class Rng {
  private s0: number;
  private s1: number;
  private s2: number;
  private s3: number;
  private spareGaussian: number | undefined;

  constructor(seed: number | string, stream: string) {
    const digest = createHash('sha256').update(`${seed}/${stream}`).digest();
    this.s0 = digest.readUInt32LE(0);
    this.s1 = digest.readUInt32LE(4);
    this.s2 = digest.readUInt32LE(8);
    this.s3 = digest.readUInt32LE(12) | 1;
  }

  /** The next 32 random bits as an unsigned integer. */
  nextUint32(): number {
    const result = Math.imul(rotl(Math.imul(this.s1, 5), 7), 9) >>> 0;
    const t = this.s1 << 9;
    this.s2 ^= this.s0;
    this.s3 ^= this.s1;
    this.s1 ^= this.s2;
    this.s0 ^= this.s3;
    this.s2 ^= t;
    this.s3 = rotl(this.s3, 11);
    return result;
  }

  /** Uniform in [0, 1). */
  uniform(): number {
    return this.nextUint32() / 4294967296;
  }

  range(low: number, high: number): number {
    return low + (high - low) * this.uniform();
  }

  /** Integer in [low, high], both included. */
  int(low: number, high: number): number {
    return low + Math.floor(this.uniform() * (high - low + 1));
  }

  pick<T>(items: readonly T[]): T {
    return items[Math.floor(this.uniform() * items.length)];
  }

  /** Standard normal by the polar Box-Muller method. */
  gaussian(): number {
    if (this.spareGaussian !== undefined) {
      const spare = this.spareGaussian;
      this.spareGaussian = undefined;
      return spare;
    }
    let u = 0;
    let v = 0;
    let s = 0;
    do {
      u = this.uniform() * 2 - 1;
      v = this.uniform() * 2 - 1;
      s = u * u + v * v;
    } while (s >= 1 || s === 0);
    const scale = Math.sqrt((-2 * Math.log(s)) / s);
    this.spareGaussian = v * scale;
    return u * scale;
  }

  /** A random unit vector, uniform on the sphere. */
  unitVector(): [number, number, number] {
    const z = this.range(-1, 1);
    const phi = this.range(0, 2 * Math.PI);
    const r = Math.sqrt(1 - z * z);
    return [r * Math.cos(phi), r * Math.sin(phi), z];
  }
}

function rotl(x: number, k: number): number {
  return (x << k) | (x >>> (32 - k));
}

/** A 32-bit integer hash of three lattice coordinates (for value noise). */
export function hash3(ix: number, iy: number, iz: number, salt: number): number {
  let h = Math.imul(ix, 0x27d4eb2d) ^ Math.imul(iy, 0x165667b1) ^ Math.imul(iz, 0x61c88647);
  h ^= salt;
  h = Math.imul(h ^ (h >>> 15), 0x2c1b3c6d);
  h = Math.imul(h ^ (h >>> 12), 0x297a2d39);
  return (h ^ (h >>> 15)) >>> 0;
}

/**
 * Smooth value noise in [-1, 1]: random values on a lattice of `cellMm`,
 * trilinearly interpolated with a smoothstep weight. Used for the slow
 * density variations of lung parenchyma and the patchiness of opacities.
 */
export function valueNoise(x: number, y: number, z: number, cellMm: number, salt: number): number {
  const fx = x / cellMm;
  const fy = y / cellMm;
  const fz = z / cellMm;
  const ix = Math.floor(fx);
  const iy = Math.floor(fy);
  const iz = Math.floor(fz);
  const tx = smooth(fx - ix);
  const ty = smooth(fy - iy);
  const tz = smooth(fz - iz);

  const c000 = hash3(ix, iy, iz, salt);
  const c100 = hash3(ix + 1, iy, iz, salt);
  const c010 = hash3(ix, iy + 1, iz, salt);
  const c110 = hash3(ix + 1, iy + 1, iz, salt);
  const c001 = hash3(ix, iy, iz + 1, salt);
  const c101 = hash3(ix + 1, iy, iz + 1, salt);
  const c011 = hash3(ix, iy + 1, iz + 1, salt);
  const c111 = hash3(ix + 1, iy + 1, iz + 1, salt);

  const x00 = c000 + (c100 - c000) * tx;
  const x10 = c010 + (c110 - c010) * tx;
  const x01 = c001 + (c101 - c001) * tx;
  const x11 = c011 + (c111 - c011) * tx;
  const y0 = x00 + (x10 - x00) * ty;
  const y1 = x01 + (x11 - x01) * ty;
  return ((y0 + (y1 - y0) * tz) / 4294967295) * 2 - 1;
}

function smooth(t: number): number {
  return t * t * (3 - 2 * t);
}
