/**
 * A role turned off and on again, on the real API server: etcd monitoring on, then off (the etcd
 * Service, Endpoints, ServiceMonitor, recording rules and alert group go; every other object keeps its
 * resourceVersion; the status and an Event say so), then on again (they come back).
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import type { ClusterConfiguration } from '../../src/api/cluster-configuration.js';
import type { KubeClient } from '../../src/kube/client.js';
import {
  ccPath,
  clusterEvents,
  createClusterConfiguration,
  mergePatch,
  MONITORING_NS,
  prepareOperatorTest,
  sampleClusterConfiguration,
  stackResourceVersions,
  startOperatorFor,
} from './fixtures.js';
import type { OperatorProcess } from './operator-process.js';
import { scrape } from '../../tools/envtest/request-metrics.js';

const M = `/apis/monitoring.coreos.com/v1/namespaces/${MONITORING_NS}`;
const ETCD_OBJECTS = [
  '/api/v1/namespaces/kube-system/services/etcd',
  '/api/v1/namespaces/kube-system/endpoints/etcd',
  `${M}/servicemonitors/etcd`,
  `${M}/prometheusrules/prometheus-k8s-etcd-rules`,
  `${M}/prometheusrules/builtin-alerts-etcd`,
];
const ETCD = { monitoring: true, endpointIps: '10.30.0.11,10.30.0.12', port: 2379, tlsEnable: false };

describe('role lifecycle: etcd monitoring on, off, on', () => {
  let admin: KubeClient;
  let ns: string;
  let op: OperatorProcess;
  const exists = async (p: string) => (await admin.getOrUndefined(p)) !== undefined;
  const existing = async () => (await Promise.all(ETCD_OBJECTS.map(exists))).filter(Boolean).length;
  /** resourceVersions of the stack and of kube-system's Services and Endpoints, etcd's left out. */
  const others = async () => {
    const versions = await stackResourceVersions(admin);
    for (const p of ['/api/v1/namespaces/kube-system/services', '/api/v1/namespaces/kube-system/endpoints']) {
      const { items } = await admin.get<{
        items: { metadata: { name: string; resourceVersion: string } }[];
      }>(p);
      for (const i of items) versions.set(`${p}/${i.metadata.name}`, i.metadata.resourceVersion);
    }
    for (const p of [...versions.keys()]) if (ETCD_OBJECTS.includes(p)) versions.delete(p);
    return versions;
  };

  /**
   * LISTs of Endpoints the API server counted during `what`: only the lifecycle lists Endpoints (a
   * run reads etcd's one Endpoints by name), so these are its lists of kube-system.
   */
  const endpointLists = async (what: () => Promise<unknown>) => {
    const count = (c: Map<string, number>) =>
      [...c]
        .filter(([s]) => s.includes('verb="LIST"') && s.includes('resource="endpoints"'))
        .reduce((a, [, n]) => a + n, 0);
    const before = count(await scrape(admin));
    await what();
    return count(await scrape(admin)) - before;
  };

  beforeAll(async () => {
    ({ admin, ns } = await prepareOperatorTest('lifecycle'));
    op = await startOperatorFor(ns);
    const sample = sampleClusterConfiguration(ns);
    sample.spec = { ...sample.spec, etcd: ETCD };
    await op.runAfter(() => createClusterConfiguration(admin, sample));
  });

  afterAll(async () => {
    expect(await op?.stop()).toBe(0);
  });

  it('on: the etcd objects exist, labelled with their role', async () => {
    expect(await existing()).toBe(ETCD_OBJECTS.length);
    const service = await admin.get(ETCD_OBJECTS[0]!);
    expect(service.metadata.labels).toMatchObject({
      'app.kubernetes.io/managed-by': 'ks-installer',
      'installer.kubesphere.io/role': 'etcd-monitor',
    });
  });

  it('off: the etcd objects go, everything else keeps its resourceVersion; logged, an Event, a condition', async () => {
    const before = await others();
    expect(before.size).toBeGreaterThan(50);
    let run: string[] = [];
    const lists = await endpointLists(async () => {
      run = await op.runAfter(() => mergePatch(admin, ccPath(ns), { spec: { etcd: { monitoring: false } } }));
    });
    expect(lists).toBe(1);
    expect(await existing()).toBe(0);
    const after = await others();
    const touched = [...before].filter(([p, v]) => after.get(p) !== v).map(([p]) => p);
    expect(touched).toEqual([]);
    expect(run.filter((l) => /role etcd-monitor is off .*5 objects removed/.test(l))).toHaveLength(1);

    const cc = await admin.get<ClusterConfiguration>(ccPath(ns));
    expect(cc.status?.conditions?.find((c) => c.type === 'RoleObjectsRemoved')).toMatchObject({
      status: 'True',
      reason: 'RoleTurnedOff',
      message: 'etcd-monitor (etcd.monitoring is not true): 5 removed, 0 kept',
    });
    const events = await clusterEvents(admin, ns, 'ks-installer');
    // Only etcd-monitor's: the setup's first run may have removed what an earlier test on the shared
    // control plane left of a role that is off in the sample (e.g. the alerting module).
    expect(
      events.filter((e) => e.reason === 'RoleObjectsRemoved' && /^role etcd-monitor /.test(e.message)),
    ).toEqual([
      expect.objectContaining({ type: 'Normal', message: expect.stringMatching(/5 objects removed/) }),
    ]);
  });

  it('a later run of the same process sends no request for the role found clean', async () => {
    let run: string[] = [];
    const lists = await endpointLists(async () => {
      // A forced full run: status.monitoring removed.
      run = await op.runAfter(() => mergePatch(admin, ccPath(ns), { status: { monitoring: null } }));
    });
    expect(lists).toBe(0);
    expect(run.filter((l) => /role etcd-monitor is off/.test(l))).toEqual([]);
    expect(await existing()).toBe(0);
  });

  it('on again: the etcd objects come back, and the condition says every role is on', async () => {
    await op.runAfter(() => mergePatch(admin, ccPath(ns), { spec: { etcd: { monitoring: true } } }));
    expect(await existing()).toBe(ETCD_OBJECTS.length);
    const cc = await admin.get<ClusterConfiguration>(ccPath(ns));
    expect(cc.status?.conditions?.find((c) => c.type === 'RoleObjectsRemoved')).toMatchObject({
      status: 'False',
      reason: 'RolesOn',
    });
  });
});
