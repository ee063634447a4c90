import { makeVolume, Volume } from '../imaging/volume';
import { Anatomy } from './anatomy';
import { applyKernel, kernelModel, NoiseBank } from './noise';
import { PhantomOptions, ResolvedPhantomOptions, resolveOptions } from './options';
import { planPathology } from './pathology';
import { Rng } from './random';
import { SegmentSet } from './segments';
import { LesionTally, SliceBuffers, SliceGrid, SliceStage } from './slice';
import { buildStructures } from './structures';
import { buildTruth, PhantomTruth } from './truth';

// Jest runs tests in a vm context where every lookup of the global Math costs about
// 0.5 us (measured: 5e6 Math.imul calls 2.4 s, 0.06 s through a module binding); the
// generator calls Math in its inner loops, so it binds it once per module.
const Math = globalThis.Math;

export { GENERATOR_NAME, GENERATOR_VERSION } from './version';

/** HU written outside the reconstruction circle (stored -2000 with intercept -1024). */
export const PADDING_HU = -3024;
/** CT numbers are clipped to the 12-bit range scanners store. */
const MIN_HU = -1024;
const MAX_HU = 3071;

export interface Phantom {
  /** CT numbers in HU as a DICOM reader gets them after rescale. */
  volumeHu: Volume<Int16Array>;
  /** 1 = lung (parenchyma with its vessels and small airways). */
  lungMask: Volume<Uint8Array>;
  /** Lesion label (truth.lesions[n].label) per voxel, 0 elsewhere. */
  lesionMask: Volume<Uint8Array>;
  truth: PhantomTruth;
}

/** Runs one of a list of drawing steps that may also be tube sets. */
class StageRunner {
  private readonly buckets = new Map<SegmentSet, Int32Array[]>();

  constructor(
    private readonly zOfSlice: (k: number) => number,
    private readonly sliceCount: number,
    private readonly marginMm: number,
  ) {}

  run(stages: Array<SliceStage | SegmentSet>, slice: SliceBuffers): void {
    for (const stage of stages) {
      if (stage instanceof SegmentSet) {
        let lists = this.buckets.get(stage);
        if (lists === undefined) {
          lists = stage.bucket(this.zOfSlice, this.sliceCount, this.marginMm);
          this.buckets.set(stage, lists);
        }
        stage.draw(slice, lists[slice.k]);
      } else if (
        slice.zMm >= stage.zMinMm - this.marginMm &&
        slice.zMm <= stage.zMaxMm + this.marginMm
      ) {
        stage.apply(slice);
      }
    }
  }
}

/**
 * Generates one synthetic chest CT in memory: anatomy, vessel and airway
 * trees, the chosen pathology, kernel blur and correlated noise, with the
 * lung and lesion masks and the ground truth. The same seed and options give
 * byte-identical volumes.
 */
export function generatePhantom(options: PhantomOptions): Phantom {
  const resolved = resolveOptions(options);
  const seed = resolved.seed;
  const anatomy = new Anatomy(new Rng(seed, 'anatomy'));
  const grid = sliceGrid(anatomy, resolved, new Rng(seed, 'position'));
  const [zLow, zHigh] = anatomy.scanRangeMm();
  const nz = resolved.slices ?? Math.ceil((zHigh - zLow) / resolved.sliceThicknessMm) + 1;
  const z0 = round3((zLow + zHigh) / 2 - ((nz - 1) / 2) * resolved.sliceThicknessMm);
  const zOfSlice = (k: number): number => z0 + k * resolved.sliceThicknessMm;

  const structures = buildStructures(anatomy, new Rng(seed, 'trees'), resolved.vesselPointsPerLung);
  const plan = planPathology(
    anatomy,
    resolved.pathology,
    resolved.severity,
    new Rng(seed, 'pathology'),
  );
  const model = kernelModel(resolved.kernel);
  const runner = new StageRunner(zOfSlice, nz, resolved.sliceThicknessMm + grid.pixelSpacingMm);

  const sliceSize = grid.nx * grid.ny;
  const volume = new Int16Array(sliceSize * nz);
  const lungMask = new Uint8Array(sliceSize * nz);
  const lesionMask = new Uint8Array(sliceSize * nz);
  const tally = new LesionTally();
  const noiseBank = new NoiseBank(grid, model, new Rng(seed, 'noise'));
  const hu = new Float32Array(sliceSize);
  const blurred = new Float32Array(sliceSize);
  const scratch = new Float32Array(sliceSize);
  const outsideCircle = scanCircleOutside(grid);
  const insideLung = new Uint8Array(256);
  for (const lesion of plan.lesions) insideLung[lesion.label] = lesion.insideLung ? 1 : 0;

  for (let k = 0; k < nz; k++) {
    const slice: SliceBuffers = {
      grid,
      k,
      zMm: zOfSlice(k),
      hu,
      lung: lungMask.subarray(k * sliceSize, (k + 1) * sliceSize),
      lesion: lesionMask.subarray(k * sliceSize, (k + 1) * sliceSize),
      tally,
    };

    // Drawing order (METHOD-independent, issue 3): body, bones and great
    // vessels; parenchymal change; lung vessels; solid lesions; airways.
    anatomy.renderSlice(slice);
    runner.run([structures.base], slice);
    runner.run(plan.parenchyma, slice);
    runner.run([structures.vessels], slice);
    runner.run(plan.solid, slice);
    runner.run([structures.airways], slice);
    runner.run(plan.late, slice);
    finishMasks(slice, insideLung);

    applyKernel(slice.hu, grid, model, blurred, scratch);
    noiseBank.addTo(hu, resolved.noiseHu, new Rng(seed, `noise/${k}`));
    const out = volume.subarray(k * sliceSize, (k + 1) * sliceSize);
    for (let p = 0; p < sliceSize; p++) {
      const value = Math.round(hu[p]);
      out[p] = value < MIN_HU ? MIN_HU : value > MAX_HU ? MAX_HU : value;
    }
    if (resolved.padOutsideScanCircle) {
      for (const p of outsideCircle) out[p] = PADDING_HU;
    }
  }

  const spacing: [number, number, number] = [
    grid.pixelSpacingMm,
    grid.pixelSpacingMm,
    resolved.sliceThicknessMm,
  ];
  const origin: [number, number, number] = [grid.x0Mm, grid.y0Mm, z0];
  const volumeHu = makeVolume(volume, [grid.nx, grid.ny, nz], spacing, origin);
  const lung = makeVolume(lungMask, [grid.nx, grid.ny, nz], spacing, origin);
  const lesion = makeVolume(lesionMask, [grid.nx, grid.ny, nz], spacing, origin);
  const truth = buildTruth({ resolved, anatomy, plan, tally, lungMask: lung });
  return { volumeHu, lungMask: lung, lesionMask: lesion, truth };
}

/** Keeps lesion labels inside the lung (except effusion) and tallies them. */
function finishMasks(slice: SliceBuffers, insideLung: Uint8Array): void {
  const { grid, lung, lesion, tally, zMm } = slice;
  for (let p = 0; p < lesion.length; p++) {
    const label = lesion[p];
    if (label === 0) continue;
    if (insideLung[label] === 1 && lung[p] === 0) {
      lesion[p] = 0;
      continue;
    }
    const i = p % grid.nx;
    const j = (p - i) / grid.nx;
    tally.add(label, grid.x0Mm + i * grid.pixelSpacingMm, grid.y0Mm + j * grid.pixelSpacingMm, zMm);
  }
}

/** Field of view fitted to the body with a margin, the body near its centre. */
function sliceGrid(anatomy: Anatomy, o: ResolvedPhantomOptions, rng: Rng): SliceGrid {
  const fovMm = 2 * anatomy.bodyHalfWidthMm + rng.range(30, 70);
  const pixelSpacingMm = o.pixelSpacingMm ?? round3(Math.min(5, Math.max(0.4, fovMm / o.matrix)));
  const half = ((o.matrix - 1) / 2) * pixelSpacingMm;
  return {
    nx: o.matrix,
    ny: o.matrix,
    pixelSpacingMm,
    sliceThicknessMm: o.sliceThicknessMm,
    x0Mm: round3(-half + rng.range(-8, 8)),
    y0Mm: round3(-half + rng.range(-12, 4)),
  };
}

/** Pixel indices outside the inscribed circle: the scanner reconstructs no data there. */
function scanCircleOutside(grid: SliceGrid): Int32Array {
  const outside: number[] = [];
  const ci = (grid.nx - 1) / 2;
  const cj = (grid.ny - 1) / 2;
  const radius = Math.min(grid.nx, grid.ny) / 2;
  for (let j = 0; j < grid.ny; j++) {
    for (let i = 0; i < grid.nx; i++) {
      if ((i - ci) ** 2 + (j - cj) ** 2 > radius * radius) outside.push(i + grid.nx * j);
    }
  }
  return Int32Array.from(outside);
}

function round3(value: number): number {
  return Math.round(value * 1000) / 1000;
}
