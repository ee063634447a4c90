import { readFileSync, unlinkSync, writeFileSync } from 'node:fs';
import { hostname } from 'node:os';

/** The embedded database is already open in another live process. */
export class DatabaseInUseError extends Error {
  override name = 'DatabaseInUseError';
}

interface LockOwner {
  pid: number;
  host: string;
}

/**
 * PGlite does not lock its data directory, and two processes writing one
 * directory corrupt it. This lock file (`<dir>.lock`, created exclusively)
 * names the owning process; a lock left by a process that no longer runs on
 * this host is taken over. Returns the function that releases it.
 */
export function lockDataDir(dir: string): () => void {
  const file = `${dir}.lock`;
  const me: LockOwner = { pid: process.pid, host: hostname() };

  for (let tries = 0; tries < 2; tries++) {
    try {
      writeFileSync(file, JSON.stringify(me), { flag: 'wx' });
      return () => unlinkIfOurs(file, me);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
    }

    const owner = readOwner(file);
    if (owner !== undefined && (owner.host !== me.host || isAlive(owner.pid))) {
      throw new DatabaseInUseError(
        `the embedded database ${dir} is in use by process ${owner.pid} on ${owner.host} ` +
          `(lock file ${file}); stop that node first, or remove the file if no node runs`,
      );
    }
    // Stale: its process is gone (a crash or kill -9). Take it over.
    unlinkSync(file);
  }
  throw new DatabaseInUseError(`could not take the lock file ${file}`);
}

function readOwner(file: string): LockOwner | undefined {
  try {
    const parsed = JSON.parse(readFileSync(file, 'utf8')) as Partial<LockOwner>;
    if (typeof parsed.pid === 'number' && typeof parsed.host === 'string') {
      return { pid: parsed.pid, host: parsed.host };
    }
  } catch {
    // Unreadable or half-written: a process that died while writing it.
  }
  return undefined;
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    // EPERM: the process exists but belongs to another user.
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

function unlinkIfOurs(file: string, me: LockOwner): void {
  const owner = readOwner(file);
  if (owner?.pid === me.pid && owner.host === me.host) unlinkSync(file);
}
