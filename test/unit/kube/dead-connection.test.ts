/**
 * A connection that goes silent (kube/client.ts, ANSWER_STALL): against a loopback HTTPS server that
 * can hold a request without ever answering it, as a connection dropped on the way does. A request
 * with no answer while nothing else comes back over the connection is given up, the connection is
 * closed and the request (safe to send twice) is sent again on a new one; a slow answer while other
 * requests are answered is waited for, up to the hard bound.
 */
import { afterEach, describe, expect, it } from '@jest/globals';
import { KubeConfig } from '@kubernetes/client-node';
import https from 'node:https';
import type { AddressInfo } from 'node:net';
import { ApiError, KubeClient } from '../../../src/kube/client.js';
import { createAuthority, issueCertificate } from '../../../src/pki/index.js';

const servers: https.Server[] = [];
const clients: KubeClient[] = [];
afterEach(async () => {
  for (const c of clients.splice(0)) await c.close().catch(() => undefined);
  for (const s of servers.splice(0)) {
    s.closeAllConnections();
    await new Promise((r) => s.close(r));
  }
});

const FAST_RETRY = { maxRetries: 3, maxRetryAfterMs: 1000, backoffBaseMs: 5, backoffMaxMs: 20 };

/** A server that holds requests to paths starting with /hold (never answered) and answers the rest. */
async function serve(slowMs = 0) {
  const ca = await createAuthority('dead-connection-test', 1);
  const pair = await issueCertificate(ca, { commonName: 'x', usage: 'server', ips: ['127.0.0.1'], days: 1 });
  const requests: { path: string; port: number }[] = [];
  const server = https.createServer({ cert: pair.cert, key: pair.key }, (req, res) => {
    requests.push({ path: req.url!, port: req.socket.remotePort! });
    req.resume();
    const answer = () => {
      res.writeHead(200, { 'Content-Type': 'application/json' });
      res.end(JSON.stringify({ kind: 'ConfigMap', metadata: { name: req.url } }));
    };
    // The first hold is never answered; a retry of it is.
    if (req.url!.startsWith('/hold') && requests.filter((r) => r.path === req.url).length === 1) return;
    if (req.url!.startsWith('/slow')) setTimeout(answer, slowMs);
    else answer();
  });
  servers.push(server);
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const kc = new KubeConfig();
  kc.loadFromOptions({
    clusters: [
      {
        name: 'c',
        server: `https://127.0.0.1:${(server.address() as AddressInfo).port}`,
        caData: Buffer.from(ca.cert).toString('base64'),
      },
    ],
    users: [{ name: 'u', token: 't' }],
    contexts: [{ name: 'x', cluster: 'c', user: 'u' }],
    currentContext: 'x',
  });
  const client = new KubeClient(kc, undefined, {
    retry: FAST_RETRY,
    stall: { idleMs: 300, maxMs: 3000 },
  });
  clients.push(client);
  return { client, requests };
}

describe('a connection that goes silent', () => {
  it('gives up a request nothing answers, closes the connection and sends it again on a new one', async () => {
    const { client, requests } = await serve();
    await client.get('/first'); // the connection is open and has answered
    const started = Date.now();
    expect(await client.get('/hold/a')).toMatchObject({ metadata: { name: '/hold/a' } });
    expect(Date.now() - started).toBeGreaterThanOrEqual(290);
    expect(Date.now() - started).toBeLessThan(2500);
    const holds = requests.filter((r) => r.path === '/hold/a');
    expect(holds).toHaveLength(2);
    expect(holds[1]!.port).not.toBe(holds[0]!.port);
  });

  it('fails a create whose answer never came: it may have been stored', async () => {
    const { client, requests } = await serve();
    let err: unknown;
    await client.request('POST', '/hold/b', { body: {} }).catch((e: unknown) => (err = e));
    expect(err).toBeInstanceOf(ApiError);
    expect((err as ApiError).reason).toBe('TransportError');
    expect((err as ApiError).message).toContain('nothing came back over the connection for 0.3s');
    expect(requests).toHaveLength(1);
  });

  it('waits for a slow answer while the connection answers other requests', async () => {
    const { client, requests } = await serve(900);
    const slow = client.get('/slow/c');
    const others = (async () => {
      for (let i = 0; i < 12; i++) {
        await client.get(`/other/${i}`);
        await new Promise((r) => setTimeout(r, 80));
      }
    })();
    expect(await slow).toMatchObject({ metadata: { name: '/slow/c' } });
    await others;
    expect(requests.filter((r) => r.path === '/slow/c')).toHaveLength(1);
  });
});
