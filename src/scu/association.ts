import { Client, log as dimseLog } from 'dcmjs-dimse';

/** Where an SCU sends to, and as whom. */
export interface PeerAddress {
  host: string;
  port: number;
  calledAeTitle: string;
  callingAeTitle: string;
  timeoutSeconds?: number;
}

/** An association that was refused or broke before its requests finished. */
export class AssociationError extends Error {
  override name = 'AssociationError';
}

/**
 * Runs one association with the requests already added to `client` and
 * resolves when it is closed. Rejected associations and network errors
 * reject with AssociationError naming the peer.
 */
export function runAssociation(client: Client, peer: PeerAddress): Promise<void> {
  // The library prints every PDU to the console otherwise (process-wide
  // setting; set by the commands that use it).
  dimseLog.setLevel('silent');
  const where = `${peer.calledAeTitle}@${peer.host}:${peer.port}`;

  return new Promise((resolve, reject) => {
    let failure: Error | undefined;
    client.on(
      'associationRejected',
      (rejection: { result: number; source: number; reason: number }) => {
        failure = new AssociationError(
          `association rejected by ${where}: result ${rejection.result}, ` +
            `source ${rejection.source}, reason ${rejection.reason}`,
        );
      },
    );
    client.on('networkError', (error: Error) => {
      failure ??= new AssociationError(`network error with ${where}: ${error.message}`, {
        cause: error,
      });
    });
    client.on('closed', () => (failure === undefined ? resolve() : reject(failure)));

    const timeoutMs = (peer.timeoutSeconds ?? 30) * 1000;
    client.send(peer.host, peer.port, peer.callingAeTitle, peer.calledAeTitle, {
      connectTimeout: timeoutMs,
      associationTimeout: timeoutMs,
      pduTimeout: timeoutMs,
    });
  });
}
