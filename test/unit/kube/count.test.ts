/**
 * countItems against a scripted API server: one request when the first page carries
 * remainingItemCount, paging on from its continue token when it does not (selectors, old servers).
 */
import { afterEach, describe, expect, it } from '@jest/globals';
import { KubeConfig } from '@kubernetes/client-node';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { KubeClient } from '../../../src/kube/client.js';
import { countItems } from '../../../src/kube/list.js';

interface Page {
  items: number;
  continue?: string;
  remainingItemCount?: number;
}

const servers: http.Server[] = [];
afterEach(async () => {
  for (const s of servers.splice(0)) {
    s.closeAllConnections();
    await new Promise((r) => s.close(r));
  }
});

/** Answers each GET with the next page; records each request's URL and Accept header. */
async function serve(pages: Page[]) {
  const requests: { url: URL; accept: string }[] = [];
  const server = http.createServer((req, res) => {
    requests.push({ url: new URL(req.url!, 'http://x'), accept: String(req.headers.accept) });
    const page = pages.shift()!;
    res.writeHead(200, { 'Content-Type': 'application/json' });
    res.end(
      JSON.stringify({
        apiVersion: 'meta.k8s.io/v1',
        kind: 'PartialObjectMetadataList',
        metadata: {
          resourceVersion: '7',
          ...(page.continue ? { continue: page.continue } : {}),
          ...(page.remainingItemCount === undefined ? {} : { remainingItemCount: page.remainingItemCount }),
        },
        items: Array.from({ length: page.items }, (_, i) => ({
          apiVersion: 'meta.k8s.io/v1',
          kind: 'PartialObjectMetadata',
          metadata: { name: `n${i}` },
        })),
      }),
    );
  });
  servers.push(server);
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const kc = new KubeConfig();
  kc.loadFromOptions({
    clusters: [
      {
        name: 'c',
        server: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
        skipTLSVerify: true,
      },
    ],
    users: [{ name: 'u', token: 't' }],
    contexts: [{ name: 'x', cluster: 'c', user: 'u' }],
    currentContext: 'x',
  });
  return { requests, client: new KubeClient(kc) };
}

describe('countItems', () => {
  it('counts with one request of one item when the server gives remainingItemCount', async () => {
    const { client, requests } = await serve([{ items: 1, continue: 'c1', remainingItemCount: 4999 }]);
    expect(await countItems(client, '/api/v1/nodes')).toEqual({ count: 5000, requests: 1 });
    expect(requests).toHaveLength(1);
    expect(requests[0]!.url.searchParams.get('limit')).toBe('1');
    expect(requests[0]!.accept).toContain('as=PartialObjectMetadataList');
  });

  it('counts an empty or one-item collection from the one page', async () => {
    expect(await countItems((await serve([{ items: 0 }])).client, '/api/v1/nodes')).toEqual({
      count: 0,
      requests: 1,
    });
    expect(await countItems((await serve([{ items: 1 }])).client, '/api/v1/nodes')).toEqual({
      count: 1,
      requests: 1,
    });
  });

  it('pages on from the continue token when the server leaves the count out', async () => {
    const { client, requests } = await serve([
      { items: 1, continue: 'c1' },
      { items: 2, continue: 'c2' },
      { items: 2 },
    ]);
    expect(await countItems(client, '/api/v1/nodes', { labelSelector: 'a=b', pageLimit: 2 })).toEqual({
      count: 5,
      requests: 3,
    });
    expect(
      requests.map((r) => [r.url.searchParams.get('limit'), r.url.searchParams.get('continue')]),
    ).toEqual([
      ['1', null],
      ['2', 'c1'],
      ['2', 'c2'],
    ]);
    expect(requests.every((r) => r.url.searchParams.get('labelSelector') === 'a=b')).toBe(true);
  });
});
