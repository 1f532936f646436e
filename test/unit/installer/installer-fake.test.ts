/**
 * The Installer end to end on the in-memory API server: a first install, a settled resync that writes
 * nothing, and a one-field edit that applies one object. The same properties are measured on a real
 * API server by the integration tests (no-op.test.ts) and the benchmark; here they run in a second.
 */
import { describe, expect, it } from '@jest/globals';
import { RESYNC_REASON } from '../../../src/controller/reconciler.js';
import { CONTENT_TYPE } from '../../../src/kube/client.js';
import { MANAGED_BY_SELECTOR } from '../../../src/kube/live-objects.js';
import { CC_PATH, KEY, currentCc, fakeCluster, fakeInstaller, observe } from '../../support/fake-cluster.js';
import type { LoggedRequest } from '../../support/fake-kube.js';

const SPEC = { monitoring: { prometheus: { replicas: 1 } } };

const applied = (log: LoggedRequest[], dryRun: boolean) =>
  log.filter((r) => r.method === 'PATCH' && r.contentType === CONTENT_TYPE.apply && r.dryRun === dryRun);

describe('Installer on the in-memory API server', () => {
  it('installs, then a resync writes nothing, then a one-field edit applies one object', async () => {
    const kube = await fakeCluster(SPEC);
    const { installer, cache } = fakeInstaller(kube);

    // First install: every object of the plan created, the status says so.
    observe(kube, cache);
    await installer.reconcile(KEY, ['first sight of kubesphere-system/ks-installer (generation 1)']);
    const created = applied(kube.log, false);
    expect(created.length).toBeGreaterThan(80);
    expect(created.every((r) => r.status === 201)).toBe(true);
    const cc = currentCc(kube);
    expect(cc.status?.monitoring?.status).toBe('enabled');
    expect(cc.status?.conditions?.find((c) => c.type === 'Ready')?.status).toBe('True');
    const prometheus = kube.objects('Prometheus')[0] as unknown as { spec: { replicas: number } };
    expect(prometheus.spec.replicas).toBe(1);
    // Everything we created carries our label, so the next run finds it with labelled lists.
    const ours = await kube.get<{ items: unknown[] }>(
      '/apis/monitoring.coreos.com/v1/namespaces/kubesphere-monitoring-system/servicemonitors',
      { query: { labelSelector: MANAGED_BY_SELECTOR } },
    );
    expect(ours.items.length).toBeGreaterThan(5);

    // A settled resync: reads only.
    observe(kube, cache);
    kube.clearLog();
    await installer.reconcile(KEY, [RESYNC_REASON]);
    expect(kube.writes()).toEqual([]);
    expect(kube.log.length).toBeGreaterThan(0);

    // One field edited: one dry run and one apply, of that object; the rest is status and Events.
    await kube.request('PATCH', CC_PATH, {
      body: { spec: { monitoring: { prometheus: { resources: { limits: { memory: '20Gi' } } } } } },
      contentType: CONTENT_TYPE.merge,
      query: { fieldManager: 'kubectl-edit' },
    });
    observe(kube, cache);
    kube.clearLog();
    await installer.reconcile(KEY, ['spec changed (generation 2)']);
    expect(applied(kube.log, false).map((r) => r.path)).toEqual([
      '/apis/monitoring.coreos.com/v1/namespaces/kubesphere-monitoring-system/prometheuses/k8s',
    ]);
    expect(applied(kube.log, true)).toHaveLength(1);
    const others = kube.writes().filter((r) => !applied([r], false).length);
    expect(others.every((r) => r.path === CC_PATH || r.path.endsWith('/events'))).toBe(true);
    const edited = kube.objects('Prometheus')[0] as unknown as {
      spec: { resources: { limits: { memory: string } } };
    };
    expect(edited.spec.resources.limits.memory).toBe('20Gi');
  });

  it('a field another manager changed is put back by a resync with one apply', async () => {
    const kube = await fakeCluster(SPEC);
    const { installer, cache } = fakeInstaller(kube);
    observe(kube, cache);
    await installer.reconcile(KEY, ['first sight']);
    const deployment = '/apis/apps/v1/namespaces/kubesphere-monitoring-system/deployments/kube-state-metrics';
    await kube.request('PATCH', deployment, {
      body: { spec: { replicas: 5 } },
      contentType: CONTENT_TYPE.merge,
      query: { fieldManager: 'kubectl-scale' },
    });

    observe(kube, cache);
    kube.clearLog();
    await installer.reconcile(KEY, [RESYNC_REASON]);
    expect(applied(kube.log, false).map((r) => r.path)).toEqual([deployment]);
    const fixed = kube.stored('apps/v1', 'Deployment', 'kube-state-metrics', 'kubesphere-monitoring-system');
    expect((fixed as unknown as { spec: { replicas: number } }).spec.replicas).toBe(1);
  });
});
