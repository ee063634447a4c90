import { randomUUID } from 'node:crypto';
import { FileHandle, open, rename, unlink } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { Writable } from 'node:stream';

import { ensureDurableDirectory, fsyncDirectory } from './fsync-dir';

export interface DurableFileOptions {
  /** Folder for the temporary file; on the same filesystem as the target. */
  incomingDir: string;
  /** Written first and not counted as the object (a Part 10 header). */
  leading?: Buffer;
  /** Bytes kept in memory from the start of the object, for header parsing. */
  keepPrefixBytes: number;
  /** Unwritten bytes above which a `backpressure` event says `true`. */
  backpressureBytes?: number;
}

/**
 * A Writable that streams an incoming object into a temporary file and,
 * only when asked, makes it durable under its final name: fsync the file,
 * rename it, fsync the directory. Until then nothing is visible under the
 * final name, so a crash leaves at most a stray temp file.
 */
export class DurableFile extends Writable {
  readonly tempPath: string;
  private handle?: FileHandle;
  private readonly prefixChunks: Buffer[] = [];
  private prefixLength = 0;
  private bytesWritten = 0;
  private behind = false;

  constructor(private readonly options: DurableFileOptions) {
    // The stream never says "full" to its writer: dcmjs-dimse mishandles a
    // `false` from write(), so back-pressure goes through a `backpressure`
    // event (true: disk behind, false: caught up).
    super({ highWaterMark: 1 << 30 });
    this.tempPath = join(options.incomingDir, `${randomUUID()}.part`);
  }

  override _construct(callback: (error?: Error | null) => void): void {
    const leading = this.options.leading ?? Buffer.alloc(0);
    open(this.tempPath, 'wx')
      .then(async (handle) => {
        this.handle = handle;
        if (leading.length > 0) await handle.write(leading);
      })
      .then(
        () => callback(),
        (error: Error) => callback(error),
      );
  }

  override write(chunk: Buffer, ...rest: never[]): boolean {
    const accepted = super.write(chunk, ...rest);
    this.checkBackpressure();
    return accepted;
  }

  override _writev(
    chunks: Array<{ chunk: Buffer }>,
    callback: (error?: Error | null) => void,
  ): void {
    const buffers = chunks.map((c) => c.chunk);
    for (const buffer of buffers) this.keepPrefix(buffer);
    this.handle!.writev(buffers).then(
      (result) => {
        this.bytesWritten += result.bytesWritten;
        this.checkBackpressure();
        callback();
      },
      (error: Error) => callback(error),
    );
  }

  /** Size of the file so far, in bytes, leading part included. */
  get sizeBytes(): number {
    return (this.options.leading?.length ?? 0) + this.bytesWritten;
  }

  /** Bytes of the file before the object (the leading part). */
  get objectOffset(): number {
    return this.options.leading?.length ?? 0;
  }

  /** The first bytes of the object (up to keepPrefixBytes). */
  prefix(): Buffer {
    return Buffer.concat(this.prefixChunks, this.prefixLength);
  }

  /** After finished(): true when the whole object is held in `prefix()`. */
  get prefixIsComplete(): boolean {
    return this.prefixLength === this.bytesWritten;
  }

  /**
   * Waits for all writes, flushes the data to disk and renames the file to
   * `finalPath`. The rename is durable only once the caller fsyncs the
   * folder (`fsyncDirectory`), which it may overlap with other work.
   */
  async publish(finalPath: string): Promise<void> {
    await this.finished();

    // fdatasync: the data and the size, without the timestamps fsync adds.
    await this.handle!.datasync();
    await this.handle!.close();
    this.handle = undefined;

    await ensureDurableDirectory(dirname(finalPath));
    await rename(this.tempPath, finalPath);
  }

  /** publish() then fsync of the folder: the file survives a power cut. */
  async commit(finalPath: string): Promise<void> {
    await this.publish(finalPath);
    await fsyncDirectory(dirname(finalPath));
  }

  /** Drops the temporary file; safe to call after a failed commit. */
  async discard(): Promise<void> {
    if (!this.writableFinished && !this.destroyed) this.destroy();
    await this.handle?.close().catch(() => undefined);
    this.handle = undefined;
    await unlink(this.tempPath).catch(() => undefined);
  }

  /** Resolves once every byte is in the file (not yet fsynced). */
  finished(): Promise<void> {
    if (this.writableFinished) return Promise.resolve();
    if (this.errored) return Promise.reject(this.errored);

    return new Promise((resolve, reject) => {
      this.once('finish', resolve);
      this.once('error', reject);
      if (!this.writableEnded) this.end();
    });
  }

  private keepPrefix(chunk: Buffer): void {
    const room = this.options.keepPrefixBytes - this.prefixLength;
    if (room <= 0) return;

    const kept = chunk.length <= room ? Buffer.from(chunk) : Buffer.from(chunk.subarray(0, room));
    this.prefixChunks.push(kept);
    this.prefixLength += kept.length;
  }

  private checkBackpressure(): void {
    const limit = this.options.backpressureBytes ?? 16 * 1024 * 1024;
    const behind = this.writableLength > limit;
    if (behind === this.behind) return;

    this.behind = behind;
    this.emit('backpressure', behind);
  }
}
