/** States of a job; see src/db/migrations/001-jobs.ts for their meaning. */
export type JobState = 'queued' | 'running' | 'succeeded' | 'failed' | 'dead';

export const JOB_STATES: readonly JobState[] = ['queued', 'running', 'succeeded', 'failed', 'dead'];

/** One row of the jobs table, in camelCase. */
export interface Job<Payload = Record<string, unknown>> {
  id: number;
  kind: string;
  payload: Payload;
  state: JobState;
  /** Claims so far, the running one included. */
  attempts: number;
  maxAttempts: number;
  runAfter: Date;
  leaseOwner: string | null;
  leaseExpiresAt: Date | null;
  heartbeatAt: Date | null;
  lastError: string | null;
  dedupeKey: string | null;
  createdAt: Date;
  updatedAt: Date;
  startedAt: Date | null;
  finishedAt: Date | null;
}

export interface JobRow {
  id: number;
  kind: string;
  payload: Record<string, unknown>;
  state: JobState;
  attempts: number;
  max_attempts: number;
  run_after: Date;
  lease_owner: string | null;
  lease_expires_at: Date | null;
  heartbeat_at: Date | null;
  last_error: string | null;
  dedupe_key: string | null;
  created_at: Date;
  updated_at: Date;
  started_at: Date | null;
  finished_at: Date | null;
}

export function jobFromRow(row: JobRow): Job {
  return {
    id: row.id,
    kind: row.kind,
    payload: row.payload,
    state: row.state,
    attempts: row.attempts,
    maxAttempts: row.max_attempts,
    runAfter: row.run_after,
    leaseOwner: row.lease_owner,
    leaseExpiresAt: row.lease_expires_at,
    heartbeatAt: row.heartbeat_at,
    lastError: row.last_error,
    dedupeKey: row.dedupe_key,
    createdAt: row.created_at,
    updatedAt: row.updated_at,
    startedAt: row.started_at,
    finishedAt: row.finished_at,
  };
}

/**
 * Thrown by a handler for a fault that another attempt cannot fix (a series
 * that no longer exists, a payload of the wrong shape): the job goes straight
 * to `dead` instead of being retried.
 */
export class PermanentJobError extends Error {
  override name = 'PermanentJobError';
}

/** The job's lease was lost (expired and taken by another worker). */
export class LeaseLostError extends Error {
  override name = 'LeaseLostError';
}

/** The queue is stopping; the job was handed back, not failed. */
export class QueueStoppingError extends Error {
  override name = 'QueueStoppingError';
}
