import { readFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { Writable } from 'node:stream';

import type { Logger } from '../log/logger';
import type { StoreHandler, StoreRequestContext, StoreSink } from '../scp/store-handler';
import { StoreOutcome, StoreStatus } from '../scp/statuses';
import { DurableFile } from './durable-file';
import { fsyncDirectory } from './fsync-dir';
import { DatasetError, InstanceHeader, parseDatasetHeader } from './header';
import { InstanceRecorder } from './instance-recorder';
import { filePreambleAndMeta } from './part10';
import { instanceRelativePath } from './paths';
import { InvalidUidError } from './uid';

/**
 * Bytes of each dataset kept in memory for header parsing. Everything the
 * node records precedes PixelData and fits in far less; a larger header is
 * read back from the temporary file.
 */
const HEADER_PREFIX_BYTES = 128 * 1024;

/** A store refused with a C-STORE status; never a crash. */
class Refusal extends Error {
  constructor(readonly outcome: StoreOutcome) {
    super(outcome.errorComment);
  }
}

/**
 * Stores CT instances durably: dataset bytes stream into a temp file behind
 * a Part 10 header; on the last fragment the header is parsed, checked
 * against the command, the file is fsynced and renamed under validated
 * UIDs, and the row is committed. Success only after all of that.
 */
export class InstanceIngest implements StoreHandler {
  constructor(
    private readonly dataDir: string,
    /** Absolute; see incomingRelativeDir. */
    private readonly incomingDir: string,
    private readonly recorder: InstanceRecorder,
    private readonly log: Logger,
  ) {}

  open(context: StoreRequestContext): StoreSink {
    if (context.disposition === 'drop') return dropSink(this.log, context);

    const file = new DurableFile({
      incomingDir: this.incomingDir,
      keepPrefixBytes: HEADER_PREFIX_BYTES,
      leading: filePreambleAndMeta({
        mediaStorageSopClassUid: context.sopClassUid,
        mediaStorageSopInstanceUid: context.sopInstanceUid,
        transferSyntaxUid: context.transferSyntaxUid,
        sourceApplicationEntityTitle: context.callingAeTitle,
      }),
    });
    // Errors surface through finish(); without a listener a write error
    // would be an uncaught 'error' event and stop the process.
    file.on('error', () => undefined);

    return {
      stream: file,
      finish: () => this.finish(file, context),
      abandon: () => file.discard(),
    };
  }

  private async finish(file: DurableFile, context: StoreRequestContext): Promise<StoreOutcome> {
    const log = this.log.child({
      associationId: context.associationId,
      sopInstanceUid: context.sopInstanceUid,
    });

    const startedMs = performance.now();
    try {
      await file.finished().catch((cause: unknown) => {
        throw refusal(StoreStatus.OutOfResources, `cannot write: ${String(cause)}`);
      });

      const receivedMs = performance.now();
      const header = await this.readHeader(file, context.transferSyntaxUid);
      checkMatchesCommand(header, context);
      const path = safePath(header);

      const finalPath = join(this.dataDir, path);
      await file.publish(finalPath).catch((cause: unknown) => {
        throw refusal(StoreStatus.OutOfResources, `cannot store: ${String(cause)}`);
      });

      // The folder's fsync and the database commit overlap; Success waits
      // for both, so an acknowledged instance is durable on disk and in
      // the database.
      const fsyncedMs = performance.now();
      const [folder, row] = await Promise.allSettled([
        fsyncDirectory(dirname(finalPath)),
        this.recorder.record({
          ...header,
          transferSyntaxUid: context.transferSyntaxUid,
          callingAeTitle: context.callingAeTitle,
          path,
          sizeBytes: file.sizeBytes,
        }),
      ]);
      if (folder.status === 'rejected') {
        throw refusal(StoreStatus.OutOfResources, `cannot store: ${String(folder.reason)}`);
      }
      if (row.status === 'rejected') {
        throw refusal(StoreStatus.OutOfResources, `database: ${String(row.reason)}`);
      }

      log.debug('instance stored', {
        seriesInstanceUid: header.seriesInstanceUid,
        path,
        flushMs: round(receivedMs - startedMs),
        fsyncMs: round(fsyncedMs - receivedMs),
        commitMs: round(performance.now() - fsyncedMs),
      });
      return { status: StoreStatus.Success };
    } catch (error) {
      await file.discard();
      if (!(error instanceof Refusal)) throw error;

      log.warn('instance refused', { ...error.outcome });
      return error.outcome;
    }
  }

  private async readHeader(file: DurableFile, transferSyntaxUid: string): Promise<InstanceHeader> {
    try {
      return parseDatasetHeader(file.prefix(), transferSyntaxUid);
    } catch (error) {
      if (!(error instanceof DatasetError)) throw error;
      if (file.prefixIsComplete) {
        throw refusal(StoreStatus.CannotUnderstand, error.message);
      }
    }

    const whole = await readFile(file.tempPath);
    try {
      return parseDatasetHeader(whole.subarray(file.objectOffset), transferSyntaxUid);
    } catch (error) {
      if (!(error instanceof DatasetError)) throw error;
      throw refusal(StoreStatus.CannotUnderstand, error.message);
    }
  }
}

function round(ms: number): number {
  return Math.round(ms * 10) / 10;
}

function refusal(status: number, errorComment: string): Refusal {
  return new Refusal({ status, errorComment });
}

/** PS3.4 B.2.3: the dataset's SOP Class and Instance UIDs must be the command's. */
function checkMatchesCommand(header: InstanceHeader, context: StoreRequestContext): void {
  if (header.sopClassUid !== context.sopClassUid.replace(/\0+$/, '')) {
    throw refusal(
      StoreStatus.DatasetDoesNotMatchSopClass,
      `SOPClassUID ${header.sopClassUid} != command ${context.sopClassUid}`,
    );
  }
  if (header.sopInstanceUid !== context.sopInstanceUid.replace(/\0+$/, '')) {
    throw refusal(
      StoreStatus.DatasetDoesNotMatchSopClass,
      `SOPInstanceUID differs from the command's`,
    );
  }
}

function safePath(header: InstanceHeader): string {
  try {
    return instanceRelativePath(header);
  } catch (error) {
    if (error instanceof InvalidUidError) {
      throw refusal(StoreStatus.CannotUnderstand, error.message);
    }
    throw error;
  }
}

/** Accept-and-drop (config dicom.otherStorageClasses): read, discard, Success. */
function dropSink(log: Logger, context: StoreRequestContext): StoreSink {
  const stream = new Writable({ write: (_chunk, _encoding, callback) => callback() });
  return {
    stream,
    finish: async () => {
      log.debug('instance dropped', {
        associationId: context.associationId,
        sopClassUid: context.sopClassUid,
      });
      return { status: StoreStatus.Success };
    },
    abandon: async () => undefined,
  };
}
