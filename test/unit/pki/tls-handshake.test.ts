import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { once } from 'node:events';
import type { AddressInfo } from 'node:net';
import tls from 'node:tls';
import {
  createAuthority,
  issueCertificate,
  serviceDnsNames,
  type Authority,
} from '../../../src/pki/index.js';

const SERVER_NAME = 'notification-manager-webhook.kubesphere-monitoring-system.svc';

let ca: Authority;
let server: tls.Server;
let port: number;

beforeAll(async () => {
  ca = await createAuthority('notification-manager-webhook-ca', 30);
  const serving = await issueCertificate(ca, {
    commonName: 'notification-manager-webhook',
    dnsNames: serviceDnsNames('notification-manager-webhook', 'kubesphere-monitoring-system'),
    usage: 'server',
    days: 30,
  });
  server = tls.createServer({ cert: serving.cert, key: serving.key, minVersion: 'TLSv1.2' }, (socket) => {
    socket.end('hello over tls');
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  port = (server.address() as AddressInfo).port;
});

afterAll(async () => {
  server.close();
  await once(server, 'close');
});

/** Connects as a client trusting only `trusted`; resolves with what the server sent. */
function fetchGreeting(trusted: string, servername: string): Promise<{ authorized: boolean; data: string }> {
  return new Promise((resolve, reject) => {
    const socket = tls.connect({ host: '127.0.0.1', port, servername, ca: [trusted] });
    let data = '';
    socket.setEncoding('utf8');
    socket.on('data', (chunk: string) => (data += chunk));
    socket.on('end', () => resolve({ authorized: socket.authorized, data }));
    socket.on('error', reject);
  });
}

describe('TLS with a serving pair from src/pki', () => {
  it('completes a verified handshake for the webhook Service name', async () => {
    const result = await fetchGreeting(ca.cert, SERVER_NAME);
    expect(result).toEqual({ authorized: true, data: 'hello over tls' });
  });

  it('fails when the client dials a name the certificate does not carry', async () => {
    await expect(
      fetchGreeting(ca.cert, 'notification-manager-webhook.other-namespace.svc'),
    ).rejects.toMatchObject({
      code: 'ERR_TLS_CERT_ALTNAME_INVALID',
    });
  });

  it('fails when the client trusts a different CA', async () => {
    const stranger = await createAuthority('stranger', 30);
    await expect(fetchGreeting(stranger.cert, SERVER_NAME)).rejects.toMatchObject({
      code: expect.stringMatching(/UNABLE_TO_VERIFY_LEAF_SIGNATURE|UNABLE_TO_GET_ISSUER_CERT_LOCALLY/),
    });
  });
});
