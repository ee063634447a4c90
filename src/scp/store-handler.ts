import type { Writable } from 'node:stream';

import type { Disposition } from './association-policy';
import type { StoreOutcome } from './statuses';

/** What the SCP knows about a C-STORE when its dataset starts to arrive. */
export interface StoreRequestContext {
  associationId: string;
  callingAeTitle: string;
  remoteAddress: string;
  /** AffectedSOPClassUID and AffectedSOPInstanceUID of the command. */
  sopClassUid: string;
  sopInstanceUid: string;
  transferSyntaxUid: string;
  disposition: Disposition;
}

/** One dataset on its way in: a stream for the bytes, then a verdict. */
export interface StoreSink {
  stream: Writable;
  /** Called once the last fragment arrived; resolves to the status to send. */
  finish(): Promise<StoreOutcome>;
  /** The association ended before the last fragment. */
  abandon(): Promise<void>;
}

/** Turns incoming C-STORE datasets into stored, recorded instances. */
export interface StoreHandler {
  open(context: StoreRequestContext): StoreSink;
}
