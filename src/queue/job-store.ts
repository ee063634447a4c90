import type { Queryable } from '../db/database';
import { Job, jobFromRow, JobRow } from './job';

/** Unfinished states; `dedupe_key` is unique among these (001-jobs.ts). */
const UNFINISHED = `('queued', 'running', 'failed')`;

/** Identifies one claim of one job: a later claim has another owner or attempt. */
export interface Lease {
  id: number;
  owner: string;
  attempts: number;
}

export interface NewJob {
  kind: string;
  payload: object;
  dedupeKey?: string;
  maxAttempts: number;
  delaySeconds?: number;
}

/**
 * Adds a job; with a dedupe key that an unfinished job already holds, adds
 * nothing and returns undefined.
 */
export async function insertJob(db: Queryable, job: NewJob): Promise<number | undefined> {
  const { rows } = await db.query<{ id: number }>(
    `INSERT INTO jobs (kind, payload, dedupe_key, max_attempts, run_after)
     VALUES ($1, $2::jsonb, $3, $4, now() + make_interval(secs => $5::float8))
     ON CONFLICT (dedupe_key) WHERE dedupe_key IS NOT NULL AND state IN ${UNFINISHED}
     DO NOTHING
     RETURNING id`,
    [
      job.kind,
      JSON.stringify(job.payload),
      job.dedupeKey ?? null,
      job.maxAttempts,
      job.delaySeconds ?? 0,
    ],
  );
  return rows[0]?.id;
}

/**
 * Claims up to `limit` jobs of one kind in one statement. The inner SELECT
 * locks candidate rows with SKIP LOCKED, so concurrent claimers on other
 * nodes pass over each other's rows instead of waiting or taking the same
 * job. A running job whose lease expired (its worker died) is claimable
 * again and its new claim counts as an attempt.
 */
export async function claimJobs(
  db: Queryable,
  kind: string,
  owner: string,
  leaseSeconds: number,
  limit: number,
): Promise<Job[]> {
  const { rows } = await db.query<JobRow>(
    `UPDATE jobs SET
       state = 'running',
       attempts = attempts + 1,
       last_error = CASE WHEN state = 'running'
         THEN 'lease of ' || lease_owner || ' expired' ELSE last_error END,
       lease_owner = $2,
       lease_expires_at = now() + make_interval(secs => $3::float8),
       heartbeat_at = now(),
       started_at = now(),
       finished_at = NULL,
       updated_at = now()
     WHERE id IN (
       SELECT id FROM jobs
       WHERE kind = $1 AND (
         (state IN ('queued', 'failed') AND run_after <= now())
         OR (state = 'running' AND lease_expires_at < now() AND attempts < max_attempts))
       ORDER BY run_after, id
       LIMIT $4
       FOR UPDATE SKIP LOCKED)
     RETURNING *`,
    [kind, owner, leaseSeconds, limit],
  );
  return rows.map(jobFromRow).sort((a, b) => a.id - b.id);
}

/**
 * A job whose lease expired on its last allowed attempt is not run again:
 * it is marked dead, so a job that kills its worker every time (out of
 * memory) cannot take every node down in turn forever.
 */
export async function buryExpiredJobs(db: Queryable, kind: string): Promise<number> {
  const { affectedRows } = await db.query(
    `UPDATE jobs SET
       state = 'dead',
       last_error = 'lease of ' || coalesce(lease_owner, 'unknown') ||
         ' expired on attempt ' || attempts || ' of ' || max_attempts,
       lease_expires_at = NULL,
       finished_at = now(),
       updated_at = now()
     WHERE id IN (
       SELECT id FROM jobs
       WHERE kind = $1 AND state = 'running' AND lease_expires_at < now()
         AND attempts >= max_attempts
       FOR UPDATE SKIP LOCKED)`,
    [kind],
  );
  return affectedRows;
}

const HOLDS_LEASE = `id = $1 AND lease_owner = $2 AND attempts = $3 AND state = 'running'`;

/** Renews a lease; false when it is no longer ours. */
export async function renewLease(
  db: Queryable,
  lease: Lease,
  leaseSeconds: number,
): Promise<boolean> {
  const { affectedRows } = await db.query(
    `UPDATE jobs SET
       lease_expires_at = now() + make_interval(secs => $4::float8),
       heartbeat_at = now(),
       updated_at = now()
     WHERE ${HOLDS_LEASE}`,
    [lease.id, lease.owner, lease.attempts, leaseSeconds],
  );
  return affectedRows === 1;
}

/** Marks a job succeeded; false when the lease was lost first. */
export async function completeJob(db: Queryable, lease: Lease): Promise<boolean> {
  const { affectedRows } = await db.query(
    `UPDATE jobs SET
       state = 'succeeded',
       lease_expires_at = NULL,
       finished_at = now(),
       updated_at = now()
     WHERE ${HOLDS_LEASE}`,
    [lease.id, lease.owner, lease.attempts],
  );
  return affectedRows === 1;
}

/**
 * Records a failed attempt: `failed` with a back-off in run_after, or `dead`
 * when the attempts are spent or the fault is permanent. Returns the new
 * state, or undefined when the lease was lost first.
 */
export async function failJob(
  db: Queryable,
  lease: Lease,
  error: string,
  retryAfterSeconds: number,
  permanent: boolean,
): Promise<'failed' | 'dead' | undefined> {
  const { rows } = await db.query<{ state: 'failed' | 'dead' }>(
    `UPDATE jobs SET
       state = CASE WHEN $5::boolean OR attempts >= max_attempts THEN 'dead' ELSE 'failed' END,
       run_after = CASE WHEN $5::boolean OR attempts >= max_attempts THEN run_after
         ELSE now() + make_interval(secs => $4::float8) END,
       finished_at = CASE WHEN $5::boolean OR attempts >= max_attempts THEN now() ELSE NULL END,
       last_error = $6,
       lease_expires_at = NULL,
       updated_at = now()
     WHERE ${HOLDS_LEASE}
     RETURNING state`,
    [lease.id, lease.owner, lease.attempts, retryAfterSeconds, permanent, error],
  );
  return rows[0]?.state;
}

/**
 * Hands a job back without counting the attempt (the node is stopping):
 * queued again at once, for any node to take.
 */
export async function releaseJob(db: Queryable, lease: Lease): Promise<boolean> {
  const { affectedRows } = await db.query(
    `UPDATE jobs SET
       state = 'queued',
       attempts = attempts - 1,
       lease_owner = NULL,
       lease_expires_at = NULL,
       heartbeat_at = NULL,
       run_after = now(),
       updated_at = now()
     WHERE ${HOLDS_LEASE}`,
    [lease.id, lease.owner, lease.attempts],
  );
  return affectedRows === 1;
}
