import { seededRandom } from '../util/seeded-random';
import { copyPatch, PatchError, PatchFlips } from './patches';
import { Vec3, Volume } from './volume';

/**
 * Random training patches (METHOD.md section 1, training): each centred on a
 * lung voxel drawn uniformly, optionally mirrored, from a seeded generator so
 * a training run can be repeated exactly.
 */

export interface SamplerOptions {
  sizeVoxels: number;
  seed: number;
  /** Axes that may be mirrored, each with probability 1/2. */
  flipAxes: Partial<PatchFlips>;
}

export interface SampledPatch {
  origin: Vec3;
  flips: PatchFlips;
}

export class LungPatchSampler {
  private readonly lungVoxels: Int32Array;
  private readonly random: () => number;
  private readonly options: SamplerOptions;

  constructor(
    private readonly volume: Volume<Float32Array>,
    lung: Volume<Uint8Array>,
    options: Partial<SamplerOptions> = {},
  ) {
    this.options = { sizeVoxels: 48, seed: 1, flipAxes: {}, ...options };
    if (lung.dims.some((n, axis) => n !== volume.dims[axis])) {
      throw new PatchError(`lung mask dims [${lung.dims}] differ from volume [${volume.dims}]`);
    }
    let count = 0;
    for (let p = 0; p < lung.data.length; p++) count += lung.data[p] ? 1 : 0;
    if (count === 0) throw new PatchError('the lung mask is empty: nothing to sample');
    this.lungVoxels = new Int32Array(count);
    let n = 0;
    for (let p = 0; p < lung.data.length; p++) if (lung.data[p]) this.lungVoxels[n++] = p;
    this.random = seededRandom(this.options.seed);
  }

  /** Draws one patch position; patches stay inside the volume where it is large enough. */
  next(): SampledPatch {
    const { sizeVoxels: size, flipAxes } = this.options;
    const [nI, nJ] = this.volume.dims;
    const p = this.lungVoxels[Math.floor(this.random() * this.lungVoxels.length)];
    const centre: Vec3 = [p % nI, Math.floor(p / nI) % nJ, Math.floor(p / (nI * nJ))];
    const origin = centre.map((c, axis) => {
      const n = this.volume.dims[axis];
      const start = c - Math.floor(size / 2);
      return n >= size ? Math.min(n - size, Math.max(0, start)) : start;
    }) as Vec3;
    const flips: PatchFlips = {
      i: (flipAxes.i ?? false) && this.random() < 0.5,
      j: (flipAxes.j ?? false) && this.random() < 0.5,
      k: (flipAxes.k ?? false) && this.random() < 0.5,
    };
    return { origin, flips };
  }

  /** Fills `count` patches into `buffer` ([count, size, size, size, 1]). */
  fillBatch(buffer: Float32Array, count: number): SampledPatch[] {
    const drawn: SampledPatch[] = [];
    for (let slot = 0; slot < count; slot++) {
      const patch = this.next();
      copyPatch(this.volume, patch.origin, this.options.sizeVoxels, buffer, slot, patch.flips);
      drawn.push(patch);
    }
    return drawn;
  }
}
