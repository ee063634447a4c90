import { Anatomy, TISSUE_HU } from './anatomy';
import { Rng } from './random';
import { DRAW_IN_LUNG, SegmentSet } from './segments';
import { airwaysBesideArteries, Branch, growTree, Point, sampleLungPoints } from './trees';

// Jest runs tests in a vm context where every lookup of the global Math costs about
// 0.5 us (measured: 5e6 Math.imul calls 2.4 s, 0.06 s through a module binding); the
// generator calls Math in its inner loops, so it binds it once per module.
const Math = globalThis.Math;

/** The tubular anatomy of one phantom, in drawing order. */
export interface Structures {
  /** Ribs, cartilage, great vessels, trachea and main bronchi. */
  base: SegmentSet;
  /** Pulmonary arteries and veins inside the lungs. */
  vessels: SegmentSet;
  /** Intrapulmonary bronchi (walls, then lumens). */
  airways: SegmentSet;
  arteries: Branch[];
  hilaMm: [Point, Point];
}

const AIRWAY_WALL_HU = 0;

export function buildStructures(anatomy: Anatomy, rng: Rng, pointsPerLung: number): Structures {
  const H = anatomy.lungHeightMm;
  const xm = anatomy.mediastinumXMm;
  const yc = anatomy.cavityCentreYMm;
  const bc = anatomy.cavityHalfDepthMm;
  const heart = anatomy.heart;
  const base = new SegmentSet();

  const hilumY = yc + 0.05 * bc;
  const hilumZ = 0.58 * H;
  const halfWidth = anatomy.mediastinumHalfWidthMm(hilumY, hilumZ);
  const hila: [Point, Point] = [
    [xm - halfWidth - 8, hilumY, hilumZ],
    [xm + halfWidth + 8, hilumY, hilumZ + 8],
  ];

  addRibs(anatomy, base);
  addGreatVessels(anatomy, base, hila);

  // Trachea from above the scan to the carina, main bronchi to the hila.
  const carina: Point = [xm, anatomy.spineYMm - anatomy.vertebraRadiusMm - 20, 0.68 * H];
  const tube = { clearsLung: true };
  base.add([xm, carina[1] - 6, H + 60], carina, 10.5, 9.5, { hu: TISSUE_HU.muscle, ...tube });
  for (const hilum of hila) base.add(carina, hilum, 7.5, 6, { hu: TISSUE_HU.muscle, ...tube });
  base.add([xm, carina[1] - 6, H + 60], carina, 8.5, 7.5, { hu: TISSUE_HU.air, ...tube });
  for (const hilum of hila) base.add(carina, hilum, 5.8, 4.5, { hu: TISSUE_HU.air, ...tube });

  const vessels = new SegmentSet();
  const arteries: Branch[] = [];
  const blood = { hu: TISSUE_HU.blood, mode: DRAW_IN_LUNG };
  for (const side of [1, 2]) {
    const territory = sampleLungPoints(anatomy, side, pointsPerLung, rng);
    const tree = growTree(hila[side - 1], 6.5, territory, rng);
    arteries.push(...tree);
    for (const br of tree) vessels.add(br.a, br.b, br.radiusAMm, br.radiusBMm, blood);

    const veinRoot: Point = [
      side === 1 ? xm - halfWidth - 4 : xm + halfWidth + 4,
      yc + 0.25 * bc,
      heart.z + 0.3 * heart.rz,
    ];
    const veinTerritory = sampleLungPoints(anatomy, side, pointsPerLung, rng);
    for (const br of growTree(veinRoot, 6, veinTerritory, rng)) {
      vessels.add(br.a, br.b, br.radiusAMm, br.radiusBMm, blood);
    }
  }

  const airways = new SegmentSet();
  const bronchi = airwaysBesideArteries(arteries, 1.3);
  for (const br of bronchi) {
    const wall = { hu: AIRWAY_WALL_HU, mode: DRAW_IN_LUNG };
    airways.add(br.a, br.b, br.radiusAMm + br.wallMm, br.radiusBMm + br.wallMm, wall);
  }
  for (const br of bronchi) {
    airways.add(br.a, br.b, br.radiusAMm, br.radiusBMm, { hu: TISSUE_HU.air, mode: DRAW_IN_LUNG });
  }
  return { base, vessels, airways, arteries, hilaMm: hila };
}

/** Twelve ribs per side sloping down toward the front; the upper seven join the sternum. */
function addRibs(anatomy: Anatomy, base: SegmentSet): void {
  const H = anatomy.lungHeightMm;
  const yc = anatomy.cavityCentreYMm;
  const yS = yc - anatomy.cavityHalfDepthMm - 7;
  const cortex = { hu: TISSUE_HU.cortex, clearsLung: true };
  const marrow = { hu: TISSUE_HU.marrow, clearsLung: true };
  const cartilage = { hu: TISSUE_HU.cartilage, clearsLung: true };
  const steps = 14;

  for (let n = 0; n < 12; n++) {
    const zBack = H + 12 - (n * (H + 40)) / 12;
    const drop = 30 + 4 * n;
    const thetaEnd = (n < 7 ? 0.82 : 0.72 - 0.03 * (n - 7)) * Math.PI;
    for (const sign of [-1, 1]) {
      const path: Point[] = [];
      for (let s = 0; s <= steps; s++) {
        const theta = 0.1 * Math.PI + ((thetaEnd - 0.1 * Math.PI) * s) / steps;
        const z = zBack - (drop * s) / steps;
        const scale = anatomy.cavityScale(z);
        const a = anatomy.cavityHalfWidthMm * scale + 6;
        const b = anatomy.cavityHalfDepthMm * scale + 6;
        path.push([sign * a * Math.sin(theta), yc + b * Math.cos(theta), z]);
      }
      for (let s = 0; s < steps; s++) base.add(path[s], path[s + 1], 5, 5, cortex);
      for (let s = 0; s < steps; s++) base.add(path[s], path[s + 1], 3.3, 3.3, marrow);
      if (n < 7) {
        const end = path[steps];
        base.add(end, [sign * 16, yS, end[2] + 4 - 2 * n], 4.5, 4, cartilage);
      }
    }
  }
}

/** Aorta, pulmonary trunk and arteries to the hila, superior vena cava. */
function addGreatVessels(anatomy: Anatomy, base: SegmentSet, hila: [Point, Point]): void {
  const H = anatomy.lungHeightMm;
  const xm = anatomy.mediastinumXMm;
  const yc = anatomy.cavityCentreYMm;
  const bc = anatomy.cavityHalfDepthMm;
  const heart = anatomy.heart;
  const yAorta = anatomy.spineYMm - anatomy.vertebraRadiusMm - 6;
  const blood = { hu: TISSUE_HU.blood, clearsLung: true };

  const aorta: Array<[Point, number]> = [
    [[heart.x - 0.3 * heart.rx, heart.y, heart.z + 0.4 * heart.rz], 14],
    [[xm - 10, yc - 0.3 * bc, 0.78 * H], 15],
    [[xm - 4, yc - 0.12 * bc, 0.85 * H], 14],
    [[xm + 10, yc + 0.2 * bc, 0.86 * H], 13],
    [[xm + 20, yAorta, 0.8 * H], 12.5],
    [[xm + 20, yAorta, 0.5 * H], 12],
    [[xm + 10, yAorta + 2, -60], 11.5],
  ];
  for (let n = 0; n + 1 < aorta.length; n++) {
    base.add(aorta[n][0], aorta[n + 1][0], aorta[n][1], aorta[n + 1][1], blood);
  }

  const trunkStart: Point = [
    heart.x - 0.05 * heart.rx,
    heart.y - 0.5 * heart.ry,
    heart.z + 0.6 * heart.rz,
  ];
  const bifurcation: Point = [xm + 6, yc - 0.05 * bc, 0.6 * H];
  base.add(trunkStart, bifurcation, 13, 12, blood);
  for (const hilum of hila) base.add(bifurcation, hilum, 10, 9, blood);

  base.add(
    [xm - 30, yc - 0.25 * bc, H + 60],
    [xm - 28, yc - 0.2 * bc, heart.z + 0.5 * heart.rz],
    10,
    11,
    blood,
  );
}
