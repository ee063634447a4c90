import { readFileSync, unlinkSync, writeFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { resolve } from 'node:path';

/** The embedded database is already open in another live process. */
export class DatabaseInUseError extends Error {
  override name = 'DatabaseInUseError';
}

interface LockOwner {
  pid: number;
  host: string;
  /** Linux boot id: a lock from before a reboot is stale whatever its pid. */
  bootId?: string;
}

/** Data dirs this process holds: its own pid in a lock file is otherwise stale. */
const heldHere = new Set<string>();

/**
 * PGlite does not lock its data directory, and two processes writing one
 * directory corrupt it. This lock file (`<dir>.lock`, created exclusively)
 * names the owning process. A lock is stale, and taken over, when its
 * process no longer runs: another boot, a pid that is gone, or this very pid
 * without this process holding it (a container restarted, where the node is
 * pid 1 again). Returns the function that releases it.
 */
export function lockDataDir(dir: string): () => void {
  const key = resolve(dir);
  const file = `${dir}.lock`;
  const me: LockOwner = { pid: process.pid, host: hostname(), bootId: bootId() };

  for (let tries = 0; tries < 2; tries++) {
    try {
      writeFileSync(file, JSON.stringify(me), { flag: 'wx' });
      heldHere.add(key);
      return () => {
        heldHere.delete(key);
        unlinkIfOurs(file, me);
      };
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
    }

    const owner = readOwner(file);
    if (owner !== undefined && !isStale(owner, me, key)) {
      throw new DatabaseInUseError(
        `the embedded database ${dir} is in use by process ${owner.pid} on ${owner.host} ` +
          `(lock file ${file}); stop that node first, or remove the file if no node runs`,
      );
    }
    unlinkSync(file);
  }
  throw new DatabaseInUseError(`could not take the lock file ${file}`);
}

function isStale(owner: LockOwner, me: LockOwner, key: string): boolean {
  // Another host (a shared volume): nothing here can tell, so never stale.
  if (owner.host !== me.host) return false;
  if (owner.bootId !== undefined && me.bootId !== undefined && owner.bootId !== me.bootId) {
    return true;
  }
  if (owner.pid === me.pid) return !heldHere.has(key);
  return !isAlive(owner.pid);
}

function bootId(): string | undefined {
  try {
    return readFileSync('/proc/sys/kernel/random/boot_id', 'utf8').trim();
  } catch {
    return undefined;
  }
}

function readOwner(file: string): LockOwner | undefined {
  try {
    const parsed = JSON.parse(readFileSync(file, 'utf8')) as Partial<LockOwner>;
    if (typeof parsed.pid === 'number' && typeof parsed.host === 'string') {
      return { pid: parsed.pid, host: parsed.host, bootId: parsed.bootId };
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
