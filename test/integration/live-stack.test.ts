/**
 * The live stack (tools/live/): the monitoring stack the operator installs, running for real on its own
 * embedded control plane — prometheus-operator, the Prometheus and Alertmanager it makes, node-exporter
 * behind kube-rbac-proxy on 3 Nodes (each its own network namespace), kube-state-metrics behind
 * kube-rbac-proxy — scraped through our ServiceMonitors and evaluated with our rules. What cannot run
 * here (kubelet, cAdvisor, kube-scheduler, kube-controller-manager, CoreDNS, notification-manager) and
 * the records that therefore have no series are listed in docs/live-stack.md, and below.
 * Takes a few minutes: scrape and evaluation intervals are 1m, and rate records need two scrapes.
 */
import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import {
  bootLiveCluster,
  EXPECTED_DOWN,
  MONITORING_NS,
  MUST_BE_UP,
  type LiveStack,
  type Target,
} from '../../tools/live/stack.js';
import type { KubeClient } from '../../src/kube/client.js';
import { alertmanagerAvailable } from '../../tools/live/kubelet.js';
import { CONTENT_TYPE } from '../../src/kube/client.js';
import { ROOT } from './fixtures.js';

const CADVISOR = 'cAdvisor series (container_*): no kubelet and no cAdvisor run here';
const NO_TARGET = (what: string) =>
  `\`up\` of ${what}: none runs here, so its Service has no Endpoints and no target`;
const NO_5XX =
  'the API server answered no request with a 5xx here: the sum of an empty vector is empty (as in the original)';

/**
 * Records whose inputs do not exist here, and why (docs/live-stack.md). Every other record of our rules
 * must have series; and these must stay empty (else the list is out of date).
 */
export const NO_INPUTS_HERE: Record<string, string> = {
  'namespace:workload_cpu_usage:sum': CADVISOR,
  'namespace:workload_memory_usage:sum': CADVISOR,
  'namespace:workload_memory_usage_wo_cache:sum': CADVISOR,
  'namespace:workload_net_bytes_received:sum': CADVISOR,
  'namespace:workload_net_bytes_received:sum_irate': CADVISOR,
  'namespace:workload_net_bytes_transmitted:sum': CADVISOR,
  'namespace:workload_net_bytes_transmitted:sum_irate': CADVISOR,
  'qos_owner_node:kube_pod_info:': CADVISOR,
  'node_quantile:kubelet_pleg_relist_duration_seconds:histogram_quantile':
    'kubelet /metrics: no kubelet runs here',
  'namespace:pvc_bytes_total:sum':
    'kubelet_volume_stats_* (kubelet) and PersistentVolumeClaims: neither exists here',
  'namespace:resourcequota_used:ratio':
    'no ResourceQuota exists here (and no kube-controller-manager fills status.used)',
  'node:pod_succeeded:count': 'no Pod has succeeded here (no Jobs run)',
  'scheduler:up:sum': NO_TARGET('kube-scheduler'),
  'scheduler:scheduler_schedule_attempts:sum': NO_TARGET('kube-scheduler'),
  'scheduler:scheduler_schedule_attempts:sum_rate': NO_TARGET('kube-scheduler'),
  'scheduler:scheduler_e2e_scheduling_duration:avg': NO_TARGET('kube-scheduler'),
  'scheduler:scheduler_e2e_scheduling_duration:histogram_quantile': NO_TARGET('kube-scheduler'),
  'controller_manager:up:sum': NO_TARGET('kube-controller-manager'),
  'coredns:up:sum': NO_TARGET('CoreDNS'),
  'apiserver_request:burnrate1d': NO_5XX,
  'apiserver_request:burnrate1h': NO_5XX,
  'apiserver_request:burnrate2h': NO_5XX,
  'apiserver_request:burnrate30m': NO_5XX,
  'apiserver_request:burnrate3d': NO_5XX,
  'apiserver_request:burnrate5m': NO_5XX,
  'apiserver_request:burnrate6h': NO_5XX,
};

/**
 * Records of kube-apiserver-availability.rules (evaluated every 3m) that read records of the same group:
 * they have series from its second evaluation on, which the test does not wait for (6 minutes).
 */
const SECOND_EVALUATION = new Set([
  'apiserver_request:availability30d',
  'code:apiserver_request_total:increase30d',
  'code_verb:apiserver_request_total:increase30d',
  'cluster_verb_scope:apiserver_request_duration_seconds_count:increase30d',
  'cluster_verb_scope_le:apiserver_request_duration_seconds_bucket:increase30d',
]);

/**
 * Labels real inputs carry that the contract's synthetic inputs did not: kube-apiserver v1.34's request
 * duration histogram has `dry_run`, and the histogram quantile record keeps its input's labels.
 */
const EXTRA_LABELS: Record<string, string[]> = {
  'cluster_quantile:apiserver_request_duration_seconds:histogram_quantile': ['dry_run'],
};

/** This machine's /proc/meminfo, in bytes. */
function readMeminfo(): Record<string, number> {
  return Object.fromEntries(
    readFileSync('/proc/meminfo', 'utf8')
      .split('\n')
      .filter(Boolean)
      .map((l) => {
        const [k, v] = l.split(':');
        return [k!.trim(), Number.parseInt(v!, 10) * 1024];
      }),
  );
}

/** Memory utilisation by the contract's meaning: 1 - (MemFree + Cached + Buffers + SReclaimable) / MemTotal. */
function memoryUtilisation(): number {
  const m = readMeminfo();
  return 1 - (m.MemFree! + m.Cached! + m.Buffers! + m.SReclaimable!) / m.MemTotal!;
}

const memorySamples: { at: number; utilisation: number }[] = [];
const sampler = setInterval(
  () => memorySamples.push({ at: Date.now(), utilisation: memoryUtilisation() }),
  2000,
);

let boot: Awaited<ReturnType<typeof bootLiveCluster>>;
let stack: LiveStack;
let client: KubeClient;
let failed = false;

beforeAll(async () => {
  boot = await bootLiveCluster({ log: () => undefined });
  stack = boot.stack;
  client = boot.client;
  // Every target that can be up is up, and every rule group has evaluated twice (rate records need
  // two scrapes of their inputs).
  await stack.waitFor(
    'targets up',
    async () => {
      const targets = await stack.targets();
      const jobs = new Set(targets.filter((t) => t.health === 'up').map((t) => t.labels.job));
      return MUST_BE_UP.every((j) => jobs.has(j)) &&
        targets.every((t) => t.health === 'up' || EXPECTED_DOWN[t.labels.job!])
        ? targets
        : undefined;
    },
    240_000,
  );
  const since = Date.now();
  await stack.waitFor(
    'rule groups evaluated after the targets were up',
    async () => {
      const groups = await stack.ruleGroups();
      return groups.length > 0 && groups.every((g) => Date.parse(g.lastEvaluation) > since + 60_000)
        ? groups
        : undefined;
    },
    400_000,
    5000,
  );
}, 900_000);

afterAll(async () => {
  clearInterval(sampler);
  await boot?.stop({ keepLogs: failed });
  if (failed && stack) process.stderr.write(`live stack logs kept in ${stack.dir}/logs\n`);
}, 120_000);

const record = (fn: () => Promise<void>) => async () => {
  try {
    await fn();
  } catch (err) {
    failed = true;
    throw err;
  }
};

describe('the live stack', () => {
  test(
    'every target that can be up is up, with the labels of the scrape contract',
    record(async () => {
      const targets = await stack.targets();
      const byJob = new Map<string, Target[]>();
      for (const t of targets) byJob.set(t.labels.job!, [...(byJob.get(t.labels.job!) ?? []), t]);
      for (const t of targets) {
        if (EXPECTED_DOWN[t.labels.job!]) expect(t.health).toBe('down');
        else
          expect({ job: t.labels.job, url: t.scrapeUrl, health: t.health, error: t.lastError }).toEqual({
            job: t.labels.job,
            url: t.scrapeUrl,
            health: 'up',
            error: '',
          });
      }
      // node-exporter: one per Node, instance = the Node's name, namespace/pod of the exporter's Pod, no service/endpoint/container.
      const ne = byJob.get('node-exporter')!;
      expect(ne.map((t) => t.labels.instance).sort()).toEqual(['node-1', 'node-2', 'node-3']);
      for (const t of ne) {
        expect(t.labels.namespace).toBe(MONITORING_NS);
        expect(t.labels.pod).toBe(`node-exporter-${t.labels.instance}`);
        expect(Object.keys(t.labels)).not.toEqual(expect.arrayContaining(['service']));
        for (const l of ['service', 'endpoint', 'container']) expect(t.labels[l]).toBeUndefined();
      }
      // kube-state-metrics: target pod/namespace/service/endpoint/container dropped (honorLabels keep the objects' own).
      // (The https-self endpoint, kube-state-metrics' own metrics, has no relabelings: it keeps them.)
      const ksmMain = byJob
        .get('kube-state-metrics')!
        .filter((t) => t.discoveredLabels.__meta_kubernetes_endpoint_port_name === 'https-main');
      expect(ksmMain).toHaveLength(1);
      for (const t of ksmMain) {
        for (const l of ['pod', 'namespace', 'service', 'endpoint', 'container'])
          expect(t.labels[l]).toBeUndefined();
      }
      // kubelet targets: one per Node per path, with node and metrics_path.
      const kubelet = byJob.get('kubelet') ?? [];
      expect(new Set(kubelet.map((t) => t.labels.node))).toEqual(new Set(['node-1', 'node-2', 'node-3']));
      expect(new Set(kubelet.map((t) => t.labels.metrics_path))).toEqual(
        new Set(['/metrics', '/metrics/cadvisor']),
      );
      // Series carry the same labels: node-exporter's with instance = node, kube-state-metrics' their objects'.
      const cpu = await stack.query('count by (instance, namespace, pod, job) (node_cpu_seconds_total)');
      expect(cpu.map((s) => s.metric.instance).sort()).toEqual(['node-1', 'node-2', 'node-3']);
      const ksmPods = await stack.query(`kube_pod_info{namespace="${MONITORING_NS}"}`);
      expect(ksmPods.map((s) => s.metric.pod)).toEqual(
        expect.arrayContaining(['prometheus-k8s-0', 'node-exporter-node-1']),
      );
      for (const s of ksmPods) expect(s.metric.job).toBe('kube-state-metrics');
      const ws = await stack.query('kube_namespace_labels');
      expect(ws.map((s) => s.metric.namespace)).toEqual(expect.arrayContaining([MONITORING_NS, 'default']));
    }),
    300_000,
  );

  test(
    'every record whose inputs exist here has series, with the label names of the contract',
    record(async () => {
      const expected = JSON.parse(
        readFileSync(path.join(ROOT, 'test', 'fixtures', 'rules-fixture', 'expected.json'), 'utf8'),
      ) as { records: Record<string, { labels: Record<string, string> }[]> };
      const groups = await stack.ruleGroups();
      const records = new Set(
        groups.flatMap((g) => g.rules.filter((r) => r.type === 'recording').map((r) => r.name)),
      );
      for (const g of groups)
        for (const r of g.rules)
          expect({ rule: r.name, health: r.health, error: r.lastError ?? '' }).toEqual({
            rule: r.name,
            health: 'ok',
            error: '',
          });
      const empty: string[] = [];
      const wrongLabels: string[] = [];
      for (const name of [...records].sort()) {
        const series = await stack.query(`{__name__=${JSON.stringify(name)}}`);
        if (series.length === 0) {
          empty.push(name);
          continue;
        }
        // The contract's label sets for this record (one per rule writing it). A series may lack a
        // label its input left empty (e.g. `scope` of non-resource requests), never carry another.
        const sets = (expected.records[name] ?? []).map((s) =>
          Object.keys(s.labels)
            .filter((l) => l !== '__name__')
            .sort()
            .join(','),
        );
        if (sets.length === 0) continue;
        const allowed = new Set(
          [...sets.flatMap((x) => x.split(',')), ...(EXTRA_LABELS[name] ?? [])].filter(Boolean),
        );
        const got = series.map((s) =>
          Object.keys(s.metric)
            .filter((l) => l !== '__name__')
            .sort()
            .join(','),
        );
        for (const g of got)
          for (const l of g.split(',').filter(Boolean))
            if (!allowed.has(l)) wrongLabels.push(`${name}: label ${l} not in the contract`);
        if (!got.some((g) => sets.includes(g)))
          wrongLabels.push(
            `${name}: no series with the contract's labels {${sets.join('} {')}}, got {${[...new Set(got)].join('} {')}}`,
          );
      }
      expect(wrongLabels).toEqual([]);
      expect(empty.filter((r) => !NO_INPUTS_HERE[r] && !SECOND_EVALUATION.has(r))).toEqual([]);
      // The list of records without inputs here stays true: none of them has series after all.
      expect(Object.keys(NO_INPUTS_HERE).filter((r) => records.has(r) && !empty.includes(r))).toEqual([]);
    }),
    300_000,
  );

  test(
    'node memory utilisation agrees with this machine’s /proc/meminfo',
    record(async () => {
      const meminfo = readMeminfo();
      const got = await stack.query('node:node_memory_utilisation:');
      expect(got.map((s) => s.metric.node).sort()).toEqual(['node-1', 'node-2', 'node-3']);
      // The record was evaluated at its timestamp from scrapes up to a minute older, and the machine is
      // shared (other processes come and go): it must lie within what /proc/meminfo said over the two
      // minutes before it, sampled every 2 s since the stack started, give or take 2 percentage points.
      for (const s of got) {
        const at = s.value[0] * 1000;
        const window = memorySamples
          .filter((m) => m.at >= at - 120_000 && m.at <= at + 2000)
          .map((m) => m.utilisation);
        expect(window.length).toBeGreaterThan(10);
        const value = Number(s.value[1]);
        expect(value).toBeGreaterThanOrEqual(Math.min(...window) - 0.02);
        expect(value).toBeLessThanOrEqual(Math.max(...window) + 0.02);
      }
      const total = await stack.query('node:node_memory_bytes_total:sum');
      for (const s of total) expect(Number(s.value[1])).toBe(meminfo.MemTotal);
    }),
    300_000,
  );

  // Alertmanager's binary comes with the alerting test tools (or TEST_ASSET_ALERTMANAGER); without it
  // its Pod stays Pending and this test is skipped, visibly.
  (alertmanagerAvailable() ? test : test.skip)(
    'Watchdog reaches Alertmanager; the alerts about what runs here do not fire',
    record(async () => {
      const am = await stack.waitFor(
        'Watchdog in Alertmanager',
        async () => {
          const alerts = await stack.alertmanagerAlerts();
          return alerts.some((a) => a.labels.alertname === 'Watchdog') ? alerts : undefined;
        },
        180_000,
      );
      expect(am.map((a) => a.labels.alertname)).toContain('Watchdog');
      const firing = (await stack.alerts())
        .filter((a) => a.state === 'firing')
        .map((a) => a.labels.alertname);
      // Targets that run here are up: their "down" alerts do not fire.
      for (const name of [
        'PrometheusOperatorDown',
        'NodeExporterDown',
        'KubeStateMetricsDown',
        'AlertmanagerDown',
        'PrometheusDown',
      ])
        expect(firing).not.toContain(name);
    }),
    300_000,
  );

  test(
    'kubectl edit cc of the retention reaches the running Prometheus',
    record(async () => {
      const before = await stack.flags();
      // Prometheus prints durations in its own units: 7d is 1w.
      expect(before['storage.tsdb.retention.time']).toBe('1w');
      await client.request(
        'PATCH',
        '/apis/installer.kubesphere.io/v1alpha1/namespaces/kubesphere-system/clusterconfigurations/ks-installer',
        {
          body: { spec: { monitoring: { prometheus: { replicas: 1, retention: '3d' } } } },
          contentType: CONTENT_TYPE.merge,
        },
      );
      await stack.waitFor(
        'retention 3d on the running Prometheus',
        async () => ((await stack.flags())['storage.tsdb.retention.time'] === '3d' ? true : undefined),
        180_000,
      );
    }),
    300_000,
  );
});
