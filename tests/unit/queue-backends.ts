import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import pg from 'pg';

import { Database, openDatabase } from '../../src/db/database';

/**
 * The backends a queue or database suite runs on: PGlite always, and the
 * real PostgreSQL when CT3DFLOW_TEST_DATABASE_URL is set, in a schema of its
 * own that is dropped afterwards (one schema per test run).
 */
export interface Backend {
  name: 'pglite' | 'postgres';
  /** Opens a connection to this run's database; several may be open at once. */
  open(): Promise<Database>;
  dispose(): Promise<void>;
}

export function backends(suite: string): Array<[string, () => Backend]> {
  const list: Array<[string, () => Backend]> = [['pglite', () => pgliteBackend()]];
  const url = process.env.CT3DFLOW_TEST_DATABASE_URL;
  if (url !== undefined) list.push(['postgres', () => postgresBackend(url, suite)]);
  return list;
}

function pgliteBackend(): Backend {
  const dataDir = mkdtempSync(join(tmpdir(), 'ct3dflow-queue-'));
  let shared: Promise<Database> | undefined;

  return {
    name: 'pglite',
    // PGlite is one in-process connection: every "node" shares it.
    open: () => (shared ??= openDatabase({ dataDir, inMemory: true })),
    dispose: async () => {
      if (shared !== undefined) await (await shared).close();
    },
  };
}

function postgresBackend(databaseUrl: string, suite: string): Backend {
  const schema = `ct3dflow_test_${suite}_${process.pid}_${Date.now()}`;
  const opened: Database[] = [];

  return {
    name: 'postgres',
    open: async () => {
      const db = await openDatabase({ databaseUrl, dataDir: tmpdir(), schema });
      opened.push(db);
      return db;
    },
    dispose: async () => {
      await Promise.all(opened.map((db) => db.close()));
      const admin = new pg.Client({ connectionString: databaseUrl });
      await admin.connect();
      await admin.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`);
      await admin.end();
    },
  };
}
