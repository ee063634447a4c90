import type { FastifyInstance } from 'fastify';
import winston from 'winston';

import { validateConfig } from '../../src/config/load';
import { Database, openDatabase } from '../../src/db/database';
import { buildHttpServer } from '../../src/http';
import { queueSection } from '../../src/config/sections/queue';
import { JobQueue } from '../../src/queue';

jest.setTimeout(60_000);

const silent = winston.createLogger({ silent: true });
const config = validateConfig({});

const STUDY = '1.2.826.0.1.3680043.8.498.1';
const SERIES_A = '1.2.826.0.1.3680043.8.498.1.1';
const SERIES_B = '1.2.826.0.1.3680043.8.498.1.2';

async function start(db: Database): Promise<{ app: FastifyInstance; base: string }> {
  const app = buildHttpServer({
    db,
    config,
    ownerId: 'node-a:123',
    dicomPort: 40404,
    log: silent,
  });
  await app.listen({ port: 0, host: '127.0.0.1' });
  const address = app.server.address();
  if (address === null || typeof address === 'string') throw new Error('no TCP address');
  return { app, base: `http://127.0.0.1:${address.port}` };
}

async function get(base: string, path: string) {
  const response = await fetch(base + path);
  return { status: response.status, body: (await response.json()) as Record<string, unknown> };
}

describe('HTTP API on PGlite', () => {
  let db: Database;
  let app: FastifyInstance;
  let base: string;

  beforeAll(async () => {
    db = await openDatabase({ dataDir: '.', inMemory: true });
    await db.query(
      `INSERT INTO studies (study_instance_uid, accession_number) VALUES ($1, 'ACC42')`,
      [STUDY],
    );
    await db.query(
      `INSERT INTO series (series_instance_uid, study_instance_uid, modality, state,
         skip_reasons, instance_count, last_received_at)
       VALUES ($1, $3, 'CT', 'queued', '[]', 120, now()),
              ($2, $3, 'CT', 'skipped', '["fewer than 50 slices: 12"]', 12,
               now() - interval '1 hour')`,
      [SERIES_A, SERIES_B, STUDY],
    );
    const queue = new JobQueue({ db, config: queueSection.parse({}), log: silent });
    await queue.enqueue(db, {
      kind: 'analyze',
      payload: { seriesInstanceUid: SERIES_A, generation: 0 },
      dedupeKey: `analyze:${SERIES_A}:0`,
    });
    await queue.enqueue(db, { kind: 'housekeeping', payload: {} });
    await db.query(
      "UPDATE jobs SET state = 'dead', last_error = 'boom' WHERE kind = 'housekeeping'",
    );

    ({ app, base } = await start(db));
  });

  afterAll(async () => {
    await app.close();
    await db.close();
  });

  it('GET /healthz answers 200 while the database answers', async () => {
    const { status, body } = await get(base, '/healthz');

    expect(status).toBe(200);
    expect(body).toMatchObject({ status: 'ok', database: 'pglite', ownerId: 'node-a:123' });
  });

  it('GET /api/series lists series with their latest analyze job, newest first', async () => {
    const { status, body } = await get(base, '/api/series');

    expect(status).toBe(200);
    const series = body.series as Array<Record<string, unknown>>;
    expect(series.map((s) => s.seriesInstanceUid)).toEqual([SERIES_A, SERIES_B]);
    expect(series[0]).toMatchObject({
      studyInstanceUid: STUDY,
      state: 'queued',
      instanceCount: 120,
      analyzeJob: { state: 'queued', attempts: 0 },
    });
    expect(series[1]).toMatchObject({
      state: 'skipped',
      skipReasons: ['fewer than 50 slices: 12'],
      analyzeJob: null,
    });
    expect(Object.keys(series[0]).sort()).toEqual([
      'analyzeJob',
      'callingAeTitle',
      'completedAt',
      'firstReceivedAt',
      'generation',
      'instanceCount',
      'lastReceivedAt',
      'modality',
      'seriesInstanceUid',
      'skipReasons',
      'state',
      'studyInstanceUid',
    ]);
  });

  it('GET /api/series filters by state and honours limit', async () => {
    const skipped = await get(base, '/api/series?state=skipped');
    const limited = await get(base, '/api/series?limit=1');

    expect((skipped.body.series as unknown[]).length).toBe(1);
    expect(skipped.body.series).toEqual([expect.objectContaining({ seriesInstanceUid: SERIES_B })]);
    expect(limited.body).toMatchObject({ limit: 1, offset: 0 });
    expect((limited.body.series as unknown[]).length).toBe(1);
  });

  it('GET /api/jobs filters by state, kind and series', async () => {
    const dead = await get(base, '/api/jobs?state=dead');
    const bySeries = await get(base, `/api/jobs?seriesInstanceUid=${SERIES_A}`);
    const byKind = await get(base, '/api/jobs?kind=analyze&state=queued');

    expect(dead.body.jobs).toEqual([
      expect.objectContaining({ kind: 'housekeeping', state: 'dead', lastError: 'boom' }),
    ]);
    expect(bySeries.body.jobs).toEqual([
      expect.objectContaining({
        kind: 'analyze',
        payload: { seriesInstanceUid: SERIES_A, generation: 0 },
        dedupeKey: `analyze:${SERIES_A}:0`,
        maxAttempts: 5,
      }),
    ]);
    expect((byKind.body.jobs as unknown[]).length).toBe(1);
  });

  it('GET /api/studies and /api/status count what the node holds', async () => {
    const studies = await get(base, '/api/studies');
    const status = await get(base, '/api/status');

    expect(studies.body.studies).toEqual([
      expect.objectContaining({
        studyInstanceUid: STUDY,
        accessionNumber: 'ACC42',
        seriesCount: 2,
      }),
    ]);
    expect(status.body).toMatchObject({
      ownerId: 'node-a:123',
      aeTitle: 'CT3DFLOW',
      dicomPort: 40404,
      counts: {
        studies: 1,
        series: { queued: 1, skipped: 1 },
        jobs: [
          { kind: 'analyze', state: 'queued', count: 1 },
          { kind: 'housekeeping', state: 'dead', count: 1 },
        ],
      },
    });
  });

  it('BAD QUERY - answers 400 naming the parameter and quoting its value', async () => {
    const badLimit = await get(base, '/api/series?limit=abc');
    const badState = await get(base, '/api/jobs?state=exploded');
    const badUid = await get(base, '/api/jobs?seriesInstanceUid=1.2/../etc');
    const unknown = await get(base, '/api/jobs?patientName=DOE');

    expect(badLimit.status).toBe(400);
    expect(badLimit.body.error).toMatch(/limit.*"abc"/);
    expect(badState.status).toBe(400);
    expect(badState.body.error).toMatch(/state.*"exploded"/);
    expect(badUid.body.error).toMatch(/seriesInstanceUid: not a DICOM UID.*"1\.2\/\.\.\/etc"/);
    expect(unknown.body.error).toBe('unknown query parameter: patientName');
  });
});

describe('GET /healthz without a database', () => {
  it('answers 503 when the database is gone', async () => {
    const db = await openDatabase({ dataDir: '.', inMemory: true });
    const { app, base } = await start(db);
    await db.close();

    const { status, body } = await get(base, '/healthz');
    await app.close();

    expect(status).toBe(503);
    expect(body).toMatchObject({ status: 'unavailable', database: 'pglite' });
    expect(body.error).toEqual(expect.any(String));
  });
});
