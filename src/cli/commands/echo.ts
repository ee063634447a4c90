import { Command } from 'commander';

import { cEcho } from '../../scu/echo';
import { UsageError } from '../errors';
import { numberFlag } from './serve';

interface PeerFlags {
  host: string;
  port: number;
  aet: string;
  callingAet: string;
  timeoutSeconds: number;
}

/** --host/--port/--aet/--calling-aet, shared by echo and send. */
export function addPeerOptions(command: Command): Command {
  return command
    .option('--host <host>', 'peer host name or address', '127.0.0.1')
    .option('--port <n>', 'peer DICOM port', numberFlag('--port'), 11112)
    .option('--aet <aet>', 'called AE title of the peer', 'CT3DFLOW')
    .option('--calling-aet <aet>', 'our calling AE title', 'CT3DFLOW_SCU')
    .option(
      '--timeout-seconds <s>',
      'connect and PDU timeout',
      numberFlag('--timeout-seconds'),
      30,
    );
}

export function peerFrom(flags: PeerFlags) {
  if (!Number.isInteger(flags.port) || flags.port < 1 || flags.port > 65535) {
    throw new UsageError(`--port: ${flags.port} is not a TCP port (1-65535)`);
  }
  return {
    host: flags.host,
    port: flags.port,
    calledAeTitle: flags.aet,
    callingAeTitle: flags.callingAet,
    timeoutSeconds: flags.timeoutSeconds,
  };
}

async function echo(flags: PeerFlags): Promise<void> {
  const peer = peerFrom(flags);
  const status = await cEcho(peer);

  const shown = status === undefined ? 'no response' : `0x${status.toString(16).padStart(4, '0')}`;
  process.stdout.write(`C-ECHO ${peer.calledAeTitle}@${peer.host}:${peer.port}: ${shown}\n`);
  if (status !== 0) process.exitCode = 1;
}

export function registerEcho(program: Command): void {
  addPeerOptions(
    program.command('echo').description('C-ECHO a DICOM node (verification, PS3.4 Annex A)'),
  ).action(echo);
}
