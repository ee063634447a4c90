/**
 * bench:ingest - DCMTK storescu sends the same SYNTHETIC 300-slice 512 x 512
 * CT series to `ct3dflow serve` (fsync per instance, row committed before
 * Success) and to DCMTK storescp (writing to disk, no fsync), alternately,
 * for several rounds. Prints one JSON line: images/s for both, the ratio
 * (ours / storescp), the node's peak RSS, and the physical floor: copying
 * the same files with an fsync each.
 *
 * Needs `npm run build` (it starts dist/cli/main.js) and DCMTK on PATH.
 */
import { ChildProcess, execFileSync, spawn } from 'node:child_process';
import {
  closeSync,
  existsSync,
  fsyncSync,
  mkdirSync,
  mkdtempSync,
  openSync,
  readdirSync,
  readFileSync,
  rmSync,
  writeSync,
} from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { REPO_ROOT, run, startServe } from '../tests/interop/helpers/node-process';
import { writeSyntheticSeries } from '../tests/interop/helpers/synthetic-ct';

const SLICES = 300;
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 3);

function seriesFiles(): string[] {
  const dir = join(tmpdir(), 'ct3dflow-bench-ingest-series');
  const present = existsSync(dir) ? readdirSync(dir).filter((n) => n.endsWith('.dcm')) : [];
  if (present.length !== SLICES) {
    rmSync(dir, { recursive: true, force: true });
    writeSyntheticSeries({ dir, slices: SLICES, rows: 512, columns: 512, sliceSpacingMm: 1 });
  }
  return readdirSync(dir)
    .filter((n) => n.endsWith('.dcm'))
    .sort()
    .map((n) => join(dir, n));
}

function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const server = createServer();
    server.listen(0, '127.0.0.1', () => {
      const address = server.address() as { port: number };
      server.close(() => resolve(address.port));
    });
  });
}

async function timedStorescu(aeTitle: string, port: number, files: string[]): Promise<number> {
  const started = performance.now();
  const sent = await run(
    'storescu',
    ['-aec', aeTitle, '127.0.0.1', String(port), ...files],
    600_000,
  );
  const seconds = (performance.now() - started) / 1000;
  if (sent.code !== 0) throw new Error(`storescu to ${aeTitle} failed: ${sent.stderr.slice(-500)}`);
  return seconds;
}

/** The physical floor: the same bytes copied with one fsync per file. */
function fsyncedCopySeconds(files: string[], dir: string): number {
  mkdirSync(dir, { recursive: true });
  const started = performance.now();
  for (const [i, file] of files.entries()) {
    const fd = openSync(join(dir, `${i}.dcm`), 'w');
    writeSync(fd, readFileSync(file));
    fsyncSync(fd);
    closeSync(fd);
  }
  return (performance.now() - started) / 1000;
}

function peakRssMb(pid: number): number {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const kb = Number(/VmHWM:\s+(\d+) kB/.exec(status)?.[1]);
  return Math.round(kb / 1024);
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)];
}

async function main(): Promise<void> {
  if (!existsSync(join(REPO_ROOT, 'dist/cli/main.js'))) {
    throw new Error('dist/cli/main.js is missing: run `npm run build` first');
  }
  const files = seriesFiles();
  const work = mkdtempSync(join(tmpdir(), 'ct3dflow-bench-ingest-'));

  // The first start creates the embedded database (PGlite initdb), which
  // alone peaks far above steady state; it is measured apart, and the
  // rounds run on a restarted node, as in production after installation.
  const dataDir = join(work, 'node-data');
  const fresh = await startServe({ dataDir, idleSeconds: 3600 });
  const firstStartPeakRssMb = peakRssMb(fresh.proc.pid!);
  await fresh.stop();

  const node = await startServe({ dataDir, idleSeconds: 3600 });
  const scpPort = await freePort();
  mkdirSync(join(work, 'storescp'), { recursive: true });
  const storescp: ChildProcess = spawn(
    'storescp',
    ['-aet', 'STORESCP', '-od', join(work, 'storescp'), String(scpPort)],
    { stdio: 'ignore' },
  );
  await new Promise((resolve) => setTimeout(resolve, 500));

  const nodeSeconds: number[] = [];
  const storescpSeconds: number[] = [];
  try {
    for (let round = 0; round < ROUNDS; round++) {
      // storescp does not fsync: without a `sync` its 150 MB of dirty pages
      // are written back during the node's next round and slow the node's
      // fsyncs, so each round starts from a clean page cache (untimed).
      execFileSync('sync');
      nodeSeconds.push(await timedStorescu('CT3DFLOW', node.dicomPort, files));
      execFileSync('sync');
      storescpSeconds.push(await timedStorescu('STORESCP', scpPort, files));
    }
  } finally {
    storescp.kill('SIGTERM');
  }
  const rssMb = peakRssMb(node.proc.pid!);
  await node.stop();

  const copySeconds = fsyncedCopySeconds(files, join(work, 'copy'));
  rmSync(work, { recursive: true, force: true });

  const nodeRate = SLICES / median(nodeSeconds);
  const storescpRate = SLICES / median(storescpSeconds);
  process.stdout.write(
    JSON.stringify({
      bench: 'ingest',
      data: `SYNTHETIC CT, ${SLICES} slices of 512x512x16 bit`,
      rounds: ROUNDS,
      nodeSeconds: nodeSeconds.map((s) => Number(s.toFixed(2))),
      storescpSeconds: storescpSeconds.map((s) => Number(s.toFixed(2))),
      nodeImagesPerSecond: Number(nodeRate.toFixed(1)),
      storescpImagesPerSecond: Number(storescpRate.toFixed(1)),
      ratio: Number((nodeRate / storescpRate).toFixed(2)),
      nodePeakRssMb: rssMb,
      firstStartPeakRssMb,
      fsyncedCopySeconds: Number(copySeconds.toFixed(2)),
      fsyncedCopyImagesPerSecond: Number((SLICES / copySeconds).toFixed(1)),
    }) + '\n',
  );
}

main().catch((error: unknown) => {
  process.stderr.write(`bench:ingest: ${String(error)}\n`);
  process.exitCode = 1;
});
