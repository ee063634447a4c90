/**
 * bench:phantom — speed of the phantom generator and realism of its lungs.
 *
 * 1. One 512 x 512 x 300 study (issue 3: at most 20 s on one core),
 *    generated in memory, then written as DICOM; wall and CPU seconds.
 * 2. A small dataset at the dataset defaults, timed per study and
 *    extrapolated to the paper's 822 studies (not generated in full here).
 * 3. Lung HU histograms of normal phantoms against the two real scans in
 *    ../shared/data/real-ct (LIDC-IDRI-0001 with the node's lung
 *    segmentation, COPDGene 64^3 with its reference label map, the phantom
 *    block-averaged to that grid): histogram intersection, percentiles;
 *    and the Dice overlap of the node's lung segmentation with the truth.
 *
 * Prints one JSON line. The machine may be shared: CPU seconds are the
 * figure to compare with the budget, wall seconds show the contention.
 *
 * With `--gallery DIR` it instead writes the montages of docs/phantoms.md:
 * a normal phantom, each family at severities 0.3 and 0.85 (seed 11), and
 * the real LIDC-IDRI-0001 scan in the same layout.
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { PNG } from 'pngjs';

import { segmentLungs } from '../src/imaging/lung';
import { readNrrd } from '../src/imaging/nrrd';
import { RgbImage } from '../src/imaging/render';
import { loadSeriesDirectory } from '../src/imaging/series';
import { makeVolume, Volume } from '../src/imaging/volume';
import { DATASET_STUDY_DEFAULTS, PAPER_COUNTS, writeDataset } from '../src/phantom/dataset';
import { writeCtSeries } from '../src/phantom/dicom';
import { generatePhantom } from '../src/phantom/generate';
import { PATHOLOGY_FAMILIES, PathologyChoice } from '../src/phantom/options';
import { phantomMontage, previewLevels } from '../src/phantom/preview';
import {
  blockAverage,
  blockMajority,
  histogramIntersection,
  histogramPercentile,
  HuHistogram,
  huHistogram,
} from '../src/phantom/realism';
import { sharedDir } from '../tests/helpers/shared';

function timed<T>(run: () => T): { value: T; wallSeconds: number; cpuSeconds: number } {
  const wall = process.hrtime.bigint();
  const cpu = process.cpuUsage();
  const value = run();
  const used = process.cpuUsage(cpu);
  return {
    value,
    wallSeconds: Number(process.hrtime.bigint() - wall) / 1e9,
    cpuSeconds: (used.user + used.system) / 1e6,
  };
}

const r3 = (v: number): number => Math.round(v * 1000) / 1000;

function percentiles(h: HuHistogram): Record<string, number> {
  return Object.fromEntries([5, 25, 50, 75, 95].map((p) => [`p${p}`, histogramPercentile(h, p)]));
}

function dice(a: Uint8Array, b: Uint8Array): number {
  let both = 0;
  let sum = 0;
  for (let n = 0; n < a.length; n++) {
    both += a[n] & b[n];
    sum += a[n] + b[n];
  }
  return (2 * both) / sum;
}

async function main(): Promise<void> {
  const out = mkdtempSync(join(tmpdir(), 'bench-phantom-'));
  try {
    // 1. One full-size study.
    const generated = timed(() => generatePhantom({ seed: 1, matrix: 512, slices: 300 }));
    const phantom = generated.value;
    const written = timed(() => writeCtSeries(join(out, 'study'), phantom.volumeHu, phantom.truth));

    // 2. Dataset defaults: time a few studies (normal and abnormal) and extrapolate.
    const sample = {
      trainNormal: 2,
      validationNormal: 0,
      validationAbnormal: 2,
      testNormal: 0,
      testAbnormal: 0,
    };
    const dataset = timed(() => writeDataset(join(out, 'dataset'), { seed: 1, counts: sample }));
    const perStudySeconds = dataset.cpuSeconds / dataset.value.length;
    const paperStudies = Object.values(PAPER_COUNTS).reduce((s, n) => s + n, 0);

    // 3. Realism: lung HU histograms.
    const lidc = await loadSeriesDirectory(join(sharedDir(), 'data/real-ct/lidc-idri-0001'), {
      minSlices: 1,
      maxSliceSpacingMm: 5,
    });
    const lidcHistogram = huHistogram(lidc.volume, segmentLungs(lidc.volume).mask);
    const copdCt = readNrrd(join(sharedDir(), 'data/real-ct/copdgene-ct64/ct-64.nrrd'));
    const labels = readNrrd(join(sharedDir(), 'data/real-ct/copdgene-ct64/lm-64.nrrd'));
    const copdMask = makeVolume(
      Uint8Array.from(labels.data, (v) => (v !== 0 ? 1 : 0)),
      labels.dims,
      labels.spacingMm,
      labels.originMm,
      labels.direction,
    );
    const copdHistogram = huHistogram(copdCt, copdMask);

    const seeds = [1, 2, 3, 4];
    const versusLidc: number[] = [];
    const versusCopd: number[] = [];
    const lungDice: number[] = [];
    let phantomHistogram: HuHistogram | undefined;
    for (const seed of seeds) {
      // The LIDC grid: 512 matrix, 2.5 mm slices.
      const p = generatePhantom({ seed, matrix: 512, sliceThicknessMm: 2.5 });
      const h = huHistogram(p.volumeHu, p.lungMask);
      phantomHistogram ??= h;
      versusLidc.push(histogramIntersection(h, lidcHistogram));
      lungDice.push(dice(segmentLungs(p.volumeHu).mask.data, p.lungMask.data));
      const factors = [0, 1].map((d) => Math.round(copdCt.spacingMm[d] / p.volumeHu.spacingMm[d]));
      const f: [number, number, number] = [
        factors[0],
        factors[1],
        Math.round(copdCt.spacingMm[2] / 2.5),
      ];
      const pooled: Volume = blockAverage(p.volumeHu, f);
      versusCopd.push(
        histogramIntersection(huHistogram(pooled, blockMajority(p.lungMask, f)), copdHistogram),
      );
    }
    const mean = (v: number[]): number => r3(v.reduce((s, x) => s + x, 0) / v.length);

    const result = {
      bench: 'phantom',
      study: {
        dims: phantom.volumeHu.dims,
        generateWallSeconds: r3(generated.wallSeconds),
        generateCpuSeconds: r3(generated.cpuSeconds),
        dicomWriteWallSeconds: r3(written.wallSeconds),
        dicomWriteCpuSeconds: r3(written.cpuSeconds),
        totalCpuSeconds: r3(generated.cpuSeconds + written.cpuSeconds),
        budgetSeconds: 20,
      },
      dataset: {
        studyDefaults: DATASET_STUDY_DEFAULTS,
        sampleStudies: dataset.value.length,
        cpuSecondsPerStudy: r3(perStudySeconds),
        paperStudies,
        extrapolatedCpuMinutes: r3((perStudySeconds * paperStudies) / 60),
      },
      realism: {
        normalPhantomSeeds: seeds,
        lungHistogramIntersectionVsLidc: versusLidc.map(r3),
        lungHistogramIntersectionVsCopdgene: versusCopd.map(r3),
        meanIntersectionVsLidc: mean(versusLidc),
        lungMaskDiceSegmentLungsVsTruth: lungDice.map((d) => Math.round(d * 10000) / 10000),
        meanIntersectionVsCopdgene: mean(versusCopd),
        phantomSeed1Percentiles: phantomHistogram ? percentiles(phantomHistogram) : undefined,
        lidcPercentiles: percentiles(lidcHistogram),
        copdgenePercentiles: percentiles(copdHistogram),
      },
      note: 'shared 2-core machine; CPU seconds are one process on one core',
    };
    process.stdout.write(`${JSON.stringify(result)}\n`);
  } finally {
    rmSync(out, { recursive: true, force: true });
  }
}

/** Gray montages as 8-bit grayscale PNG: a third of the RGB size, for the docs. */
function writeGrayPng(file: string, image: RgbImage): void {
  const png = new PNG({ width: image.width, height: image.height });
  for (let p = 0; p < image.width * image.height; p++) {
    png.data.set(image.data.subarray(p * 3, p * 3 + 3), p * 4);
    png.data[p * 4 + 3] = 255;
  }
  writeFileSync(file, PNG.sync.write(png, { colorType: 0 }));
}

async function gallery(dir: string): Promise<void> {
  mkdirSync(dir, { recursive: true });
  const written: string[] = [];
  const cases: Array<[PathologyChoice, number]> = [['none', 0]];
  for (const family of PATHOLOGY_FAMILIES) cases.push([family, 0.3], [family, 0.85]);

  for (const [pathology, severity] of cases) {
    const p = generatePhantom({ seed: 11, pathology, severity, matrix: 384, sliceThicknessMm: 2 });
    const levels = previewLevels(p.volumeHu, p.truth).slice(0, 2);
    const name = pathology === 'none' ? 'normal.png' : `${pathology}-${severity}.png`;
    writeGrayPng(join(dir, name), phantomMontage(p.volumeHu, undefined, undefined, 200, levels));
    written.push(name);
  }

  const lidc = await loadSeriesDirectory(join(sharedDir(), 'data/real-ct/lidc-idri-0001'), {
    minSlices: 1,
    maxSliceSpacingMm: 5,
  });
  writeGrayPng(
    join(dir, 'real-lidc-idri-0001.png'),
    phantomMontage(lidc.volume, undefined, undefined, 200, [0.55, 0.3]),
  );
  written.push('real-lidc-idri-0001.png');
  process.stdout.write(`${JSON.stringify({ bench: 'phantom-gallery', dir, written })}\n`);
}

const galleryAt = process.argv.indexOf('--gallery');
if (galleryAt >= 0) void gallery(process.argv[galleryAt + 1] ?? 'docs/images/phantoms');
else void main();
