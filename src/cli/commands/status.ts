import { Command } from 'commander';

import { loadConfig } from '../../config/load';
import { UsageError } from '../errors';

/**
 * `ct3dflow status`: what a running node holds, read from its HTTP API. An
 * embedded PGlite data dir can be opened by one process only (the node), so
 * the API is the one way in that works for every deployment.
 */

interface StatusFlags {
  url?: string;
  config?: string;
  json?: boolean;
  limit: number;
}

interface NodeStatus {
  ownerId: string | null;
  aeTitle: string;
  dicomPort: number;
  database: string;
  counts: {
    studies: number;
    series: Record<string, number>;
    jobs: Array<{ kind: string; state: string; count: number }>;
  };
}

interface SeriesRow {
  seriesInstanceUid: string;
  state: string;
  instanceCount: number | null;
  generation: number;
  skipReasons: string[];
  lastReceivedAt: string;
  analyzeJob: { id: number; state: string; attempts: number } | null;
}

interface JobRow {
  id: number;
  kind: string;
  state: string;
  attempts: number;
  maxAttempts: number;
  payload: { seriesInstanceUid?: string };
  leaseOwner: string | null;
  lastError: string | null;
  updatedAt: string;
}

/** The node could not be reached or answered with an error. */
export class NodeUnreachableError extends Error {
  override name = 'NodeUnreachableError';
}

function parseBaseUrl(raw: string): URL {
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw new UsageError(`--url: ${JSON.stringify(raw)} is not a URL`);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    throw new UsageError(`--url: ${JSON.stringify(raw)} is not an http(s) URL`);
  }
  return url;
}

async function getJson<T>(base: URL, path: string): Promise<T> {
  const url = new URL(path, base);
  let response: Response;
  try {
    response = await fetch(url, { signal: AbortSignal.timeout(10_000) });
  } catch (cause) {
    throw new NodeUnreachableError(`cannot reach the node at ${url.origin}: ${String(cause)}`, {
      cause,
    });
  }

  const body = (await response.json().catch(() => ({}))) as { error?: string };
  if (!response.ok) {
    const detail = body.error ?? response.statusText;
    throw new NodeUnreachableError(`${url.pathname} answered ${response.status}: ${detail}`);
  }
  return body as T;
}

/** Left-aligned columns, two spaces apart, for a terminal. */
export function table(header: string[], rows: string[][]): string {
  const widths = header.map((title, i) =>
    Math.max(title.length, ...rows.map((row) => row[i].length)),
  );
  const line = (cells: string[]) =>
    cells
      .map((cell, i) => cell.padEnd(widths[i]))
      .join('  ')
      .trimEnd();
  return [line(header), ...rows.map(line)].join('\n');
}

function shorten(text: string, max: number): string {
  return text.length <= max ? text : `${text.slice(0, max - 1)}…`;
}

export function renderStatus(status: NodeStatus, series: SeriesRow[], jobs: JobRow[]): string {
  const { counts } = status;
  const byState = (entries: Array<[string, number]>) =>
    entries.length === 0 ? 'none' : entries.map(([state, n]) => `${state} ${n}`).join(', ');

  const summary = [
    `node ${status.ownerId ?? '?'}  AE ${status.aeTitle}  DICOM port ${status.dicomPort}` +
      `  database ${status.database}`,
    `studies: ${counts.studies}`,
    `series:  ${byState(Object.entries(counts.series))}`,
    `jobs:    ${byState(counts.jobs.map((j) => [`${j.kind}/${j.state}`, j.count]))}`,
  ].join('\n');

  const seriesTable = table(
    ['SERIES INSTANCE UID', 'STATE', 'INSTANCES', 'GEN', 'ANALYZE JOB', 'LAST RECEIVED', 'REASONS'],
    series.map((s) => [
      s.seriesInstanceUid,
      s.state,
      String(s.instanceCount ?? ''),
      String(s.generation),
      s.analyzeJob === null ? '-' : `#${s.analyzeJob.id} ${s.analyzeJob.state}`,
      s.lastReceivedAt,
      shorten(s.skipReasons.join('; '), 60),
    ]),
  );

  const jobsTable = table(
    ['ID', 'KIND', 'STATE', 'ATTEMPTS', 'SERIES INSTANCE UID', 'LEASE OWNER', 'LAST ERROR'],
    jobs.map((j) => [
      String(j.id),
      j.kind,
      j.state,
      `${j.attempts}/${j.maxAttempts}`,
      j.payload.seriesInstanceUid ?? '-',
      j.leaseOwner ?? '-',
      shorten(j.lastError ?? '', 60),
    ]),
  );

  return (
    `${summary}\n\nseries (newest ${series.length}):\n${seriesTable}\n\n` +
    `jobs (newest ${jobs.length}):\n${jobsTable}\n`
  );
}

/**
 * Without --url: the node on this machine, at the HTTP port of the same
 * configuration (file, environment) that `serve` reads.
 */
function defaultUrl(configFile?: string): string {
  const { node } = loadConfig({ file: configFile });
  const anyAddress = node.httpHost === '0.0.0.0' || node.httpHost === '::';
  const host = anyAddress ? '127.0.0.1' : node.httpHost;
  return `http://${host.includes(':') ? `[${host}]` : host}:${node.httpPort}`;
}

async function status(flags: StatusFlags): Promise<void> {
  const base = parseBaseUrl(flags.url ?? defaultUrl(flags.config));

  const [node, series, jobs] = await Promise.all([
    getJson<NodeStatus>(base, '/api/status'),
    getJson<{ series: SeriesRow[] }>(base, `/api/series?limit=${flags.limit}`),
    getJson<{ jobs: JobRow[] }>(base, `/api/jobs?limit=${flags.limit}`),
  ]);

  const output = flags.json
    ? `${JSON.stringify({ status: node, series: series.series, jobs: jobs.jobs }, null, 2)}\n`
    : renderStatus(node, series.series, jobs.jobs);
  process.stdout.write(output);
}

function limitFlag(value: string): number {
  const parsed = Number(value);
  if (!Number.isInteger(parsed) || parsed < 1 || parsed > 1000) {
    throw new UsageError(`--limit: ${JSON.stringify(value)} is not an integer from 1 to 1000`);
  }
  return parsed;
}

export function registerStatus(program: Command): void {
  program
    .command('status')
    .description('Show the studies, series and jobs of a running node (read from its HTTP API)')
    .option('--url <url>', "base URL of the node's HTTP API (default: from the config)")
    .option('--config <file>', 'config file that gives the HTTP port when --url is absent')
    .option('--limit <n>', 'how many of the newest series and jobs to list', limitFlag, 20)
    .option('--json', 'print JSON instead of tables')
    .action(status);
}
