import { mkdir, readdir, unlink } from 'node:fs/promises';
import { AddressInfo } from 'node:net';
import { hostname } from 'node:os';
import { join, resolve } from 'node:path';

import type { FastifyInstance } from 'fastify';

import type { Config } from '../config/schema';
import { Database, openDatabase } from '../db/database';
import { buildHttpServer } from '../http';
import { getLogger, Logger } from '../log/logger';
import { JobQueue } from '../queue';
import { DicomListener } from '../scp/listener';
import { SeriesCompleter } from '../series/completion';
import { InstanceIngest } from '../storage/ingest';
import { InstanceRecorder } from '../storage/instance-recorder';
import { incomingRelativeDir } from '../storage/paths';

/** The kind and dedupe key of the job an eligible complete series gets. */
export const ANALYZE_JOB_KIND = 'analyze';

export function analyzeDedupeKey(seriesInstanceUid: string, generation: number): string {
  return `analyze:${seriesInstanceUid}:${generation}`;
}

/** A started node; `stop()` is what SIGTERM calls. */
export interface RunningNode {
  dicomPort: number;
  httpPort: number;
  dataDir: string;
  db: Database;
  /** Handlers for `analyze` and later job kinds register here with `work()`. */
  queue: JobQueue;
  completer: SeriesCompleter;
  stop(): Promise<void>;
}

export interface StartNodeOptions {
  log?: Logger;
  /** PostgreSQL only: a schema of its own (tests). */
  databaseSchema?: string;
}

/**
 * A crash can leave partly received files in this node's `incoming/<nodeId>`. None of them was
 * acknowledged (Success follows the rename), so they are deleted at start.
 */
async function clearIncoming(dir: string, log: Logger): Promise<void> {
  await mkdir(dir, { recursive: true });
  const stale = (await readdir(dir)).filter((name) => name.endsWith('.part'));
  for (const name of stale) await unlink(join(dir, name));
  if (stale.length > 0) log.info('removed unacknowledged partial files', { count: stale.length });
}

/**
 * Assembles the node: config -> database (migrations applied) -> storage
 * -> DICOM listener -> series completion -> job queue -> HTTP API.
 */
export async function startNode(
  config: Config,
  options: StartNodeOptions = {},
): Promise<RunningNode> {
  const log = options.log ?? getLogger({ component: 'node' });
  const dataDir = resolve(config.node.dataDir);

  await mkdir(dataDir, { recursive: true });
  const incomingDir = join(dataDir, incomingRelativeDir(config.queue.nodeId ?? hostname()));
  await clearIncoming(incomingDir, log);

  const db = await openDatabase({
    databaseUrl: config.node.databaseUrl,
    dataDir,
    schema: options.databaseSchema,
  });
  const queue = new JobQueue({ db, config: config.queue });

  const ingest = new InstanceIngest(
    dataDir,
    incomingDir,
    new InstanceRecorder(db),
    log.child({ component: 'storage' }),
  );
  const listener = new DicomListener(config.dicom, ingest, log.child({ component: 'scp' }));

  const completer = new SeriesCompleter(
    db,
    config.series,
    (tx, seriesInstanceUid, generation) =>
      queue.enqueue(tx, {
        kind: ANALYZE_JOB_KIND,
        payload: { seriesInstanceUid, generation },
        dedupeKey: analyzeDedupeKey(seriesInstanceUid, generation),
      }),
    log.child({ component: 'series' }),
  );

  let http: FastifyInstance | undefined;
  try {
    const dicomPort = await listener.start();
    completer.start();

    http = buildHttpServer({ db, config, ownerId: queue.ownerId, dicomPort });
    await http.listen({ port: config.node.httpPort, host: config.node.httpHost });
    const httpPort = (http.server.address() as AddressInfo).port;

    log.info('node listening', { dicomPort, httpPort, aeTitle: config.dicom.aeTitle, dataDir });

    const stop = makeStop(config, { listener, completer, queue, http, db, log });
    return { dicomPort, httpPort, dataDir, db, queue, completer, stop };
  } catch (error) {
    await listener.stop(0);
    await completer.stop();
    await http?.close();
    await db.close();
    throw error;
  }
}

interface Parts {
  listener: DicomListener;
  completer: SeriesCompleter;
  queue: JobQueue;
  http: FastifyInstance;
  db: Database;
  log: Logger;
}

/**
 * Stop order: no new associations, in-flight stores answered after their
 * commit, completion stops, running jobs hand back their leases, then HTTP
 * and the database close.
 */
function makeStop(config: Config, parts: Parts): () => Promise<void> {
  let stopping: Promise<void> | undefined;
  const graceMs = config.queue.stopGraceSeconds * 1000;

  return () => {
    stopping ??= (async () => {
      parts.log.info('node stopping');
      await parts.listener.stop(graceMs);
      await parts.completer.stop();
      await parts.queue.stop({ graceMs });
      await parts.http.close();
      await parts.db.close();
      parts.log.info('node stopped');
    })();
    return stopping;
  };
}
