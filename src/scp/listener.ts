import { randomBytes } from 'node:crypto';
import { AddressInfo, Server, Socket, createServer } from 'node:net';

import { log as dimseLog } from 'dcmjs-dimse';

import type { Config } from '../config/schema';
import type { Logger } from '../log/logger';
import { Reject } from './association-policy';
import { IngestScp } from './ingest-scp';
import { PduGuard, PduLengthError } from './pdu-guard';
import type { StoreHandler } from './store-handler';

/**
 * The DICOM port of the node: one IngestScp per TCP connection, with the
 * association limit, PDU length guard and graceful stop that dcmjs-dimse's
 * own Server lacks.
 */
export class DicomListener {
  private server?: Server;
  private readonly connections = new Map<Socket, IngestScp>();
  private readonly inFlight = new Set<Promise<unknown>>();
  private stopping = false;

  constructor(
    private readonly config: Config['dicom'],
    private readonly handler: StoreHandler,
    private readonly log: Logger,
  ) {}

  /** Starts listening; resolves to the bound port (useful with port 0). */
  async start(): Promise<number> {
    // dcmjs-dimse prints every PDU to the console in plain text; the node
    // logs its own JSON lines instead. Set here, when the node starts,
    // because loglevel is process-wide.
    dimseLog.setLevel('silent');

    const server = createServer((socket) => this.accept(socket));
    this.server = server;

    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(this.config.port, this.config.host, () => {
        server.off('error', reject);
        resolve();
      });
    });
    server.on('error', (error) => this.log.error('listener error', { error: String(error) }));
    return (server.address() as AddressInfo).port;
  }

  get associationCount(): number {
    return this.connections.size;
  }

  /**
   * Stops accepting associations, lets in-flight stores finish (each one
   * answered only after its commit), then closes the remaining connections.
   */
  async stop(graceMs: number): Promise<void> {
    this.stopping = true;
    const closed = new Promise<void>((resolve) => {
      if (this.server === undefined) resolve();
      else this.server.close(() => resolve());
    });

    const deadline = new Promise((resolve) => setTimeout(resolve, graceMs).unref());
    await Promise.race([Promise.allSettled([...this.inFlight]), deadline]);

    for (const socket of this.connections.keys()) socket.destroy();
    await closed;
  }

  private accept(socket: Socket): void {
    const associationId = randomBytes(4).toString('hex');
    const log = this.log.child({ associationId });
    socket.setNoDelay(true);

    const scp = new IngestScp(
      socket,
      {
        associationTimeout: this.config.associationIdleSeconds * 1000,
        pduTimeout: this.config.associationIdleSeconds * 1000,
        connectTimeout: this.config.associationIdleSeconds * 1000,
      },
      {
        config: this.config,
        handler: this.handler,
        log,
        associationId,
        admission: () => this.admission(),
        trackStore: (done) => this.track(done),
      },
    );
    this.connections.set(socket, scp);
    this.guardPduLength(socket, scp, log);

    scp.on('networkError', (error: Error) => {
      log.warn('association ended on a network error', { error: error.message });
      socket.destroy();
    });
    socket.on('close', () => this.connections.delete(socket));
  }

  private admission() {
    if (this.stopping) return Reject.temporaryCongestion();
    if (this.connections.size > this.config.maxAssociations) {
      return Reject.localLimitExceeded(this.config.maxAssociations);
    }
    return undefined;
  }

  private guardPduLength(socket: Socket, scp: IngestScp, log: Logger): void {
    const guard = new PduGuard(this.config.maxPduLengthBytes);
    socket.prependListener('data', (data: Buffer) => {
      try {
        guard.inspect(data);
      } catch (error) {
        if (!(error instanceof PduLengthError)) throw error;

        // A-ABORT from the service provider, invalid PDU parameter value
        // (PS3.8 9.3.8, reason 6).
        log.warn('association aborted', { error: error.message });
        scp.sendAbort(2, 6);
        socket.destroy();
      }
    });
  }

  private track(done: Promise<unknown>): void {
    this.inFlight.add(done);
    void done.finally(() => this.inFlight.delete(done));
  }
}
