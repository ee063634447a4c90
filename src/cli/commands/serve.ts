import { Command } from 'commander';

import { loadConfig } from '../../config/load';
import { createRootLogger, getLogger, setRootLogger } from '../../log/logger';
import { startNode } from '../../node/node';
import { UsageError } from '../errors';

/** A numeric flag; a value that is not a number is the user's error. */
export function numberFlag(flag: string): (value: string) => number {
  return (value) => {
    const parsed = Number(value);
    if (value.trim() === '' || !Number.isFinite(parsed)) {
      throw new UsageError(`${flag}: ${JSON.stringify(value)} is not a number`);
    }
    return parsed;
  };
}

interface ServeFlags {
  config?: string;
  dataDir?: string;
  dicomPort?: number;
  httpPort?: number;
  aeTitle?: string;
  seriesIdleSeconds?: number;
  databaseUrl?: string;
}

/** Flags become config overrides: they win over file and environment. */
export function serveOverrides(flags: ServeFlags): Record<string, Record<string, unknown>> {
  const node: Record<string, unknown> = {};
  const dicom: Record<string, unknown> = {};
  const series: Record<string, unknown> = {};

  if (flags.dataDir !== undefined) node.dataDir = flags.dataDir;
  if (flags.httpPort !== undefined) node.httpPort = flags.httpPort;
  if (flags.databaseUrl !== undefined) node.databaseUrl = flags.databaseUrl;
  if (flags.dicomPort !== undefined) dicom.port = flags.dicomPort;
  if (flags.aeTitle !== undefined) dicom.aeTitle = flags.aeTitle;
  if (flags.seriesIdleSeconds !== undefined) series.idleSeconds = flags.seriesIdleSeconds;

  return { node, dicom, series };
}

async function serve(flags: ServeFlags): Promise<void> {
  const config = loadConfig({ file: flags.config, overrides: serveOverrides(flags) });
  setRootLogger(createRootLogger(config.node.logLevel));
  const log = getLogger({ component: 'node' });

  const node = await startNode(config, { log });

  // SIGTERM (and Ctrl-C): stop accepting, answer in-flight stores, hand
  // back job leases, then exit.
  await new Promise<void>((resolve) => {
    const onSignal = (signal: NodeJS.Signals): void => {
      log.info('signal received', { signal });
      node.stop().then(resolve, (error: unknown) => {
        log.error('stop failed', { error: String(error) });
        process.exitCode = 1;
        resolve();
      });
    };
    process.once('SIGTERM', onSignal);
    process.once('SIGINT', onSignal);
  });
}

export function registerServe(program: Command): void {
  program
    .command('serve')
    .description('Run the node: DICOM C-STORE/C-ECHO SCP, series completion, job queue, HTTP API')
    .option('--config <file>', 'config file (default config/ct3dflow.json if present)')
    .option('--data-dir <dir>', 'data folder: instances, embedded database (node.dataDir)')
    .option(
      '--dicom-port <n>',
      'DICOM port, 0 = any free port (dicom.port)',
      numberFlag('--dicom-port'),
    )
    .option(
      '--http-port <n>',
      'HTTP port, 0 = any free port (node.httpPort)',
      numberFlag('--http-port'),
    )
    .option('--ae-title <aet>', 'called AE title of this node (dicom.aeTitle)')
    .option(
      '--series-idle-seconds <s>',
      'seconds without a new instance before a series is complete (series.idleSeconds)',
      numberFlag('--series-idle-seconds'),
    )
    .option('--database-url <url>', 'PostgreSQL URL; absent = embedded PGlite (node.databaseUrl)')
    .action(serve);
}
