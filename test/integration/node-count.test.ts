/**
 * Counting Nodes on a real API server: one request of one item whatever their number (the list's
 * remainingItemCount), and the paging fallback where the server leaves the count out (a selector).
 * The Nodes made here are labelled and removed at the end, so other files' node counts stand.
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { countItems, listAll } from '../../src/kube/list.js';
import { adminClient } from './cluster.js';

const LABEL = 'ks-installer.test/node-count';
const MADE = 120;
const admin = adminClient();

async function removeMadeNodes(): Promise<void> {
  await admin.request('DELETE', '/api/v1/nodes', { query: { labelSelector: LABEL } });
}

beforeAll(async () => {
  await removeMadeNodes();
  for (let b = 0; b < MADE; b += 30) {
    await Promise.all(
      Array.from({ length: Math.min(30, MADE - b) }, (_, i) =>
        admin.request('POST', '/api/v1/nodes', {
          body: {
            apiVersion: 'v1',
            kind: 'Node',
            metadata: { name: `count-${b + i}`, labels: { [LABEL]: 'x' } },
          },
        }),
      ),
    );
  }
});

afterAll(async () => {
  await removeMadeNodes();
  await admin.close();
});

describe('countItems on kube-apiserver', () => {
  it('counts every Node with one request', async () => {
    const all = await listAll(admin, '/api/v1/nodes', { metadataOnly: true, limit: 50 });
    expect(all.pages).toBeGreaterThan(1);
    const counted = await countItems(admin, '/api/v1/nodes');
    expect(counted).toEqual({ count: all.items.length, requests: 1 });
    expect(counted.count).toBeGreaterThanOrEqual(MADE);
  });

  it('pages on when the server gives no count (a label selector)', async () => {
    expect(await countItems(admin, '/api/v1/nodes', { labelSelector: LABEL, pageLimit: 50 })).toEqual({
      count: MADE,
      // one item, then pages of 50 from its continue token: 1 + 50 + 50 + 19
      requests: 4,
    });
  });
});
