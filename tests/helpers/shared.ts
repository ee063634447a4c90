import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';

/**
 * The shared folder beside the checkout (paper, real CT). CI and sessions
 * both have it at `<repo>/../shared`; CT3DFLOW_SHARED_DIR overrides.
 */
export function sharedDir(): string {
  return resolve(process.env.CT3DFLOW_SHARED_DIR ?? join(__dirname, '../../../shared'));
}

export function realCtDir(name: 'copdgene-ct64' | 'lidc-idri-0001'): string {
  const dir = join(sharedDir(), 'data/real-ct', name);
  if (!existsSync(dir)) throw new Error(`real CT folder ${dir} is missing`);
  return dir;
}
