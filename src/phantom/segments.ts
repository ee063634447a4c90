import { edgeFraction, pixelRange, SliceBuffers } from './slice';

// Jest runs tests in a vm context where every lookup of the global Math costs about
// 0.5 us (measured: 5e6 Math.imul calls 2.4 s, 0.06 s through a module binding); the
// generator calls Math in its inner loops, so it binds it once per module.
const Math = globalThis.Math;

/** Where a segment may draw. */
export const DRAW_ANYWHERE = 0;
/** Only over voxels that are lung (vessels, airways, lucencies). */
export const DRAW_IN_LUNG = 1;

export interface SegmentStyle {
  hu: number;
  mode?: number;
  /** Lesion label written where the tube covers at least half a voxel. */
  label?: number;
  /** The tube is not lung (mediastinal vessels, pleural structures). */
  clearsLung?: boolean;
}

const FIELDS = 12;

/**
 * Tapered tubes (capsules with a linearly varying radius), the building
 * block of vessel and airway trees, ribs, great vessels, cysts (a tube of
 * length zero is a ball). Each tube is rasterized only inside its bounding
 * box, slice by slice, with a partial-volume edge.
 */
export class SegmentSet {
  private data = new Float64Array(FIELDS * 256);
  size = 0;

  add(
    a: readonly number[],
    b: readonly number[],
    radiusAMm: number,
    radiusBMm: number,
    style: SegmentStyle,
  ): void {
    if (this.size * FIELDS === this.data.length) {
      const grown = new Float64Array(this.data.length * 2);
      grown.set(this.data);
      this.data = grown;
    }
    const o = this.size * FIELDS;
    this.data.set([a[0], a[1], a[2], b[0], b[1], b[2], radiusAMm, radiusBMm], o);
    this.data[o + 8] = style.hu;
    this.data[o + 9] = style.mode ?? DRAW_ANYWHERE;
    this.data[o + 10] = style.label ?? 0;
    this.data[o + 11] = style.clearsLung === true ? 1 : 0;
    this.size += 1;
  }

  ball(centre: readonly number[], radiusMm: number, style: SegmentStyle): void {
    this.add(centre, centre, radiusMm, radiusMm, style);
  }

  zRange(n: number): [number, number] {
    const o = n * FIELDS;
    const r = Math.max(this.data[o + 6], this.data[o + 7]);
    return [
      Math.min(this.data[o + 2], this.data[o + 5]) - r,
      Math.max(this.data[o + 2], this.data[o + 5]) + r,
    ];
  }

  /**
   * Lists, for each slice, the tubes that reach it (in insertion order, so
   * a lumen added after its wall is drawn over it).
   */
  bucket(zOfSlice: (k: number) => number, sliceCount: number, marginMm: number): Int32Array[] {
    const lists: number[][] = Array.from({ length: sliceCount }, () => []);
    const z0 = zOfSlice(0);
    const dz = sliceCount > 1 ? zOfSlice(1) - z0 : 1;

    for (let n = 0; n < this.size; n++) {
      const [low, high] = this.zRange(n);
      const first = Math.max(0, Math.ceil((low - marginMm - z0) / dz));
      const last = Math.min(sliceCount - 1, Math.floor((high + marginMm - z0) / dz));
      for (let k = first; k <= last; k++) lists[k].push(n);
    }
    return lists.map((list) => Int32Array.from(list));
  }

  /** Draws the listed tubes into one slice. */
  draw(slice: SliceBuffers, indices: Int32Array): void {
    for (const n of indices) this.drawOne(slice, n);
  }

  private drawOne(slice: SliceBuffers, n: number): void {
    const d = this.data;
    const o = n * FIELDS;
    const ax = d[o];
    const ay = d[o + 1];
    const az = d[o + 2];
    const abx = d[o + 3] - ax;
    const aby = d[o + 4] - ay;
    const abz = d[o + 5] - az;
    const ra = d[o + 6];
    const dr = d[o + 7] - ra;
    const hu = d[o + 8];
    const inLungOnly = d[o + 9] === DRAW_IN_LUNG;
    const label = d[o + 10];
    const clearsLung = d[o + 11] === 1;
    const { grid, zMm, hu: image, lung, lesion } = slice;
    const px = grid.pixelSpacingMm;
    const thick = grid.sliceThicknessMm;
    const rMax = Math.max(ra, ra + dr) + Math.max(px, thick);

    // The part of the tube's axis within reach of this slice bounds its pixels.
    let t0 = 0;
    let t1 = 1;
    if (Math.abs(abz) > 1e-9) {
      const ta = (zMm - rMax - az) / abz;
      const tb = (zMm + rMax - az) / abz;
      t0 = Math.max(0, Math.min(ta, tb));
      t1 = Math.min(1, Math.max(ta, tb));
      if (t0 > t1) return;
    } else if (Math.abs(zMm - az) > rMax) {
      return;
    }
    const xLow = ax + Math.min(abx * t0, abx * t1) - rMax;
    const xHigh = ax + Math.max(abx * t0, abx * t1) + rMax;
    const yLow = ay + Math.min(aby * t0, aby * t1) - rMax;
    const yHigh = ay + Math.max(aby * t0, aby * t1) + rMax;
    const [i0, i1] = pixelRange(xLow, xHigh, grid.x0Mm, px, grid.nx);
    const [j0, j1] = pixelRange(yLow, yHigh, grid.y0Mm, px, grid.ny);
    const lengthSq = abx * abx + aby * aby + abz * abz;
    const pz = zMm - az;

    for (let j = j0; j <= j1; j++) {
      const py = grid.y0Mm + j * px - ay;
      for (let i = i0; i <= i1; i++) {
        const p = i + grid.nx * j;
        if (inLungOnly && lung[p] === 0) continue;
        const pxMm = grid.x0Mm + i * px - ax;
        let t = lengthSq > 0 ? (pxMm * abx + py * aby + pz * abz) / lengthSq : 0;
        t = t < 0 ? 0 : t > 1 ? 1 : t;
        const ex = pxMm - t * abx;
        const ey = py - t * aby;
        const ez = pz - t * abz;
        const dist = Math.sqrt(ex * ex + ey * ey + ez * ez);
        const r = ra + t * dr;

        // Blur width: the pixel in-plane, the slice thickness along z; a tube
        // thinner than that loses contrast as a real small vessel does.
        const gz = dist > 1e-6 ? ez / dist : 0;
        const width = Math.sqrt(px * px + thick * thick * gz * gz);
        const f = edgeFraction(r - dist, width) * Math.min(1, (2 * r) / width);
        if (f <= 0) continue;

        image[p] += f * (hu - image[p]);
        if (f >= 0.5) {
          if (clearsLung) lung[p] = 0;
          if (label > 0) lesion[p] = label;
        }
      }
    }
  }
}
