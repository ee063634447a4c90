import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { instanceRelativePath } from '../../src/storage/paths';
import { getJson, run, startServe, waitForSeries } from './helpers/node-process';
import { writeSyntheticSeries } from './helpers/synthetic-ct';

jest.setTimeout(300_000);

const work = mkdtempSync(join(tmpdir(), 'ct3dflow-crash-'));

afterAll(() => rmSync(work, { recursive: true, force: true }));

it('kill -9 right after storescu returns: every acknowledged instance survives and its series completes', async () => {
  const dataDir = join(work, 'data');
  const synthetic = writeSyntheticSeries({
    dir: join(work, 'series'),
    slices: 60,
    rows: 256,
    columns: 256,
  });

  // A long idle time: the series cannot complete before the kill.
  const first = await startServe({ dataDir, idleSeconds: 3600 });
  const sent = await run('storescu', [
    '-aec',
    'CT3DFLOW',
    '127.0.0.1',
    String(first.dicomPort),
    ...synthetic.files,
  ]);
  await first.kill9();
  expect(sent.code).toBe(0);

  // Every instance storescu saw acknowledged is on disk...
  for (const sopInstanceUid of synthetic.sopInstanceUids) {
    const path = instanceRelativePath({ ...synthetic, sopInstanceUid });
    expect(existsSync(join(dataDir, path))).toBe(true);
  }

  // ...and in the database, and the restarted node completes the series.
  const second = await startServe({ dataDir, idleSeconds: 1 });
  try {
    const series = await waitForSeries(second.httpPort, synthetic.seriesInstanceUid, ['queued']);
    expect(series.instanceCount).toBe(60);

    const { jobs } = await getJson<{ jobs: Array<{ kind: string; dedupeKey?: string }> }>(
      second.httpPort,
      '/api/jobs?limit=1000',
    );
    expect(jobs.filter((j) => j.kind === 'analyze')).toHaveLength(1);
  } finally {
    expect(await second.stop()).toBe(0);
  }
});
