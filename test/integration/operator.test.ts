/**
 * The operator end to end, as a real process against the real API server: first install, spec
 * edits, status-only edits, removal of status.monitoring, invalid input, and no-op runs.
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import type { KubeClient, KubeObject } from '../../src/kube/client.js';
import type { ClusterConfiguration } from '../../src/api/cluster-configuration.js';
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
import { waitUntil, type OperatorProcess } from './operator-process.js';

const RUN_STARTED = /run started/;
const RUN_SUCCEEDED = /run succeeded/;

describe('ks-installer run', () => {
  let admin: KubeClient;
  let ns: string;
  let op: OperatorProcess;
  const getCc = () => admin.get<ClusterConfiguration>(ccPath(ns));
  const healthPort = () =>
    /health":"[^"]*:(\d+)"|health=\S*:(\d+)/
      .exec(op.lines.find((l) => l.includes('ks-installer starting')) ?? '')
      ?.slice(1)
      .find(Boolean);
  const readyStatus = (cc: ClusterConfiguration) =>
    cc.status?.conditions?.find((c) => c.type === 'Ready')?.status;

  /** Waits for the next finished run after line `from`; returns the index after it. */
  async function nextRunEnd(from: number, re = RUN_SUCCEEDED): Promise<number> {
    const line = await op.waitFor(re, 120_000, from);
    return op.lines.indexOf(line, from) + 1;
  }

  beforeAll(async () => {
    ({ admin, ns } = await prepareOperatorTest('op'));
    op = await startOperatorFor(ns);
  });

  afterAll(async () => {
    const code = await op?.stop();
    expect(code).toBe(0);
  });

  it('installs the stack from the sample ClusterConfiguration and reports it on the object', async () => {
    await createClusterConfiguration(admin, sampleClusterConfiguration(ns));
    await nextRunEnd(0);
    const cc = await waitUntil('status.monitoring enabled', async () => {
      const c = await getCc();
      return c.status?.monitoring?.status === 'enabled' ? c : undefined;
    });
    expect(cc.status?.monitoring?.enabledTime).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/);
    expect(readyStatus(cc)).toBe('True');
    const degraded = cc.status?.conditions?.find((c) => c.type === 'Degraded');
    expect(degraded).toMatchObject({ status: 'False', observedGeneration: expect.any(Number) });
    expect(cc.status?.progress).toBe('15/15 done');
    // One progress line per role, with counts and durations (metrics-server's says why it is skipped).
    for (const [i, role] of [
      'metrics-server',
      'defaults',
      'prometheus-stack',
      'node-exporter',
      'kube-state-metrics',
      'alertmanager',
      'notification-manager',
      'etcd-monitor',
      'alerting',
      'thanos',
      'sharded-rules',
      'monitoring-dashboard',
      'gpu-monitoring',
      'istio-monitoring',
      'grafana',
    ].entries()) {
      expect(op.lines.some((l) => l.includes(`[${i + 1}/15] ${role}: `))).toBe(true);
    }
    const events = await clusterEvents(admin, ns, 'ks-installer');
    expect(events.map((e) => e.reason)).toEqual(expect.arrayContaining(['RunStarted', 'RunSucceeded']));
    // Real objects exist, with the replicas a 1-node cluster gets.
    const prom = await admin.get<KubeObject & { spec: { replicas: number } }>(
      `/apis/monitoring.coreos.com/v1/namespaces/${MONITORING_NS}/prometheuses/k8s`,
    );
    expect(prom.spec.replicas).toBe(1);
    await admin.get(`/apis/apps/v1/namespaces/${MONITORING_NS}/daemonsets/node-exporter`);
  });

  it('serves /readyz and the metrics of the contract', async () => {
    const base = `http://127.0.0.1:${healthPort()}`;
    expect((await fetch(`${base}/readyz`)).status).toBe(200);
    const res = await fetch(`${base}/metrics`);
    expect(res.headers.get('content-type')).toContain('version=0.0.4');
    const text = await res.text();
    const value = (series: string) =>
      Number(new RegExp(`^${series.replace(/[{}"]/g, '\\$&')} (\\S+)$`, 'm').exec(text)?.[1]);
    expect(value('ks_installer_reconcile_total{result="success"}')).toBeGreaterThanOrEqual(1);
    expect(value('ks_installer_last_success_timestamp_seconds')).toBeGreaterThan(Date.now() / 1000 - 600);
    expect(value('ks_installer_leader')).toBe(1);
    expect(value('ks_installer_role_duration_seconds_count{role="node-exporter"}')).toBeGreaterThanOrEqual(1);
    // The counters agree with the role's log line of the first run, whatever an earlier test file left
    // in the shared cluster (which decides how many of the objects were changed).
    const [, changed, unchanged] = /node-exporter: \d+ objects \((\d+) changed, (\d+) unchanged\)/
      .exec(op.lines.find((l) => l.includes('] node-exporter: ')) ?? '')!
      .map(Number);
    expect(changed! + unchanged!).toBeGreaterThanOrEqual(1);
    expect(value('ks_installer_objects_applied_total{role="node-exporter",result="changed"}')).toBe(changed);
    expect(value('ks_installer_objects_applied_total{role="node-exporter",result="unchanged"}')).toBe(
      unchanged,
    );
    expect(text).toMatch(/^ks_installer_reconcile_duration_seconds_bucket\{le="\+Inf"\} [1-9]/m);
  });

  it('a run that changes nothing moves no resourceVersion', async () => {
    const before = await stackResourceVersions(admin);
    expect(before.size).toBeGreaterThan(20);
    const from = op.lines.length;
    await mergePatch(admin, ccPath(ns), { status: { monitoring: null } });
    const end = await nextRunEnd(from);
    const run = op.lines.slice(from, end);
    expect(run.some((l) => /status\.monitoring removed/.test(l))).toBe(true);
    // The roles with objects in the sample: the six of the stack and monitoring-dashboard.
    expect(run.filter((l) => / \(0 changed, \d+ unchanged\)/.test(l)).length).toBe(7);
    const after = await stackResourceVersions(admin);
    const moved = [...before].filter(([k, rv]) => after.get(k) !== rv).map(([k]) => k);
    expect(moved).toEqual([]);
    expect((await getCc()).status?.monitoring?.status).toBe('enabled');
  });

  it('an edit of the spec triggers exactly one run that changes only the affected objects', async () => {
    const from = op.lines.length;
    const promBefore = await admin.get<KubeObject>(
      `/apis/monitoring.coreos.com/v1/namespaces/${MONITORING_NS}/prometheuses/k8s`,
    );
    await mergePatch(admin, ccPath(ns), { spec: { monitoring: { node_exporter: { port: 9111 } } } });
    const end = await nextRunEnd(from);
    await new Promise((r) => setTimeout(r, 2000));
    expect(op.lines.slice(from).filter((l) => RUN_STARTED.test(l))).toHaveLength(1);
    const run = op.lines.slice(from, end);
    expect(run.find((l) => l.includes('node-exporter: '))).toMatch(/\([1-9]\d* changed/);
    expect(run.find((l) => l.includes('] prometheus-stack: '))).toMatch(/\(0 changed/);
    const ds = await admin.get<{
      spec: { template: { spec: { containers: { ports?: { hostPort?: number }[] }[] } } };
    }>(`/apis/apps/v1/namespaces/${MONITORING_NS}/daemonsets/node-exporter`);
    expect(ds.spec.template.spec.containers.flatMap((c) => c.ports ?? []).map((p) => p.hostPort)).toContain(
      9111,
    );
    const promAfter = await admin.get<KubeObject>(
      `/apis/monitoring.coreos.com/v1/namespaces/${MONITORING_NS}/prometheuses/k8s`,
    );
    expect(promAfter.metadata.resourceVersion).toBe(promBefore.metadata.resourceVersion);
  });

  it('an edit of the status alone triggers no run', async () => {
    const from = op.lines.length;
    await mergePatch(admin, ccPath(ns), { status: { note: 'edited by hand' } });
    await new Promise((r) => setTimeout(r, 3000));
    expect(op.lines.slice(from).filter((l) => RUN_STARTED.test(l))).toHaveLength(0);
  });

  it('edits arriving during a run coalesce into one follow-up run', async () => {
    const from = op.lines.length;
    await mergePatch(admin, ccPath(ns), { spec: { monitoring: { node_exporter: { port: 9112 } } } });
    await op.waitFor(RUN_STARTED, 30_000, from);
    for (const port of [9113, 9114, 9100]) {
      await mergePatch(admin, ccPath(ns), { spec: { monitoring: { node_exporter: { port } } } });
    }
    const first = await nextRunEnd(from);
    await nextRunEnd(first);
    await new Promise((r) => setTimeout(r, 3000));
    expect(op.lines.slice(from).filter((l) => RUN_STARTED.test(l))).toHaveLength(2);
  });

  it('an invalid value is reported as Degraded naming the field, nothing is written, and the process keeps serving', async () => {
    const before = await stackResourceVersions(admin);
    const from = op.lines.length;
    // The original's sample value: passes the CRD schema, but is no IP address for an Endpoints object.
    await mergePatch(admin, ccPath(ns), { spec: { etcd: { monitoring: true, endpointIps: 'localhost' } } });
    await op.waitFor(/run failed/, 60_000, from);
    const cc = await waitUntil('Degraded', async () => {
      const c = await getCc();
      return c.status?.conditions?.find((x) => x.type === 'Degraded' && x.status === 'True') ? c : undefined;
    });
    const degraded = cc.status!.conditions!.find((x) => x.type === 'Degraded')!;
    expect(degraded.reason).toBe('InvalidSpec');
    expect(degraded.message).toContain('spec.etcd.endpointIps');
    expect(op.lines.slice(from).some((l) => l.includes('spec.etcd.endpointIps'))).toBe(true);
    const health = await fetch(`http://127.0.0.1:${healthPort()}/healthz`);
    expect(health.status).toBe(200);
    expect(readyStatus(cc)).toBe('False');
    expect(
      (await clusterEvents(admin, ns, 'ks-installer')).some(
        (e) => e.type === 'Warning' && e.reason === 'InvalidSpec',
      ),
    ).toBe(true);
    const after = await stackResourceVersions(admin);
    expect([...before].filter(([k, rv]) => after.get(k) !== rv)).toEqual([]);

    // Fixing the field recovers.
    const fixFrom = op.lines.length;
    await mergePatch(admin, ccPath(ns), { spec: { etcd: { monitoring: false } } });
    await nextRunEnd(fixFrom);
    const fixed = await getCc();
    expect(readyStatus(fixed)).toBe('True');
    expect(fixed.status?.conditions?.find((x) => x.type === 'Degraded')?.status).toBe('False');
  });
});
