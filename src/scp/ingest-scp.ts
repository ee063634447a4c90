import type { Socket } from 'node:net';

import {
  Dataset,
  Scp,
  association as dimseAssociation,
  constants,
  requests,
  responses,
} from 'dcmjs-dimse';

import type { Config } from '../config/schema';
import type { Logger } from '../log/logger';
import { Rejection, checkAeTitles, decideContext, Disposition } from './association-policy';
import { StoreStatus, errorComment } from './statuses';
import type { StoreHandler, StoreSink } from './store-handler';

type Association = dimseAssociation.Association;
type PresentationContext = dimseAssociation.PresentationContext;

/** State the listener shares with each association it hands over. */
export interface ScpEnvironment {
  config: Config['dicom'];
  handler: StoreHandler;
  log: Logger;
  associationId: string;
  /** Evaluated at A-ASSOCIATE-RQ: a reason to refuse for node-wide causes. */
  admission(): Rejection | undefined;
  /** In-flight stores, so a shutdown can wait for them. */
  trackStore(done: Promise<unknown>): void;
}

/**
 * The Storage and Verification SCP of one association (PS3.4 Annex A, B).
 * dcmjs-dimse drives the protocol; this class decides what to accept and
 * streams each dataset to a StoreSink instead of the library's in-memory
 * buffer.
 */
export class IngestScp extends Scp {
  private readonly dispositions = new Map<number, Disposition>();
  private sink?: StoreSink;
  private log: Logger;
  private callingAeTitle = '';

  constructor(
    private readonly connection: Socket,
    options: ConstructorParameters<typeof Scp>[1],
    private readonly env: ScpEnvironment,
  ) {
    super(connection, options);
    this.log = env.log;
    this.on('close', () => this.abandonSink());
  }

  override associationRequested(association: Association): void {
    const remote = this.remoteAddress();
    const calling = association.getCallingAeTitle();
    this.callingAeTitle = calling.trim();
    this.log = this.env.log.child({ callingAeTitle: calling.trim() });

    const rejection =
      this.env.admission() ??
      checkAeTitles(this.env.config, association.getCalledAeTitle(), calling, remote);
    if (rejection !== undefined) {
      this.log.warn('association rejected', { remote, ...rejection });
      this.sendAssociationReject(rejection.result, rejection.source, rejection.reason);
      return;
    }

    // The Maximum Length this node receives (PS3.8 D.1): the library takes
    // the smaller of this and its own default when it answers.
    association.setMaxPduLength(this.env.config.maxPduLengthBytes);

    for (const { context } of association.getPresentationContexts()) {
      this.decide(context);
    }
    this.log.info('association accepted', {
      remote,
      contexts: association.getPresentationContexts().length,
    });
    this.sendAssociationAccept();
  }

  private decide(context: PresentationContext): void {
    const Result = constants.PresentationContextResult;
    const decision = decideContext(
      this.env.config,
      context.getAbstractSyntaxUid(),
      context.getTransferSyntaxUids(),
    );

    if (decision.disposition === undefined) {
      context.setResult(Result.RejectAbstractSyntaxNotSupported);
    } else if (decision.transferSyntaxUid === undefined) {
      context.setResult(Result.RejectTransferSyntaxesNotSupported);
    } else {
      context.setResult(Result.Accept, decision.transferSyntaxUid);
      this.dispositions.set(context.getPresentationContextId(), decision.disposition);
    }
  }

  override associationReleaseRequested(): void {
    this.log.info('association released');
    this.sendAssociationReleaseResponse();
  }

  override cEchoRequest(
    request: requests.CEchoRequest,
    callback: (response: responses.CEchoResponse) => void,
  ): void {
    const response = responses.CEchoResponse.fromRequest(request);
    response.setStatus(constants.Status.Success);
    callback(response);
  }

  override createStoreWritableStream(
    context: PresentationContext,
    request: requests.CStoreRequest,
  ): ReturnType<Scp['createStoreWritableStream']> {
    const socket = this.connection;
    this.sink = this.env.handler.open({
      associationId: this.env.associationId,
      callingAeTitle: this.callingAeTitle,
      remoteAddress: this.remoteAddress(),
      sopClassUid: request.getAffectedSopClassUid(),
      sopInstanceUid: request.getAffectedSopInstanceUid(),
      transferSyntaxUid: context.getAcceptedTransferSyntaxUid() ?? '',
      disposition: this.dispositions.get(context.getPresentationContextId()) ?? 'drop',
    });

    // Back-pressure: stop reading the socket while the disk is behind.
    this.sink.stream.on('backpressure', (behind: boolean) =>
      behind ? socket.pause() : socket.resume(),
    );
    return this.sink.stream;
  }

  /**
   * The dataset went to disk, not to memory: the library only needs an
   * object to attach. The real verdict comes in cStoreRequest.
   */
  override createDatasetFromStoreWritableStream(
    _writable: unknown,
    context: PresentationContext,
    callback: (dataset: Dataset) => void,
  ): void {
    callback(new Dataset({}, context.getAcceptedTransferSyntaxUid()));
  }

  override cStoreRequest(
    request: requests.CStoreRequest,
    callback: (response: responses.CStoreResponse) => void,
  ): void {
    const sink = this.sink;
    this.sink = undefined;

    const respond = (status: number, comment?: string): void => {
      const response = responses.CStoreResponse.fromRequest(request);
      response.setStatus(status);
      if (comment !== undefined) response.setErrorComment(errorComment(comment));
      callback(response);
    };

    if (sink === undefined) {
      respond(StoreStatus.CannotUnderstand, 'C-STORE request without a data set');
      return;
    }

    const done = sink.finish().then(
      (outcome) => respond(outcome.status, outcome.errorComment),
      (error: unknown) => {
        // finish() reports expected faults as outcomes; this is a bug or
        // an environment fault, refused as out of resources, never a crash.
        this.log.error('store failed', { error: String(error) });
        respond(StoreStatus.OutOfResources, `store failed: ${String(error)}`);
      },
    );
    this.env.trackStore(done);
  }

  override abort(source: number, reason: number): void {
    this.log.warn('association aborted by peer', { source, reason });
    this.abandonSink();
    this.connection.destroy();
  }

  private abandonSink(): void {
    const sink = this.sink;
    this.sink = undefined;
    if (sink !== undefined) this.env.trackStore(sink.abandon());
  }

  private remoteAddress(): string {
    return this.connection.remoteAddress ?? 'unknown';
  }
}
