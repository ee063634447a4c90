import { Anatomy } from './anatomy';
import { valueNoise } from './random';
import { edgeFraction, pixelRange, SliceBuffers, SliceStage } from './slice';
import { Point } from './trees';

// Jest runs tests in a vm context where every lookup of the global Math costs about
// 0.5 us (measured: 5e6 Math.imul calls 2.4 s, 0.06 s through a module binding); the
// generator calls Math in its inner loops, so it binds it once per module.
const Math = globalThis.Math;

/**
 * Lesions drawn voxel by voxel inside their bounding boxes. Each writes its
 * label into the lesion mask where it covers at least half a voxel; all but
 * the pleural effusion draw only over lung, so they lie in the lung mask.
 */

/** A solid nodule: a sphere whose radius varies with direction (lobulation). */
export class NoduleStage implements SliceStage {
  readonly zMinMm: number;
  readonly zMaxMm: number;

  constructor(
    readonly centre: Point,
    readonly radiusMm: number,
    /** Lobe directions (unit) and amplitudes, relative to the radius. */
    readonly lobes: Array<{ dir: Point; amplitude: number }>,
    readonly hu: number,
    readonly label: number,
  ) {
    const reach = radiusMm * (1 + lobes.reduce((s, l) => s + l.amplitude, 0)) + 2;
    this.zMinMm = centre[2] - reach;
    this.zMaxMm = centre[2] + reach;
  }

  apply(slice: SliceBuffers): void {
    const { grid, zMm, hu, lung, lesion } = slice;
    const reach = this.zMaxMm - this.centre[2];
    const px = grid.pixelSpacingMm;
    const [c0, c1, c2] = this.centre;
    const [i0, i1] = pixelRange(c0 - reach, c0 + reach, grid.x0Mm, px, grid.nx);
    const [j0, j1] = pixelRange(c1 - reach, c1 + reach, grid.y0Mm, px, grid.ny);
    const dz = zMm - c2;

    for (let j = j0; j <= j1; j++) {
      const dy = grid.y0Mm + j * px - c1;
      for (let i = i0; i <= i1; i++) {
        const p = i + grid.nx * j;
        if (lung[p] === 0) continue;
        const dx = grid.x0Mm + i * px - c0;
        const d = Math.sqrt(dx * dx + dy * dy + dz * dz);
        let radius = this.radiusMm;
        if (d > 1e-6) {
          for (const lobe of this.lobes) {
            const cos = (dx * lobe.dir[0] + dy * lobe.dir[1] + dz * lobe.dir[2]) / d;
            if (cos > 0) radius += this.radiusMm * lobe.amplitude * cos * cos * cos;
          }
        }
        const uz = d > 1e-6 ? dz / d : 0;
        const width = Math.sqrt(px * px + grid.sliceThicknessMm ** 2 * uz * uz);
        const f = edgeFraction(radius - d, width);
        if (f <= 0) continue;
        hu[p] += f * (this.hu - hu[p]);
        if (f >= 0.5) lesion[p] = this.label;
      }
    }
  }
}

/**
 * A patchy opacity made of overlapping ellipsoids whose edge is roughened by
 * value noise: ground glass (vessels stay visible, drawn before them) or
 * consolidation (hides vessels, drawn after them).
 */
export class PatchStage implements SliceStage {
  readonly zMinMm: number;
  readonly zMaxMm: number;
  private readonly reach: number;

  constructor(
    readonly centre: Point,
    readonly blobs: Array<{ centre: Point; radiusMm: number }>,
    readonly hu: number,
    /** 0..1: how strongly the patch replaces the parenchyma at its core. */
    readonly opacity: number,
    readonly patchiness: number,
    readonly label: number,
    readonly salt: number,
  ) {
    this.reach = Math.max(...blobs.map((b) => Math.hypot(...sub3(b.centre, centre)) + b.radiusMm));
    this.zMinMm = centre[2] - this.reach;
    this.zMaxMm = centre[2] + this.reach;
  }

  apply(slice: SliceBuffers): void {
    const { grid, zMm: z, hu, lung, lesion } = slice;
    const px = grid.pixelSpacingMm;
    const [c0, c1] = this.centre;
    const [i0, i1] = pixelRange(c0 - this.reach, c0 + this.reach, grid.x0Mm, px, grid.nx);
    const [j0, j1] = pixelRange(c1 - this.reach, c1 + this.reach, grid.y0Mm, px, grid.ny);

    for (let j = j0; j <= j1; j++) {
      const y = grid.y0Mm + j * px;
      for (let i = i0; i <= i1; i++) {
        const p = i + grid.nx * j;
        if (lung[p] === 0) continue;
        const x = grid.x0Mm + i * px;
        let inside = -Infinity;
        for (const b of this.blobs) {
          const d = Math.hypot(x - b.centre[0], y - b.centre[1], z - b.centre[2]);
          inside = Math.max(inside, b.radiusMm - d);
        }
        if (inside < -8) continue;
        const rough = this.patchiness * 6 * valueNoise(x, y, z, 5, this.salt);
        const f = edgeFraction(inside + rough, 4) * this.opacity;
        if (f <= 0.01) continue;
        hu[p] += f * (this.hu - hu[p]);
        if (f >= 0.5 * this.opacity) lesion[p] = this.label;
      }
    }
  }
}

/**
 * Fibrosis: reticulation (a network of thin dense lines from the zero set of
 * value noise) over a faint haze, in the subpleural band of the lung bases.
 */
export class FibrosisStage implements SliceStage {
  readonly zMinMm = -40;

  constructor(
    readonly anatomy: Anatomy,
    readonly zMaxMm: number,
    /** Depth of the subpleural band as a fraction of the cavity radius. */
    readonly band: number,
    readonly intensity: number,
    readonly labels: [number, number],
    readonly salt: number,
  ) {}

  /** 0..1: how far inside the basal subpleural band (x, y, z) lies. */
  weight(x: number, y: number, z: number): number {
    const a = this.anatomy;
    const s = a.cavityScale(z);
    const u = x / (a.cavityHalfWidthMm * s);
    const v = (y - a.cavityCentreYMm) / (a.cavityHalfDepthMm * s);
    // Posterior (dependent) lung is involved first, as in usual interstitial pneumonia.
    const rho = Math.sqrt(u * u + v * v) + 0.12 * Math.max(0, v);
    const radial = (rho - (1 - this.band)) / 0.06;
    const vertical = (this.zMaxMm - z) / 15;
    return Math.min(1, Math.max(0, Math.min(radial, vertical)));
  }

  apply(slice: SliceBuffers): void {
    const { grid, zMm: z, hu, lung, lesion } = slice;
    const px = grid.pixelSpacingMm;
    for (let j = 0; j < grid.ny; j++) {
      const y = grid.y0Mm + j * px;
      for (let i = 0; i < grid.nx; i++) {
        const p = i + grid.nx * j;
        if (lung[p] === 0) continue;
        const x = grid.x0Mm + i * px;
        const w = this.weight(x, y, z);
        if (w <= 0) continue;
        const n = valueNoise(x, y, z, 4.5, this.salt) + 0.4 * valueNoise(x, y, z, 2, this.salt ^ 7);
        const line = Math.max(0, 1 - Math.abs(n) / 0.14);
        const haze = 0.25 * this.intensity * w;
        hu[p] += haze * (-350 - hu[p]);
        hu[p] += this.intensity * w * line * (-60 - hu[p]);
        if (w >= 0.5) lesion[p] = this.labels[x < this.anatomy.mediastinumXMm ? 0 : 1];
      }
    }
  }
}

/**
 * Pleural effusion, supine: fluid collects posteriorly (dependent) from the
 * costophrenic recess upward, with a meniscus along the lateral wall and a
 * band of compressed lung (passive atelectasis) above it. Fluid is not
 * lung: the lung mask is cleared under it.
 */
export class EffusionStage implements SliceStage {
  readonly zMinMm = -40;

  constructor(
    readonly anatomy: Anatomy,
    readonly side: number,
    readonly depthMm: number,
    readonly zMaxMm: number,
    readonly label: number,
  ) {}

  apply(slice: SliceBuffers): void {
    const { grid, zMm: z, hu, lung, lesion } = slice;
    const a = this.anatomy;
    const px = grid.pixelSpacingMm;
    const s = a.cavityScale(z);
    const bc = a.cavityHalfDepthMm * s;
    const taper = Math.min(1, (this.zMaxMm - z) / 40);
    const depth = this.depthMm * taper;
    if (depth <= 0) return;

    for (let j = 0; j < grid.ny; j++) {
      const y = grid.y0Mm + j * px;
      for (let i = 0; i < grid.nx; i++) {
        const p = i + grid.nx * j;
        if (lung[p] === 0) continue;
        const x = grid.x0Mm + i * px;
        if ((x < a.mediastinumXMm ? 1 : 2) !== this.side) continue;
        const u = x / (a.cavityHalfWidthMm * s);
        const wall = (y - a.cavityCentreYMm) / bc + 0.6 * Math.max(0, Math.abs(u) - 0.55);
        const aboveMm = (1 - wall) * bc - depth;
        if (aboveMm < 0) {
          const f = edgeFraction(-aboveMm, px);
          hu[p] += f * (12 - hu[p]);
          if (f >= 0.5) {
            lung[p] = 0;
            lesion[p] = this.label;
          }
        } else if (aboveMm < 7) {
          hu[p] += 0.55 * (1 - aboveMm / 7) * (-150 - hu[p]);
        }
      }
    }
  }
}

function sub3(a: Point, b: Point): Point {
  return [a[0] - b[0], a[1] - b[1], a[2] - b[2]];
}
