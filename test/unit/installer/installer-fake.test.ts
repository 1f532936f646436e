/**
 * The Installer end to end on the in-memory API server: a first install, a settled resync that writes
 * nothing, and a one-field edit that applies one object. The same properties are measured on a real
 * API server by the integration tests (no-op.test.ts) and the benchmark; here they run in a second.
 */
import { describe, expect, it } from '@jest/globals';
import { RunCancelled, trigger } from '../../../src/reconcile/contract.js';
import { CONTENT_TYPE } from '../../../src/kube/client.js';
import { MANAGED_BY_SELECTOR } from '../../../src/kube/live-objects.js';
import { CC_PATH, KEY, currentCc, fakeCluster, fakeInstaller, observe } from '../../support/fake-cluster.js';
import type { LoggedRequest } from '../../support/fake-kube.js';

const SPEC = { monitoring: { prometheus: { replicas: 1 } } };
/** A signal nothing aborts: these runs are never cancelled. */
const NEVER = new AbortController().signal;

const applied = (log: LoggedRequest[], dryRun: boolean) =>
  log.filter((r) => r.method === 'PATCH' && r.contentType === CONTENT_TYPE.apply && r.dryRun === dryRun);

describe('Installer on the in-memory API server', () => {
  it('installs, then a resync writes nothing, then a one-field edit applies one object', async () => {
    const kube = await fakeCluster(SPEC);
    const { installer, cache } = fakeInstaller(kube);

    // First install: every object of the plan created, the status says so.
    observe(kube, cache);
    await installer.reconcile(
      KEY,
      [trigger('first-sight', 'kubesphere-system/ks-installer (generation 1)')],
      NEVER,
    );
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
    await installer.reconcile(KEY, [trigger('resync')], NEVER);
    expect(kube.writes()).toEqual([]);
    expect(kube.log.length).toBeGreaterThan(0);
    // A requeue the last run asked for (a volume still expanding) is as quiet.
    kube.clearLog();
    await installer.reconcile(KEY, [trigger('requeue')], NEVER);
    expect(kube.writes()).toEqual([]);

    // One field edited: one dry run and one apply, of that object; the rest is status and Events.
    await kube.request('PATCH', CC_PATH, {
      body: { spec: { monitoring: { prometheus: { resources: { limits: { memory: '20Gi' } } } } } },
      contentType: CONTENT_TYPE.merge,
      query: { fieldManager: 'kubectl-edit' },
    });
    observe(kube, cache);
    kube.clearLog();
    await installer.reconcile(KEY, [trigger('spec-changed', 'generation 2')], NEVER);
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
    await installer.reconcile(KEY, [trigger('first-sight', KEY)], NEVER);
    const deployment = '/apis/apps/v1/namespaces/kubesphere-monitoring-system/deployments/kube-state-metrics';
    await kube.request('PATCH', deployment, {
      body: { spec: { replicas: 5 } },
      contentType: CONTENT_TYPE.merge,
      query: { fieldManager: 'kubectl-scale' },
    });

    observe(kube, cache);
    kube.clearLog();
    await installer.reconcile(KEY, [trigger('resync')], NEVER);
    expect(applied(kube.log, false).map((r) => r.path)).toEqual([deployment]);
    const fixed = kube.stored('apps/v1', 'Deployment', 'kube-state-metrics', 'kubesphere-monitoring-system');
    expect((fixed as unknown as { spec: { replicas: number } }).spec.replicas).toBe(1);
  });

  it('a run cancelled by its signal mid-apply stops sending and writes nothing more', async () => {
    const kube = await fakeCluster(SPEC);
    const { installer, cache } = fakeInstaller(kube);
    const cancel = new AbortController();
    // Shutdown arrives as the apply stage sends its first object other than a CRD (CRDs of custom
    // resources to dry-run are applied ahead, at the check).
    const send = kube.requestWithStatus.bind(kube);
    kube.requestWithStatus = ((method, path, options = {}) => {
      const apply = method === 'PATCH' && options.contentType === CONTENT_TYPE.apply;
      if (apply && !options.query?.['dryRun'] && !path.includes('/customresourcedefinitions/'))
        cancel.abort();
      return send(method, path, options);
    }) as typeof kube.requestWithStatus;
    observe(kube, cache);
    kube.clearLog();
    await expect(
      installer.reconcile(KEY, [trigger('first-sight', KEY)], cancel.signal),
    ).rejects.toBeInstanceOf(RunCancelled);
    // Only what was in flight went out (the bound is 16 requests), not the ~100 objects of the plan.
    const sent = applied(kube.log, false).filter((r) => !r.path.includes('/customresourcedefinitions/'));
    expect(sent.length).toBeGreaterThan(0);
    expect(sent.length).toBeLessThanOrEqual(16);
    // The start was written; no failure, no success, no second Event.
    const statusWrites = kube.writes().filter((r) => r.path === CC_PATH);
    const events = kube.writes().filter((r) => r.path.endsWith('/events'));
    expect(statusWrites).toHaveLength(1);
    expect(events).toHaveLength(1);
    expect(
      currentCc(kube).status?.conditions?.some((c) => c.type === 'Degraded' && c.status === 'True'),
    ).toBe(false);
    // A signal already aborted: the run does not start.
    kube.clearLog();
    await expect(installer.reconcile(KEY, [trigger('resync')], cancel.signal)).rejects.toBeInstanceOf(
      RunCancelled,
    );
    expect(kube.writes()).toEqual([]);
  });
});
