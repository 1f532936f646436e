/**
 * What a run reads for the console's parts (src/facts/cluster.ts): istio-system and Grafana's Secret
 * only while the spec switches them on; Grafana's password from the live Secret when there is one, else
 * one generated password per process (so that runs before the Secret exists plan the same objects).
 */
import { describe, expect, it } from '@jest/globals';
import type { KubeClient } from '../../../src/kube/client.js';
import type { RestMapper } from '../../../src/kube/discovery.js';
import { ClusterFactsSource } from '../../../src/facts/cluster.js';

const NS = 'kubesphere-monitoring-system';
const GRAFANA_SECRET = `/api/v1/namespaces/${NS}/secrets/grafana-admin`;
const ISTIO = '/api/v1/namespaces/istio-system';

/** An API server holding `objects` by path; records every path read by name. */
function fakeCluster(objects: Record<string, unknown>) {
  const reads: string[] = [];
  const client = {
    get: async (path: string) => {
      if (path === '/version') return { gitVersion: 'v1.34.4' };
      if (path === '/api/v1/nodes') return { items: [{ metadata: { name: 'n' } }], metadata: {} };
      throw new Error(`unexpected get ${path}`);
    },
    getOrUndefined: async (path: string) => {
      reads.push(path);
      return objects[path];
    },
  } as unknown as KubeClient;
  const mapper = { servedGroupVersions: async () => ['v1'] } as unknown as RestMapper;
  return { source: new ClusterFactsSource(client, mapper), reads };
}

const grafanaOn = { monitoring: { grafana: { enabled: true } } };

describe('facts of the console parts', () => {
  it('reads istio-system and the Grafana Secret only when switched on', async () => {
    const { source, reads } = fakeCluster({ [ISTIO]: { metadata: { name: 'istio-system' } } });
    const off = await source.gather({});
    expect(reads).not.toContain(ISTIO);
    expect(reads).not.toContain(GRAFANA_SECRET);
    expect(off.live.istioNamespaceExists).toBeUndefined();
    expect(off.grafanaAdminPassword).toBeUndefined();
    const on = await source.gather({ servicemesh: { enabled: true }, ...grafanaOn });
    expect(reads).toContain(ISTIO);
    expect(reads).toContain(GRAFANA_SECRET);
    expect(on.live.istioNamespaceExists).toBe(true);
  });

  it("generates one Grafana password per process until the Secret exists, then keeps the Secret's", async () => {
    const objects: Record<string, unknown> = {};
    const { source } = fakeCluster(objects);
    const first = (await source.gather(grafanaOn)).grafanaAdminPassword;
    expect(first).toMatch(/^[A-Za-z0-9_-]{32}$/);
    expect((await source.gather(grafanaOn)).grafanaAdminPassword).toBe(first);
    objects[GRAFANA_SECRET] = {
      metadata: { name: 'grafana-admin', namespace: NS },
      data: { 'admin-password': Buffer.from('set-by-an-earlier-run').toString('base64') },
    };
    expect((await source.gather(grafanaOn)).grafanaAdminPassword).toBe('set-by-an-earlier-run');
  });
});
