#!/usr/bin/env node
import { Command, CommanderError } from 'commander';

import { ConfigError } from '../config/errors';
import { commands } from './commands';
import { UsageError } from './errors';

/**
 * The `ct3dflow` program. Each subcommand lives in `commands/<name>.ts` and
 * exports a function that adds itself to the program.
 */
export function buildProgram(): Command {
  const program = new Command('ct3dflow')
    .description('Chest CT anomaly detection node (CT-3DFlow)')
    .showHelpAfterError()
    .exitOverride();

  for (const register of commands) register(program);
  return program;
}

/** Exit status 2 for bad usage or input, 1 for a failure while working. */
function exitCodeFor(error: unknown): number {
  if (error instanceof ConfigError) return 2;
  if (error instanceof UsageError) return 2;
  return 1;
}

async function main(argv: string[]): Promise<void> {
  try {
    await buildProgram().parseAsync(argv);
  } catch (error) {
    if (error instanceof CommanderError) {
      process.exitCode = error.exitCode;
      return;
    }
    const message = error instanceof Error ? error.message : String(error);
    process.stderr.write(`ct3dflow: ${message}\n`);
    process.exitCode = exitCodeFor(error);
  }
}

if (require.main === module) void main(process.argv);
