import { afterEach, describe, expect, it } from '@jest/globals';
import { Agent, request } from 'node:http';
import { connect } from 'node:net';
import { Counter, Registry } from 'prom-client';
import { healthRoutes, metricsRoutes, startHttpServer } from '../../../src/observe/http.js';
import type { HealthRouteOptions } from '../../../src/observe/http.js';
import type { RunningServer } from '../../../src/observe/http.js';

interface Answer {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: string;
}

function get(port: number, path: string, options: { method?: string; agent?: Agent } = {}): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const req = request(
      { host: '127.0.0.1', port, path, method: options.method ?? 'GET', agent: options.agent },
      (res) => {
        let body = '';
        res.setEncoding('utf8');
        res.on('data', (chunk: string) => (body += chunk));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body }));
      },
    );
    req.on('error', reject);
    req.end();
  });
}

const started: RunningServer[] = [];
async function start(server: Promise<RunningServer | null>): Promise<RunningServer> {
  const running = await server;
  if (!running) throw new Error('server disabled');
  started.push(running);
  return running;
}

const clients: { destroy(): void }[] = [];

afterEach(async () => {
  // Clients first: should a close() under test hang, this still lets the servers stop.
  for (const client of clients.splice(0)) client.destroy();
  await Promise.all(started.splice(0).map((s) => s.close()));
});

/** The operator's health server: the health routes on their own address. */
function startHealthServer(options: HealthRouteOptions & { address: string }) {
  return startHttpServer({ address: options.address, routes: healthRoutes(options) });
}

describe('health server', () => {
  it('answers /healthz and /readyz, verbose or not, 200 or 503', async () => {
    let ready = false;
    const server = await start(
      startHealthServer({
        address: '127.0.0.1:0',
        checks: {
          healthz: () => ({ ok: true }),
          readyz: {
            leader: () => ({ ok: true }),
            synced: () => (ready ? { ok: true } : { ok: false, reason: 'initial list not done' }),
          },
        },
      }),
    );
    expect(server.port).toBeGreaterThan(0);
    expect(server.address).toBe(`127.0.0.1:${server.port}`);

    const healthz = await get(server.port, '/healthz');
    expect(healthz.status).toBe(200);
    expect(healthz.body).toBe('ok');
    expect(healthz.headers['content-type']).toBe('text/plain; charset=utf-8');

    const notReady = await get(server.port, '/readyz');
    expect(notReady.status).toBe(503);
    expect(notReady.body).toBe('[-]synced failed: initial list not done\nreadyz check failed\n');

    ready = true;
    expect(await get(server.port, '/readyz')).toMatchObject({ status: 200, body: 'ok' });
    expect(await get(server.port, '/readyz?verbose')).toMatchObject({
      status: 200,
      body: '[+]leader ok\n[+]synced ok\nreadyz check passed\n',
    });
    expect(await get(server.port, '/healthz?verbose')).toMatchObject({
      status: 200,
      body: '[+]healthz ok\nhealthz check passed\n',
    });
  });

  it('answers 404 for unknown paths, 405 for other methods, HEAD without a body', async () => {
    const server = await start(
      startHealthServer({
        address: '127.0.0.1:0',
        checks: { healthz: () => ({ ok: true }), readyz: () => ({ ok: true }) },
      }),
    );
    expect((await get(server.port, '/nope')).status).toBe(404);
    const post = await get(server.port, '/healthz', { method: 'POST' });
    expect(post.status).toBe(405);
    expect(post.headers['allow']).toBe('GET, HEAD');
    const head = await get(server.port, '/healthz', { method: 'HEAD' });
    expect(head.status).toBe(200);
    expect(head.body).toBe('');
    expect(head.headers['content-length']).toBe('2');
  });

  it('is disabled by address 0', async () => {
    expect(
      await startHealthServer({
        address: '0',
        checks: { healthz: () => ({ ok: true }), readyz: () => ({ ok: true }) },
      }),
    ).toBeNull();
  });
});

describe('metrics server', () => {
  it('serves the registry in the text format 0.0.4', async () => {
    const registry = new Registry();
    const runs = new Counter({
      name: 'demo_runs_total',
      help: 'Runs.',
      labelNames: ['result'],
      registers: [registry],
    });
    const server = await start(startHttpServer({ address: '127.0.0.1:0', routes: metricsRoutes(registry) }));
    runs.inc({ result: 'success' });
    const answer = await get(server.port, '/metrics');
    expect(answer.status).toBe(200);
    expect(answer.headers['content-type']).toBe('text/plain; version=0.0.4; charset=utf-8');
    expect(answer.body).toBe(await registry.metrics());
    expect(answer.body).toContain('demo_runs_total{result="success"} 1\n');
  });
});

describe('generic server', () => {
  it('answers 500 when a handler throws and tells onError', async () => {
    const errors: unknown[] = [];
    const server = await start(
      startHttpServer({
        address: '127.0.0.1:0',
        routes: {
          '/boom': () => {
            throw new Error('broken');
          },
        },
        onError: (err) => errors.push(err),
      }),
    );
    expect(await get(server.port, '/boom')).toMatchObject({ status: 500, body: 'internal error\n' });
    expect(errors).toHaveLength(1);
  });

  it('reports a port already in use', async () => {
    const first = await start(startHttpServer({ address: '127.0.0.1:0', routes: {} }));
    await expect(startHttpServer({ address: `127.0.0.1:${first.port}`, routes: {} })).rejects.toThrow(
      /cannot listen on 127\.0\.0\.1:\d+: .*EADDRINUSE/,
    );
  });

  it('closes with a keep-alive client still connected', async () => {
    const server = await startHttpServer({
      address: '127.0.0.1:0',
      routes: { '/x': () => ({ status: 200, body: 'x' }) },
    });
    if (!server) throw new Error('server disabled');
    const agent = new Agent({ keepAlive: true, keepAliveMsecs: 60_000 });
    clients.push(agent);
    try {
      const first = await get(server.port, '/x', { agent });
      expect(first.headers['connection']).toBe('keep-alive');
      const sockets = Object.values(agent.freeSockets).flat();
      expect(sockets).toHaveLength(1);
      const socketClosed = new Promise<void>((resolve) => sockets[0]?.once('close', () => resolve()));

      // close() resolves only once the server has no connections left, so resolving proves the
      // idle keep-alive connection was ended by the server rather than waited for.
      await server.close();
      await socketClosed;
      await expect(get(server.port, '/x')).rejects.toThrow(/ECONNREFUSED/);
      await server.close();
    } finally {
      agent.destroy();
    }
  });

  it('closes with a client in the middle of a request', async () => {
    const server = await startHttpServer({
      address: '127.0.0.1:0',
      routes: { '/x': () => ({ status: 200, body: 'x' }) },
    });
    if (!server) throw new Error('server disabled');
    const socket = connect(server.port, '127.0.0.1');
    clients.push(socket);
    try {
      await new Promise<void>((resolve, reject) => {
        socket.once('connect', () => resolve());
        socket.once('error', reject);
      });
      const socketClosed = new Promise<void>((resolve) => socket.once('close', () => resolve()));
      // Headers not finished: the connection is busy, not idle, so only ending it lets close() finish.
      socket.write('GET /x HTTP/1.1\r\nHost: localhost\r\n');
      await new Promise((resolve) => setTimeout(resolve, 50));
      await server.close();
      await socketClosed;
    } finally {
      socket.destroy();
    }
  });
});
