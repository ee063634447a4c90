import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';

import pg from 'pg';

import { Database, DatabaseError, openDatabase } from '../../src/db/database';
import { MigrationError } from '../../src/db/migrate';
import { DatabaseInUseError } from '../../src/db/pglite-lock';
import { migrations } from '../../src/db/migrations';

jest.setTimeout(120_000);

const databaseUrl = process.env.CT3DFLOW_TEST_DATABASE_URL;
const onPostgres = databaseUrl === undefined ? describe.skip : describe;

function tempDir(): string {
  return mkdtempSync(join(tmpdir(), 'ct3dflow-db-'));
}

describe('database on PGlite', () => {
  const dataDir = tempDir();
  afterAll(() => rmSync(dataDir, { recursive: true, force: true }));

  it('applies every migration once and keeps them across a reopen', async () => {
    let db: Database = await openDatabase({ dataDir });
    const first = await db.query<{ id: string }>('SELECT id FROM schema_migrations ORDER BY id');
    await db.query("INSERT INTO jobs (kind, max_attempts) VALUES ('probe', 1)");
    await db.close();

    db = await openDatabase({ dataDir });
    const again = await db.query<{ id: string }>('SELECT id FROM schema_migrations ORDER BY id');
    const jobs = await db.query<{ kind: string; id: number }>('SELECT id, kind FROM jobs');
    await db.close();

    expect(db.kind).toBe('pglite');
    expect(first.rows.map((row) => row.id)).toEqual(migrations.map((m) => m.id));
    expect(again.rows).toEqual(first.rows);
    expect(jobs.rows).toEqual([{ id: 1, kind: 'probe' }]);
  });

  it('BAD OPEN - refuses a data dir that a live process holds, takes over a stale lock', async () => {
    const dir = tempDir();
    const db = await openDatabase({ dataDir: dir });

    const second = openDatabase({ dataDir: dir });

    await expect(second).rejects.toThrow(DatabaseInUseError);
    await expect(openDatabase({ dataDir: dir })).rejects.toThrow(
      `is in use by process ${process.pid} on ${hostname()}`,
    );
    await db.close();

    const gone = spawnSync(process.execPath, ['-e', 'process.stdout.write(String(process.pid))']);
    const stale = { pid: Number(gone.stdout.toString()), host: hostname() };
    writeFileSync(join(dir, 'db.lock'), JSON.stringify(stale));
    const reopened = await openDatabase({ dataDir: dir });
    await reopened.close();
    expect(existsSync(join(dir, 'db.lock'))).toBe(false);

    // A container restarted: the node is the same pid (1) as the one that died.
    writeFileSync(join(dir, 'db.lock'), JSON.stringify({ pid: process.pid, host: hostname() }));
    await (await openDatabase({ dataDir: dir })).close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('rolls a transaction back when its function throws', async () => {
    const db = await openDatabase({ dataDir, inMemory: true });

    const attempt = db.transaction(async (tx) => {
      await tx.query("INSERT INTO jobs (kind, max_attempts) VALUES ('x', 1)");
      throw new Error('boom');
    });

    await expect(attempt).rejects.toThrow('boom');
    const { rows } = await db.query<{ n: number }>('SELECT count(*)::int AS n FROM jobs');
    expect(rows[0].n).toBe(0);
    await db.close();
  });

  it('BAD MIGRATIONS - refuses a database migrated by a newer version', async () => {
    const dir = tempDir();
    const newer = [...migrations, { id: '999-future', sql: 'CREATE TABLE future (x int)' }];
    await (await openDatabase({ dataDir: dir, migrations: newer })).close();

    const opening = openDatabase({ dataDir: dir });

    await expect(opening).rejects.toThrow(DatabaseError);
    await expect(openDatabase({ dataDir: dir })).rejects.toThrow(
      /migrations this version does not know: 999-future/,
    );
    rmSync(dir, { recursive: true, force: true });
  });

  it('BAD MIGRATIONS - refuses a list out of order, naming the ids', async () => {
    const bad = [
      { id: '002-b', sql: 'SELECT 1' },
      { id: '001-a', sql: 'SELECT 1' },
    ];

    const opening = openDatabase({ dataDir: tempDir(), inMemory: true, migrations: bad });

    await expect(opening).rejects.toThrow(MigrationError);
    await expect(
      openDatabase({ dataDir: tempDir(), inMemory: true, migrations: bad }),
    ).rejects.toThrow(/"001-a" does not sort after "002-b"/);
  });
});

onPostgres('database on PostgreSQL', () => {
  const schema = `ct3dflow_test_db_${process.pid}`;

  afterAll(async () => {
    const admin = new pg.Client({ connectionString: databaseUrl });
    await admin.connect();
    await admin.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`);
    await admin.end();
  });

  it('lets several nodes start together without racing on the migrations', async () => {
    const opening = Array.from({ length: 4 }, () =>
      openDatabase({ databaseUrl, dataDir: tempDir(), schema }),
    );

    const dbs = await Promise.all(opening);
    const { rows } = await dbs[0].query<{ id: string }>(
      'SELECT id FROM schema_migrations ORDER BY id',
    );
    const ids = await dbs[0].query<{ id: number }>(
      "INSERT INTO jobs (kind, max_attempts) VALUES ('probe', 1) RETURNING id",
    );
    await Promise.all(dbs.map((db) => db.close()));

    expect(dbs[0].kind).toBe('postgres');
    expect(rows.map((row) => row.id)).toEqual(migrations.map((m) => m.id));
    expect(typeof ids.rows[0].id).toBe('number');
  });

  it('BAD SCHEMA - refuses a schema name that is not a plain identifier', async () => {
    const opening = openDatabase({ databaseUrl, dataDir: tempDir(), schema: 'x; DROP' });

    await expect(opening).rejects.toThrow(/schema name "x; DROP"/);
  });
});
