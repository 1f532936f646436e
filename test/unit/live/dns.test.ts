import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import { Resolver } from 'node:dns/promises';
import { createServer } from 'node:net';
import type { KubeClient } from '../../../src/kube/client.js';
import { hostsFile, PodDns, resolvConf } from '../../../tools/live/dns.js';

/** Endpoints as the process kubelet writes them, served by path (what PodDns reads from the API server). */
const ENDPOINTS: Record<string, unknown> = {
  '/api/v1/namespaces/mon/endpoints/alertmanager-operated': {
    subsets: [
      {
        addresses: [{ ip: '198.18.0.6', targetRef: { name: 'alertmanager-main-0' } }],
        ports: [
          { name: 'web', port: 9093, protocol: 'TCP' },
          { name: 'tcp-mesh', port: 9094, protocol: 'TCP' },
        ],
      },
    ],
  },
  '/api/v1/namespaces/mon/endpoints/prometheus-operated': {
    subsets: [{ addresses: [{ ip: '198.18.0.9', targetRef: { name: 'prometheus-k8s-0' } }], ports: [] }],
  },
};
const client = {
  getOrUndefined: (p: string) => Promise.resolve(ENDPOINTS[p]),
} as unknown as KubeClient;

async function freeUdpPort(): Promise<number> {
  return new Promise((resolve) => {
    const s = createServer().listen(0, '127.0.0.1', () => {
      const port = (s.address() as { port: number }).port;
      s.close(() => resolve(port));
    });
  });
}

describe('the live stack’s Pod DNS, asked by a real resolver', () => {
  const dns = new PodDns(client, () => undefined);
  const resolver = new Resolver({ timeout: 2000, tries: 1 });

  beforeAll(async () => {
    const port = await freeUdpPort();
    await dns.listen('127.0.0.1', port);
    resolver.setServers([`127.0.0.1:${port}`]);
  });
  afterAll(() => dns.close());

  test('a Service name gives its ready addresses, with or without the cluster domain', async () => {
    expect(await resolver.resolve4('prometheus-operated.mon.svc')).toEqual(['198.18.0.9']);
    expect(await resolver.resolve4('prometheus-operated.mon.svc.cluster.local')).toEqual(['198.18.0.9']);
  });

  test('a StatefulSet Pod’s stable name gives its address', async () => {
    expect(
      await resolver.resolve4('alertmanager-main-0.alertmanager-operated.mon.svc.cluster.local'),
    ).toEqual(['198.18.0.6']);
  });

  test('SRV of a named port: the Pod’s stable name and the port (thanos dnssrv+)', async () => {
    expect(await resolver.resolveSrv('_web._tcp.alertmanager-operated.mon.svc')).toMatchObject([
      {
        name: 'alertmanager-main-0.alertmanager-operated.mon.svc.cluster.local',
        port: 9093,
        priority: 0,
        weight: 100,
      },
    ]);
  });

  test('anything else is NXDOMAIN: nothing is forwarded', async () => {
    await expect(resolver.resolve4('example.com')).rejects.toMatchObject({ code: 'ENOTFOUND' });
    await expect(resolver.resolve4('missing.mon.svc.cluster.local')).rejects.toMatchObject({
      code: 'ENOTFOUND',
    });
  });

  test('resolv.conf and hosts as a kubelet writes them', () => {
    expect(resolvConf('198.18.0.5', 'mon')).toBe(
      'nameserver 198.18.0.5\nsearch mon.svc.cluster.local svc.cluster.local cluster.local\noptions ndots:5\n',
    );
    expect(hostsFile('198.18.0.6', 'alertmanager-main-0', 'alertmanager-operated', 'mon')).toContain(
      '198.18.0.6\talertmanager-main-0.alertmanager-operated.mon.svc.cluster.local\talertmanager-main-0',
    );
  });
});
