import { join } from 'node:path';

import { validateUid } from './uid';

/** The UIDs that place an instance in the data folder. */
export interface InstanceKey {
  studyInstanceUid: string;
  seriesInstanceUid: string;
  sopInstanceUid: string;
}

/** Where received instances live, relative to the data folder. */
export const INSTANCES_DIR = 'instances';

/**
 * Where this node's partly received instances live until they are fsynced
 * and renamed: one folder per node, because a node clears its own folder at
 * start and must not touch another node's partial files on shared storage.
 * The node id is checked by the config schema (letters, digits, `.`, `-`,
 * `_`); the same filesystem as `instances/`, so the rename is atomic.
 */
export function incomingRelativeDir(nodeId: string): string {
  return join('incoming', nodeId);
}

/**
 * `instances/<study>/<series>/<sop>.dcm`, relative to the data folder. Each
 * UID is validated again here, so no caller can build a path from an
 * unchecked value.
 */
export function instanceRelativePath(key: InstanceKey): string {
  const study = validateUid('StudyInstanceUID', key.studyInstanceUid);
  const series = validateUid('SeriesInstanceUID', key.seriesInstanceUid);
  const sop = validateUid('SOPInstanceUID', key.sopInstanceUid);
  return join(INSTANCES_DIR, study, series, `${sop}.dcm`);
}
