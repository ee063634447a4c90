import type { Command } from 'commander';

import { registerInspect } from './inspect';
import { registerServe } from './serve';
import { registerStatus } from './status';

/**
 * Every subcommand of `ct3dflow`, in the order `--help` lists them. A
 * subcommand module exports one `register*` function.
 */
export const commands: Array<(program: Command) => void> = [
  registerServe,
  registerStatus,
  registerInspect,
];
