import { Anatomy } from './anatomy';
import { Rng } from './random';

// Jest runs tests in a vm context where every lookup of the global Math costs about
// 0.5 us (measured: 5e6 Math.imul calls 2.4 s, 0.06 s through a module binding); the
// generator calls Math in its inner loops, so it binds it once per module.
const Math = globalThis.Math;

export type Point = [number, number, number];

/** One tapered branch of a tree. */
export interface Branch {
  a: Point;
  b: Point;
  radiusAMm: number;
  radiusBMm: number;
  generation: number;
}

/** Points spread uniformly through one lung: the territory a tree must supply. */
export function sampleLungPoints(anatomy: Anatomy, side: number, count: number, rng: Rng): Point[] {
  const points: Point[] = [];
  const a = anatomy.cavityHalfWidthMm;
  const b = anatomy.cavityHalfDepthMm;
  const yc = anatomy.cavityCentreYMm;
  for (let tries = 0; points.length < count && tries < count * 200; tries++) {
    const x =
      side === 1 ? rng.range(-a, anatomy.mediastinumXMm) : rng.range(anatomy.mediastinumXMm, a);
    const y = rng.range(yc - b, yc + b);
    const z = rng.range(-30, anatomy.lungHeightMm);
    if (anatomy.lungSide(x, y, z) === side) points.push([x, y, z]);
  }
  return points;
}

/**
 * Grows a space-filling branching tree into a set of territory points: each
 * branch heads toward the centroid of its territory, which is then split in
 * two along its widest axis; radii follow Murray's law (r^3 proportional to
 * the territory served). The leaves are thin, short and end inside the lung,
 * so small vessels cut by a slice look like dots, as in real scans.
 */
export function growTree(
  root: Point,
  rootRadiusMm: number,
  territory: Point[],
  rng: Rng,
  minRadiusMm = 0,
): Branch[] {
  const branches: Branch[] = [];
  const total = territory.length;

  const grow = (start: Point, points: Point[], radius: number, generation: number): void => {
    if (points.length === 0 || radius < minRadiusMm) return;
    const c = centroid(points);
    const leaf = points.length <= 2;
    const reach = leaf ? 1 : rng.range(0.35, 0.6);
    const end: Point = [
      start[0] + reach * (c[0] - start[0]),
      start[1] + reach * (c[1] - start[1]),
      start[2] + reach * (c[2] - start[2]),
    ];
    const endRadius = leaf ? radius * 0.6 : radius * 0.93;
    branches.push({ a: start, b: end, radiusAMm: radius, radiusBMm: endRadius, generation });
    if (leaf) return;

    const [low, high] = splitWidest(points);
    for (const part of [low, high]) {
      const childRadius = radius * Math.cbrt(part.length / points.length) * 0.95;
      grow(end, part, childRadius, generation + 1);
    }
  };

  grow(root, territory, rootRadiusMm * Math.cbrt(territory.length / total), 0);
  return branches;
}

function centroid(points: Point[]): Point {
  let x = 0;
  let y = 0;
  let z = 0;
  for (const p of points) {
    x += p[0];
    y += p[1];
    z += p[2];
  }
  return [x / points.length, y / points.length, z / points.length];
}

function splitWidest(points: Point[]): [Point[], Point[]] {
  const low = [Infinity, Infinity, Infinity];
  const high = [-Infinity, -Infinity, -Infinity];
  for (const p of points) {
    for (let d = 0; d < 3; d++) {
      low[d] = Math.min(low[d], p[d]);
      high[d] = Math.max(high[d], p[d]);
    }
  }
  const spans = [0, 1, 2].map((d) => high[d] - low[d]);
  const axis = spans.indexOf(Math.max(...spans));
  const sorted = [...points].sort((p, q) => p[axis] - q[axis]);
  const half = sorted.length >> 1;
  return [sorted.slice(0, half), sorted.slice(half)];
}

/**
 * Bronchi run beside the arteries (bronchovascular bundles): an airway is
 * made from each artery branch wide enough, displaced sideways by both radii.
 */
export function airwaysBesideArteries(
  arteries: Branch[],
  minArteryRadiusMm: number,
): Array<Branch & { wallMm: number }> {
  const reference = [0.36, 0.48, 0.8];
  const airways: Array<Branch & { wallMm: number }> = [];
  for (const artery of arteries) {
    if (artery.radiusBMm < minArteryRadiusMm) continue;
    const dir = normalize(sub(artery.b, artery.a));
    const side = normalize(cross(dir, reference));
    const lumenA = 0.8 * artery.radiusAMm;
    const lumenB = 0.8 * artery.radiusBMm;
    const wallMm = 0.18 * lumenA + 0.35;
    const offset = artery.radiusAMm + lumenA + wallMm + 0.4;
    airways.push({
      a: add(artery.a, side, offset),
      b: add(artery.b, side, offset),
      radiusAMm: lumenA,
      radiusBMm: lumenB,
      generation: artery.generation,
      wallMm,
    });
  }
  return airways;
}

export function sub(a: readonly number[], b: readonly number[]): Point {
  return [a[0] - b[0], a[1] - b[1], a[2] - b[2]];
}

export function add(a: readonly number[], b: readonly number[], scale = 1): Point {
  return [a[0] + scale * b[0], a[1] + scale * b[1], a[2] + scale * b[2]];
}

export function cross(a: readonly number[], b: readonly number[]): Point {
  return [a[1] * b[2] - a[2] * b[1], a[2] * b[0] - a[0] * b[2], a[0] * b[1] - a[1] * b[0]];
}

export function normalize(a: readonly number[]): Point {
  const n = Math.hypot(a[0], a[1], a[2]);
  return n > 0 ? [a[0] / n, a[1] / n, a[2] / n] : [1, 0, 0];
}
