import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { validateConfig } from '../../../src/config/load';
import { openDatabase } from '../../../src/db/database';
import { createRootLogger } from '../../../src/log/logger';
import { startNode } from '../../../src/node/node';
import { cEcho } from '../../../src/scu/echo';
import { cStoreFiles } from '../../../src/scu/send';
import { instanceRelativePath } from '../../../src/storage/paths';
import { writeSyntheticSeries } from '../../interop/helpers/synthetic-ct';

jest.setTimeout(120_000);

const work = mkdtempSync(join(tmpdir(), 'ct3dflow-stop-'));
afterAll(() => rmSync(work, { recursive: true, force: true }));

it('stop() (what SIGTERM calls) answers in-flight stores after their commit, then refuses new associations', async () => {
  const dataDir = join(work, 'data');
  const config = validateConfig({
    node: { dataDir, httpPort: 0, httpHost: '127.0.0.1' },
    dicom: { port: 0, host: '127.0.0.1' },
    series: { idleSeconds: 3600 },
    queue: { stopGraceSeconds: 10 },
  });
  const node = await startNode(config, { log: createRootLogger('error') });
  const synthetic = writeSyntheticSeries({
    dir: join(work, 'series'),
    slices: 40,
    rows: 128,
    columns: 128,
  });
  const peer = {
    host: '127.0.0.1',
    port: node.dicomPort,
    calledAeTitle: 'CT3DFLOW',
    callingAeTitle: 'SCU',
  };

  // Stop while the association is busy storing.
  const sending = cStoreFiles(peer, synthetic.files);
  for (;;) {
    const { rows } = await node.db.query('SELECT 1 FROM instances LIMIT 1');
    if (rows.length > 0) break;
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  await node.stop();
  const results = await sending;
  const acknowledged = results.filter((r) => r.status === 0x0000);

  await expect(cEcho(peer)).rejects.toThrow(/ECONNREFUSED|network error/);

  // Whatever the SCU saw acknowledged is on disk and in the database.
  const db = await openDatabase({ dataDir });
  try {
    const { rows } = await db.query<{ sop_instance_uid: string }>(
      'SELECT sop_instance_uid FROM instances',
    );
    const recorded = new Set(rows.map((r) => r.sop_instance_uid));
    expect(acknowledged.length).toBeGreaterThan(0);
    expect(acknowledged.length).toBeLessThan(synthetic.files.length);
    for (const result of acknowledged) {
      const sopInstanceUid = synthetic.sopInstanceUids[synthetic.files.indexOf(result.file)];
      expect(recorded.has(sopInstanceUid)).toBe(true);
      const path = instanceRelativePath({ ...synthetic, sopInstanceUid });
      expect(existsSync(join(dataDir, path))).toBe(true);
    }
  } finally {
    await db.close();
  }
});
