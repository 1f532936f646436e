/**
 * Retries inside a request (kube/retry.ts) against a local loopback HTTP server that answers as a
 * throttling or restarting API server does: 429 and 503 with and without Retry-After, connections
 * reset before an answer or cut in the middle of one, a port that refuses connections for a while.
 */
import { afterEach, describe, expect, it } from '@jest/globals';
import { KubeConfig } from '@kubernetes/client-node';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { ApiError, CONTENT_TYPE, KubeClient, type KubeClientOptions } from '../../../src/kube/client.js';
import {
  backoffMs,
  DEFAULT_RETRY,
  parseRetryAfter,
  retryDecision,
  type RetryAttempt,
} from '../../../src/kube/retry.js';

type Step =
  | { status: number; retryAfter?: string; body?: unknown }
  | 'reset' // the connection is destroyed once the request is read: no answer
  | 'cut'; // the headers and half a body are sent, then the connection is destroyed

const servers: http.Server[] = [];
const clients: KubeClient[] = [];
afterEach(async () => {
  for (const c of clients.splice(0)) await c.close();
  for (const s of servers.splice(0)) {
    s.closeAllConnections();
    await new Promise((r) => s.close(r));
  }
});

const FAST = { maxRetries: 10, maxRetryAfterMs: 10_000, backoffBaseMs: 5, backoffMaxMs: 20 };

function clientFor(port: number, options: KubeClientOptions): KubeClient {
  const kc = new KubeConfig();
  kc.loadFromOptions({
    clusters: [{ name: 'c', server: `http://127.0.0.1:${port}`, skipTLSVerify: true }],
    users: [{ name: 'u', token: 't' }],
    contexts: [{ name: 'x', cluster: 'c', user: 'u' }],
    currentContext: 'x',
  });
  const client = new KubeClient(kc, undefined, options);
  clients.push(client);
  return client;
}

/** Answers the requests in turn with `steps` (the last repeats); records what came in. */
async function serve(steps: Step[], options: KubeClientOptions = { retry: FAST }) {
  const requests: { method: string; at: number; body: string }[] = [];
  const server = http.createServer((req, res) => {
    let body = '';
    req.on('data', (c: Buffer) => (body += c.toString()));
    req.on('end', () => {
      requests.push({ method: req.method!, at: Date.now(), body });
      const step = steps.length > 1 ? steps.shift()! : steps[0]!;
      if (step === 'reset') return req.socket.destroy();
      if (step === 'cut') {
        res.writeHead(200, { 'Content-Type': 'application/json', 'Content-Length': '100' });
        res.write('{"kind":"Con');
        setTimeout(() => req.socket.destroy(), 10);
        return;
      }
      const headers: Record<string, string> = { 'Content-Type': 'application/json' };
      if (step.retryAfter !== undefined) headers['Retry-After'] = step.retryAfter;
      res.writeHead(step.status, headers);
      res.end(
        JSON.stringify(
          step.body ??
            (step.status >= 400
              ? {
                  kind: 'Status',
                  code: step.status,
                  reason: reasonOf(step.status),
                  message: messageOf(step.status),
                }
              : { kind: 'ConfigMap', metadata: { name: 'x' } }),
        ),
      );
    });
  });
  servers.push(server);
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const retries: RetryAttempt[] = [];
  const client = clientFor((server.address() as AddressInfo).port, {
    ...options,
    onRetry: (a) => retries.push(a),
  });
  return { client, requests, retries };
}

const reasonOf = (s: number) =>
  s === 429 ? 'TooManyRequests' : s === 503 ? 'ServiceUnavailable' : 'InternalError';
const messageOf = (s: number) =>
  s === 429
    ? 'storage is (re)initializing'
    : s === 503
      ? 'the server is currently unable to handle the request'
      : 'boom';

async function failure(p: Promise<unknown>): Promise<ApiError> {
  try {
    await p;
  } catch (err) {
    expect(err).toBeInstanceOf(ApiError);
    return err as ApiError;
  }
  throw new Error('the request succeeded');
}

describe('retries inside a request', () => {
  it('waits the Retry-After of a 429 "storage is (re)initializing" and then succeeds, for a create too', async () => {
    const { client, requests, retries } = await serve([{ status: 429, retryAfter: '1' }, { status: 201 }]);
    const started = Date.now();
    const res = await client.requestWithStatus('POST', '/api/v1/namespaces/a/configmaps', { body: { a: 1 } });
    expect(res.status).toBe(201);
    expect(requests.map((r) => r.method)).toEqual(['POST', 'POST']);
    expect(requests[1]!.at - requests[0]!.at).toBeGreaterThanOrEqual(990);
    expect(Date.now() - started).toBeLessThan(3000);
    expect(retries).toEqual([
      expect.objectContaining({ attempt: 1, delayMs: 1000, reason: 'retry-after', method: 'POST' }),
    ]);
    expect(retries[0]!.error).toContain('storage is (re)initializing');
  });

  it('retries a 503 with Retry-After, and caps a long Retry-After', async () => {
    const { client, requests } = await serve([{ status: 503, retryAfter: '120' }, { status: 200 }], {
      retry: { ...FAST, maxRetryAfterMs: 50 },
    });
    const started = Date.now();
    await client.get('/api/v1/namespaces/a/configmaps/x');
    expect(requests).toHaveLength(2);
    expect(Date.now() - started).toBeLessThan(2000);
  });

  it('backs off on a 429 without Retry-After, growing', async () => {
    const { client, requests, retries } = await serve([
      { status: 429 },
      { status: 429 },
      { status: 429 },
      { status: 200 },
    ]);
    await client.get('/api/v1/namespaces/a/configmaps/x');
    expect(requests).toHaveLength(4);
    expect(retries.map((r) => r.reason)).toEqual(['throttled', 'throttled', 'throttled']);
    expect(retries[2]!.delayMs).toBeGreaterThan(retries[0]!.delayMs);
  });

  it('gives up after 10 retries with the last answer', async () => {
    const { client, requests } = await serve([{ status: 429, retryAfter: '0' }]);
    const err = await failure(client.get('/api/v1/namespaces/a/configmaps/x'));
    expect(err.status).toBe(429);
    expect(err.message).toContain('storage is (re)initializing');
    expect(requests).toHaveLength(11);
  });

  it('does not retry a 503 without Retry-After, nor other errors', async () => {
    for (const status of [503, 500, 422, 404]) {
      const { client, requests } = await serve([{ status }]);
      expect((await failure(client.get('/x'))).status).toBe(status);
      expect(requests).toHaveLength(1);
    }
  });

  it('retries reads and applies whose connection was reset or cut mid-answer', async () => {
    const read = await serve(['reset', 'cut', 'reset', { status: 200 }]);
    expect(await read.client.get('/api/v1/namespaces/a/configmaps/x')).toMatchObject({ kind: 'ConfigMap' });
    expect(read.requests).toHaveLength(4);
    expect(read.retries.map((r) => r.reason)).toEqual(['transport', 'transport', 'transport']);

    const apply = await serve(['reset', { status: 200 }]);
    await apply.client.request('PATCH', '/api/v1/namespaces/a/configmaps/x', {
      body: '{}',
      contentType: CONTENT_TYPE.apply,
      query: { fieldManager: 'ks-installer', force: true },
    });
    expect(apply.requests.map((r) => r.method)).toEqual(['PATCH', 'PATCH']);

    const dryRun = await serve(['reset', { status: 201 }]);
    await dryRun.client.request('POST', '/api/v1/namespaces/a/configmaps', {
      body: {},
      query: { dryRun: 'All' },
    });
    expect(dryRun.requests).toHaveLength(2);
  });

  it('does not send again a create, an update, a JSON patch or a delete that may have reached the server', async () => {
    for (const [method, contentType] of [
      ['POST', undefined],
      ['PUT', undefined],
      ['PATCH', CONTENT_TYPE.jsonPatch],
      ['DELETE', undefined],
    ] as const) {
      const { client, requests } = await serve(['reset', { status: 200 }]);
      const err = await failure(
        client.request(method, '/api/v1/namespaces/a/configmaps/x', { body: {}, contentType }),
      );
      expect(err.reason).toBe('TransportError');
      expect(requests).toHaveLength(1);
    }
  });

  it('sends a create again when the connection was refused (it never left)', async () => {
    // A port that refuses connections until a server listens on it 300 ms later.
    const probe = http.createServer();
    await new Promise<void>((r) => probe.listen(0, '127.0.0.1', r));
    const port = (probe.address() as AddressInfo).port;
    await new Promise((r) => probe.close(r));
    const retries: RetryAttempt[] = [];
    const client = clientFor(port, {
      retry: { ...FAST, backoffBaseMs: 50, backoffMaxMs: 100 },
      onRetry: (a) => retries.push(a),
    });
    let created = 0;
    const late = http.createServer((req, res) => {
      req.resume();
      req.on('end', () => {
        created++;
        res.writeHead(201, { 'Content-Type': 'application/json' });
        res.end('{"kind":"ConfigMap"}');
      });
    });
    servers.push(late);
    setTimeout(() => late.listen(port, '127.0.0.1'), 300);
    const res = await client.requestWithStatus('POST', '/api/v1/namespaces/a/configmaps', { body: {} });
    expect(res.status).toBe(201);
    expect(created).toBe(1);
    expect(retries.length).toBeGreaterThan(0);
    expect(retries[0]!.error).toContain('ECONNREFUSED');
  });

  it('respects the deadline: no retry whose wait would end after it', async () => {
    const { client, requests } = await serve([{ status: 429, retryAfter: '5' }, { status: 200 }]);
    const started = Date.now();
    const err = await failure(client.get('/x', { deadline: Date.now() + 1000 }));
    expect(err.status).toBe(429);
    expect(requests).toHaveLength(1);
    expect(Date.now() - started).toBeLessThan(900);
  });

  it('respects the signal: an abort during the wait ends the request', async () => {
    const { client, requests } = await serve([{ status: 429, retryAfter: '5' }, { status: 200 }]);
    const controller = new AbortController();
    setTimeout(() => controller.abort(), 200);
    const started = Date.now();
    const err = await failure(client.get('/x', { signal: controller.signal }));
    expect(err.status).toBe(429);
    expect(requests).toHaveLength(1);
    expect(Date.now() - started).toBeLessThan(1500);
  });
});

describe('retryDecision', () => {
  const base = { idempotent: false, retryAfter: null, sent: 'answered', attempt: 0 } as const;
  it('follows client-go: Retry-After honoured for any method, capped; the tenth retry is the last', () => {
    expect(retryDecision(DEFAULT_RETRY, { ...base, status: 429, retryAfter: '3' })).toEqual({
      delayMs: 3000,
      reason: 'retry-after',
    });
    expect(retryDecision(DEFAULT_RETRY, { ...base, status: 503, retryAfter: '600' })?.delayMs).toBe(10_000);
    expect(retryDecision(DEFAULT_RETRY, { ...base, status: 429, retryAfter: '1', attempt: 9 })).toBeDefined();
    expect(
      retryDecision(DEFAULT_RETRY, { ...base, status: 429, retryAfter: '1', attempt: 10 }),
    ).toBeUndefined();
    expect(retryDecision(DEFAULT_RETRY, { ...base, status: 0, sent: 'maybe' })).toBeUndefined();
    expect(retryDecision(DEFAULT_RETRY, { ...base, status: 0, sent: 'no' })?.reason).toBe('transport');
  });

  it('reads Retry-After as seconds or an HTTP date', () => {
    expect(parseRetryAfter('2')).toBe(2000);
    expect(parseRetryAfter(new Date(10_000).toUTCString(), 4_000)).toBe(6000);
    expect(parseRetryAfter('soon')).toBeUndefined();
    expect(parseRetryAfter(null)).toBeUndefined();
  });

  it('backs off from the base, doubling, to the cap, with at most 20% jitter', () => {
    expect([0, 1, 2, 3, 10].map((n) => backoffMs(DEFAULT_RETRY, n, () => 0))).toEqual([
      250, 500, 1000, 2000, 5000,
    ]);
    expect(backoffMs(DEFAULT_RETRY, 0, () => 1)).toBe(300);
  });
});
