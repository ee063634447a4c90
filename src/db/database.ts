import { mkdirSync } from 'node:fs';
import { join } from 'node:path';

import { PGlite } from '@electric-sql/pglite';
import pg from 'pg';

import { applyMigrations, checkOrder, MIGRATION_LOCK_KEY } from './migrate';
import { lockDataDir } from './pglite-lock';
import { migrations as defaultMigrations, Migration } from './migrations';

/** What every caller needs: one parameterized statement ($1, $2, ...). */
export interface Queryable {
  query<T = Record<string, unknown>>(
    sql: string,
    params?: unknown[],
  ): Promise<{ rows: T[]; affectedRows: number }>;
}

/**
 * The node's database: embedded PGlite or a PostgreSQL server, with the same
 * SQL on both. `transaction` gives a Queryable bound to one connection.
 */
export interface Database extends Queryable {
  readonly kind: 'pglite' | 'postgres';
  transaction<T>(fn: (tx: Queryable) => Promise<T>): Promise<T>;
  close(): Promise<void>;
}

/** A transaction that can also run a script of several statements (migrations). */
export interface ScriptTransaction extends Queryable {
  exec(sql: string): Promise<void>;
}

/** Internal: what the migration runner needs on top of the public interface. */
export interface MigratableDatabase extends Database {
  scriptTransaction<T>(fn: (tx: ScriptTransaction) => Promise<T>): Promise<T>;
}

export interface OpenDatabaseOptions {
  /** PostgreSQL connection string; absent = embedded PGlite in `<dataDir>/db`. */
  databaseUrl?: string;
  dataDir: string;
  /**
   * PostgreSQL only: the schema to work in (created if missing), set as the
   * search_path of every connection. Tests use one schema per run.
   */
  schema?: string;
  /** PGlite only: keep the database in memory instead of `<dataDir>/db`. */
  inMemory?: boolean;
  migrations?: readonly Migration[];
}

/** A database that cannot be opened or migrated; names the target. */
export class DatabaseError extends Error {
  override name = 'DatabaseError';
}

/** Schema names go into DDL and search_path, so only plain identifiers pass. */
const SCHEMA_NAME = /^[a-z_][a-z0-9_]{0,62}$/;

/**
 * Opens the database and applies every migration before returning, so a
 * caller never sees a half-built schema.
 */
export async function openDatabase(options: OpenDatabaseOptions): Promise<Database> {
  const migrations = options.migrations ?? defaultMigrations;
  checkOrder(migrations);

  const db =
    options.databaseUrl === undefined
      ? await openPglite(options)
      : await openPostgres(options.databaseUrl, options.schema);

  try {
    await applyMigrations(db, migrations);
  } catch (cause) {
    await db.close();
    throw new DatabaseError(`migrations failed on ${describe(options)}: ${String(cause)}`, {
      cause,
    });
  }
  return db;
}

function describe(options: OpenDatabaseOptions): string {
  if (options.databaseUrl === undefined) return `PGlite in ${join(options.dataDir, 'db')}`;

  // Never print a password that the URL may carry.
  const url = new URL(options.databaseUrl);
  url.password = url.password === '' ? '' : '***';
  return url.toString();
}

async function openPglite(options: OpenDatabaseOptions): Promise<MigratableDatabase> {
  let dir: string | undefined;
  let unlock: () => void = () => undefined;
  if (options.inMemory !== true) {
    dir = join(options.dataDir, 'db');
    mkdirSync(dir, { recursive: true });
    unlock = lockDataDir(dir);
  }

  let lite: PGlite;
  try {
    lite = await PGlite.create(dir);
  } catch (cause) {
    unlock();
    throw new DatabaseError(`cannot open PGlite in ${dir ?? 'memory'}: ${String(cause)}`, {
      cause,
    });
  }

  const wrap = (q: Pick<PGlite, 'query'>): Queryable => ({
    async query<T>(sql: string, params?: unknown[]) {
      const result = await q.query<T>(sql, params);
      return { rows: result.rows, affectedRows: result.affectedRows ?? 0 };
    },
  });

  return {
    kind: 'pglite',
    ...wrap(lite),
    transaction: (fn) => lite.transaction((tx) => fn(wrap(tx))),
    scriptTransaction: (fn) =>
      lite.transaction((tx) =>
        fn({
          ...wrap(tx),
          exec: async (sql) => {
            await tx.exec(sql);
          },
        }),
      ),
    close: async () => {
      try {
        await lite.close();
      } finally {
        unlock();
      }
    },
  };
}

/**
 * int8 (bigint) columns such as job ids come back from node-postgres as
 * strings; PGlite gives numbers. Both give numbers here so callers see one
 * shape. Ids stay far below 2^53.
 */
const pgTypes = {
  getTypeParser(oid: number, format?: 'text' | 'binary') {
    if (oid === pg.types.builtins.INT8) return (value: string) => Number(value);
    return format === undefined ? pg.types.getTypeParser(oid) : pg.types.getTypeParser(oid, format);
  },
} as pg.CustomTypesConfig;

async function openPostgres(url: string, schema?: string): Promise<MigratableDatabase> {
  if (schema !== undefined && !SCHEMA_NAME.test(schema)) {
    throw new DatabaseError(`schema name ${JSON.stringify(schema)} is not a plain identifier`);
  }

  const pool = new pg.Pool({
    connectionString: url,
    types: pgTypes,
    // Without it a connect to an unreachable server waits for the OS (minutes).
    connectionTimeoutMillis: 10_000,
    options: schema === undefined ? undefined : `-c search_path=${schema}`,
  });
  // An idle client that loses its server emits 'error'; the next query
  // reconnects, so the event must not crash the process.
  pool.on('error', () => undefined);

  const wrap = (q: pg.Pool | pg.PoolClient): Queryable => ({
    async query<T>(sql: string, params?: unknown[]) {
      const result = await q.query(sql, params);
      return { rows: result.rows as T[], affectedRows: result.rowCount ?? 0 };
    },
  });

  async function inTransaction<T>(fn: (client: pg.PoolClient) => Promise<T>): Promise<T> {
    const client = await pool.connect();
    try {
      await client.query('BEGIN');
      const value = await fn(client);
      await client.query('COMMIT');
      return value;
    } catch (error) {
      await client.query('ROLLBACK').catch(() => undefined);
      throw error;
    } finally {
      client.release();
    }
  }

  try {
    // Under the migration lock: concurrent CREATE SCHEMA IF NOT EXISTS can
    // still fail on the catalog's unique index.
    await inTransaction(async (client) => {
      await client.query(`SELECT pg_advisory_xact_lock(${MIGRATION_LOCK_KEY}::bigint)`);
      if (schema !== undefined) await client.query(`CREATE SCHEMA IF NOT EXISTS ${schema}`);
    });
  } catch (cause) {
    await pool.end();
    throw new DatabaseError(`cannot reach PostgreSQL: ${String(cause)}`, { cause });
  }

  return {
    kind: 'postgres',
    ...wrap(pool),
    transaction: (fn) => inTransaction((client) => fn(wrap(client))),
    scriptTransaction: (fn) =>
      inTransaction((client) =>
        fn({
          ...wrap(client),
          // Without parameters node-postgres uses the simple protocol, which
          // accepts several statements in one string.
          exec: async (sql) => {
            await client.query(sql);
          },
        }),
      ),
    close: () => pool.end(),
  };
}
