import { existsSync, mkdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';

import { Command } from 'commander';

import { loadConfig } from '../../config/load';
import { writeNrrd } from '../../imaging/nrrd';
import { preprocessVolume } from '../../imaging/preprocess';
import { axialPreview, coronalPreview } from '../../imaging/preview';
import { writePng } from '../../imaging/render';
import { eligibilityProblems, loadSeriesDirectory } from '../../imaging/series';
import { SeriesError } from '../../imaging/series-error';
import { boundingBox } from '../../imaging/morphology';
import { quietDcmjsWarnings } from '../../imaging/dicom-frames';
import { UsageError } from '../errors';

interface InspectFlags {
  config?: string;
  out?: string;
  json?: boolean;
}

/**
 * `ct3dflow inspect <series-dir>`: what the node would make of a series
 * before any model runs (METHOD.md section 1 up to the patch grid).
 */
async function inspect(seriesDir: string, flags: InspectFlags): Promise<void> {
  if (!existsSync(seriesDir) || !statSync(seriesDir).isDirectory()) {
    throw new UsageError(`series-dir: ${JSON.stringify(seriesDir)} is not a folder`);
  }
  const config = loadConfig({ file: flags.config });
  quietDcmjsWarnings();
  const checks = { ...config.series.eligibility, ...config.imaging };
  const seconds = (from: number): number => Number(((performance.now() - from) / 1000).toFixed(3));

  let start = performance.now();
  const series = await loadSeriesDirectory(seriesDir, checks);
  const loadSeconds = seconds(start);
  const problems = eligibilityProblems(series, checks);

  const pre = preprocessVolume(series.volume, config.imaging);
  const { volume } = series;
  const report = {
    seriesInstanceUid: series.seriesInstanceUid,
    geometry: {
      dims: volume.dims,
      spacingMm: volume.spacingMm.map((s) => Number(s.toFixed(4))),
      originMm: volume.originMm,
      direction: volume.direction,
      slices: series.slices.length,
    },
    eligible: problems.length === 0,
    refusals: problems.map((p: SeriesError) => ({ reason: p.reason, message: p.message })),
    grid: { dims: pre.hu.dims, spacingMm: pre.hu.spacingMm },
    lungVolumeMl: Number(pre.lung.lungVolumeMl.toFixed(1)),
    lungComponents: pre.lung.componentCount,
    airwayRemovedMl: Number(pre.lung.airwayVolumeMl.toFixed(1)),
    patches: {
      count: pre.grid.origins.length,
      candidates: pre.grid.candidateCount,
      sizeVoxels: pre.grid.sizeVoxels,
      strideVoxels: pre.grid.strideVoxels,
    },
    timingsSeconds: {
      load: loadSeconds,
      ...Object.fromEntries(
        Object.entries(pre.timingsSeconds).map(([k, v]) => [k, Number(v.toFixed(3))]),
      ),
    },
    files: [] as string[],
  };

  if (flags.out !== undefined) {
    start = performance.now();
    mkdirSync(flags.out, { recursive: true });
    const box = boundingBox(pre.lung.mask.data, pre.lung.mask.dims);
    const middle = (axis: number): number =>
      box === undefined
        ? Math.floor(pre.hu.dims[axis] / 2)
        : Math.round((box[0][axis] + box[1][axis]) / 2);
    const out = flags.out;
    const outputs: Array<[string, (file: string) => void]> = [
      ['volume-2mm.nrrd', (file) => writeNrrd(file, pre.hu)],
      ['lung-mask-2mm.nrrd', (file) => writeNrrd(file, pre.lung.mask)],
      [
        'axial.png',
        (file) => writePng(file, axialPreview(pre.hu, pre.lung.mask, pre.grid, middle(2))),
      ],
      [
        'coronal.png',
        (file) => writePng(file, coronalPreview(pre.hu, pre.lung.mask, pre.grid, middle(1))),
      ],
    ];
    for (const [name, write] of outputs) {
      write(join(out, name));
      report.files.push(join(out, name));
    }
    (report.timingsSeconds as Record<string, number>).write = seconds(start);
  }

  if (flags.json) {
    process.stdout.write(`${JSON.stringify(report, null, 2)}\n`);
    return;
  }
  process.stdout.write(humanReport(report));
}

function humanReport(report: {
  seriesInstanceUid: string;
  geometry: { dims: number[]; spacingMm: number[]; slices: number };
  eligible: boolean;
  refusals: Array<{ message: string }>;
  grid: { dims: number[] };
  lungVolumeMl: number;
  lungComponents: number;
  patches: { count: number; candidates: number };
  timingsSeconds: Record<string, number>;
  files: string[];
}): string {
  const lines = [
    `series       ${report.seriesInstanceUid}`,
    `geometry     ${report.geometry.dims.join(' x ')} voxels, ` +
      `${report.geometry.spacingMm.join(' x ')} mm`,
    `eligible     ${report.eligible ? 'yes' : 'no'}`,
    ...report.refusals.map((r) => `  refused    ${r.message}`),
    `2 mm grid    ${report.grid.dims.join(' x ')}`,
    `lung volume  ${report.lungVolumeMl} ml (${report.lungComponents} component(s))`,
    `patches      ${report.patches.count} of ${report.patches.candidates} on the grid`,
    `timings (s)  ${Object.entries(report.timingsSeconds)
      .map(([k, v]) => `${k} ${v}`)
      .join(', ')}`,
    ...report.files.map((f) => `wrote        ${f}`),
  ];
  return `${lines.join('\n')}\n`;
}

export function registerInspect(program: Command): void {
  program
    .command('inspect')
    .description(
      'Load a CT series folder and report geometry, eligibility, lung volume and patches',
    )
    .argument('<series-dir>', 'folder holding the DICOM files of one series')
    .option('--config <file>', 'config file (default config/ct3dflow.json if present)')
    .option('--out <dir>', 'write the 2 mm volume, lung mask (NRRD) and PNG previews here')
    .option('--json', 'print the report as JSON')
    .action(inspect);
}
