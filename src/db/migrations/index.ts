import { migration001Jobs } from './001-jobs';
import { migration002Ingest } from './002-ingest';
import { migration003JobsBySeries } from './003-jobs-by-series';

/** One schema change; `id` sorts in the order the changes must run. */
export interface Migration {
  id: string;
  /** One or more statements; the same text must run on PGlite and PostgreSQL 15. */
  sql: string;
}

/** Every migration, in order. Applied once each by `applyMigrations`. */
export const migrations: readonly Migration[] = [
  migration001Jobs,
  migration002Ingest,
  migration003JobsBySeries,
];
