import { mkdir, open } from 'node:fs/promises';
import { dirname } from 'node:path';

/**
 * fsyncs a directory so that a rename or a new entry in it survives a power
 * cut (rename(2) alone only orders the metadata in memory).
 */
export async function fsyncDirectory(dir: string): Promise<void> {
  const handle = await open(dir, 'r');
  try {
    await handle.sync();
  } finally {
    await handle.close();
  }
}

/** Directories already created and fsynced by this process. */
const knownDirectories = new Set<string>();

/**
 * `mkdir -p` that fsyncs each parent whose entry it created, so a new
 * series folder is as durable as the file renamed into it.
 */
export async function ensureDurableDirectory(dir: string): Promise<void> {
  if (knownDirectories.has(dir)) return;

  const created = await mkdir(dir, { recursive: true });

  if (created !== undefined) {
    let current = dir;
    while (current.length >= created.length) {
      await fsyncDirectory(dirname(current));
      current = dirname(current);
    }
  }
  knownDirectories.add(dir);
}
