/**
 * Refusals caused by the cluster, not the spec, heal without an edit of the ClusterConfiguration:
 * - Secret alertmanager-main made immutable with other data: ours to recreate (our label, only our
 *   keys), so the run deletes and creates it, logs it and posts an Event; no run fails.
 * - The same with a key we do not render: the run fails naming the Secret and the command that fixes
 *   it; once someone deletes the Secret, the retry (or the resync) puts it back.
 * - An admission policy refuses our Prometheus: the run fails; once the policy is fixed, the stack heals
 *   within the resync period.
 * Both operators run at debug level, one logging JSON and one text, and their logs are scanned for
 * every Secret value the test saw (ours and the injected ones), decoded and base64, whole and prefix.
 * Each recovery time is printed.
 */
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import type { ClusterConfiguration } from '../../src/api/cluster-configuration.js';
import type { KubeClient } from '../../src/kube/client.js';
import { createPrometheusPolicy, deleteRetentionPolicy } from './admission-policy.js';
import {
  ccPath,
  clusterEvents,
  createClusterConfiguration,
  mergePatch,
  MONITORING_NS,
  prepareOperatorTest,
  sampleClusterConfiguration,
  type Obj,
} from './fixtures.js';
import { startOperatorProcess, waitUntil, type OperatorProcess } from './operator-process.js';

const SECRET = `/api/v1/namespaces/${MONITORING_NS}/secrets/alertmanager-main`;
const WEBHOOK_SECRET = `/api/v1/namespaces/${MONITORING_NS}/secrets/notification-manager-webhook-server-cert`;
const PROMETHEUS = `/apis/monitoring.coreos.com/v1/namespaces/${MONITORING_NS}/prometheuses/k8s`;
const POLICY = 'ks-installer-test-refuse-our-retention';
const RESYNC_S = 15;

const b64 = (s: string) => Buffer.from(s, 'utf8').toString('base64');
const unb64 = (s: string) => Buffer.from(s, 'base64').toString('utf8');
const seconds = (ms: number) => `${(ms / 1000).toFixed(1)} s`;

describe('refusals caused by the cluster', () => {
  let admin: KubeClient;
  let ns: string;
  const processes: OperatorProcess[] = [];
  /** Every Secret value seen, decoded: none may reach a log line. */
  const secretValues = new Set<string>();
  const ready = async () =>
    (await admin.get<ClusterConfiguration>(ccPath(ns))).status?.conditions?.find((c) => c.type === 'Ready');

  async function rememberSecrets(): Promise<void> {
    for (const p of [SECRET, WEBHOOK_SECRET]) {
      const s = await admin.getOrUndefined<Obj>(p);
      for (const v of Object.values((s?.['data'] ?? {}) as Record<string, string>))
        secretValues.add(unb64(v));
    }
  }

  /** A distinctive alertmanager.yaml, as someone else would write it, with a credential inside. */
  function foreignConfig(): string {
    const value = `route:\n  receiver: other\nglobal:\n  slack_api_url: https://hooks.example/${randomBytes(12).toString('hex')}\n`;
    secretValues.add(value);
    return value;
  }

  beforeAll(async () => {
    ({ admin, ns } = await prepareOperatorTest('refusals'));
    await createClusterConfiguration(admin, sampleClusterConfiguration(ns));
  });

  afterAll(async () => {
    await deleteRetentionPolicy(admin, POLICY);
    await Promise.all(processes.map((p) => p.stop()));
  });

  function start(format: 'json' | 'text'): OperatorProcess {
    const op = startOperatorProcess([
      '--namespace',
      ns,
      '--resync-period',
      `${RESYNC_S}s`,
      '--log-level',
      'debug',
      '--log-format',
      format,
    ]);
    processes.push(op);
    return op;
  }

  it('recreates an immutable Secret of ours whose content must change, with no failed run', async () => {
    const op = start('json');
    await op.waitFor(/run succeeded/, 180_000);
    await rememberSecrets();
    const before = await admin.get<Obj>(SECRET);
    const ours = before['data'] as Record<string, string>;

    await mergePatch(admin, SECRET, { data: { 'alertmanager.yaml': b64(foreignConfig()) }, immutable: true });
    const changedAt = Date.now();
    const from = op.lines.length;
    await op.waitFor(/immutable and its content had to change: deleted/, (RESYNC_S + 30) * 1000, from);
    await op.waitFor(/run (succeeded|failed)/, 60_000, from);
    const repairedMs = Date.now() - changedAt;
    expect(op.lines.slice(from).some((l) => /run failed/.test(l))).toBe(false);

    const after = await admin.get<Obj>(SECRET);
    expect(after.metadata.uid).not.toBe(before.metadata.uid);
    expect(after['immutable']).toBeUndefined();
    expect(after['data']).toEqual(ours);
    const events = await clusterEvents(admin, ns, 'ks-installer');
    expect(
      events.some((e) => e.reason === 'ImmutableObjectReplaced' && /alertmanager-main/.test(e.message)),
    ).toBe(true);
    process.stdout.write(
      `cluster refusals: immutable Secret of ours recreated ${seconds(repairedMs)} after the change (resync ${RESYNC_S} s)\n`,
    );
  });

  it('names an immutable Secret that is not ours to recreate, and heals once it is deleted', async () => {
    const op = processes[0]!;
    await mergePatch(admin, SECRET, {
      data: { 'alertmanager.yaml': b64(foreignConfig()), 'extra.yaml': b64('kept: by someone else') },
      immutable: true,
    });
    const from = op.lines.length;
    await op.waitFor(/run failed/, (RESYNC_S + 30) * 1000, from);
    const failed = await ready();
    expect(failed).toMatchObject({ status: 'False', reason: 'RefusedByApiServer' });
    expect(failed?.message).toContain('Secret kubesphere-monitoring-system/alertmanager-main is immutable');
    expect(failed?.message).toContain('extra.yaml');
    expect(failed?.message).toContain(
      'kubectl delete secret -n kubesphere-monitoring-system alertmanager-main',
    );
    expect(
      op.lines.slice(from).some((l) => /waiting for the ClusterConfiguration to be edited/.test(l)),
    ).toBe(false);

    const generation = (await admin.get<ClusterConfiguration>(ccPath(ns))).metadata.generation;
    await admin.request('DELETE', SECRET);
    const fixedAt = Date.now();
    await waitUntil('Ready=True', async () => (await ready())?.status === 'True', (RESYNC_S + 30) * 1000);
    const healedMs = Date.now() - fixedAt;
    const secret = await admin.get<Obj>(SECRET);
    expect(secret['immutable']).toBeUndefined();
    expect(Object.keys(secret['data'] as object)).toEqual(['alertmanager.yaml']);
    // No edit of the spec: only status writes since (each bumps the generation: no status subresource).
    const cc = await admin.get<ClusterConfiguration>(ccPath(ns));
    expect(cc.metadata.generation).toBeGreaterThanOrEqual(generation!);
    process.stdout.write(
      `cluster refusals: foreign immutable Secret deleted → healed in ${seconds(healedMs)}\n`,
    );
  });

  it('retries a refusal by an admission policy and heals within the resync period once the policy is fixed', async () => {
    await processes[0]?.stop();
    const op = start('text');
    await op.waitFor(/run succeeded/, 120_000);
    // A plain drift of the Secret (at debug level the compare step names what differs).
    let from = op.lines.length;
    await mergePatch(admin, SECRET, { data: { 'alertmanager.yaml': b64(foreignConfig()) } });
    await op.waitFor(/run succeeded/, (RESYNC_S + 30) * 1000, from);
    expect(
      op.lines.slice(from).some((l) => /Secret alertmanager-main: data.alertmanager.yaml: differs/.test(l)),
    ).toBe(true);

    // A policy refuses the scrape interval we set (a field the spec does not carry over from the live
    // object, unlike retention); someone changes it on our Prometheus, and the policy refuses our repair.
    const prometheus = await admin.get<Obj & { spec: { scrapeInterval: string } }>(PROMETHEUS);
    const ours = prometheus.spec.scrapeInterval;
    await createPrometheusPolicy(admin, {
      name: POLICY,
      expression: `!has(object.spec.scrapeInterval) || object.spec.scrapeInterval != '${ours}'`,
      message: `scrapeInterval ${ours} is refused by a test policy`,
      reason: 'Invalid',
    });
    await waitUntil('the policy admits another interval', async () => {
      await mergePatch(admin, PROMETHEUS, { spec: { scrapeInterval: '2m' } });
      return true;
    });
    from = op.lines.length;
    await op.waitFor(/run failed/, (RESYNC_S + 30) * 1000, from);
    await waitUntil('Ready=False', async () => (await ready())?.reason === 'RefusedByApiServer');
    expect((await ready())?.message).toMatch(
      /Prometheus kubesphere-monitoring-system\/k8s.*refused by a test policy/s,
    );
    await op.waitFor(/retrying in/, 10_000, from);
    expect(
      op.lines.slice(from).some((l) => /waiting for the ClusterConfiguration to be edited/.test(l)),
    ).toBe(false);

    await deleteRetentionPolicy(admin, POLICY);
    const fixedAt = Date.now();
    await waitUntil(
      'Prometheus repaired',
      async () =>
        (await admin.get<Obj & { spec: { scrapeInterval: string } }>(PROMETHEUS)).spec.scrapeInterval ===
        ours,
      (RESYNC_S + 30) * 1000,
    );
    await waitUntil('Ready=True', async () => (await ready())?.status === 'True', 30_000);
    const healedMs = Date.now() - fixedAt;
    expect(healedMs).toBeLessThan((RESYNC_S + 10) * 1000);
    process.stdout.write(
      `cluster refusals: admission policy fixed → healed in ${seconds(healedMs)} (resync ${RESYNC_S} s, no spec edit)\n`,
    );
  });

  it('wrote no Secret value to any log line, at debug level, in JSON and text', async () => {
    await rememberSecrets();
    const lines = processes.flatMap((p) => p.lines);
    expect(lines.length).toBeGreaterThan(50);
    expect(lines.some((l) => /"level":"debug"/.test(l))).toBe(true);
    expect(secretValues.size).toBeGreaterThanOrEqual(5);
    const needles = new Set<string>();
    for (const v of secretValues) {
      for (const s of [v, b64(v)]) {
        needles.add(s);
        needles.add(JSON.stringify(s).slice(1, -1));
        if (s.length > 24) {
          needles.add(s.slice(0, 24));
          needles.add(JSON.stringify(s.slice(0, 24)).slice(1, -1));
        }
      }
    }
    const leaks = lines.filter((l) => [...needles].some((n) => n.length >= 8 && l.includes(n)));
    expect(leaks).toEqual([]);
  });
});
