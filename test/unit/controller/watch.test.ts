/**
 * The single-object watcher against a scripted HTTP server: the failure modes a real API server
 * produces rarely and at random (410 Gone after compaction, 5xx, a stream that goes silent) are
 * played on demand here, through the same KubeClient the operator uses.
 */
import { afterEach, describe, expect, it } from '@jest/globals';
import { KubeConfig } from '@kubernetes/client-node';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { ObjectWatcher, type ObjectEvent } from '../../../src/controller/watch.js';
import { KubeClient, type KubeObject } from '../../../src/kube/client.js';
import { silentLogger } from '../../../src/observe/logger.js';

type Step = (req: http.IncomingMessage, res: http.ServerResponse) => void;

const PATH = '/apis/installer.kubesphere.io/v1alpha1/namespaces/ns/clusterconfigurations';
const cc = (rv: string, spec: Record<string, unknown> = {}): KubeObject => ({
  apiVersion: 'installer.kubesphere.io/v1alpha1',
  kind: 'ClusterConfiguration',
  metadata: { name: 'ks-installer', namespace: 'ns', resourceVersion: rv },
  spec,
});

const list =
  (rv: string, items: KubeObject[]): Step =>
  (_req, res) => {
    res.writeHead(200, { 'Content-Type': 'application/json' });
    res.end(JSON.stringify({ apiVersion: 'v1', kind: 'List', metadata: { resourceVersion: rv }, items }));
  };
const stream =
  (lines: unknown[], keepOpen = false): Step =>
  (_req, res) => {
    res.writeHead(200, { 'Content-Type': 'application/json' });
    for (const l of lines) res.write(`${JSON.stringify(l)}\n`);
    if (!keepOpen) res.end();
  };
const status =
  (code: number): Step =>
  (_req, res) => {
    res.writeHead(code, { 'Content-Type': 'application/json' });
    res.end(
      JSON.stringify({
        kind: 'Status',
        status: 'Failure',
        code,
        reason: code === 410 ? 'Expired' : 'InternalError',
        message: `HTTP ${code}`,
      }),
    );
  };

async function serve(steps: Step[]) {
  const requests: string[] = [];
  const server = http.createServer((req, res) => {
    requests.push(req.url!);
    const step = steps.shift();
    if (step) step(req, res);
    else {
      res.writeHead(200, { 'Content-Type': 'application/json' });
      // Idle: an open stream with nothing in it.
    }
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const port = (server.address() as AddressInfo).port;
  const kc = new KubeConfig();
  kc.loadFromOptions({
    clusters: [{ name: 'c', server: `http://127.0.0.1:${port}`, skipTLSVerify: true }],
    users: [{ name: 'u', token: 't' }],
    contexts: [{ name: 'x', cluster: 'c', user: 'u' }],
    currentContext: 'x',
  });
  return {
    requests,
    client: new KubeClient(kc),
    close: () =>
      new Promise((r) => {
        server.closeAllConnections();
        server.close(r);
      }),
  };
}

let cleanup: (() => Promise<unknown>)[] = [];
afterEach(async () => {
  for (const c of cleanup.reverse()) await c();
  cleanup = [];
});

async function watchWith(steps: Step[], opts: { watchdogMs?: number } = {}) {
  const srv = await serve(steps);
  const events: ObjectEvent<KubeObject>[] = [];
  const restarts: string[] = [];
  const watcher = new ObjectWatcher(
    srv.client,
    {
      collectionPath: PATH,
      name: 'ks-installer',
      logger: silentLogger,
      backoff: { initialMs: 20, maxMs: 80 },
      onRestart: (r) => restarts.push(r),
      ...opts,
    },
    (e) => events.push(e),
  );
  watcher.start();
  cleanup.push(
    () => srv.close(),
    () => watcher.stop(),
  );
  return { events, restarts, requests: srv.requests };
}

async function until(fn: () => boolean, ms = 3000): Promise<void> {
  const end = Date.now() + ms;
  while (!fn()) {
    if (Date.now() > end) throw new Error('condition not reached');
    await new Promise((r) => setTimeout(r, 10));
  }
}

describe('ObjectWatcher', () => {
  it('lists, then watches from the list resourceVersion with a name field selector', async () => {
    const w = await watchWith([
      list('10', [cc('10')]),
      stream([{ type: 'MODIFIED', object: cc('11', { a: 1 }) }], true),
    ]);
    await until(() => w.events.length === 2);
    expect(w.events.map((e) => e.type)).toEqual(['SYNC', 'MODIFIED']);
    expect(w.requests[0]).toContain('fieldSelector=metadata.name%3Dks-installer');
    expect(w.requests[1]).toContain('watch=true');
    expect(w.requests[1]).toContain('resourceVersion=10');
    expect(w.requests[1]).toContain('allowWatchBookmarks=true');
  });

  it('relists after 410 Gone, from a status response or an ERROR event', async () => {
    const w = await watchWith([
      list('10', [cc('10')]),
      status(410),
      list('20', [cc('20')]),
      stream([
        {
          type: 'ERROR',
          object: { kind: 'Status', code: 410, reason: 'Expired', message: 'too old resource version' },
        },
      ]),
      list('30', [cc('30')]),
      stream([], true),
    ]);
    await until(() => w.events.filter((e) => e.type === 'SYNC').length === 3);
    expect(w.restarts).toEqual(['gone', 'gone']);
    expect(w.requests.filter((r) => !r.includes('watch=true'))).toHaveLength(3);
  });

  it('resumes from the last resourceVersion after a closed stream and a bookmark', async () => {
    const w = await watchWith([
      list('10', [cc('10')]),
      stream([{ type: 'BOOKMARK', object: { metadata: { resourceVersion: '15' } } }]),
      stream([], true),
    ]);
    await until(() => w.requests.length === 3);
    expect(w.requests[2]).toContain('resourceVersion=15');
    expect(w.events.map((e) => e.type)).toEqual(['SYNC']);
  });

  it('retries other failures with backoff and never gives up', async () => {
    const w = await watchWith([status(500), status(503), list('10', [cc('10')]), stream([], true)]);
    await until(() => w.events.length === 1);
    expect(w.restarts).toEqual(['error', 'error']);
  });

  it('drops a silent stream after the watchdog and reconnects from where it was', async () => {
    const w = await watchWith(
      [list('10', [cc('10')]), stream([], true), stream([{ type: 'MODIFIED', object: cc('12') }], true)],
      {
        watchdogMs: 150,
      },
    );
    await until(() => w.events.length === 2);
    expect(w.restarts).toContain('watchdog');
    expect(w.requests[2]).toContain('resourceVersion=10');
  });

  it('reports a missing object as SYNC without an object', async () => {
    const w = await watchWith([list('10', []), stream([], true)]);
    await until(() => w.events.length === 1);
    expect(w.events[0]).toEqual({ type: 'SYNC', object: undefined });
  });
});
