import type { Config } from '../config/schema';
import {
  COMPRESSED_SYNTAXES,
  CT_SYNTAXES,
  ExplicitVrLittleEndian,
  ImplicitVrLittleEndian,
  STORAGE_CLASS_ROOT,
  SopClass,
} from './syntaxes';

/** A-ASSOCIATE-RJ parameters (PS3.8 9.3.4). */
export interface Rejection {
  result: 1 | 2; // 1 rejected-permanent, 2 rejected-transient
  source: 1 | 2 | 3; // service user, ACSE provider, presentation provider
  reason: number;
  why: string;
}

export const Reject = {
  calledAeNotRecognized: (aet: string): Rejection => ({
    result: 1,
    source: 1,
    reason: 7,
    why: `called AE title ${JSON.stringify(aet)} is not this node`,
  }),
  callingAeNotRecognized: (aet: string, host: string): Rejection => ({
    result: 1,
    source: 1,
    reason: 3,
    why: `calling AE title ${JSON.stringify(aet)} from ${host} is not allowed`,
  }),
  localLimitExceeded: (limit: number): Rejection => ({
    result: 2,
    source: 3,
    reason: 2,
    why: `already ${limit} associations (dicom.maxAssociations)`,
  }),
  temporaryCongestion: (): Rejection => ({
    result: 2,
    source: 3,
    reason: 1,
    why: 'node is shutting down',
  }),
};

/** Compares AE titles as PS3.5 6.2 says: leading and trailing spaces are not significant. */
function sameAe(a: string, b: string): boolean {
  return a.trim() === b.trim();
}

/** IPv4 peers arrive as `::ffff:a.b.c.d` on a dual-stack socket. */
function sameHost(allowed: string, remote: string): boolean {
  return allowed === remote || `::ffff:${allowed}` === remote;
}

/** The reason to refuse an association, or undefined to accept it. */
export function checkAeTitles(
  config: Config['dicom'],
  calledAeTitle: string,
  callingAeTitle: string,
  remoteAddress: string,
): Rejection | undefined {
  if (!sameAe(calledAeTitle, config.aeTitle)) return Reject.calledAeNotRecognized(calledAeTitle);

  const allowed = config.allowedCallingAes;
  if (allowed.length === 0) return undefined;

  const match = allowed.some(
    (entry) =>
      sameAe(entry.aeTitle, callingAeTitle) &&
      (entry.host === undefined || sameHost(entry.host, remoteAddress)),
  );
  return match ? undefined : Reject.callingAeNotRecognized(callingAeTitle, remoteAddress);
}

/** What happens to the instances of one presentation context. */
export type Disposition = 'keep' | 'drop';

export interface ContextDecision {
  /** Undefined: the abstract syntax is refused (PS3.8 9.3.3.2 result 3). */
  disposition?: Disposition;
  /** Undefined with a disposition: no proposed syntax is acceptable (result 4). */
  transferSyntaxUid?: string;
}

function isCt(sopClassUid: string): boolean {
  return sopClassUid === SopClass.CtImageStorage || sopClassUid === SopClass.EnhancedCtImageStorage;
}

/**
 * Chooses the first proposed syntax the node accepts, so a compressed CT
 * arrives as the sender holds it (no transcoding on either side).
 */
function pick(proposed: string[], acceptable: readonly string[]): string | undefined {
  return proposed.find((uid) => acceptable.includes(uid));
}

export function decideContext(
  config: Config['dicom'],
  abstractSyntaxUid: string,
  proposedSyntaxes: string[],
): ContextDecision {
  if (abstractSyntaxUid === SopClass.Verification) {
    return {
      disposition: 'drop',
      transferSyntaxUid: pick(proposedSyntaxes, [ExplicitVrLittleEndian, ImplicitVrLittleEndian]),
    };
  }

  if (isCt(abstractSyntaxUid)) {
    return { disposition: 'keep', transferSyntaxUid: pick(proposedSyntaxes, CT_SYNTAXES) };
  }

  if (!abstractSyntaxUid.startsWith(STORAGE_CLASS_ROOT)) return {};
  if (config.otherStorageClasses === 'reject') return {};

  // Kept or dropped, the node never decodes these, so any syntax a PACS
  // offers that dcmjs-dimse can frame is fine.
  const anyKnown = [ExplicitVrLittleEndian, ImplicitVrLittleEndian, ...COMPRESSED_SYNTAXES];
  return {
    disposition: config.otherStorageClasses === 'accept-and-keep' ? 'keep' : 'drop',
    transferSyntaxUid: pick(proposedSyntaxes, anyKnown),
  };
}
