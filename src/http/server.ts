import Fastify, { FastifyInstance } from 'fastify';

import type { Config } from '../config/schema';
import type { Database } from '../db/database';
import { getLogger, Logger } from '../log/logger';
import { countByState, listJobs, listSeries, listStudies } from './queries';
import { jobsQuery, parseQuery, QueryParamError, seriesQuery, studiesQuery } from './query-params';

export interface HttpServerOptions {
  db: Database;
  config: Config;
  /** The queue's lease owner (`<nodeId>:<pid>`), shown by /healthz and /api/status. */
  ownerId?: string;
  /** The port the DICOM listener really got (config may say 0 = any). */
  dicomPort?: number;
  log?: Logger;
}

/** A health probe that takes longer than this reports the database as down. */
const HEALTH_TIMEOUT_MS = 2000;

/**
 * The node's read-only HTTP API. The caller starts it with
 * `listen({ port: config.node.httpPort, host: config.node.httpHost })` and
 * closes it on SIGTERM. Responses are JSON and carry UIDs, states, counts
 * and times, never patient names.
 */
export function buildHttpServer(options: HttpServerOptions): FastifyInstance {
  const { db } = options;
  const log = options.log ?? getLogger({ component: 'http' });
  const startedAt = Date.now();
  const app = Fastify({ logger: false });

  app.addHook('onResponse', async (request, reply) => {
    log.debug('request', {
      method: request.method,
      url: request.url,
      statusCode: reply.statusCode,
      elapsedMs: Math.round(reply.elapsedTime),
    });
  });

  app.setErrorHandler(async (error, request, reply) => {
    if (error instanceof QueryParamError) return reply.code(400).send({ error: error.message });

    log.error('request failed', { url: request.url, error: String(error) });
    const status = (error as { statusCode?: number }).statusCode ?? 500;
    return reply.code(status).send({ error: status >= 500 ? 'internal error' : String(error) });
  });

  app.get('/healthz', async (_request, reply) => {
    const node = {
      database: db.kind,
      ownerId: options.ownerId ?? null,
      uptimeSeconds: Math.round((Date.now() - startedAt) / 1000),
    };
    try {
      await withTimeout(db.query('SELECT 1'), HEALTH_TIMEOUT_MS);
      return { status: 'ok', ...node };
    } catch (error) {
      return reply.code(503).send({ status: 'unavailable', ...node, error: String(error) });
    }
  });

  app.get('/api/status', async () => ({
    ownerId: options.ownerId ?? null,
    aeTitle: options.config.dicom.aeTitle,
    dicomPort: options.dicomPort ?? options.config.dicom.port,
    database: db.kind,
    counts: await countByState(db),
  }));

  app.get('/api/studies', async (request) => {
    const filter = parseQuery(studiesQuery, request.query);
    return { studies: await listStudies(db, filter), ...page(filter) };
  });

  app.get('/api/series', async (request) => {
    const filter = parseQuery(seriesQuery, request.query);
    return { series: await listSeries(db, filter), ...page(filter) };
  });

  app.get('/api/jobs', async (request) => {
    const filter = parseQuery(jobsQuery, request.query);
    return { jobs: await listJobs(db, filter), ...page(filter) };
  });

  return app;
}

function page(filter: { limit: number; offset: number }) {
  return { limit: filter.limit, offset: filter.offset };
}

async function withTimeout<T>(promise: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`database did not answer within ${ms} ms`)), ms);
  });
  try {
    return await Promise.race([promise, timeout]);
  } finally {
    clearTimeout(timer);
  }
}
