import { readFileSync } from 'node:fs';
import { join } from 'node:path';

import { imagingSection } from '../../src/config/sections/imaging';
import { quietDcmjsWarnings } from '../../src/imaging/dicom-frames';
import { segmentLungs } from '../../src/imaging/lung';
import {
  closeBall,
  fillHoles,
  labelComponents,
  squaredDistance,
} from '../../src/imaging/morphology';
import { readNrrd } from '../../src/imaging/nrrd';
import { preprocessVolume } from '../../src/imaging/preprocess';
import {
  geometryOf,
  isotropicGrid,
  resampleLinear,
  resampleNearest,
} from '../../src/imaging/resample';
import { loadSeriesDirectory } from '../../src/imaging/series';
import { syntheticChest } from '../../src/imaging/synthetic-chest';
import { indexToPatient, makeVolume, patientToIndex, Vec3, Volume } from '../../src/imaging/volume';
import { realCtDir } from '../helpers/shared';

beforeAll(() => quietDcmjsWarnings());

function dice(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let sizeA = 0;
  let sizeB = 0;
  let both = 0;
  for (let p = 0; p < a.length; p++) {
    const x = a[p] ? 1 : 0;
    const y = b[p] ? 1 : 0;
    sizeA += x;
    sizeB += y;
    both += x & y;
  }
  return (2 * both) / (sizeA + sizeB);
}

describe('morphology', () => {
  it('computes exact squared distances (brute force check)', () => {
    const dims: Vec3 = [9, 7, 5];
    const mask = new Uint8Array(9 * 7 * 5);
    [3, 100, 200, 301].forEach((p) => (mask[p] = 1));

    const distance = squaredDistance(mask, dims, 1);

    for (let p = 0; p < mask.length; p += 13) {
      const here = [p % 9, Math.floor(p / 9) % 7, Math.floor(p / 63)];
      const brute = Math.min(
        ...[3, 100, 200, 301].map((q) => {
          const there = [q % 9, Math.floor(q / 9) % 7, Math.floor(q / 63)];
          return here.reduce((s, c, axis) => s + (c - there[axis]) ** 2, 0);
        }),
      );
      expect(distance[p]).toBe(brute);
    }
  });

  it('closes a notch narrower than the ball and fills enclosed holes', () => {
    const dims: Vec3 = [30, 30, 30];
    const mask = new Uint8Array(27000);
    for (let k = 5; k < 25; k++) {
      for (let j = 5; j < 25; j++) for (let i = 5; i < 25; i++) mask[i + 30 * (j + 30 * k)] = 1;
    }
    const notch = 24 + 30 * (15 + 30 * 15);
    mask[notch] = 0;
    mask[notch - 1] = 0;
    const hole = 15 + 30 * (15 + 30 * 15);
    mask[hole] = 0;

    const closed = closeBall(mask, dims, 3);
    fillHoles(mask, dims);

    expect(closed[notch]).toBe(1);
    expect(closed[notch - 1]).toBe(1);
    expect(mask[hole]).toBe(1);
    expect(mask[notch]).toBe(0);
    expect(labelComponents(mask, dims).sizes.length).toBe(2);
  });
});

describe('lung segmentation', () => {
  it('matches the COPDGene reference lung mask with Dice >= 0.90', async () => {
    const dir = realCtDir('copdgene-ct64');
    const series = await loadSeriesDirectory(join(dir, 'dicom'), { minSlices: 2 });
    const reference = readNrrd(join(dir, 'lm-64.nrrd'));

    const hu = resampleLinear(series.volume, isotropicGrid(geometryOf(series.volume), 2), -1024);
    const lung = segmentLungs(hu);
    const onOriginal = resampleNearest(lung.mask, geometryOf(series.volume));

    expect(reference.dims).toEqual(series.volume.dims);
    const score = dice(onOriginal.data, reference.data);
    expect(score).toBeGreaterThanOrEqual(0.9);
    expect(lung.lungVolumeMl).toBeGreaterThan(3000);
  }, 60_000);

  it('keeps every LIDC-IDRI-0001 nodule inside the mask, juxtapleural ones included', async () => {
    const dir = realCtDir('lidc-idri-0001');
    const series = await loadSeriesDirectory(dir);
    const pre = preprocessVolume(series.volume, imagingSection.parse({}));
    const nodules = lidcNodules(readFileSync(join(dir, 'annotations.xml'), 'utf8'));
    const sliceOf = new Map(series.slices.map((s, k) => [s.sopInstanceUid, k]));

    expect(nodules.length).toBe(13);
    for (const nodule of nodules) {
      const points = nodule.points.map(({ sopInstanceUid, x, y }) => {
        const k = sliceOf.get(sopInstanceUid);
        expect(k).toBeDefined();
        return indexToPatient(series.volume, [x, y, k ?? -1]);
      });
      const centroid = [0, 1, 2].map(
        (axis) => points.reduce((s, p) => s + p[axis], 0) / points.length,
      ) as Vec3;
      const insideShare = points.filter((p) => maskAt(pre.lung.mask, p)).length / points.length;

      expect({ nodule: nodule.id, centroidInside: maskAt(pre.lung.mask, centroid) }).toEqual({
        nodule: nodule.id,
        centroidInside: 1,
      });
      expect(insideShare).toBeGreaterThanOrEqual(0.95);
    }
  }, 120_000);

  it('finds the SYNTHETIC chest lungs (Dice >= 0.95) and removes its trachea', () => {
    const chest = syntheticChest([120, 120, 90], [2, 2, 2]);
    const hu = makeVolume(Float32Array.from(chest.volume.data), [120, 120, 90], [2, 2, 2]);

    const lung = segmentLungs(hu);

    expect(dice(lung.mask.data, chest.lungTruth)).toBeGreaterThanOrEqual(0.95);
    expect(lung.airwayVolumeMl).toBeGreaterThan(1);
    expect(lung.componentCount).toBe(2);
    // The top of the trachea (midline, upper slices) is not lung.
    expect(lung.mask.data[60 + 120 * (54 + 120 * 85)]).toBe(0);
  });
});

interface LidcNodule {
  id: string;
  points: Array<{ sopInstanceUid: string; x: number; y: number }>;
}

/** Reader outlines of LIDC `unblindedReadNodule`s: edge points per ROI (x = column, y = row). */
function lidcNodules(xml: string): LidcNodule[] {
  return xml
    .split('<unblindedReadNodule>')
    .slice(1)
    .map((block) => {
      const body = block.split('</unblindedReadNodule>')[0];
      const id = /<noduleID>(.*?)<\/noduleID>/.exec(body)?.[1] ?? '?';
      const points = body
        .split('<roi>')
        .slice(1)
        .flatMap((roi) => {
          const sopInstanceUid = /<imageSOP_UID>(.*?)<\/imageSOP_UID>/.exec(roi)?.[1].trim() ?? '';
          return [...roi.matchAll(/<xCoord>(\d+)<\/xCoord>\s*<yCoord>(\d+)<\/yCoord>/g)].map(
            (m) => ({ sopInstanceUid, x: Number(m[1]), y: Number(m[2]) }),
          );
        });
      return { id, points };
    });
}

function maskAt(mask: Volume<Uint8Array>, point: Vec3): number {
  const index = patientToIndex(mask, point).map(Math.round);
  if (index.some((v, axis) => v < 0 || v >= mask.dims[axis])) return 0;
  return mask.data[index[0] + mask.dims[0] * (index[1] + mask.dims[1] * index[2])];
}
