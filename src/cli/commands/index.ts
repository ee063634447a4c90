import type { Command } from 'commander';

import { registerEcho } from './echo';
import { registerInspect } from './inspect';
import { registerModel } from './model';
import { registerPhantom } from './phantom';
import { registerSend } from './send';
import { registerServe } from './serve';
import { registerStatus } from './status';
import { registerTrain } from './train';

/**
 * Every subcommand of `ct3dflow`, in the order `--help` lists them. A
 * subcommand module exports one `register*` function.
 */
export const commands: Array<(program: Command) => void> = [
  registerServe,
  registerEcho,
  registerSend,
  registerStatus,
  registerInspect,
  registerPhantom,
  registerModel,
  registerTrain,
];
