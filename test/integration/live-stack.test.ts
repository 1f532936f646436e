/**
 * The live stack (tools/live/): the monitoring stack the operator installs, running for real on its own
 * embedded control plane — prometheus-operator, the Prometheus, Alertmanager and ThanosRuler it makes,
 * node-exporter behind kube-rbac-proxy on 3 Nodes (each its own network namespace), kube-state-metrics
 * behind kube-rbac-proxy, the embedded etcd and kube-apiserver, and the kubelet/cAdvisor endpoints the
 * process kubelet serves for each Node from the real counters of the processes it runs — scraped
 * through our ServiceMonitors and evaluated with our rules. What cannot run here (kube-scheduler,
 * kube-controller-manager, CoreDNS, notification-manager) and the records that therefore have no series
 * are listed in docs/live-stack.md, and below.
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
import { SECOND_EVALUATION_RECORDS } from '../../tools/live/console.js';
import { request as httpsRequest } from 'node:https';
import { CONTENT_TYPE } from '../../src/kube/client.js';
import { ROOT } from './fixtures.js';

const NO_TARGET = (what: string) =>
  `\`up\` of ${what}: none runs here, so its Service has no Endpoints and no target`;
const NO_5XX =
  'the API server answered no request with a 5xx here: the sum of an empty vector is empty (as in the original)';

/**
 * Records whose inputs do not exist here, and why (docs/live-stack.md). Every other record of our rules
 * must have series; and these must stay empty (else the list is out of date).
 */
export const NO_INPUTS_HERE: Record<string, string> = {
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
 * Labels real inputs carry that the contract's synthetic inputs did not: kube-apiserver v1.34's request
 * duration histogram has `dry_run`, and the histogram quantile record keeps its input's labels.
 */
const EXTRA_LABELS: Record<string, string[]> = {
  'cluster_quantile:apiserver_request_duration_seconds:histogram_quantile': ['dry_run'],
};

/** GET https://<node>:10250<path> (the kubelet's self-signed certificate is not verified, as our ServiceMonitor does not). */
function kubeletGet(ip: string, p: string, bearer?: string): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = httpsRequest(
      {
        host: ip,
        port: 10250,
        path: p,
        rejectUnauthorized: false,
        headers: bearer ? { Authorization: `Bearer ${bearer}` } : {},
        timeout: 10_000,
      },
      (res) => {
        let body = '';
        res.setEncoding('utf8');
        res.on('data', (c: string) => (body += c));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
      },
    );
    req.on('error', reject);
    req.end();
  });
}

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

/** Each Pod's processes, from /proc (independently of the kubelet stand-in): CPU seconds and resident bytes. */
const podSamples: { at: number; pods: Map<string, { cpu: number; rss: number }> }[] = [];
let podSampler: NodeJS.Timeout | undefined;

/** An alerting rule as ks-controller-manager writes them (alertrules-*, a rule level), for the ThanosRuler. */
const RULER_PROBE = 'LiveStackRulerProbe';

let boot: Awaited<ReturnType<typeof bootLiveCluster>>;
let stack: LiveStack;
let client: KubeClient;
let failed = false;

/** The process kubelet's log, printed when the stack does not come up. */
const liveLog: string[] = [];

beforeAll(async () => {
  try {
    await bootAndSettle();
  } catch (err) {
    failed = true;
    process.stderr.write(`process kubelet log (last lines):\n${liveLog.slice(-60).join('\n')}\n`);
    throw err;
  }
}, 900_000);

async function bootAndSettle(): Promise<void> {
  boot = await bootLiveCluster({ log: (l) => liveLog.push(l) });
  stack = boot.stack;
  client = boot.client;
  podSampler = setInterval(() => {
    const pods = new Map<string, { cpu: number; rss: number }>();
    for (const u of stack.usage()) {
      if (u.container === 'apiserver-forwarder') continue;
      const p = pods.get(u.pod) ?? { cpu: 0, rss: 0 };
      pods.set(u.pod, { cpu: p.cpu + u.cpu, rss: p.rss + u.rss });
    }
    podSamples.push({ at: Date.now(), pods });
  }, 5000);
  await client.request('POST', `/apis/monitoring.coreos.com/v1/namespaces/${MONITORING_NS}/prometheusrules`, {
    body: {
      apiVersion: 'monitoring.coreos.com/v1',
      kind: 'PrometheusRule',
      metadata: {
        name: 'alertrules-live-stack',
        namespace: MONITORING_NS,
        labels: { 'alerting.kubesphere.io/rule_level': 'cluster' },
      },
      spec: {
        groups: [
          {
            name: 'live-stack',
            rules: [
              {
                alert: RULER_PROBE,
                // Answered by Prometheus, which the ruler queries: 3 node-exporters up.
                expr: 'count(up{job="node-exporter"} == 1) == 3',
                labels: { severity: 'none' },
                annotations: { summary: 'evaluated by the ThanosRuler' },
              },
            ],
          },
        ],
      },
    },
  });
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
}

afterAll(async () => {
  clearInterval(sampler);
  if (podSampler) clearInterval(podSampler);
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
      // etcd: the embedded etcd, one member, at the address the live stack exposes it on.
      const etcd = byJob.get('etcd') ?? [];
      expect(etcd).toHaveLength(1);
      expect(etcd[0]!.labels.instance).toMatch(/^198\.1[89]\.\d+\.\d+:2379$/);
      // cAdvisor series keep the container's own labels (honorLabels): container, pod, namespace, image.
      const cadvisor = await stack.query(
        `container_cpu_usage_seconds_total{job="kubelet", namespace="${MONITORING_NS}", pod="prometheus-k8s-0", container="prometheus"}`,
      );
      expect(cadvisor).toHaveLength(1);
      expect(Object.keys(cadvisor[0]!.metric).sort()).toEqual([
        '__name__',
        'container',
        'cpu',
        'id',
        'image',
        'instance',
        'job',
        'metrics_path',
        'name',
        'namespace',
        'node',
        'pod',
      ]);
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
      expect(empty.filter((r) => !NO_INPUTS_HERE[r] && !SECOND_EVALUATION_RECORDS.has(r))).toEqual([]);
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
        'KubeletDown',
        'etcdMembersDown',
        'etcdInsufficientMembers',
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
    'pod, workload and namespace records agree with what the processes’ own /proc counters say',
    record(async () => {
      const pod = `${MONITORING_NS}/prometheus-k8s-0`;
      // Pod level: the working set cAdvisor gives for the Pod's containers, against the resident memory
      // of its processes now (/proc/<pid>/status, read by the test, not by the kubelet stand-in).
      const ws = await stack.query(
        `sum(container_memory_working_set_bytes{job="kubelet", namespace="${MONITORING_NS}", pod="prometheus-k8s-0", container!="", image!=""})`,
      );
      expect(ws).toHaveLength(1);
      const rssNow = podSamples.at(-1)!.pods.get(pod)!.rss;
      const wsRatio = Number(ws[0]!.value[1]) / rssNow;
      expect(wsRatio).toBeGreaterThan(0.5);
      expect(wsRatio).toBeLessThan(2);
      // Workload level: the CPU record of StatefulSet prometheus-k8s (irate over the last two scrapes)
      // against the rate of its processes' utime + stime over the two minutes before the record's
      // timestamp: the same order of magnitude.
      const cpu = await stack.query(
        `namespace:workload_cpu_usage:sum{namespace="${MONITORING_NS}", workload="StatefulSet:prometheus-k8s"}`,
      );
      expect(cpu).toHaveLength(1);
      const at = cpu[0]!.value[0] * 1000;
      const window = podSamples.filter((s) => s.at >= at - 120_000 && s.at <= at + 5000 && s.pods.has(pod));
      expect(window.length).toBeGreaterThan(5);
      const first = window[0]!;
      const last = window.at(-1)!;
      const procRate = (last.pods.get(pod)!.cpu - first.pods.get(pod)!.cpu) / ((last.at - first.at) / 1000);
      const value = Number(cpu[0]!.value[1]);
      expect(value).toBeGreaterThan(0);
      expect(value / procRate).toBeGreaterThan(0.1);
      expect(value / procRate).toBeLessThan(10);
      // Memory of the workload, and the namespace level: CPU of the namespace's containers, not zero.
      const mem = await stack.query(
        `namespace:workload_memory_usage_wo_cache:sum{namespace="${MONITORING_NS}", workload="StatefulSet:prometheus-k8s"}`,
      );
      expect(Number(mem[0]!.value[1]) / rssNow).toBeGreaterThan(0.5);
      expect(Number(mem[0]!.value[1]) / rssNow).toBeLessThan(2);
      const ns = await stack.query(
        `namespace:container_cpu_usage_seconds_total:sum_rate{namespace="${MONITORING_NS}"}`,
      );
      expect(Number(ns[0]!.value[1])).toBeGreaterThan(0);
      // Network: the Pods' sandboxes (their network namespaces) moved bytes.
      const net = await stack.query(
        `namespace:workload_net_bytes_received:sum{namespace="${MONITORING_NS}", workload="Deployment:kube-state-metrics"}`,
      );
      expect(Number(net[0]!.value[1])).toBeGreaterThan(0);
    }),
    300_000,
  );

  test(
    'each Node’s kubelet endpoints answer as a kubelet does: 401 without a token, 403 without nodes/metrics',
    record(async () => {
      const token = async (sa: string) =>
        (
          await client.request<{ status: { token: string } }>(
            'POST',
            `/api/v1/namespaces/${MONITORING_NS}/serviceaccounts/${sa}/token`,
            { body: { apiVersion: 'authentication.k8s.io/v1', kind: 'TokenRequest', spec: {} } },
          )
        ).status.token;
      const prometheus = await token('prometheus-k8s');
      const other = await token('kube-state-metrics');
      const nodes = (
        await client.get<{
          items: { metadata: { name: string }; status: { addresses: { type: string; address: string }[] } }[];
        }>('/api/v1/nodes')
      ).items;
      expect(nodes).toHaveLength(3);
      const where = (
        await client.get<{ spec: { nodeName: string } }>(
          `/api/v1/namespaces/${MONITORING_NS}/pods/prometheus-k8s-0`,
        )
      ).spec.nodeName;
      // kubelets since v1.19 emit the running counts as kubelet_running_pods / _containers, which the
      // keep list names beside the original's pre-1.19 names (docs/differences.md).
      expect((await stack.query('kubelet_running_pods')).length).toBe(3);
      expect((await stack.query('kubelet_running_containers')).length).toBeGreaterThanOrEqual(3);
      expect(await stack.query('{__name__=~"kubelet_running_(pod|container)_count"}')).toEqual([]);
      expect((await stack.query('kubelet_node_name')).length).toBe(3);
      for (const n of nodes) {
        const ip = n.status.addresses.find((a) => a.type === 'InternalIP')!.address;
        const get = (p: string, bearer?: string) => kubeletGet(ip, p, bearer);
        expect((await get('/metrics')).status).toBe(401);
        expect((await get('/metrics', other)).status).toBe(403);
        const own = await get('/metrics', prometheus);
        expect(own.status).toBe(200);
        expect(own.body).toContain(`kubelet_node_name{node="${n.metadata.name}"} 1`);
        expect(own.body).toContain('# TYPE kubelet_pleg_relist_duration_seconds histogram');
        expect(own.body).toMatch(/^kubelet_running_pods \d+$/m);
        const cadvisor = await get('/metrics/cadvisor', prometheus);
        expect(cadvisor.status).toBe(200);
        expect(cadvisor.body).toContain('# TYPE container_cpu_usage_seconds_total counter');
        const resource = await get('/metrics/resource', prometheus);
        expect(resource.status).toBe(200);
        expect(resource.body).toContain('# TYPE node_cpu_usage_seconds_total counter');
        if (n.metadata.name === where)
          expect(resource.body).toMatch(
            new RegExp(
              `^pod_cpu_usage_seconds_total\\{namespace="${MONITORING_NS}",pod="prometheus-k8s-0"\\} [0-9.e+]+ \\d+$`,
              'm',
            ),
          );
      }
    }),
    300_000,
  );

  test(
    'etcd is scraped through our ServiceMonitor, and its records agree with its own /metrics',
    record(async () => {
      const up = await stack.query('etcd:up:sum');
      expect(Number(up[0]!.value[1])).toBe(1);
      const size = await stack.query('etcd:etcd_mvcc_db_total_size:sum');
      expect(size).toHaveLength(1);
      // etcd's own figure, on its loopback client URL.
      const text = await (await fetch(`${boot.cp.info.etcd}/metrics`)).text();
      const own = Number(/^etcd_mvcc_db_total_size_in_bytes (\S+)$/m.exec(text)![1]);
      const ratio = Number(size[0]!.value[1]) / own;
      expect(ratio).toBeGreaterThan(0.5);
      expect(ratio).toBeLessThan(2);
      const committed = await stack.query('etcd:etcd_server_proposals_committed:sum_irate');
      expect(Number(committed[0]!.value[1])).toBeGreaterThan(0);
    }),
    300_000,
  );

  (alertmanagerAvailable() ? test : test.skip)(
    'the ThanosRuler evaluates an alertrules-* PrometheusRule against Prometheus and sends it to Alertmanager',
    record(async () => {
      const alert = await stack.waitFor(
        `${RULER_PROBE} in Alertmanager`,
        async () => (await stack.alertmanagerAlerts()).find((a) => a.labels.alertname === RULER_PROBE),
        240_000,
      );
      expect(alert.labels.severity).toBe('none');
      // thanos-ruler-operated: the ruler's rules API at the address and web port its Endpoints give.
      const ep = await client.get<{
        subsets: { addresses: { ip: string }[]; ports: { name: string; port: number }[] }[];
      }>(`/api/v1/namespaces/${MONITORING_NS}/endpoints/thanos-ruler-operated`);
      const port = ep.subsets[0]!.ports.find((p) => p.name === 'web')!.port;
      expect(port).toBe(10902);
      const res = await fetch(`http://${ep.subsets[0]!.addresses[0]!.ip}:${port}/api/v1/rules`, {
        signal: AbortSignal.timeout(10_000),
      });
      const body = (await res.json()) as {
        data: { groups: { rules: { name: string; health: string; state: string }[] }[] };
      };
      const rule = body.data.groups.flatMap((g) => g.rules).find((r) => r.name === RULER_PROBE);
      expect(rule).toMatchObject({ health: 'ok', state: 'firing' });
      // Prometheus does not load it (its ruleSelector asks for prometheus=k8s, role=alert-rules).
      const own = (await stack.ruleGroups()).flatMap((g) => g.rules.map((r) => r.name));
      expect(own).not.toContain(RULER_PROBE);
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
