import { Anatomy, TISSUE_HU } from './anatomy';
import { EffusionStage, FibrosisStage, NoduleStage, PatchStage } from './lesions';
import { PATHOLOGY_FAMILIES, PathologyChoice, PathologyFamily } from './options';
import { Rng } from './random';
import { DRAW_IN_LUNG, SegmentSet } from './segments';
import { SliceStage } from './slice';
import { add, normalize, Point } from './trees';

// Jest runs tests in a vm context where every lookup of the global Math costs about
// 0.5 us (measured: 5e6 Math.imul calls 2.4 s, 0.06 s through a module binding); the
// generator calls Math in its inner loops, so it binds it once per module.
const Math = globalThis.Math;

/** A lesion as planned; its centre and volume are measured on the mask afterwards. */
export interface LesionPlan {
  label: number;
  family: PathologyFamily;
  kind: string;
  severity: number;
  /** Size as designed (nodule diameter, patch radius, effusion depth), mm. */
  sizeMm: number;
  /** Effusion lies outside the lung; every other lesion inside it. */
  insideLung: boolean;
}

/** Where the lesions are drawn relative to the normal vessels and airways. */
export interface PathologyPlan {
  families: PathologyFamily[];
  lesions: LesionPlan[];
  /** Before vessels: the parenchyma changes, vessels stay visible. */
  parenchyma: Array<SliceStage | SegmentSet>;
  /** After vessels, before airways: solid lesions hide vessels. */
  solid: Array<SliceStage | SegmentSet>;
  /** After airways: air bronchograms, bronchiectasis. */
  late: Array<SliceStage | SegmentSet>;
}

class Planner {
  readonly plan: PathologyPlan = { families: [], lesions: [], parenchyma: [], solid: [], late: [] };

  constructor(
    readonly anatomy: Anatomy,
    readonly rng: Rng,
  ) {}

  newLesion(family: PathologyFamily, kind: string, severity: number, sizeMm: number): number {
    const label = this.plan.lesions.length + 1;
    if (label > 255) throw new RangeError(`too many lesions for an 8-bit mask: ${label}`);
    this.plan.lesions.push({
      label,
      family,
      kind,
      severity,
      sizeMm,
      insideLung: family !== 'effusion',
    });
    return label;
  }

  /** A random lung point meeting `accept` (cavity coordinates u, v, height t = z / H). */
  lungPoint(accept: (u: number, v: number, t: number, side: number) => boolean): Point {
    const a = this.anatomy;
    for (let tries = 0; tries < 20000; tries++) {
      const x = this.rng.range(-a.cavityHalfWidthMm, a.cavityHalfWidthMm);
      const y = this.rng.range(
        a.cavityCentreYMm - a.cavityHalfDepthMm,
        a.cavityCentreYMm + a.cavityHalfDepthMm,
      );
      const z = this.rng.range(-20, a.lungHeightMm);
      const side = a.lungSide(x, y, z);
      if (side === 0) continue;
      const s = a.cavityScale(z);
      const u = x / (a.cavityHalfWidthMm * s);
      const v = (y - a.cavityCentreYMm) / (a.cavityHalfDepthMm * s);
      if (accept(u, v, z / a.lungHeightMm, side)) return [x, y, z];
    }
    throw new RangeError('no lung point meets the lesion placement rule');
  }

  insideLung(p: Point, radiusMm: number): boolean {
    const a = this.anatomy;
    const offsets = [
      [0, 0, 0],
      [1, 0, 0],
      [-1, 0, 0],
      [0, 1, 0],
      [0, -1, 0],
      [0, 0, 1],
      [0, 0, -1],
    ];
    return offsets.every((o) => a.lungSide(...add(p, o, radiusMm)) > 0);
  }

  nodules(s: number): void {
    const count = s > 0.6 ? 2 : 1;
    for (let n = 0; n < count; n++) {
      const diameterMm = Math.min(30, Math.max(4, (4 + 26 * s ** 1.2) * this.rng.range(0.85, 1.1)));
      const radius = diameterMm / 2;
      const juxtapleural = this.rng.uniform() < 0.25;
      const centre = this.lungPoint(
        (u, v, t) => t > 0.1 && (juxtapleural ? u * u + v * v > 0.75 : true),
      );
      if (!juxtapleural && !this.insideLung(centre, radius * 1.2)) {
        n -= 1;
        continue;
      }
      const kind = this.rng.pick(['smooth', 'lobulated', 'spiculated']);
      const lobes = Array.from({ length: kind === 'smooth' ? 2 : 6 }, () => ({
        dir: this.rng.unitVector(),
        amplitude: kind === 'lobulated' ? this.rng.range(0.12, 0.3) : this.rng.range(0.02, 0.08),
      }));
      const label = this.newLesion('nodule', kind, s, diameterMm);
      this.plan.solid.push(new NoduleStage(centre, radius, lobes, this.rng.range(25, 50), label));
      if (kind === 'spiculated') {
        const spicules = new SegmentSet();
        const count = this.rng.int(8, 16);
        for (let k = 0; k < count; k++) {
          const dir = this.rng.unitVector();
          const start = add(centre, dir, radius * 0.85);
          const end = add(
            start,
            normalize(add(dir, this.rng.unitVector(), 0.3)),
            radius * this.rng.range(0.5, 1.3),
          );
          spicules.add(start, end, 0.9, 0.25, { hu: 20, mode: DRAW_IN_LUNG });
        }
        this.plan.solid.push(spicules);
      }
    }
  }

  patches(s: number, family: 'ggo' | 'consolidation'): void {
    const ggo = family === 'ggo';
    const count = ggo ? 1 + Math.floor(3 * s) : s > 0.7 ? 2 : 1;
    for (let n = 0; n < count; n++) {
      const radius = (ggo ? 9 + 25 * s : 12 + 40 * s) * this.rng.range(0.8, 1.15);
      const centre = ggo
        ? this.lungPoint((u, v) => u * u + v * v > 0.45 && u * u + v * v < 0.85)
        : this.lungPoint((_u, v, t) => v > -0.2 && t < 0.6);
      const blobs = Array.from({ length: 3 }, (_, k) => ({
        centre:
          k === 0 ? centre : add(centre, this.rng.unitVector(), radius * this.rng.range(0.3, 0.6)),
        radiusMm: radius * this.rng.range(0.55, 0.8),
      }));
      const label = this.newLesion(family, ggo ? 'patchy' : 'airspace', s, radius);
      const hu = ggo ? -730 + 230 * s : 38;
      const stage = new PatchStage(
        centre,
        blobs,
        hu,
        ggo ? 1 : 0.97,
        ggo ? 1 : 0.5,
        label,
        this.rng.nextUint32(),
      );
      if (ggo) {
        this.plan.parenchyma.push(stage);
        continue;
      }
      this.plan.solid.push(stage);
      this.plan.late.push(this.bronchograms(centre, radius));
    }
  }

  /** Air-filled bronchi running through a consolidation. */
  private bronchograms(centre: Point, radius: number): SegmentSet {
    const tubes = new SegmentSet();
    for (let k = 0; k < this.rng.int(3, 5); k++) {
      let at = add(centre, this.rng.unitVector(), radius * 0.3);
      let dir = this.rng.unitVector();
      let r = this.rng.range(1.6, 2.2);
      for (let step = 0; step < 5; step++) {
        dir = normalize(add(dir, this.rng.unitVector(), 0.35));
        const next = add(at, dir, radius * 0.22);
        tubes.add(at, next, r, r * 0.85, { hu: TISSUE_HU.air, mode: DRAW_IN_LUNG });
        at = next;
        r *= 0.85;
      }
    }
    return tubes;
  }

  emphysema(s: number): void {
    const balls = new SegmentSet();
    const centrilobular = this.newLesion('emphysema', 'centrilobular', s, 0);
    const lucency = (label: number) => ({ hu: -995, mode: DRAW_IN_LUNG, label });
    const count = Math.round(40 + 500 * s);
    for (let n = 0; n < count; n++) {
      // Upper zones first: height above 45% of the lung, denser toward the apex.
      const p = this.lungPoint((_u, _v, t) => t > 0.45 && this.rng.uniform() < (t - 0.45) * 2.2);
      balls.ball(p, this.rng.range(1.2, 2 + 3.5 * s), lucency(centrilobular));
    }
    this.plan.parenchyma.push(balls);

    const paraseptal = this.newLesion('emphysema', 'paraseptal', s, 0);
    const subpleural = new SegmentSet();
    for (let n = 0; n < Math.round(10 + 80 * s); n++) {
      const p = this.lungPoint((u, v, t) => t > 0.5 && u * u + v * v > 0.86);
      subpleural.ball(p, this.rng.range(2.5, 5.5), lucency(paraseptal));
    }
    this.plan.solid.push(subpleural);

    if (s < 0.45) return;
    const bullae = new SegmentSet();
    for (let n = 0; n < (s > 0.75 ? 2 : 1); n++) {
      const radius = 10 + 28 * (s - 0.45) * this.rng.range(0.8, 1.2);
      const p = this.lungPoint((u, v, t) => t > 0.72 && u * u + v * v > 0.5);
      const label = this.newLesion('emphysema', 'bulla', s, 2 * radius);
      bullae.ball(p, radius + 0.8, { hu: -250, mode: DRAW_IN_LUNG });
      bullae.ball(p, radius, lucency(label));
    }
    this.plan.solid.push(bullae);
  }

  fibrosis(s: number): void {
    const H = this.anatomy.lungHeightMm;
    const labels: [number, number] = [
      this.newLesion('fibrosis', 'reticulation-right', s, 0),
      this.newLesion('fibrosis', 'reticulation-left', s, 0),
    ];
    const zTop = (0.2 + 0.4 * s) * H;
    const stage = new FibrosisStage(
      this.anatomy,
      zTop,
      0.15 + 0.25 * s,
      0.35 + 0.6 * s,
      labels,
      this.rng.nextUint32(),
    );
    this.plan.parenchyma.push(stage);
    if (s < 0.35) return;

    // Honeycombing: clustered subpleural cysts with thick walls, at the bases.
    const cysts = new SegmentSet();
    const centres: Point[] = [];
    for (let n = 0; n < Math.round(20 + 160 * (s - 0.35)); n++) {
      centres.push(
        this.lungPoint(
          (u, v, t) => t < zTop / H - 0.05 && Math.hypot(u, v) + 0.12 * Math.max(0, v) > 0.9,
        ),
      );
    }
    const radii = centres.map(() => this.rng.range(1.8, 4.5));
    centres.forEach((c, n) => {
      const label = labels[c[0] < this.anatomy.mediastinumXMm ? 0 : 1];
      cysts.ball(c, radii[n] + 1.1, { hu: 30, mode: DRAW_IN_LUNG, label });
    });
    centres.forEach((c, n) => cysts.ball(c, radii[n], { hu: -960, mode: DRAW_IN_LUNG }));
    this.plan.solid.push(cysts);
    if (s < 0.5) return;

    // Traction bronchiectasis: dilated, tortuous airways in the fibrotic zone.
    const bronchi = new SegmentSet();
    for (let k = 0; k < this.rng.int(3, 6); k++) {
      let at = this.lungPoint((u, v, t) => t < zTop / H && Math.hypot(u, v) > 0.6);
      let dir = this.rng.unitVector();
      for (let step = 0; step < 6; step++) {
        dir = normalize(add(dir, this.rng.unitVector(), 0.6));
        const next = add(at, dir, 6);
        bronchi.add(at, next, 3.6, 3.3, { hu: 20, mode: DRAW_IN_LUNG });
        bronchi.add(at, next, 2.6, 2.4, { hu: TISSUE_HU.air, mode: DRAW_IN_LUNG });
        at = next;
      }
    }
    this.plan.late.push(bronchi);
  }

  effusion(s: number): void {
    const sides = s > 0.7 ? [1, 2] : [this.rng.pick([1, 2])];
    for (const side of sides) {
      const depthMm = (8 + 55 * s) * this.rng.range(0.85, 1.15);
      const zTop = this.anatomy.domeTopMm[side - 1] + 30 + 90 * s;
      const label = this.newLesion('effusion', side === 1 ? 'right' : 'left', s, depthMm);
      this.plan.solid.push(new EffusionStage(this.anatomy, side, depthMm, zTop, label));
    }
  }

  family(family: PathologyFamily, s: number): void {
    if (!this.plan.families.includes(family)) this.plan.families.push(family);
    if (family === 'nodule') this.nodules(s);
    else if (family === 'ggo' || family === 'consolidation') this.patches(s, family);
    else if (family === 'emphysema') this.emphysema(s);
    else if (family === 'fibrosis') this.fibrosis(s);
    else this.effusion(s);
  }
}

/**
 * Chooses and places the lesions of one study. `severity` 0..1 runs from
 * subtle (a 4 mm nodule, a faint patch, a few lucencies) to obvious; "mixed"
 * combines two or three families at severities around the one given.
 */
export function planPathology(
  anatomy: Anatomy,
  choice: PathologyChoice,
  severity: number,
  rng: Rng,
): PathologyPlan {
  const planner = new Planner(anatomy, rng);
  if (choice === 'none') return planner.plan;
  if (choice !== 'mixed') {
    planner.family(choice, severity);
    return planner.plan;
  }
  const pool = [...PATHOLOGY_FAMILIES];
  const count = rng.int(2, 3);
  for (let n = 0; n < count; n++) {
    const family = pool.splice(rng.int(0, pool.length - 1), 1)[0];
    planner.family(family, Math.min(1, Math.max(0, severity + rng.range(-0.2, 0.2))));
  }
  return planner.plan;
}
