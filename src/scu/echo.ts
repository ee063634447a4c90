import { Client, requests, responses } from 'dcmjs-dimse';

import { PeerAddress, runAssociation } from './association';

/** C-ECHO (PS3.7 9.1.5): resolves to the status the peer answered. */
export async function cEcho(peer: PeerAddress): Promise<number | undefined> {
  const client = new Client();
  const request = new requests.CEchoRequest();
  let status: number | undefined;

  request.on('response', (response: responses.CEchoResponse) => {
    status = response.getStatus();
  });
  client.addRequest(request);

  await runAssociation(client, peer);
  return status;
}
