import { readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';

import { Client, requests, responses } from 'dcmjs-dimse';

import { AssociationError, PeerAddress, runAssociation } from './association';

/** What happened to one file. `status` undefined: it was never answered. */
export interface SendResult {
  file: string;
  status?: number;
  errorComment?: string;
}

/** Files given directly, and every file under each directory, sorted. */
export function collectFiles(paths: string[]): string[] {
  const files: string[] = [];
  const visit = (path: string): void => {
    if (statSync(path).isDirectory()) {
      for (const name of readdirSync(path).sort()) visit(join(path, name));
    } else {
      files.push(path);
    }
  };
  for (const path of paths) visit(path);
  return files;
}

/** Success (0000) and warnings (0001, Bxxx) mean the peer kept the instance (PS3.4 B.2.3). */
export function isStored(status: number | undefined): boolean {
  return status === 0x0000 || status === 0x0001 || (status !== undefined && status >> 12 === 0xb);
}

/**
 * C-STORE of each file (PS3.4 B.2.2) on one association. A file that is not
 * DICOM is reported without being sent; the others are read lazily, one at
 * a time, so memory holds one dataset.
 */
export async function cStoreFiles(peer: PeerAddress, files: string[]): Promise<SendResult[]> {
  const client = new Client();
  const results: SendResult[] = [];
  let queued = 0;

  for (const file of files) {
    const result: SendResult = { file };
    results.push(result);

    let request: requests.CStoreRequest;
    try {
      request = new requests.CStoreRequest(file);
    } catch (error) {
      result.errorComment = `not a readable DICOM file: ${String(error)}`;
      continue;
    }
    request.on('response', (response: responses.CStoreResponse) => {
      result.status = response.getStatus();
      const comment = response.getErrorComment();
      result.errorComment = comment === '' ? undefined : comment;
    });
    client.addRequest(request);
    queued += 1;
  }

  // A refused or broken association still leaves the answers already
  // received; the files without one carry the association's error.
  let unanswered = 'no response (SOP class or transfer syntax not accepted?)';
  if (queued > 0) {
    await runAssociation(client, peer).catch((error: unknown) => {
      if (!(error instanceof AssociationError)) throw error;
      unanswered = `not stored: ${error.message}`;
    });
  }

  for (const result of results) {
    if (result.status === undefined && result.errorComment === undefined) {
      result.errorComment = unanswered;
    }
  }
  return results;
}
