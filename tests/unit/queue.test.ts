import { Writable } from 'node:stream';

import winston from 'winston';

import { ConfigError } from '../../src/config/errors';
import { loadConfig } from '../../src/config/load';
import { queueSection } from '../../src/config/sections/queue';
import type { Database } from '../../src/db/database';
import {
  backoffSeconds,
  Job,
  JobQueue,
  LeaseLostError,
  PermanentJobError,
  QueueConfig,
} from '../../src/queue';
import { claimJobs } from '../../src/queue/job-store';
import { Backend, backends } from './queue-backends';

jest.setTimeout(60_000);

/** The queue logs every job; the test output stays readable without them. */
const silent = winston.createLogger({ silent: true });

const fast = (over: Partial<QueueConfig> = {}): QueueConfig =>
  queueSection.parse({
    leaseSeconds: 5,
    heartbeatSeconds: 1,
    backoffBaseSeconds: 0.05,
    backoffMaxSeconds: 0.2,
    maxAttempts: 3,
    pollIntervalMs: 20,
    stopGraceSeconds: 1,
    ...over,
  });

async function waitFor(what: string, check: () => Promise<boolean>, ms = 15_000) {
  const deadline = Date.now() + ms;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

interface Row {
  state: string;
  attempts: number;
  last_error: string | null;
  lease_owner: string | null;
}

async function jobRow(db: Database, id: number): Promise<Row> {
  const { rows } = await db.query<Row>(
    'SELECT state, attempts, last_error, lease_owner FROM jobs WHERE id = $1',
    [id],
  );
  return rows[0];
}

const stateIs = (db: Database, id: number, state: string) => async () =>
  (await jobRow(db, id)).state === state;

describe('queue config', () => {
  it('BAD CONFIG - refuses a heartbeat that is not shorter than the lease', () => {
    const env = {
      CT3DFLOW__QUEUE__LEASE_SECONDS: '10',
      CT3DFLOW__QUEUE__HEARTBEAT_SECONDS: '10',
    };

    expect(() => loadConfig({ env })).toThrow(ConfigError);
    expect(() => loadConfig({ env })).toThrow(
      /queue\.heartbeatSeconds: heartbeatSeconds must be less than leaseSeconds \(value: 10\)/,
    );
  });

  it('BAD CONFIG - refuses a node id that cannot be part of a lease owner', () => {
    const env = { CT3DFLOW__QUEUE__NODE_ID: 'node 1/a' };

    expect(() => loadConfig({ env })).toThrow(/queue\.nodeId.*"node 1\/a"/);
  });
});

describe('backoffSeconds', () => {
  it('doubles per attempt, stops at the maximum, and keeps half of it fixed', () => {
    expect(backoffSeconds(1, 10, 600, () => 1)).toBe(10);
    expect(backoffSeconds(3, 10, 600, () => 1)).toBe(40);
    expect(backoffSeconds(3, 10, 600, () => 0)).toBe(20);
    expect(backoffSeconds(20, 10, 600, () => 1)).toBe(600);
    expect(backoffSeconds(20, 10, 600, () => 0.5)).toBe(450);
  });
});

describe.each(backends('queue'))('JobQueue on %s', (_name, makeBackend) => {
  let backend: Backend;
  let db: Database;
  const queues: JobQueue[] = [];

  function queue(config = fast()): JobQueue {
    const made = new JobQueue({ db, config, random: () => 1, log: silent });
    queues.push(made);
    return made;
  }

  beforeAll(async () => {
    backend = makeBackend();
    db = await backend.open();
  });

  afterEach(async () => {
    await Promise.all(queues.splice(0).map((q) => q.stop({ graceMs: 0 })));
    await db.query('DELETE FROM jobs');
  });

  afterAll(() => backend.dispose());

  it('runs an enqueued job once and marks it succeeded', async () => {
    const q = queue();
    const seen: Job[] = [];
    q.work('echo', async (job) => {
      seen.push(job);
    });

    const id = await q.enqueue(db, { kind: 'echo', payload: { seriesInstanceUid: '1.2.3' } });

    await waitFor('success', stateIs(db, id!, 'succeeded'));
    expect(seen).toHaveLength(1);
    expect(seen[0].payload).toEqual({ seriesInstanceUid: '1.2.3' });
    expect(seen[0].leaseOwner).toBe(q.ownerId);
    expect(q.ownerId).toMatch(new RegExp(`:${process.pid}$`));
    expect(await jobRow(db, id!)).toMatchObject({ attempts: 1, last_error: null });
  });

  it('logs job id, kind and series on every line of a job', async () => {
    const lines: Array<Record<string, unknown>> = [];
    const sink = new Writable({
      objectMode: true,
      write(info: Record<string, unknown>, _encoding, next) {
        lines.push(info);
        next();
      },
    });
    const transport = new winston.transports.Stream({ stream: sink });
    const q = new JobQueue({
      db,
      config: fast(),
      log: winston.createLogger({ transports: [transport] }),
    });
    queues.push(q);
    q.work('logged', async (_job, { log }) => {
      log.info('handler step');
    });

    const id = await q.enqueue(db, { kind: 'logged', payload: { seriesInstanceUid: '1.2.3.4' } });

    await waitFor('success', stateIs(db, id!, 'succeeded'));
    await waitFor('success line', async () => lines.some((l) => l.message === 'job succeeded'));
    const messages = lines.filter((line) => line.jobId === id).map((line) => line.message);
    expect(messages).toEqual(['job started', 'handler step', 'job succeeded']);
    for (const line of lines.filter((l) => l.jobId === id)) {
      expect(line).toMatchObject({ jobKind: 'logged', seriesInstanceUid: '1.2.3.4', attempt: 1 });
    }
    expect(lines.find((l) => l.message === 'job succeeded')!.durationMs).toEqual(
      expect.any(Number),
    );
  });

  it('enqueues a dedupe key once while its job is unfinished, again after', async () => {
    const q = queue();
    const job = { kind: 'analyze', payload: {}, dedupeKey: 'analyze:1.2.3:0' };

    const first = await q.enqueue(db, job);
    const second = await db.transaction((tx) => q.enqueue(tx, job));
    await db.query("UPDATE jobs SET state = 'succeeded' WHERE id = $1", [first]);
    const third = await q.enqueue(db, job);

    expect(first).toEqual(expect.any(Number));
    expect(second).toBeUndefined();
    expect(third).toEqual(expect.any(Number));
    expect(third).not.toBe(first);
  });

  it('enqueues nothing when the surrounding transaction rolls back', async () => {
    const q = queue();

    const attempt = db.transaction(async (tx) => {
      await q.enqueue(tx, { kind: 'analyze', payload: {} });
      throw new Error('series update failed');
    });

    await expect(attempt).rejects.toThrow('series update failed');
    const { rows } = await db.query<{ n: number }>('SELECT count(*)::int AS n FROM jobs');
    expect(rows[0].n).toBe(0);
  });

  it('retries a failing job with back-off and records the last error', async () => {
    const q = queue();
    const attemptTimes: number[] = [];
    q.work('flaky', async () => {
      attemptTimes.push(Date.now());
      if (attemptTimes.length < 3) throw new Error(`transient fault ${attemptTimes.length}`);
    });

    const id = await q.enqueue(db, { kind: 'flaky', payload: {} });

    await waitFor('success', stateIs(db, id!, 'succeeded'));
    expect(attemptTimes).toHaveLength(3);
    // random() = 1: the full back-off, 0.05 s then 0.1 s.
    expect(attemptTimes[1] - attemptTimes[0]).toBeGreaterThanOrEqual(45);
    expect(attemptTimes[2] - attemptTimes[1]).toBeGreaterThanOrEqual(95);
    expect(await jobRow(db, id!)).toMatchObject({ attempts: 3, last_error: 'transient fault 2' });
  });

  it('keeps a failed job waiting in state failed until its back-off has passed', async () => {
    const q = queue(fast({ backoffBaseSeconds: 30, backoffMaxSeconds: 30 }));
    q.work('slow-retry', async () => {
      throw new Error('scanner archive offline');
    });

    const id = await q.enqueue(db, { kind: 'slow-retry', payload: {} });

    await waitFor('first failure', stateIs(db, id!, 'failed'));
    const { rows } = await db.query<{ wait: number }>(
      'SELECT extract(epoch FROM run_after - now())::float8 AS wait FROM jobs WHERE id = $1',
      [id],
    );
    expect(rows[0].wait).toBeGreaterThan(25);
    expect(await jobRow(db, id!)).toMatchObject({ attempts: 1 });
  });

  it('marks a job dead after max attempts, with the last error', async () => {
    const q = queue();
    let calls = 0;
    q.work('doomed', async () => {
      calls++;
      throw new Error(`corrupt series, try ${calls}`);
    });

    const id = await q.enqueue(db, { kind: 'doomed', payload: {}, maxAttempts: 2 });

    await waitFor('dead', stateIs(db, id!, 'dead'));
    expect(calls).toBe(2);
    expect(await jobRow(db, id!)).toMatchObject({
      attempts: 2,
      last_error: 'corrupt series, try 2',
    });
  });

  it('marks a job dead at once on a PermanentJobError', async () => {
    const q = queue();
    q.work('permanent', async () => {
      throw new PermanentJobError('series 1.2.3 no longer exists');
    });

    const id = await q.enqueue(db, { kind: 'permanent', payload: {} });

    await waitFor('dead', stateIs(db, id!, 'dead'));
    expect(await jobRow(db, id!)).toMatchObject({ attempts: 1 });
  });

  it('takes a job again when the lease of a dead worker expires, counting the attempt', async () => {
    const q = queue();
    const id = await q.enqueue(db, { kind: 'orphan', payload: {} });
    const ghost = await claimJobs(db, 'orphan', 'ghost-node:4242', 0.3, 1);
    expect(ghost.map((job) => job.id)).toEqual([id]);

    const ran: number[] = [];
    q.work('orphan', async (job) => {
      ran.push(job.attempts);
    });

    await waitFor('success', stateIs(db, id!, 'succeeded'));
    expect(ran).toEqual([2]);
    expect(await jobRow(db, id!)).toMatchObject({
      attempts: 2,
      lease_owner: q.ownerId,
      last_error: 'lease of ghost-node:4242 expired',
    });
  });

  it('marks dead a job whose lease expired on its last attempt', async () => {
    const q = queue();
    const id = await q.enqueue(db, { kind: 'oom', payload: {}, maxAttempts: 1 });
    await claimJobs(db, 'oom', 'ghost-node:4242', 0.2, 1);
    const ran: number[] = [];
    q.work('oom', async (job) => {
      ran.push(job.id);
    });

    await waitFor('dead', stateIs(db, id!, 'dead'));
    expect(ran).toEqual([]);
    expect((await jobRow(db, id!)).last_error).toBe(
      'lease of ghost-node:4242 expired on attempt 1 of 1',
    );
  });

  it('keeps the lease alive with heartbeats so a second node never takes it', async () => {
    const config = fast({ leaseSeconds: 1.5, heartbeatSeconds: 0.2 });
    const [a, b] = [queue(config), queue(config)];
    const runs: string[] = [];
    const handler = (name: string) => async () => {
      runs.push(name);
      await new Promise((resolve) => setTimeout(resolve, 3500));
    };
    a.work('long', handler('a'));

    const id = await a.enqueue(db, { kind: 'long', payload: {} });
    await waitFor('claim by a', stateIs(db, id!, 'running'));
    b.work('long', handler('b'));

    await waitFor('success', stateIs(db, id!, 'succeeded'));
    expect(runs).toEqual(['a']);
    expect(await jobRow(db, id!)).toMatchObject({ attempts: 1 });
  });

  it('aborts a handler whose lease was taken away and discards its outcome', async () => {
    const q = queue(fast({ leaseSeconds: 2, heartbeatSeconds: 0.05 }));
    let reason: unknown;
    q.work('stolen', async (_job, { signal }) => {
      await new Promise<void>((resolve) => signal.addEventListener('abort', () => resolve()));
      reason = signal.reason;
    });
    const id = await q.enqueue(db, { kind: 'stolen', payload: {} });
    await waitFor('claim', stateIs(db, id!, 'running'));

    await db.query("UPDATE jobs SET lease_owner = 'other-node:1' WHERE id = $1", [id]);

    await waitFor('abort', async () => reason !== undefined);
    expect(reason).toBeInstanceOf(LeaseLostError);
    expect(await jobRow(db, id!)).toMatchObject({ state: 'running', lease_owner: 'other-node:1' });
  });

  it('on stop, waits for the grace period, aborts, and hands the lease back', async () => {
    const q = queue();
    let aborted = false;
    q.work('analyze', async (_job, { signal }) => {
      await new Promise<void>((resolve) => signal.addEventListener('abort', () => resolve()));
      aborted = true;
      signal.throwIfAborted();
    });
    const id = await q.enqueue(db, { kind: 'analyze', payload: {} });
    await waitFor('claim', stateIs(db, id!, 'running'));

    const started = Date.now();
    await q.stop({ graceMs: 300 });

    expect(Date.now() - started).toBeGreaterThanOrEqual(290);
    expect(aborted).toBe(true);
    expect(await jobRow(db, id!)).toMatchObject({
      state: 'queued',
      attempts: 0,
      lease_owner: null,
    });

    const next = queue();
    next.work('analyze', async () => undefined);
    await waitFor('taken by the next node', stateIs(db, id!, 'succeeded'));
    expect(await jobRow(db, id!)).toMatchObject({ attempts: 1, lease_owner: next.ownerId });
  });

  it('on stop, records the success of a handler that ignores its abort signal', async () => {
    const q = queue();
    q.work('stubborn', () => new Promise((resolve) => setTimeout(resolve, 500)));
    const id = await q.enqueue(db, { kind: 'stubborn', payload: {} });
    await waitFor('claim', stateIs(db, id!, 'running'));

    await q.stop({ graceMs: 50 });

    // Finished work is kept: handing the lease back would run it again.
    expect(await jobRow(db, id!)).toMatchObject({ state: 'succeeded', attempts: 1 });
  });

  it('on stop, lets a handler that finishes within the grace period succeed', async () => {
    const q = queue();
    q.work('short', () => new Promise((resolve) => setTimeout(resolve, 200)));
    const id = await q.enqueue(db, { kind: 'short', payload: {} });
    await waitFor('claim', stateIs(db, id!, 'running'));

    await q.stop({ graceMs: 5000 });

    expect(await jobRow(db, id!)).toMatchObject({ state: 'succeeded', attempts: 1 });
  });

  it('runs no more than `concurrency` handlers at once and none twice across two nodes', async () => {
    const [a, b] = [queue(), queue()];
    const executions = new Map<number, number>();
    let inFlight = 0;
    let peak = 0;
    const handler = async (job: Job) => {
      inFlight++;
      peak = Math.max(peak, inFlight);
      executions.set(job.id, (executions.get(job.id) ?? 0) + 1);
      await new Promise((resolve) => setTimeout(resolve, 5));
      inFlight--;
    };
    a.work('batch', handler, { concurrency: 3 });
    b.work('batch', handler, { concurrency: 3 });

    for (let i = 0; i < 60; i++) await a.enqueue(db, { kind: 'batch', payload: { i } });

    await waitFor('all done', async () => {
      const { rows } = await db.query<{ n: number }>(
        "SELECT count(*)::int AS n FROM jobs WHERE state = 'succeeded'",
      );
      return rows[0].n === 60;
    });
    expect(executions.size).toBe(60);
    expect([...executions.values()].every((n) => n === 1)).toBe(true);
    expect(peak).toBeLessThanOrEqual(6);
  });

  it('BAD CALL - refuses a concurrency that is not a positive integer', () => {
    expect(() => queue().work('x', async () => undefined, { concurrency: 0 })).toThrow(
      /concurrency must be a positive integer, got 0/,
    );
  });
});
