import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { Command } from 'commander';
import winston from 'winston';

import { registerStatus, NodeUnreachableError } from '../../src/cli/commands/status';
import { UsageError } from '../../src/cli/errors';
import { validateConfig } from '../../src/config/load';
import { queueSection } from '../../src/config/sections/queue';
import { Database, openDatabase } from '../../src/db/database';
import { buildHttpServer } from '../../src/http';
import { JobQueue } from '../../src/queue';

jest.setTimeout(60_000);

const silent = winston.createLogger({ silent: true });
const STUDY = '1.2.826.0.1.3680043.8.498.7';
const SERIES = '1.2.826.0.1.3680043.8.498.7.1';

/** Runs `ct3dflow status ...` in-process and returns what it printed. */
async function runStatus(args: string[]): Promise<string> {
  const program = new Command('ct3dflow').exitOverride();
  registerStatus(program);

  const chunks: string[] = [];
  const write = jest.spyOn(process.stdout, 'write').mockImplementation((chunk) => {
    chunks.push(String(chunk));
    return true;
  });
  try {
    await program.parseAsync(['node', 'ct3dflow', 'status', ...args]);
  } finally {
    write.mockRestore();
  }
  return chunks.join('');
}

describe('ct3dflow status', () => {
  let db: Database;
  let base: string;
  let close: () => Promise<void>;

  beforeAll(async () => {
    db = await openDatabase({ dataDir: '.', inMemory: true });
    await db.query('INSERT INTO studies (study_instance_uid) VALUES ($1)', [STUDY]);
    await db.query(
      `INSERT INTO series (series_instance_uid, study_instance_uid, modality, state,
         instance_count) VALUES ($1, $2, 'CT', 'queued', 133)`,
      [SERIES, STUDY],
    );
    const queue = new JobQueue({ db, config: queueSection.parse({}), log: silent });
    await queue.enqueue(db, { kind: 'analyze', payload: { seriesInstanceUid: SERIES } });

    const app = buildHttpServer({ db, config: validateConfig({}), ownerId: 'n1:9', log: silent });
    await app.listen({ port: 0, host: '127.0.0.1' });
    const address = app.server.address() as { port: number };
    base = `http://127.0.0.1:${address.port}`;
    close = async () => {
      await app.close();
      await db.close();
    };
  });

  afterAll(() => close());

  it('prints counts by state and tables of series and jobs', async () => {
    const output = await runStatus(['--url', base]);

    expect(output).toContain('node n1:9  AE CT3DFLOW');
    expect(output).toContain('studies: 1');
    expect(output).toContain('series:  queued 1');
    expect(output).toContain('jobs:    analyze/queued 1');
    expect(output).toMatch(new RegExp(`${SERIES.replace(/\./g, '\\.')}\\s+queued\\s+133`));
    expect(output).toMatch(/\n1\s+analyze\s+queued\s+0\/5/);
  });

  it('prints JSON with --json', async () => {
    const parsed = JSON.parse(await runStatus(['--url', base, '--json', '--limit', '5']));

    expect(parsed.status.counts.series).toEqual({ queued: 1 });
    expect(parsed.series[0].seriesInstanceUid).toBe(SERIES);
    expect(parsed.jobs[0]).toMatchObject({ kind: 'analyze', state: 'queued' });
  });

  it('finds the node from the config file when --url is absent', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'ct3dflow-status-'));
    const file = join(dir, 'ct3dflow.json');
    const port = Number(new URL(base).port);
    writeFileSync(file, JSON.stringify({ node: { httpPort: port, httpHost: '0.0.0.0' } }));

    const parsed = JSON.parse(await runStatus(['--config', file, '--json']));

    expect(parsed.status.ownerId).toBe('n1:9');
  });

  it('BAD CALL - names --url when it is not a URL', async () => {
    const running = runStatus(['--url', 'localhost 8080']);

    await expect(running).rejects.toThrow(UsageError);
    await expect(runStatus(['--url', 'ftp://x'])).rejects.toThrow(/--url: "ftp:\/\/x"/);
  });

  it('BAD CALL - names --limit when it is out of range', async () => {
    await expect(runStatus(['--url', base, '--limit', '0'])).rejects.toThrow(
      /--limit: "0" is not an integer from 1 to 1000/,
    );
  });

  it('says which node it could not reach', async () => {
    const closed = buildHttpServer({ db, config: validateConfig({}), log: silent });
    await closed.listen({ port: 0, host: '127.0.0.1' });
    const { port } = closed.server.address() as { port: number };
    await closed.close();

    const running = runStatus(['--url', `http://127.0.0.1:${port}`]);

    await expect(running).rejects.toThrow(NodeUnreachableError);
    await expect(runStatus(['--url', `http://127.0.0.1:${port}`])).rejects.toThrow(
      `cannot reach the node at http://127.0.0.1:${port}`,
    );
  });
});
