/**
 * A run with nothing to change sends no write, and a run after drift writes exactly the drifted
 * objects: counted by the API server itself (`apiserver_request_total`, diffed around each step,
 * the API server's own loops and Lease renewals apart; tools/envtest/request-metrics.ts), not by the
 * operator's own log.
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import type { ClusterConfiguration } from '../../src/api/cluster-configuration.js';
import { CONTENT_TYPE, type KubeClient } from '../../src/kube/client.js';
import { diff, scrape, type Requests } from '../../tools/envtest/request-metrics.js';
import {
  ccPath,
  createClusterConfiguration,
  mergePatch,
  MONITORING_NS,
  prepareOperatorTest,
  sampleClusterConfiguration,
  type Obj,
} from './fixtures.js';
import { startOperatorProcess, waitUntil, type OperatorProcess } from './operator-process.js';

const NO_DRIFT = /run succeeded: .*; no drift, status left as it was/;
const DEPLOYMENT = `/apis/apps/v1/namespaces/${MONITORING_NS}/deployments/kube-state-metrics`;
const MONITOR = `/apis/monitoring.coreos.com/v1/namespaces/${MONITORING_NS}/servicemonitors/kube-state-metrics`;
const CONFIG_MAPS = `/api/v1/namespaces/${MONITORING_NS}/configmaps`;
const CRD = '/apis/apiextensions.k8s.io/v1/customresourcedefinitions/servicemonitors.monitoring.coreos.com';

describe('writes only what differs from the live objects', () => {
  let admin: KubeClient;
  let ns: string;
  let op: OperatorProcess;
  const getCc = () => admin.get<ClusterConfiguration>(ccPath(ns));
  /** Requests between two scrapes, with the test's own in between taken off. */
  const between = async <T>(own: Record<string, number>, what: () => Promise<T>): Promise<Requests> => {
    const before = await scrape(admin);
    await what();
    return diff(before, await scrape(admin), own);
  };
  /** Waits for the end of `n` more periodic resyncs that found nothing to do. */
  const quietResyncs = async (n: number) => {
    let from = op.lines.length;
    for (let i = 0; i < n; i++) from = op.lines.indexOf(await op.waitFor(NO_DRIFT, 60_000, from), from) + 1;
  };

  beforeAll(async () => {
    ({ admin, ns } = await prepareOperatorTest('no-op'));
    // With the alerting module on: its role and its after-apply step (legacy rules) are part of each run.
    const cc = sampleClusterConfiguration(ns);
    cc.spec = { ...cc.spec, alerting: { enabled: true } };
    await createClusterConfiguration(admin, cc);
    op = startOperatorProcess(['--namespace', ns, '--resync-period', '2s']);
    await op.waitFor(/run succeeded/, 120_000);
    await waitUntil('Ready', async () =>
      (await getCc()).status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True'),
    );
    await quietResyncs(1);
  });

  afterAll(async () => {
    expect(await op?.stop()).toBe(0);
  });

  it('sends no write in runs with nothing to change', async () => {
    const from = op.lines.length;
    const requests = await between({}, () => quietResyncs(2));
    expect(requests.writesByResource).toEqual({});
    expect(requests.writes).toBe(0);
    // The runs did read what they compare with: lists, not one read per object.
    const compares = op.lines.slice(from).filter((l) => /compare: \d+ objects/.test(l));
    expect(compares.length).toBeGreaterThanOrEqual(2);
    for (const line of compares) expect(line).toMatch(/: 0 to create, 0 to change, \d+ unchanged/);
    expect(requests.byVerb.LIST ?? 0).toBeGreaterThan(0);
  });

  it('writes exactly the drifted objects back, once each', async () => {
    const configMaps = await admin.get<{ items: Obj[] }>(CONFIG_MAPS, {
      query: { labelSelector: 'app.kubernetes.io/managed-by=ks-installer' },
    });
    const configMap = configMaps.items[0]!;
    const deployment = await admin.get<Obj>(DEPLOYMENT);
    const monitor = await admin.get<Obj>(MONITOR);
    const interval = monitor.spec.endpoints[0].interval as string;
    const from = op.lines.length;
    const crd = await admin.get<Obj>(CRD);
    const requests = await between({ PATCH: 3, DELETE: 1 }, async () => {
      // Four kinds of drift: a scaled Deployment, an edited ServiceMonitor, a deleted ConfigMap, and a
      // CRD's spec edited (its generation moves: a run that read it metadata only reads it in full).
      await mergePatch(admin, CRD, {
        spec: { names: { categories: ['prometheus-operator', 'drift-test'] } },
      });
      await admin.request('PATCH', DEPLOYMENT, {
        query: { fieldManager: 'kubectl-scale' },
        body: { spec: { replicas: deployment.spec.replicas + 2 } },
        contentType: CONTENT_TYPE.merge,
      });
      const endpoints = monitor.spec.endpoints.map((e: Obj, i: number) =>
        i === 0 ? { ...e, interval: '7s' } : e,
      );
      await mergePatch(admin, MONITOR, { spec: { endpoints } });
      await admin.request('DELETE', `${CONFIG_MAPS}/${configMap.metadata.name}`);
      await waitUntil('the drift repaired', async () => {
        const [d, m, c, k] = await Promise.all([
          admin.get<Obj>(DEPLOYMENT),
          admin.get<Obj>(MONITOR),
          admin.getOrUndefined(`${CONFIG_MAPS}/${configMap.metadata.name}`),
          admin.get<Obj>(CRD),
        ]);
        return (
          d.spec.replicas === deployment.spec.replicas &&
          m.spec.endpoints[0].interval === interval &&
          c &&
          JSON.stringify(k.spec.names.categories) === JSON.stringify(crd.spec.names.categories)
        );
      });
      await quietResyncs(1);
    });
    // mergePatch sends PATCH: the test's own writes are taken off by verb, and named below by resource.
    const applies = Object.fromEntries(
      Object.entries(requests.writesByResource).filter(([k]) => k.startsWith('APPLY ')),
    );
    expect(applies).toEqual({
      'APPLY configmaps': 1,
      'APPLY customresourcedefinitions': 1,
      'APPLY deployments': 1,
      'APPLY servicemonitors': 1,
    });
    const others = Object.entries(requests.writesByResource).filter(
      ([k]) =>
        !k.startsWith('APPLY ') &&
        ![
          'PATCH deployments',
          'PATCH servicemonitors',
          'PATCH customresourcedefinitions',
          'DELETE configmaps',
        ].includes(k),
    );
    // Besides: the status of the runs that repaired it (one write each) and their RunSucceeded Events.
    for (const [k] of others) expect(['PATCH clusterconfigurations', 'POST events']).toContain(k);
    const repairs = op.lines.slice(from).filter((l) => /run succeeded: .*\([1-9]\d* changed\)/.test(l));
    expect(requests.writesByResource['PATCH clusterconfigurations'] ?? 0).toBeLessThanOrEqual(repairs.length);
  });

  it('a forced full run (status.monitoring deleted, nothing else changed) writes one status patch and one Event', async () => {
    const from = op.lines.length;
    const requests = await between({ PATCH: 1 }, async () => {
      await mergePatch(admin, ccPath(ns), { status: { monitoring: null } });
      const done = await op.waitFor(/run succeeded/, 60_000, from);
      expect(op.lines.slice(from, op.lines.indexOf(done, from) + 1).join('\n')).toMatch(
        /run started: .*status\.monitoring removed: full run/,
      );
      await quietResyncs(1);
    });
    expect((await getCc()).status?.monitoring?.status).toBe('enabled');
    // By resource the test's own PATCH of the status is one of the two; `writes` leaves it out: the
    // run's own are one status patch and one Event.
    expect(requests.writesByResource).toEqual({ 'PATCH clusterconfigurations': 2, 'POST events': 1 });
    expect(requests.writes).toBe(2);
  });

  it('an edit writes the status at most three times and applies only what the edit changes', async () => {
    const before = await getCc();
    const from = op.lines.length;
    const requests = await between({ PATCH: 1 }, async () => {
      await mergePatch(admin, ccPath(ns), { spec: { monitoring: { prometheus: { retention: '9d' } } } });
      await op.waitFor(/run succeeded/, 60_000, from);
      await quietResyncs(1);
    });
    const cc = await getCc();
    expect(cc.status?.progress).toBe(before.status?.progress);
    // The test's own PATCH of the spec is one of these; the run's are the rest.
    const statusWrites = (requests.writesByResource['PATCH clusterconfigurations'] ?? 0) - 1;
    expect(statusWrites).toBeGreaterThanOrEqual(2);
    expect(statusWrites).toBeLessThanOrEqual(3);
    expect(requests.writesByResource['APPLY prometheuses']).toBe(1);
    const applies = Object.entries(requests.writesByResource).filter(
      ([k]) => k.startsWith('APPLY ') && k !== 'APPLY prometheuses',
    );
    expect(applies).toEqual([]);
    const prom = await admin.get<Obj>(
      `/apis/monitoring.coreos.com/v1/namespaces/${MONITORING_NS}/prometheuses/k8s`,
    );
    expect(prom.spec.retention).toBe('9d');
  });
});
