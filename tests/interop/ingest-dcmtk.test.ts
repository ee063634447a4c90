import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { parseDatasetHeader } from '../../src/storage/header';
import { instanceRelativePath } from '../../src/storage/paths';
import { realCtDir } from '../helpers/shared';
import { run, ServeProcess, startServe, waitForSeries } from './helpers/node-process';
import { writeSyntheticSeries } from './helpers/synthetic-ct';

jest.setTimeout(300_000);

const work = mkdtempSync(join(tmpdir(), 'ct3dflow-dcmtk-'));
let node: ServeProcess;

/** Meta group length sits at byte 140 of a Part 10 file (PS3.10 7.1). */
function splitPart10(bytes: Buffer): { transferSyntaxUid: string; dataset: Buffer } {
  const metaEnd = 144 + bytes.readUInt32LE(140);
  const meta = bytes.subarray(0, metaEnd).toString('latin1');
  const match = /1\.2\.840\.10008\.1\.2[0-9.]*/.exec(meta.slice(meta.indexOf('\x02\x00\x10\x00')));
  return { transferSyntaxUid: match![0], dataset: bytes.subarray(metaEnd) };
}

beforeAll(async () => {
  node = await startServe({ dataDir: join(work, 'data'), idleSeconds: 2 });
});

afterAll(async () => {
  expect(await node.stop()).toBe(0);
  rmSync(work, { recursive: true, force: true });
});

describe('DCMTK against ct3dflow serve', () => {
  it('echoscu gets a C-ECHO success', async () => {
    const echo = await run('echoscu', ['-aec', 'CT3DFLOW', '127.0.0.1', String(node.dicomPort)]);
    expect(echo).toMatchObject({ code: 0 });
  });

  it('echoscu with a wrong called AE title is rejected: called AE not recognized', async () => {
    const echo = await run('echoscu', ['-aec', 'SOMEONE', '127.0.0.1', String(node.dicomPort)]);

    expect(echo.code).not.toBe(0);
    expect(echo.stderr).toMatch(/Called AE Title Not Recognized/i);
  });

  it('storescu sends a 133-slice real CT; every instance is on disk as sent and the series is queued', async () => {
    const dir = realCtDir('lidc-idri-0001');
    const files = readdirSync(dir)
      .filter((name) => name.endsWith('.dcm'))
      .map((name) => join(dir, name));
    expect(files.length).toBeGreaterThanOrEqual(100);

    const sent = await run('storescu', [
      '-aec',
      'CT3DFLOW',
      '127.0.0.1',
      String(node.dicomPort),
      ...files,
    ]);
    expect(sent.code).toBe(0);

    let seriesUid = '';
    for (const file of files) {
      const source = splitPart10(readFileSync(file));
      const header = parseDatasetHeader(source.dataset, source.transferSyntaxUid);
      const stored = splitPart10(readFileSync(join(work, 'data', instanceRelativePath(header))));

      expect(stored.transferSyntaxUid).toBe(source.transferSyntaxUid);
      expect(stored.dataset.equals(source.dataset)).toBe(true);
      seriesUid = header.seriesInstanceUid;
    }

    const series = await waitForSeries(node.httpPort, seriesUid, ['queued', 'skipped']);
    expect(series).toMatchObject({ state: 'queued', instanceCount: files.length, skipReasons: [] });
  });

  it('several storescu at once: every series arrives complete', async () => {
    const senders = Array.from({ length: 4 }, (_, i) =>
      writeSyntheticSeries({
        dir: join(work, `parallel-${i}`),
        slices: 60,
        rows: 128,
        columns: 128,
      }),
    );

    const runs = await Promise.all(
      senders.map((s, i) =>
        run('storescu', [
          '-aet',
          `SENDER${i}`,
          '-aec',
          'CT3DFLOW',
          '127.0.0.1',
          String(node.dicomPort),
          ...s.files,
        ]),
      ),
    );
    expect(runs.map((r) => r.code)).toEqual([0, 0, 0, 0]);

    for (const s of senders) {
      const series = await waitForSeries(node.httpPort, s.seriesInstanceUid, ['queued', 'skipped']);
      expect(series).toMatchObject({ state: 'queued', instanceCount: 60 });
    }
  });
});
