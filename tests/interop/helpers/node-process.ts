import { ChildProcess, execFile, spawn } from 'node:child_process';
import { join } from 'node:path';

/** The repository root, where `npm run build` put dist/. */
export const REPO_ROOT = join(__dirname, '../../..');

/** A `ct3dflow serve` process started as an operator would. */
export interface ServeProcess {
  proc: ChildProcess;
  dicomPort: number;
  httpPort: number;
  /** Every JSON log line so far. */
  lines: Array<Record<string, unknown>>;
  /** SIGTERM, then the exit code. */
  stop(): Promise<number | null>;
  /** SIGKILL: no chance to clean up. */
  kill9(): Promise<void>;
}

export interface ServeOptions {
  dataDir: string;
  idleSeconds?: number;
  env?: Record<string, string>;
  args?: string[];
}

/** Starts `node dist/cli/main.js serve` on port 0 and reads its ports from the log. */
export function startServe(options: ServeOptions): Promise<ServeProcess> {
  const proc = spawn(
    process.execPath,
    [
      join(REPO_ROOT, 'dist/cli/main.js'),
      'serve',
      '--data-dir',
      options.dataDir,
      '--dicom-port',
      '0',
      '--http-port',
      '0',
      '--series-idle-seconds',
      String(options.idleSeconds ?? 2),
      ...(options.args ?? []),
    ],
    { cwd: REPO_ROOT, env: { ...process.env, ...options.env }, stdio: ['ignore', 'pipe', 'pipe'] },
  );

  const lines: Array<Record<string, unknown>> = [];
  const exited = new Promise<number | null>((resolve) =>
    proc.once('exit', (code) => resolve(code)),
  );
  let stderr = '';

  return new Promise((resolve, reject) => {
    proc.stderr!.setEncoding('utf8');
    proc.stderr!.on('data', (chunk: string) => {
      stderr += chunk;
      const parts = stderr.split('\n');
      stderr = parts.pop() ?? '';
      for (const text of parts) {
        try {
          const line = JSON.parse(text) as Record<string, unknown>;
          lines.push(line);
          if (line.message === 'node listening') {
            resolve({
              proc,
              dicomPort: line.dicomPort as number,
              httpPort: line.httpPort as number,
              lines,
              stop: () => {
                proc.kill('SIGTERM');
                return exited;
              },
              kill9: async () => {
                proc.kill('SIGKILL');
                await exited;
              },
            });
          }
        } catch {
          lines.push({ text });
        }
      }
    });
    void exited.then((code) =>
      reject(new Error(`serve exited with ${code}: ${JSON.stringify(lines.slice(-5))}`)),
    );
  });
}

export interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs a tool (storescu, echoscu) and returns its exit code and output. */
export function run(command: string, args: string[], timeoutMs = 120_000): Promise<Run> {
  return new Promise((resolve) => {
    execFile(
      command,
      args,
      { timeout: timeoutMs, maxBuffer: 64 * 1024 * 1024 },
      (error, stdout, stderr) => {
        const code = error === null ? 0 : typeof error.code === 'number' ? error.code : 1;
        resolve({ code, stdout, stderr });
      },
    );
  });
}

/** GET a JSON document from the node's HTTP API. */
export async function getJson<T>(port: number, path: string): Promise<T> {
  const response = await fetch(`http://127.0.0.1:${port}${path}`);
  if (!response.ok) throw new Error(`GET ${path}: HTTP ${response.status}`);
  return (await response.json()) as T;
}

export interface SeriesView {
  seriesInstanceUid: string;
  state: string;
  instanceCount: number;
  generation: number;
  skipReasons: Array<{ rule: string }>;
}

/** Polls /api/series until `uid` is in one of `states`. */
export async function waitForSeries(
  port: number,
  uid: string,
  states: string[],
  timeoutMs = 60_000,
): Promise<SeriesView> {
  const deadline = Date.now() + timeoutMs;
  let last: SeriesView | undefined;
  while (Date.now() < deadline) {
    const { series } = await getJson<{ series: SeriesView[] }>(port, '/api/series?limit=1000');
    last = series.find((s) => s.seriesInstanceUid === uid);
    if (last !== undefined && states.includes(last.state)) return last;
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
  throw new Error(`series ${uid} not in ${states.join('|')}: ${JSON.stringify(last)}`);
}
