import { Rng, valueNoise } from './random';
import { renderSpine, renderSternum } from './skeleton';
import { pixelRange, SliceBuffers } from './slice';
import { TISSUE_HU } from './tissue';

export { TISSUE_HU } from './tissue';

// Jest runs tests in a vm context where every lookup of the global Math costs about
// 0.5 us (measured: 5e6 Math.imul calls 2.4 s, 0.06 s through a module binding); the
// generator calls Math in its inner loops, so it binds it once per module.
const Math = globalThis.Math;

/**
 * The body of one phantom: a few dozen numbers drawn from the seed (habitus,
 * inspiration level, organ sizes) and analytic shapes evaluated per voxel.
 * Patient coordinates are LPS mm (PS3.3 C.7.6.2.1.1): x to the patient's
 * left, y posterior, z superior; the body axis is x = y = 0 and the lowest
 * point of the lungs (posterior costophrenic recess) is near z = 0.
 */

const TEXTURE_STEP_MM = 2.5;

export class Anatomy {
  /** 0 = slim, 1 = large. */
  readonly habitus: number;
  /** 0 = shallow breath, 1 = deep inspiration (larger, darker lungs). */
  readonly inspiration: number;
  readonly bodyHalfWidthMm: number;
  readonly bodyHalfDepthMm: number;
  readonly fatMm: number;
  readonly cavityHalfWidthMm: number;
  readonly cavityHalfDepthMm: number;
  readonly cavityCentreYMm: number;
  readonly lungHeightMm: number;
  readonly domeTopMm: [number, number];
  readonly mediastinumXMm: number;
  readonly lungBaseHu: number;
  /** Posterior (dependent) minus anterior lung density, supine. */
  readonly gradientHu: number;
  readonly textureHu: number;
  readonly heart: { x: number; y: number; z: number; rx: number; ry: number; rz: number };
  readonly spineYMm: number;
  readonly vertebraRadiusMm: number;
  readonly textureSalt: number;
  readonly fissures: Array<{ zPosteriorMm: number; zAnteriorMm: number; tiltPerMm: number }>;
  readonly horizontalFissureMm: number;

  constructor(rng: Rng) {
    this.habitus = rng.uniform();
    this.inspiration = rng.range(0.3, 1);
    const h = this.habitus;
    this.bodyHalfWidthMm = 140 + 45 * h + rng.range(-8, 8);
    this.bodyHalfDepthMm = 95 + 38 * h + rng.range(-6, 6);
    this.fatMm = 6 + 26 * h * rng.range(0.6, 1.2);
    const wallMm = this.fatMm + rng.range(9, 15);
    this.cavityHalfWidthMm = this.bodyHalfWidthMm - wallMm;
    this.cavityHalfDepthMm = this.bodyHalfDepthMm - wallMm * 0.75;
    this.cavityCentreYMm = -0.04 * this.bodyHalfDepthMm;
    this.lungHeightMm = 205 + 55 * this.inspiration + 20 * h + rng.range(-12, 12);
    const H = this.lungHeightMm;
    const dome = (0.36 - 0.1 * this.inspiration) * H;
    this.domeTopMm = [dome + rng.range(10, 22), dome];
    this.mediastinumXMm = rng.range(0, 10);
    this.lungBaseHu = -920 + 110 * (1 - this.inspiration) + rng.range(-10, 10);
    this.gradientHu = rng.range(60, 130);
    this.textureHu = rng.range(24, 40);

    const ac = this.cavityHalfWidthMm;
    const bc = this.cavityHalfDepthMm;
    const rz = rng.range(50, 62);
    this.heart = {
      x: 0.18 * ac + rng.range(-6, 6),
      y: this.cavityCentreYMm - 0.22 * bc,
      z: this.domeTopMm[1] + rz * 0.55,
      rx: 0.42 * ac * rng.range(0.9, 1.1),
      ry: 0.52 * bc,
      rz,
    };
    this.vertebraRadiusMm = 17 + 4 * h;
    this.spineYMm = this.cavityCentreYMm + bc - 0.6 * this.vertebraRadiusMm;
    this.textureSalt = rng.nextUint32();

    // Oblique fissures: from the posterior chest wall at 62..72% of the lung
    // height down to the diaphragm anteriorly; the right horizontal fissure
    // at about 58%, anterior to the oblique one.
    this.fissures = [0, 1].map(() => ({
      zPosteriorMm: rng.range(0.62, 0.72) * H,
      zAnteriorMm: rng.range(0.08, 0.18) * H,
      tiltPerMm: rng.range(-0.1, 0.1),
    }));
    this.horizontalFissureMm = rng.range(0.54, 0.62) * H;
  }

  /** Lowest and highest z of the default scan range. */
  scanRangeMm(): [number, number] {
    return [-45, this.lungHeightMm + 25];
  }

  /** Cavity scale: the upper thorax narrows toward the thoracic inlet. */
  cavityScale(z: number): number {
    const t = (z - 0.7 * this.lungHeightMm) / (0.4 * this.lungHeightMm);
    return t <= 0 ? 1 : Math.max(0.55, 1 - 0.45 * t * t);
  }

  /** Height of the diaphragm under (x, y): a dome per side, higher on the right. */
  domeZ(x: number, y: number): number {
    const ac = this.cavityHalfWidthMm;
    const bc = this.cavityHalfDepthMm;
    const right = x < this.mediastinumXMm;
    const top = this.domeTopMm[right ? 0 : 1];
    const u = (x - (right ? -0.45 : 0.45) * ac) / (0.85 * ac);
    const v = (y - this.cavityCentreYMm + 0.2 * bc) / (1.05 * bc);
    return top * (1 - u * u - v * v) - 10;
  }

  /** Half-width of the central mediastinal band at depth y and height z. */
  mediastinumHalfWidthMm(y: number, z: number): number {
    const v = (y - this.cavityCentreYMm) / this.cavityHalfDepthMm;
    const posterior = Math.min(1, Math.max(0, (v + 0.3) / 1.3));
    const upper = z > 0.7 * this.lungHeightMm ? 0.75 : 1;
    return (14 + 24 * posterior) * upper + (z < 0.55 * this.lungHeightMm ? 4 : 0);
  }

  inHeart(x: number, y: number, z: number): number {
    const hr = this.heart;
    const u = (x - hr.x) / hr.rx;
    const v = (y - hr.y) / hr.ry;
    const w = (z - hr.z) / hr.rz;
    return u * u + v * v + w * w;
  }

  /**
   * 1 (right lung) or 2 (left lung) when (x, y, z) is lung, else 0. Lung is
   * the thoracic cavity above the diaphragm, below the apex dome, outside
   * the mediastinum and heart.
   */
  lungSide(x: number, y: number, z: number): number {
    const H = this.lungHeightMm;
    if (z > H || z < -30) return 0;
    const s = this.cavityScale(z);
    const u = x / (this.cavityHalfWidthMm * s);
    const v = (y - this.cavityCentreYMm) / (this.cavityHalfDepthMm * s);
    if (u * u + v * v > 1) return 0;
    if (z < this.domeZ(x, y)) return 0;
    if (Math.abs(x - this.mediastinumXMm) < this.mediastinumHalfWidthMm(y, z)) return 0;
    if (this.inHeart(x, y, z) < 1) return 0;

    const side = x < this.mediastinumXMm ? 1 : 2;
    const t = (z - 0.62 * H) / (0.38 * H);
    if (t > 0) {
      // The apex: a dome over each lung, centred posterior-laterally.
      const a = Math.sqrt(1 - t);
      const cx = (side === 1 ? -0.5 : 0.5) * this.cavityHalfWidthMm * s;
      const au = (x - cx) / (0.58 * this.cavityHalfWidthMm * s * a);
      const av =
        (y - this.cavityCentreYMm - 0.12 * this.cavityHalfDepthMm) /
        (0.98 * this.cavityHalfDepthMm * s * a);
      if (au * au + av * av > 1) return 0;
    }
    return side;
  }

  /**
   * Fraction of a voxel taken by a fissure (visceral pleura, about 0.5 mm):
   * a thin plane blurred over the pixel in-plane and the slice thickness
   * through-plane, so near-horizontal fissures are faint bands on thick
   * slices, as on real scans.
   */
  fissureFraction(
    x: number,
    y: number,
    z: number,
    side: number,
    pixelMm: number,
    thickMm: number,
  ): number {
    const f = this.fissures[side - 1];
    const yc = this.cavityCentreYMm;
    const bc = this.cavityHalfDepthMm;
    const dzdy = (f.zPosteriorMm - f.zAnteriorMm) / (1.6 * bc);
    const zOblique = f.zAnteriorMm + dzdy * (y - yc + 0.6 * bc) + f.tiltPerMm * Math.abs(x);
    // Distance to the plane z = a + b y: |z - a - b y| / sqrt(1 + b^2); the
    // blur width mixes pixel and slice thickness by the plane's tilt.
    const norm = Math.sqrt(1 + dzdy * dzdy);
    const oblique = Math.abs(z - zOblique) / norm;
    const widthOblique = Math.sqrt(pixelMm * pixelMm + (thickMm / norm) ** 2);
    let fraction = oblique < widthOblique ? (1 - oblique / widthOblique) * (0.5 / widthOblique) : 0;
    if (side === 1 && z > zOblique) {
      const horizontal = Math.abs(z - this.horizontalFissureMm);
      const widthHorizontal = Math.sqrt(pixelMm * pixelMm * 0.1 + thickMm * thickMm);
      if (horizontal < widthHorizontal) {
        fraction = Math.max(fraction, (1 - horizontal / widthHorizontal) * (0.5 / widthHorizontal));
      }
    }
    return Math.min(1, fraction);
  }

  /** Normal lung parenchyma: inspiration level, dependent gradient, slow texture. */
  lungHu(x: number, y: number, z: number): number {
    const v = (y - this.cavityCentreYMm) / this.cavityHalfDepthMm;
    return this.lungBaseHu + 0.5 * this.gradientHu * v + this.textureHu * this.texture(x, y, z);
  }

  private texture(x: number, y: number, z: number): number {
    const salt = this.textureSalt;
    return valueNoise(x, y, z, 10, salt) + 0.6 * valueNoise(x, y, z, 5, salt ^ 1);
  }

  /**
   * The texture of one slice sampled every TEXTURE_STEP_MM and interpolated
   * bilinearly: its finest scale is 5 mm, so this loses nothing visible
   * and saves most of the noise evaluations of a 512 x 512 slice.
   */
  private sliceTexture(slice: SliceBuffers): { values: Float32Array; columns: number } {
    const { grid, zMm } = slice;
    const columns = Math.ceil(((grid.nx - 1) * grid.pixelSpacingMm) / TEXTURE_STEP_MM) + 2;
    const rows = Math.ceil(((grid.ny - 1) * grid.pixelSpacingMm) / TEXTURE_STEP_MM) + 2;
    const values = new Float32Array(columns * rows);
    // Only where lung can be: the thoracic cavity's bounding box.
    const [c0, c1] = cellRange(this.cavityHalfWidthMm, 0, grid.x0Mm, columns);
    const [r0, r1] = cellRange(this.cavityHalfDepthMm, this.cavityCentreYMm, grid.y0Mm, rows);
    for (let r = r0; r <= r1; r++) {
      for (let c = c0; c <= c1; c++) {
        const x = grid.x0Mm + c * TEXTURE_STEP_MM;
        const y = grid.y0Mm + r * TEXTURE_STEP_MM;
        values[c + columns * r] = this.textureHu * this.texture(x, y, zMm);
      }
    }
    return { values, columns };
  }

  /** The soft tissue, fat, organs and lungs of one slice (bones come as tubes). */
  renderSlice(slice: SliceBuffers): void {
    const { grid, zMm: z, hu, lung } = slice;
    const A = this.bodyHalfWidthMm;
    const B = this.bodyHalfDepthMm;
    const s = this.cavityScale(z);
    const ac = this.cavityHalfWidthMm * s;
    const bc = this.cavityHalfDepthMm * s;
    const yc = this.cavityCentreYMm;
    hu.fill(TISSUE_HU.air);
    lung.fill(0);
    this.renderTable(slice);
    const texture = this.sliceTexture(slice);

    for (let j = 0; j < grid.ny; j++) {
      const y = grid.y0Mm + j * grid.pixelSpacingMm;
      if (Math.abs(y) >= B) continue;
      const halfRow = A * Math.sqrt(1 - (y / B) ** 2);
      const fatHere = this.fatMm * (1 - 0.45 * Math.max(0, y / B));
      const lungRowHu =
        this.lungBaseHu + (0.5 * this.gradientHu * (y - yc)) / this.cavityHalfDepthMm;

      for (let i = 0; i < grid.nx; i++) {
        const x = grid.x0Mm + i * grid.pixelSpacingMm;
        if (Math.abs(x) > halfRow) continue;
        const p = i + grid.nx * j;
        const r = Math.sqrt(x * x + y * y);
        const rhoBody = Math.sqrt((x / A) ** 2 + (y / B) ** 2);
        const depth = rhoBody > 1e-6 ? r * (1 / rhoBody - 1) : A;
        if (depth < 1.8) {
          hu[p] = TISSUE_HU.skin;
          continue;
        }
        if (depth < fatHere) {
          hu[p] = TISSUE_HU.fat;
          continue;
        }
        const u = x / ac;
        const v = (y - yc) / bc;
        if (u * u + v * v > 1) {
          hu[p] = TISSUE_HU.muscle;
          continue;
        }
        const side = z >= this.domeZ(x, y) ? this.lungSide(x, y, z) : 0;
        if (side === 0) {
          hu[p] = this.cavityHu(x, y, z);
          continue;
        }
        lung[p] = 1;
        const fc = (x - grid.x0Mm) / TEXTURE_STEP_MM;
        const fr = (y - grid.y0Mm) / TEXTURE_STEP_MM;
        const c = Math.floor(fc);
        const row = Math.floor(fr);
        const tc = fc - c;
        const tr = fr - row;
        const t0 = texture.values[c + texture.columns * row];
        const t1 = texture.values[c + 1 + texture.columns * row];
        const t2 = texture.values[c + texture.columns * (row + 1)];
        const t3 = texture.values[c + 1 + texture.columns * (row + 1)];
        const top = t0 + (t1 - t0) * tc;
        const parenchyma = lungRowHu + top + (t2 + (t3 - t2) * tc - top) * tr;
        const px = grid.pixelSpacingMm;
        const fissure = this.fissureFraction(x, y, z, side, px, grid.sliceThicknessMm);
        hu[p] = parenchyma + fissure * (TISSUE_HU.muscle - parenchyma);
      }
    }
    renderSpine(this, slice);
    renderSternum(this, slice);
  }

  /** The cavity outside the lungs: abdomen below the domes, mediastinum, heart. */
  private cavityHu(x: number, y: number, z: number): number {
    if (z < this.domeZ(x, y)) return this.abdomenHu(x, y, z);
    const inHeart = this.inHeart(x, y, z);
    // Epicardial fat: a thin shell around the heart.
    if (inHeart < 0.9) return TISSUE_HU.blood;
    if (inHeart < 1) return TISSUE_HU.fat;
    if (z > 0.93 * this.lungHeightMm) return TISSUE_HU.neck;
    return TISSUE_HU.fat + 15;
  }

  private abdomenHu(x: number, y: number, z: number): number {
    const ac = this.cavityHalfWidthMm;
    const bc = this.cavityHalfDepthMm;
    const sx = (x - 0.35 * ac) / (0.3 * ac);
    const sy = (y - this.cavityCentreYMm + 0.25 * bc) / (0.35 * bc);
    const sz = (z - this.domeTopMm[1] + 35) / 45;
    if (sx * sx + sy * sy + sz * sz < 1) {
      // Supine: gas in the stomach rises anteriorly (negative y).
      return sy < -0.55 ? TISSUE_HU.air : TISSUE_HU.gastricFluid;
    }
    if (x < 0.15 * ac) return TISSUE_HU.liver;
    if (x > 0.45 * ac && y > this.cavityCentreYMm + 0.05 * bc) return TISSUE_HU.spleen;
    return TISSUE_HU.abdomen;
  }

  /** A curved carbon-fibre couch below the patient (foam core, thin shells). */
  private renderTable(slice: SliceBuffers): void {
    const { grid, hu } = slice;
    const top = this.bodyHalfDepthMm + 6;
    const [j0, j1] = pixelRange(top - 35, top + 30, grid.y0Mm, grid.pixelSpacingMm, grid.ny);
    for (let j = j0; j <= j1; j++) {
      const y = grid.y0Mm + j * grid.pixelSpacingMm;
      for (let i = 0; i < grid.nx; i++) {
        const x = grid.x0Mm + i * grid.pixelSpacingMm;
        if (Math.abs(x) > 230) continue;
        const d = y - top + (x * x) / 1600;
        if (d < 0 || d > 26) continue;
        hu[i + grid.nx * j] = d < 2.5 || d > 23.5 ? TISSUE_HU.tableShell : TISSUE_HU.tableFoam;
      }
    }
  }
}

/** Texture cells covering centre +- half along one axis. */
function cellRange(
  half: number,
  centre: number,
  originMm: number,
  cells: number,
): [number, number] {
  const first = Math.floor((centre - half - originMm) / TEXTURE_STEP_MM) - 1;
  const last = Math.ceil((centre + half - originMm) / TEXTURE_STEP_MM) + 1;
  return [Math.max(0, first), Math.min(cells - 1, last)];
}
