import { existsSync } from 'node:fs';

import { Command } from 'commander';

import { cStoreFiles, collectFiles, isStored } from '../../scu/send';
import { UsageError } from '../errors';
import { addPeerOptions, peerFrom } from './echo';

type SendFlags = Parameters<typeof peerFrom>[0];

async function send(paths: string[], flags: SendFlags): Promise<void> {
  const peer = peerFrom(flags);
  for (const path of paths) {
    if (!existsSync(path)) throw new UsageError(`${path}: no such file or directory`);
  }

  const files = collectFiles(paths);
  if (files.length === 0) throw new UsageError(`no files under ${paths.join(', ')}`);

  const results = await cStoreFiles(peer, files);

  let failed = 0;
  for (const result of results) {
    const stored = isStored(result.status);
    if (!stored) failed += 1;
    const status =
      result.status === undefined ? '----' : result.status.toString(16).padStart(4, '0');
    const comment = result.errorComment === undefined ? '' : ` ${result.errorComment}`;
    process.stdout.write(`${stored ? 'stored' : 'FAILED'} 0x${status} ${result.file}${comment}\n`);
  }
  process.stdout.write(`${results.length - failed} of ${results.length} stored\n`);
  if (failed > 0) process.exitCode = 1;
}

export function registerSend(program: Command): void {
  addPeerOptions(
    program
      .command('send')
      .description('C-STORE files and folders to a DICOM node; non-zero exit if any fails')
      .argument('<paths...>', 'DICOM files or folders (searched recursively)'),
  ).action(send);
}
