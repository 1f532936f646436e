/**
 * Outgrowing one Prometheus, for real (docs/install.md#outgrowing-one-prometheus): the live stack
 * (tools/live/) with Prometheus k8s in 2 shards, each with the Thanos sidecar, a Thanos Store on a
 * filesystem bucket in a temporary directory, Thanos Query in front and the ThanosRuler k8s evaluating our
 * rules over it (docs/architecture.md#rules-when-sharded). The reference is a single unsharded Prometheus
 * (`single`, a test object run by the same prometheus-operator) that both shards remote-write to, so it holds
 * exactly their samples (their replica label dropped, as Thanos Query's deduplication drops it), and that
 * evaluates our rules itself, as Prometheus k8s does with one shard. Asserted:
 *   - no shard evaluates a rule; the ruler evaluates every group the single Prometheus does, without error;
 *   - every console record (each recording rule of ours) has the same series through Thanos Query (written by
 *     the ruler) as in the single Prometheus; and each rule's expression, evaluated at one instant over the
 *     shards through Thanos Query and over the same samples in the single Prometheus, gives the same values
 *     (for the rules that read scraped series only: a rule reading another record reads what each evaluator
 *     recorded at its own moment of the minute);
 *   - remote write to a real `thanos receive` (a test Deployment): the series the shards scraped arrive
 *     there, sample for sample;
 *   - Thanos Query sees both sidecars, the Store (serving the bucket) and the rulers as healthy StoreAPIs.
 * Everything stays on loopback and in the network namespaces the live stack creates.
 */
import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import { chmodSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { KubeClient } from '../../src/kube/client.js';
import { bootLiveCluster, MONITORING_NS, type LiveStack, type Sample } from '../../tools/live/stack.js';
import { SECOND_EVALUATION_RECORDS } from '../../tools/live/console.js';

const OBJSTORE_SECRET = 'ks-test-thanos-objstore';
const BUCKET_MOUNT = '/var/ks-test-bucket';
const RECEIVE = 'ks-test-thanos-receive';
const RECEIVE_QUERY = 'ks-test-receive-query';
/** Labels that say which Prometheus, replica, ruler or receiver a series came through: not the series. */
const ORIGIN_LABELS = ['prometheus', 'prometheus_replica', 'thanos_ruler_replica', 'receive', 'tenant_id'];
/** The same samples through two engines: equal but for the order of floating-point sums. */
const RELATIVE_EPSILON = 1e-9;

let boot: Awaited<ReturnType<typeof bootLiveCluster>>;
let stack: LiveStack;
let client: KubeClient;
const bucket = mkdtempSync(path.join(tmpdir(), 'ks-live-bucket-'));
// Written by the sidecars (uid 1000) and the rulers, read by the Store (uid 65534).
chmodSync(bucket, 0o777);

const ours = {
  query: '',
  single: '',
  receiveQuery: '',
};

/** The first ready address of a Service's Endpoints. */
async function serviceIp(name: string): Promise<string | undefined> {
  const ep = await client.getOrUndefined<{ subsets?: { addresses?: { ip: string }[] }[] }>(
    `/api/v1/namespaces/${MONITORING_NS}/endpoints/${name}`,
  );
  return ep?.subsets?.[0]?.addresses?.[0]?.ip;
}

function key(metric: Record<string, string>): string {
  return JSON.stringify(
    Object.entries(metric)
      .filter(([k]) => !ORIGIN_LABELS.includes(k))
      .sort(([a], [b]) => (a < b ? -1 : 1)),
  );
}

const instant = (base: string, promql: string, at: number) =>
  stack.api<{ result: Sample[] }>(
    base,
    `/api/v1/query?query=${encodeURIComponent(promql)}&time=${at}&dedup=true`,
  );

function byKey(samples: Sample[]): Map<string, number> {
  return new Map(samples.map((s) => [key(s.metric), Number(s.value[1])]));
}

function same(a: number, b: number): boolean {
  if (Number.isNaN(a) && Number.isNaN(b)) return true;
  return a === b || Math.abs(a - b) <= RELATIVE_EPSILON * Math.max(Math.abs(a), Math.abs(b));
}

beforeAll(async () => {
  boot = await bootLiveCluster({
    log: () => undefined,
    sharedDirs: [{ hostPath: bucket, mountPath: BUCKET_MOUNT }],
    configure: (cc) => {
      const spec = cc.spec as { monitoring: Record<string, unknown> };
      spec.monitoring.prometheus = {
        replicas: 1,
        shards: 2,
        remoteWrite: [
          { url: `http://${RECEIVE}.${MONITORING_NS}.svc:19291/api/v1/receive`, name: 'ks-test-receive' },
          {
            url: `http://prometheus-single-0.prometheus-operated.${MONITORING_NS}.svc:9090/api/v1/write`,
            name: 'ks-test-single',
            writeRelabelConfigs: [{ action: 'labeldrop', regex: 'prometheus_replica' }],
          },
        ],
      };
      spec.monitoring.thanos = {
        enabled: true,
        objectStorageConfig: { name: OBJSTORE_SECRET, key: 'objstore.yml' },
        query: { replicas: 1 },
        store: { replicas: 1 },
        ruler: { replicas: 1 },
      };
    },
    beforeStack: async (c) => {
      client = c;
      const ns = `/api/v1/namespaces/${MONITORING_NS}`;
      await c.request('POST', `${ns}/secrets`, {
        body: {
          apiVersion: 'v1',
          kind: 'Secret',
          metadata: { name: OBJSTORE_SECRET },
          stringData: { 'objstore.yml': `type: FILESYSTEM\nconfig:\n  directory: ${BUCKET_MOUNT}\n` },
        },
      });
      // The reference: one Prometheus, unsharded, fed by the shards' remote write, with Prometheus k8s's rules.
      const k8s = await c.get<{ spec: Record<string, unknown> }>(
        `/apis/monitoring.coreos.com/v1/namespaces/${MONITORING_NS}/prometheuses/k8s`,
      );
      await c.request('POST', `/apis/monitoring.coreos.com/v1/namespaces/${MONITORING_NS}/prometheuses`, {
        body: {
          apiVersion: 'monitoring.coreos.com/v1',
          kind: 'Prometheus',
          metadata: { name: 'single' },
          spec: {
            replicas: 1,
            image: k8s.spec.image,
            version: k8s.spec.version,
            serviceAccountName: 'prometheus-k8s',
            securityContext: k8s.spec.securityContext,
            podMetadata: { labels: { 'app.kubernetes.io/name': 'ks-test-single-prometheus' } },
            scrapeInterval: '1m',
            evaluationInterval: '1m',
            // It scrapes nothing of its own, it receives the shards' samples: a selector no monitor matches
            // (without any selector prometheus-operator would leave its configuration, rule files included, empty).
            serviceMonitorSelector: { matchLabels: { 'ks-test/none': 'none' } },
            enableFeatures: ['remote-write-receiver'],
            ruleSelector: { matchLabels: { prometheus: 'k8s', role: 'alert-rules' } },
            ruleNamespaceSelector: {},
          },
        },
      });
      // A real thanos receive, and a Thanos Query reading only it.
      const thanosImage = (k8s.spec.thanos as { image: string }).image;
      const podIp = [{ name: 'POD_IP', valueFrom: { fieldRef: { fieldPath: 'status.podIP' } } }];
      const deployment = (name: string, args: string[], ports: Record<string, number>) => ({
        apiVersion: 'apps/v1',
        kind: 'Deployment',
        metadata: { name },
        spec: {
          replicas: 1,
          selector: { matchLabels: { app: name } },
          template: {
            metadata: { labels: { app: name } },
            spec: {
              containers: [
                {
                  name: 'thanos',
                  image: thanosImage,
                  args,
                  env: podIp,
                  ports: Object.entries(ports).map(([n, p]) => ({ name: n, containerPort: p })),
                  volumeMounts: [{ name: 'data', mountPath: '/data' }],
                },
              ],
              volumes: [{ name: 'data', emptyDir: {} }],
            },
          },
        },
      });
      const service = (name: string, ports: Record<string, number>) => ({
        apiVersion: 'v1',
        kind: 'Service',
        metadata: { name },
        spec: {
          clusterIP: 'None',
          selector: { app: name },
          ports: Object.entries(ports).map(([n, p]) => ({ name: n, port: p, targetPort: p })),
        },
      });
      const receivePorts = { grpc: 10901, http: 10902, 'remote-write': 19291 };
      const queryPorts = { http: 9090 };
      await c.request('POST', `/apis/apps/v1/namespaces/${MONITORING_NS}/deployments`, {
        body: deployment(
          RECEIVE,
          [
            'receive',
            '--tsdb.path=/data',
            '--grpc-address=$(POD_IP):10901',
            '--http-address=$(POD_IP):10902',
            '--remote-write.address=$(POD_IP):19291',
            '--label=receive="ks-test"',
          ],
          receivePorts,
        ),
      });
      await c.request('POST', `${ns}/services`, { body: service(RECEIVE, receivePorts) });
      await c.request('POST', `/apis/apps/v1/namespaces/${MONITORING_NS}/deployments`, {
        body: deployment(
          RECEIVE_QUERY,
          [
            'query',
            '--http-address=$(POD_IP):9090',
            '--grpc-address=$(POD_IP):10911',
            `--endpoint=dnssrv+_grpc._tcp.${RECEIVE}.${MONITORING_NS}.svc`,
            '--query.replica-label=receive',
          ],
          queryPorts,
        ),
      });
      await c.request('POST', `${ns}/services`, { body: service(RECEIVE_QUERY, queryPorts) });
    },
  });
  stack = boot.stack;
  client = boot.client;

  ours.single = (await stack.waitFor(
    'the single Prometheus',
    async () => stack.podUrl('prometheus-single-0', 9090),
    300_000,
  ))!;
  ours.query = await stack.waitFor(
    'Thanos Query',
    async () => {
      const ip = await serviceIp('thanos-query');
      return ip ? `http://${ip}:9090` : undefined;
    },
    300_000,
  );
  ours.receiveQuery = await stack.waitFor(
    'the receiver’s Thanos Query',
    async () => {
      const ip = await serviceIp(RECEIVE_QUERY);
      return ip ? `http://${ip}:9090` : undefined;
    },
    300_000,
  );
  // Thanos Query sees both shards' sidecars, the Store and the rulers.
  await stack.waitFor(
    'Thanos Query with every StoreAPI',
    async () => {
      const stores = await stack.api<Record<string, { name: string; lastError: string | null }[]>>(
        ours.query,
        '/api/v1/stores',
      );
      const sidecars = (stores.sidecar ?? []).filter((s) => !s.lastError);
      const store = (stores.store ?? []).filter((s) => !s.lastError);
      const rule = (stores.rule ?? []).filter((s) => !s.lastError);
      return sidecars.length === 2 && store.length === 1 && rule.length >= 1 ? stores : undefined;
    },
    300_000,
  );
  // Every target up, through the shards (Thanos Query) and through the single Prometheus.
  const since = Date.now() / 1000;
  await stack.waitFor(
    'targets up on both sides',
    async () => {
      const q = await instant(ours.query, 'count by (job) (up == 1)', Date.now() / 1000);
      const s = await instant(ours.single, 'count by (job) (up == 1)', Date.now() / 1000);
      const jobs = (r: Sample[]) => new Map(r.map((x) => [x.metric.job, x.value[1]]));
      const down = await instant(ours.single, 'up == 0', Date.now() / 1000);
      return q.result.length > 5 &&
        key(Object.fromEntries(jobs(q.result))) === key(Object.fromEntries(jobs(s.result))) &&
        down.result.length === 0
        ? true
        : undefined;
    },
    420_000,
    5000,
  );
  // Two evaluations on both evaluators after that (rate records need two scrapes of their inputs).
  const evaluated = async (base: string) => {
    const groups = (
      await stack.api<{ groups: { name: string; lastEvaluation: string }[] }>(
        base,
        '/api/v1/rules?type=record',
      )
    ).groups;
    return groups.length > 0 && groups.every((g) => Date.parse(g.lastEvaluation) / 1000 > since + 120);
  };
  const rulerUrl = stack.podUrl('thanos-ruler-k8s-0', 10902)!;
  await stack.waitFor(
    'rule groups evaluated twice on the ruler and the single Prometheus',
    async () => ((await evaluated(rulerUrl)) && (await evaluated(ours.single)) ? true : undefined),
    420_000,
    5000,
  );
}, 1_500_000);

afterAll(async () => {
  await boot?.stop();
  rmSync(bucket, { recursive: true, force: true });
}, 120_000);

describe('2 shards, Thanos Query and the ThanosRuler k8s against a single Prometheus', () => {
  test('no shard evaluates a rule; the ThanosRuler k8s evaluates every group without error', async () => {
    for (const shard of ['prometheus-k8s-0', 'prometheus-k8s-shard-1-0']) {
      const url = stack.podUrl(shard, 9090)!;
      expect([shard, (await stack.api<{ groups: unknown[] }>(url, '/api/v1/rules')).groups]).toEqual([
        shard,
        [],
      ]);
    }
    const ruler = stack.podUrl('thanos-ruler-k8s-0', 10902)!;
    const groups = (
      await stack.api<{
        groups: { name: string; rules: { name: string; health: string; lastError?: string }[] }[];
      }>(ruler, '/api/v1/rules')
    ).groups;
    const single = (
      await stack.api<{
        groups: {
          name: string;
          lastEvaluation: string;
          rules: { name: string; health: string; lastError?: string }[];
        }[];
      }>(ours.single, '/api/v1/rules')
    ).groups;
    // The reference evaluates every rule without error too.
    expect(
      single.flatMap((g) =>
        g.rules
          .filter((r) => r.health !== 'ok')
          .map((r) => `${g.name} ${r.name}: ${r.health} ${r.lastError} (${g.lastEvaluation})`),
      ),
    ).toEqual([]);
    expect(groups.map((g) => g.name).sort()).toEqual(single.map((g) => g.name).sort());
    const unhealthy = groups.flatMap((g) =>
      g.rules.filter((r) => r.health !== 'ok').map((r) => `${r.name}: ${r.lastError}`),
    );
    expect(unhealthy).toEqual([]);
  });

  test('every console record has the same series through Thanos Query as in the single Prometheus, and the same values', async () => {
    const groups = (
      await stack.api<{ groups: { rules: { name: string; query: string }[] }[] }>(
        ours.single,
        '/api/v1/rules?type=record',
      )
    ).groups;
    const rules = groups.flatMap((g) => g.rules);
    const records = [...new Set(rules.map((r) => r.name))].sort();
    expect(records.length).toBeGreaterThan(50);
    // A minute back, so that every sample of that moment has reached the single Prometheus.
    const at = Date.now() / 1000 - 60;
    const different: string[] = [];
    const compare = (what: string, q: Map<string, number>, s: Map<string, number>, values: boolean) => {
      for (const k of [...new Set([...q.keys(), ...s.keys()])].sort()) {
        const a = q.get(k);
        const b = s.get(k);
        if (a === undefined || b === undefined)
          different.push(
            `${what} ${k}: ${a === undefined ? 'only in the single Prometheus' : 'only through Thanos Query'}`,
          );
        else if (values && !same(a, b))
          different.push(`${what} ${k}: ${a} through Thanos Query, ${b} in the single Prometheus`);
      }
    };
    // Which records have series, over the last 10 minutes (every evaluation of both evaluators since the
    // stack started): which series a record has at one instant depends on the moment each evaluator ran
    // (a request type seen in one's 5-minute window and not yet in the other's), not on the sharding.
    // Up to now: a group evaluated every 3 minutes may have recorded for the first time within the last minute.
    const now = Date.now() / 1000;
    const present = async (base: string) => {
      const match = encodeURIComponent(`{__name__=~"${records.join('|')}"}`);
      const series = await stack.api<Record<string, string>[]>(
        base,
        `/api/v1/series?match[]=${match}&start=${now - 600}&end=${now}`,
      );
      return new Set(series.map((x) => x.__name__!));
    };
    const viaQuery = await present(ours.query);
    const inSingle = await present(ours.single);
    for (const r of records)
      if (viaQuery.has(r) !== inSingle.has(r) && !SECOND_EVALUATION_RECORDS.has(r))
        different.push(
          `record ${r}: ${viaQuery.has(r) ? 'only through Thanos Query' : 'only in the single Prometheus'}`,
        );
    const withSeries = inSingle.size;
    let evaluated = 0;
    for (const rule of rules) {
      if (records.some((r) => rule.query.includes(r))) continue;
      const q = byKey((await instant(ours.query, rule.query, at)).result);
      const s = byKey((await instant(ours.single, rule.query, at)).result);
      if (q.size + s.size > 0) evaluated++;
      compare(`expression of ${rule.name}`, q, s, true);
    }
    expect(withSeries).toBeGreaterThan(50);
    expect(evaluated).toBeGreaterThan(30);
    expect(different).toEqual([]);
  });

  test('remote write: the series the shards scraped arrive at thanos receive, sample for sample', async () => {
    // A minute back, so that the receiver has had every sample of that moment.
    const at = Date.now() / 1000 - 60;
    const selector =
      '{__name__=~"up|node_load1|node_memory_MemTotal_bytes|kube_pod_info|apiserver_request_total"}';
    const viaQuery = byKey((await instant(ours.query, selector, at)).result);
    const viaReceive = byKey((await instant(ours.receiveQuery, selector, at)).result);
    expect(viaQuery.size).toBeGreaterThan(20);
    expect([...viaReceive.keys()].sort()).toEqual([...viaQuery.keys()].sort());
    for (const [k, v] of viaQuery) expect([k, viaReceive.get(k)]).toEqual([k, v]);
  });

  test('the Store serves the bucket: Thanos Query lists it as a healthy StoreAPI', async () => {
    const stores = await stack.api<Record<string, { name: string; lastError: string | null }[]>>(
      ours.query,
      '/api/v1/stores',
    );
    expect((stores.store ?? []).map((s) => s.lastError)).toEqual([null]);
    expect((stores.sidecar ?? []).map((s) => s.lastError)).toEqual([null, null]);
  });
});
