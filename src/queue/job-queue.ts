import { hostname } from 'node:os';

import type { Config } from '../config/schema';
import type { Database, Queryable } from '../db/database';
import { getLogger, Logger } from '../log/logger';
import { backoffSeconds } from './backoff';
import { Job, LeaseLostError, PermanentJobError, QueueStoppingError } from './job';
import {
  buryExpiredJobs,
  claimJobs,
  completeJob,
  failJob,
  insertJob,
  Lease,
  releaseJob,
  renewLease,
} from './job-store';
import { Wakeup } from './wakeup';

export type QueueConfig = Config['queue'];

export interface JobContext {
  /**
   * Aborted when the lease is lost or the queue stops past its grace period.
   * A handler then throws (`signal.throwIfAborted()`): returning normally
   * counts as success, and the job is not run again.
   */
  signal: AbortSignal;
  log: Logger;
}

export type JobHandler = (job: Job, ctx: JobContext) => Promise<void>;

export interface EnqueueRequest {
  kind: string;
  payload: object;
  /** At most one unfinished job per key; a second enqueue returns undefined. */
  dedupeKey?: string;
  maxAttempts?: number;
  /** Not claimable before this many seconds from now. */
  delaySeconds?: number;
}

export interface JobQueueOptions {
  db: Database;
  config: QueueConfig;
  log?: Logger;
  /** Overrides the jitter draw (tests). */
  random?: () => number;
}

interface RunningJob {
  job: Job;
  lease: Lease;
  controller: AbortController;
  done: Promise<void>;
  /** The handler has returned or thrown; only its outcome is left to record. */
  handlerDone: boolean;
  /**
   * Set when stop() aborts the handler: the lease goes back instead of a
   * failure being counted. A success that the handler still returns is
   * recorded, so finished work is not done twice.
   */
  released: boolean;
}

interface Worker {
  kind: string;
  loop: Promise<void>;
}

/**
 * A job queue on the node's database (PGlite or PostgreSQL). Workers claim
 * jobs with FOR UPDATE SKIP LOCKED, hold a lease renewed by a heartbeat while
 * the handler runs, retry failures with exponential back-off and jitter, and
 * mark a job dead after its last attempt. Several nodes may work on one
 * PostgreSQL: each claim is one statement, and every later write checks that
 * the lease (owner and attempt) is still the one this worker holds.
 */
export class JobQueue {
  /** `<nodeId>:<pid>`: which process holds a lease, as shown in /api/jobs. */
  readonly ownerId: string;

  private readonly db: Database;
  private readonly config: QueueConfig;
  private readonly log: Logger;
  private readonly random: () => number;
  private readonly running = new Set<RunningJob>();
  private readonly workers: Worker[] = [];
  private readonly wakeup = new Wakeup();
  private stopping = false;

  constructor(options: JobQueueOptions) {
    this.db = options.db;
    this.config = options.config;
    this.random = options.random ?? Math.random;
    this.ownerId = `${options.config.nodeId ?? hostname()}:${process.pid}`;
    this.log = options.log ?? getLogger({ component: 'queue', leaseOwner: this.ownerId });
  }

  /**
   * Adds a job through `executor`, which may be a transaction, so that a job
   * is created together with the state change that calls for it.
   */
  async enqueue(executor: Queryable, request: EnqueueRequest): Promise<number | undefined> {
    const id = await insertJob(executor, {
      ...request,
      maxAttempts: request.maxAttempts ?? this.config.maxAttempts,
    });

    if (id !== undefined) this.wakeup.fire();
    return id;
  }

  /** Starts `concurrency` slots that run `handler` for jobs of `kind`. */
  work(kind: string, handler: JobHandler, options: { concurrency?: number } = {}): void {
    if (this.stopping) throw new QueueStoppingError(`queue is stopping; cannot start "${kind}"`);

    const concurrency = options.concurrency ?? 1;
    if (!Number.isInteger(concurrency) || concurrency < 1) {
      throw new RangeError(`concurrency must be a positive integer, got ${concurrency}`);
    }
    this.workers.push({ kind, loop: this.loop(kind, handler, concurrency) });
  }

  /**
   * Stops claiming, lets running handlers finish for up to `graceMs`, then
   * aborts the rest through their signal and hands their leases back
   * (queued again, attempt not counted) for another node to take.
   */
  async stop(options: { graceMs?: number } = {}): Promise<void> {
    const graceMs = options.graceMs ?? this.config.stopGraceSeconds * 1000;
    this.stopping = true;
    this.wakeup.fire();
    await Promise.all(this.workers.map((worker) => worker.loop));

    await settleWithin(
      [...this.running].map((run) => run.done),
      graceMs,
    );

    // Runs whose handler has returned are only recording their outcome:
    // they are waited for, not aborted.
    const recording = [...this.running].filter((run) => run.handlerDone);
    const leftover = [...this.running].filter((run) => !run.handlerDone);
    for (const run of leftover) {
      run.released = true;
      run.controller.abort(new QueueStoppingError('node is stopping'));
    }

    // The lease goes back only after the handler has ended, so the next
    // node never runs the job while this one still does; a handler that
    // ignores its signal gets a short while and then loses the lease anyway.
    await settleWithin(
      [...recording, ...leftover].map((run) => run.done),
      ABORT_SETTLE_MS,
    );
    await Promise.all(leftover.map((run) => this.release(run)));
  }

  private async loop(kind: string, handler: JobHandler, concurrency: number): Promise<void> {
    const log = this.log.child({ jobKind: kind });
    let active = 0;

    while (!this.stopping) {
      const free = concurrency - active;
      let claimed: Job[] = [];

      if (free > 0) {
        try {
          await buryExpiredJobs(this.db, kind);
          claimed = await claimJobs(this.db, kind, this.ownerId, this.config.leaseSeconds, free);
        } catch (error) {
          log.warn('claim failed; retrying after the poll interval', { error: String(error) });
        }
      }

      for (const job of claimed) {
        active++;
        void this.run(job, handler).finally(() => {
          active--;
          this.wakeup.fire();
        });
      }

      // A full batch suggests more work is waiting: claim again at once.
      if (claimed.length > 0 && claimed.length === free) continue;
      await this.wakeup.wait(this.config.pollIntervalMs);
    }
  }

  private run(job: Job, handler: JobHandler): Promise<void> {
    const lease: Lease = { id: job.id, owner: this.ownerId, attempts: job.attempts };
    const controller = new AbortController();
    const run: RunningJob = {
      job,
      lease,
      controller,
      done: Promise.resolve(),
      handlerDone: false,
      released: false,
    };

    run.done = this.execute(run, handler).finally(() => this.running.delete(run));
    this.running.add(run);
    return run.done;
  }

  private async execute(run: RunningJob, handler: JobHandler): Promise<void> {
    const { job, lease, controller } = run;
    const log = this.log.child({ ...jobLogContext(job), attempt: job.attempts });
    const startedAtMs = Date.now();
    const heartbeat = setInterval(
      () => void this.heartbeat(run, log),
      this.config.heartbeatSeconds * 1000,
    );

    let failure: unknown;
    let succeeded = false;
    try {
      log.info('job started');
      await handler(job, { signal: controller.signal, log });
      succeeded = true;
    } catch (error) {
      failure = error;
    } finally {
      run.handlerDone = true;
      clearInterval(heartbeat);
    }

    if (controller.signal.aborted && controller.signal.reason instanceof LeaseLostError) {
      log.warn('lease lost while running; outcome discarded');
      return;
    }
    if (!succeeded && run.released) return;

    try {
      const durationMs = Date.now() - startedAtMs;
      if (succeeded) await this.finishSucceeded(lease, log.child({ durationMs }));
      else await this.finishFailed(job, lease, failure, log);
    } catch (error) {
      // The lease then expires and another attempt runs; nothing is lost.
      log.error('could not record the outcome', { error: String(error) });
    }
  }

  private async finishSucceeded(lease: Lease, log: Logger): Promise<void> {
    const recorded = await completeJob(this.db, lease);
    if (recorded) log.info('job succeeded');
    else log.warn('lease lost before completion; outcome discarded');
  }

  private async finishFailed(job: Job, lease: Lease, failure: unknown, log: Logger) {
    const message = failure instanceof Error ? failure.message : String(failure);
    const retryAfterSeconds = backoffSeconds(
      job.attempts,
      this.config.backoffBaseSeconds,
      this.config.backoffMaxSeconds,
      this.random,
    );
    const permanent = failure instanceof PermanentJobError;

    const state = await failJob(this.db, lease, message, retryAfterSeconds, permanent);
    if (state === 'failed')
      log.warn('job failed; will retry', { error: message, retryAfterSeconds });
    else if (state === 'dead') log.error('job failed for the last time', { error: message });
    else log.warn('lease lost before recording failure', { error: message });
  }

  private async heartbeat(run: RunningJob, log: Logger): Promise<void> {
    if (run.released || run.controller.signal.aborted) return;

    try {
      const held = await renewLease(this.db, run.lease, this.config.leaseSeconds);
      if (!held && !run.released) {
        run.controller.abort(new LeaseLostError(`lease on job ${run.job.id} was lost`));
      }
    } catch (error) {
      // A missed beat is harmless while the lease lasts; the next one retries.
      log.warn('heartbeat failed', { error: String(error) });
    }
  }

  private async release(run: RunningJob): Promise<void> {
    try {
      const released = await releaseJob(this.db, run.lease);
      if (released) this.log.info('lease released on stop', { jobId: run.job.id });
    } catch (error) {
      this.log.error('could not release lease; it will expire', {
        jobId: run.job.id,
        error: String(error),
      });
    }
  }
}

const ABORT_SETTLE_MS = 2000;

/** Job id and kind on every line, and the series when the payload names one. */
function jobLogContext(job: Job): Record<string, unknown> {
  const context: Record<string, unknown> = { jobId: job.id, jobKind: job.kind };
  const { seriesInstanceUid } = job.payload;
  if (typeof seriesInstanceUid === 'string') context.seriesInstanceUid = seriesInstanceUid;
  return context;
}

async function settleWithin(promises: Promise<unknown>[], ms: number): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<void>((resolve) => {
    timer = setTimeout(resolve, ms);
  });
  await Promise.race([Promise.allSettled(promises), timeout]);
  clearTimeout(timer);
}
