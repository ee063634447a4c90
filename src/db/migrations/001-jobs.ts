import type { Migration } from './index';

/**
 * The job queue (src/queue). States:
 * - queued: waiting for `run_after`;
 * - running: leased by `lease_owner` until `lease_expires_at`, renewed by
 *   heartbeats; an expired lease makes the job claimable again;
 * - failed: the last attempt threw; claimable again after the back-off in
 *   `run_after`;
 * - succeeded / dead: finished (dead = attempts exhausted, see last_error).
 * `dedupe_key` is unique among unfinished jobs only, so the same key can be
 * enqueued again once the earlier job has finished.
 */
export const migration001Jobs: Migration = {
  id: '001-jobs',
  sql: `
    CREATE TABLE jobs (
      id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
      kind text NOT NULL,
      payload jsonb NOT NULL DEFAULT '{}'::jsonb,
      state text NOT NULL DEFAULT 'queued'
        CHECK (state IN ('queued', 'running', 'succeeded', 'failed', 'dead')),
      attempts integer NOT NULL DEFAULT 0,
      max_attempts integer NOT NULL CHECK (max_attempts >= 1),
      run_after timestamptz NOT NULL DEFAULT now(),
      lease_owner text,
      lease_expires_at timestamptz,
      heartbeat_at timestamptz,
      last_error text,
      dedupe_key text,
      created_at timestamptz NOT NULL DEFAULT now(),
      updated_at timestamptz NOT NULL DEFAULT now(),
      started_at timestamptz,
      finished_at timestamptz
    );

    CREATE UNIQUE INDEX jobs_dedupe_key_unfinished ON jobs (dedupe_key)
      WHERE dedupe_key IS NOT NULL AND state IN ('queued', 'running', 'failed');

    CREATE INDEX jobs_claimable ON jobs (kind, run_after, id)
      WHERE state IN ('queued', 'failed');

    CREATE INDEX jobs_leases ON jobs (kind, lease_expires_at)
      WHERE state = 'running';

    CREATE INDEX jobs_state_updated ON jobs (state, updated_at);
  `,
};
