import type { MigratableDatabase } from './database';
import type { Migration } from './migrations';

/**
 * Any fixed 64-bit key works as long as every node uses the same one; this
 * one is "ct3dfflo" in ASCII (0x6374336466666c6f), written in decimal because
 * PostgreSQL 15 has no hexadecimal literals.
 */
export const MIGRATION_LOCK_KEY = '7166409413361036399';

/** A migration list that is out of order or repeats an id. */
export class MigrationError extends Error {
  override name = 'MigrationError';
}

/**
 * Applies, in order, every migration not yet recorded in schema_migrations.
 * All of it runs in one transaction under a transaction-level advisory lock,
 * so several nodes that start together on one PostgreSQL wait for each other
 * instead of racing on CREATE TABLE; a failed migration leaves nothing behind.
 */
export async function applyMigrations(
  db: MigratableDatabase,
  migrations: readonly Migration[],
): Promise<string[]> {
  checkOrder(migrations);

  return db.scriptTransaction(async (tx) => {
    await tx.query(`SELECT pg_advisory_xact_lock(${MIGRATION_LOCK_KEY}::bigint)`);

    await tx.exec(
      `CREATE TABLE IF NOT EXISTS schema_migrations (
         id text PRIMARY KEY,
         applied_at timestamptz NOT NULL DEFAULT now()
       )`,
    );
    const { rows } = await tx.query<{ id: string }>('SELECT id FROM schema_migrations');
    const done = new Set(rows.map((row) => row.id));

    // A newer node already changed the schema: this older code may not
    // understand it, so it must not run against it.
    const known = new Set(migrations.map((migration) => migration.id));
    const unknown = [...done].filter((id) => !known.has(id)).sort();
    if (unknown.length > 0) {
      throw new MigrationError(
        `the database has migrations this version does not know: ${unknown.join(', ')}; ` +
          'run the same ct3dflow version on every node',
      );
    }

    const applied: string[] = [];
    for (const migration of migrations) {
      if (done.has(migration.id)) continue;

      await tx.exec(migration.sql);
      await tx.query('INSERT INTO schema_migrations (id) VALUES ($1)', [migration.id]);
      applied.push(migration.id);
    }
    return applied;
  });
}

/** Refuses a list out of order or with a repeated id, before any database is touched. */
export function checkOrder(migrations: readonly Migration[]): void {
  for (let i = 1; i < migrations.length; i++) {
    if (migrations[i].id <= migrations[i - 1].id) {
      throw new MigrationError(
        `migration ${JSON.stringify(migrations[i].id)} does not sort after ` +
          `${JSON.stringify(migrations[i - 1].id)}`,
      );
    }
  }
}
