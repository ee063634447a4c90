import { spawnSync } from 'node:child_process';
import { existsSync, writeFileSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';

import { imagingSection } from '../src/config/sections/imaging';
import { writeCtSeries } from '../src/imaging/ct-writer';
import { quietDcmjsWarnings } from '../src/imaging/dicom-frames';
import { patchBatches } from '../src/imaging/patches';
import { preprocessVolume } from '../src/imaging/preprocess';
import { loadSeriesDirectory } from '../src/imaging/series';
import { syntheticChest } from '../src/imaging/synthetic-chest';
import { Vec3 } from '../src/imaging/volume';

/**
 * bench:preprocess - a 512 x 512 x 300 CT series (SYNTHETIC, written once
 * with dcmjs into a temp folder) from DICOM files to filled patch batches:
 * load, 2 mm resampling, lung mask, normalization, patch grid, patch copy.
 * Limits from issue 4: at most 10 s on one core, peak RSS under 1.5 GB.
 * The series is generated in a child process so its memory does not count.
 */

const DIMS: Vec3 = [512, 512, 300];
const SPACING_MM: Vec3 = [0.7, 0.7, 1.0];
const BATCH_SIZE = 8;
const LIMIT_SECONDS = 10;
const LIMIT_RSS_MB = 1536;

function generate(dir: string): void {
  const chest = syntheticChest(DIMS, SPACING_MM);
  writeCtSeries(dir, chest.volume, {
    order: 'shuffled',
    pixelPaddingValue: -2000,
    paddingMask: chest.padding,
  });
  writeFileSync(join(dir, 'complete'), new Date().toISOString());
}

async function measure(dir: string): Promise<void> {
  quietDcmjsWarnings();
  const config = imagingSection.parse({});
  const seconds = (from: number): number => Number(((performance.now() - from) / 1000).toFixed(3));

  const start = performance.now();
  const cpuStart = process.cpuUsage();
  const series = await loadSeriesDirectory(dir);
  const loadSeconds = seconds(start);

  const pre = preprocessVolume(series.volume, config);

  const patchStart = performance.now();
  const buffer = new Float32Array(BATCH_SIZE * pre.grid.sizeVoxels ** 3);
  let filled = 0;
  let checksum = 0;
  for (const batch of patchBatches(pre.normalized, pre.grid, BATCH_SIZE, buffer)) {
    filled += batch.count;
    checksum += buffer[0];
  }
  const patchSeconds = seconds(patchStart);
  const totalSeconds = seconds(start);
  // The machine is shared: CPU time of this process (all its threads, GC
  // included) says more about the code than wall time does.
  const cpu = process.cpuUsage(cpuStart);
  const cpuSeconds = Number(((cpu.user + cpu.system) / 1e6).toFixed(3));
  const peakRssMb = Math.round(process.resourceUsage().maxRSS / 1024);

  console.log(
    JSON.stringify({
      bench: 'preprocess',
      input: `SYNTHETIC CT ${DIMS.join('x')} at ${SPACING_MM.join('x')} mm, ${DIMS[2]} files`,
      grid2mm: pre.hu.dims,
      lungVolumeMl: Number(pre.lung.lungVolumeMl.toFixed(1)),
      patches: filled,
      seconds: {
        load: loadSeconds,
        ...Object.fromEntries(
          Object.entries(pre.timingsSeconds).map(([k, v]) => [k, Number(v.toFixed(3))]),
        ),
        patches: patchSeconds,
        total: totalSeconds,
        totalCpu: cpuSeconds,
      },
      loadAverage1m: Number(loadavg()[0].toFixed(2)),
      peakRssMb,
      limits: { seconds: LIMIT_SECONDS, rssMb: LIMIT_RSS_MB },
      pass: totalSeconds <= LIMIT_SECONDS && peakRssMb < LIMIT_RSS_MB,
      passByCpuTime: cpuSeconds <= LIMIT_SECONDS && peakRssMb < LIMIT_RSS_MB,
      checksum: Number(checksum.toFixed(3)),
    }),
  );
}

async function main(): Promise<void> {
  const generateAt = process.argv.indexOf('--generate');
  if (generateAt >= 0) {
    generate(process.argv[generateAt + 1]);
    return;
  }

  const dir = join(tmpdir(), `ct3dflow-bench-preprocess-${DIMS.join('x')}`);
  if (!existsSync(join(dir, 'complete'))) {
    const child = spawnSync(
      process.execPath,
      [...process.execArgv, __filename, '--generate', dir],
      { stdio: 'inherit' },
    );
    if (child.status !== 0) throw new Error(`generating the series failed (${child.status})`);
  }
  await measure(dir);
}

void main().catch((error: unknown) => {
  console.error(error);
  process.exitCode = 1;
});
