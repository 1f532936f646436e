/**
 * What consumes our custom resources reads them: a real prometheus-operator (v0.55.0, see
 * prometheus-operator.ts) runs with our Deployment's arguments, as our ServiceAccount, against a
 * stack our operator installed over a Prometheus left by the original installer (root, with its
 * volume). It must turn Prometheus k8s and Alertmanager main into StatefulSets that carry our
 * placement, resources, storage, retention and security context; every ServiceMonitor must become a
 * scrape job with our relabelings and keep/drop lists, the generated configuration must pass
 * `promtool check config`; every PrometheusRule must land in the rule files and pass
 * `promtool check rules`. Then a real Prometheus 2.39.1 runs that configuration: it loads every rule
 * group, discovers targets with the labels the rules expect, and series scraped from a stand-in
 * exporter come out labelled as the rules and the console read them.
 */
import { execFile } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import type { ChildProcess } from 'node:child_process';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { gunzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import yaml from 'js-yaml';
import { ORIGINAL_PROMETHEUS_SECURITY_CONTEXT } from '../../src/config/prometheus-security.js';
import { freePort } from '../../tools/envtest/control-plane.js';
import { resolveTestTool } from '../../tools/envtest/test-tools.js';
import type { ClusterConfiguration } from '../../src/api/cluster-configuration.js';
import { ApiError, type KubeClient } from '../../src/kube/client.js';
import { createNetNs, type NetNs } from '../support/netns.js';
import { listAll } from '../../src/kube/list.js';
import { clusterInfo } from './cluster.js';
import {
  ccPath,
  createClusterConfiguration,
  createEtcdClientCertsSecret,
  ensureMonitoringCrds,
  mergePatch,
  MONITORING_NS,
  prepareOperatorTest,
  ROOT,
  sampleClusterConfiguration,
  startOperatorFor,
  type Obj,
} from './fixtures.js';
import { waitUntil, type OperatorProcess } from './operator-process.js';
import {
  deleteOperatorGenerated,
  serviceAccountKubeconfig,
  startPrometheusOperator,
  clusterCa,
  serviceAccountToken,
  startTool,
  type ToolProcess,
} from './prometheus-operator.js';

const run = promisify(execFile);
const M = `/apis/monitoring.coreos.com/v1/namespaces/${MONITORING_NS}`;
const CORE = `/api/v1/namespaces/${MONITORING_NS}`;
const APPS = `/apis/apps/v1/namespaces/${MONITORING_NS}`;
const PVC = 'prometheus-k8s-db-prometheus-k8s-0';
const STORAGE_CLASS = 'ks-test-promop';
const ETCD_CERTS = 'kube-etcd-client-certs';
const FAKE_POD = 'ks-test-node-exporter';
/** The scrape jobs of the Istio monitors (role istio-monitoring, in istio-system). */
const ISTIO_JOBS = [
  'podMonitor/istio-system/envoy-stats-monitor/0',
  'serviceMonitor/istio-system/istio-component-monitor/0',
];
/** What the stand-in exporter serves to both jobs; each keeps what its ServiceMonitor keeps. */
const FAKE_METRICS = [
  '# TYPE kube_namespace_labels gauge',
  'kube_namespace_labels{namespace="ks-test-ns",label_kubesphere_io_workspace="ks-test-ws"} 1',
  '# TYPE node_cpu_seconds_total counter',
  'node_cpu_seconds_total{cpu="0",mode="idle"} 1',
  '# TYPE node_scrape_collector_success gauge',
  'node_scrape_collector_success{collector="cpu"} 1',
  '',
].join('\n');

/** Non-default values for everything the StatefulSets must carry. */
const PLACEMENT = {
  nodeSelector: { 'ks-test/pool': 'monitoring' },
  tolerations: [{ key: 'ks-test/dedicated', operator: 'Equal', value: 'monitoring', effect: 'NoSchedule' }],
  affinity: {
    nodeAffinity: {
      preferredDuringSchedulingIgnoredDuringExecution: [
        { weight: 7, preference: { matchExpressions: [{ key: 'ks-test/ssd', operator: 'Exists' }] } },
      ],
    },
  },
};
const PROMETHEUS_RESOURCES = {
  limits: { cpu: '3', memory: '5Gi' },
  requests: { cpu: '300m', memory: '600Mi' },
};
const ALERTMANAGER_RESOURCES = {
  limits: { cpu: '300m', memory: '300Mi' },
  requests: { cpu: '30m', memory: '40Mi' },
};

/** Prometheus's relabel config keys for a ServiceMonitor relabeling's. */
function snake(r: Record<string, unknown>): Record<string, unknown> {
  const keys: Record<string, string> = { sourceLabels: 'source_labels', targetLabel: 'target_label' };
  return Object.fromEntries(Object.entries(r).map(([k, v]) => [keys[k] ?? k, v]));
}

function expectPlacement(pod: Obj): void {
  expect({ nodeSelector: pod.nodeSelector, tolerations: pod.tolerations, affinity: pod.affinity }).toEqual(
    PLACEMENT,
  );
}

/** A generated relabel config has every field ours sets, with the same value. */
function sameAs(generated: Record<string, unknown>, ours: Record<string, unknown>): boolean {
  return Object.entries(ours).every(([k, v]) => JSON.stringify(generated[k]) === JSON.stringify(v));
}

function ignoreNotFound(e: unknown): void {
  if (!(e instanceof ApiError && e.notFound)) throw e;
}

async function deletePvc(admin: KubeClient): Promise<void> {
  const p = `${CORE}/persistentvolumeclaims/${PVC}`;
  if (!(await admin.getOrUndefined(p))) return;
  await mergePatch(admin, p, { metadata: { finalizers: null } });
  await admin.request('DELETE', p).catch(ignoreNotFound);
  await waitUntil(`${PVC} gone`, async () => (await admin.getOrUndefined(p)) === undefined);
}

async function deletePrometheus(admin: KubeClient): Promise<void> {
  await admin.request('DELETE', `${M}/prometheuses/k8s`).catch(ignoreNotFound);
  await waitUntil('Prometheus k8s gone', async () => !(await admin.getOrUndefined(`${M}/prometheuses/k8s`)));
}

interface ScrapeConfig {
  job_name: string;
  relabel_configs?: Record<string, unknown>[];
  metric_relabel_configs?: Record<string, unknown>[];
}

describe('a real prometheus-operator reads what we install', () => {
  let admin: KubeClient;
  let ns: string;
  let op: OperatorProcess;
  let po: ToolProcess | undefined;
  let prometheus: ToolProcess | undefined;
  const work = mkdtempSync(path.join(tmpdir(), 'ks-promop-'));
  let config: { scrape_configs: ScrapeConfig[]; rule_files?: string[] } & Record<string, unknown>;
  let configText = '';
  const ruleFiles = new Map<string, string>();
  const timings: Record<string, number> = {};

  let promPort = 0;
  let exporter: ChildProcess | undefined;
  /**
   * Every address the real Prometheus scrapes lives in a network namespace this test creates (the
   * stand-in exporter's pod, each node's kubelet, the etcd member), so its traffic stays on this
   * machine: nothing listens at the nodes' and etcd's addresses, so those targets are down, as the
   * test expects.
   */
  const netns: NetNs[] = [];
  let etcdIp = '';
  const newNetNs = () => {
    const n = createNetNs();
    netns.push(n);
    return n;
  };
  /** The real Prometheus's HTTP API. */
  const api = <T>(p: string): Promise<T> =>
    new Promise((resolve, reject) => {
      http
        .get({ host: '127.0.0.1', port: promPort, path: p }, (res) => {
          let body = '';
          res.on('data', (c: Buffer) => (body += c.toString()));
          res.on('end', () =>
            res.statusCode === 200
              ? resolve((JSON.parse(body) as { data: T }).data)
              : reject(new Error(`${p}: HTTP ${res.statusCode}`)),
          );
        })
        .on('error', reject);
    });

  const statefulSet = (name: string) => admin.get<Obj>(`${APPS}/statefulsets/${name}`);
  const podSpec = async (name: string) => (await statefulSet(name)).spec.template.spec as Obj;

  /** The generated configuration and rule files, once they hold every ServiceMonitor and PrometheusRule. */
  async function readGenerated(): Promise<void> {
    const monitors = (await listAll<Obj>(admin, `${M}/servicemonitors`)).items;
    const jobs = [
      ...monitors.flatMap((m) =>
        (m.spec.endpoints as unknown[]).map(
          (_, i) => `serviceMonitor/${MONITORING_NS}/${m.metadata.name}/${i}`,
        ),
      ),
      ...ISTIO_JOBS,
    ];
    await waitUntil(
      'a generated configuration with every ServiceMonitor',
      async () => {
        const secret = await admin.getOrUndefined<Obj>(`${CORE}/secrets/prometheus-k8s`);
        const gz = secret?.data?.['prometheus.yaml.gz'] as string | undefined;
        if (!gz) return false;
        configText = gunzipSync(Buffer.from(gz, 'base64')).toString('utf8');
        config = yaml.load(configText) as typeof config;
        const names = new Set(config.scrape_configs.map((c) => c.job_name));
        return jobs.every((j) => names.has(j));
      },
      90_000,
      1000,
    );
    const { items } = await listAll<Obj>(admin, `${CORE}/configmaps`);
    for (const cm of items.filter((c) => /^prometheus-k8s-rulefiles-\d+$/.test(c.metadata.name)))
      for (const [file, text] of Object.entries(cm.data ?? {})) ruleFiles.set(file, text as string);
  }

  /**
   * The generated configuration with the pod's paths moved under work/pod, where they exist: the
   * service-account token and CA, the mounted Secrets (placeholders) and the rule files.
   */
  function movedIntoWork(): string {
    const root = path.join(work, 'pod');
    const moved = configText
      .replaceAll('/var/run/secrets/kubernetes.io/serviceaccount/', `${root}/sa/`)
      .replaceAll('/etc/prometheus/rules/', `${root}/rules/`)
      .replaceAll('/etc/prometheus/secrets/', `${root}/secrets/`)
      .replaceAll('/etc/prometheus/certs/', `${root}/certs/`);
    for (const f of moved.match(new RegExp(`${root}/(sa|secrets|certs)/[^\\s"']+`, 'g')) ?? []) {
      mkdirSync(path.dirname(f), { recursive: true });
      writeFileSync(f, 'placeholder\n');
    }
    const rulesDir = path.join(root, 'rules', 'prometheus-k8s-rulefiles-0');
    mkdirSync(rulesDir, { recursive: true });
    for (const [file, text] of ruleFiles) writeFileSync(path.join(rulesDir, file), text);
    return moved;
  }

  /**
   * Stand-ins for node-exporter and kube-state-metrics (no kubelet runs pods here): an HTTPS server in a
   * network namespace of its own (the Endpoints API refuses loopback addresses), behind Endpoints of our
   * two Services, the node-exporter one pointing at a Pod object on the node, as the endpoints
   * controller would write them.
   */
  async function startFakeExporter(kubeconfig: Obj): Promise<void> {
    const pod = newNetNs();
    const ip = pod.podIp;
    const user = kubeconfig.users[0].user as Record<string, string>;
    const files = path.join(work, 'stand-in');
    mkdirSync(files, { recursive: true });
    writeFileSync(path.join(files, 'cert.pem'), Buffer.from(user['client-certificate-data']!, 'base64'));
    writeFileSync(path.join(files, 'key.pem'), Buffer.from(user['client-key-data']!, 'base64'));
    writeFileSync(path.join(files, 'metrics.txt'), FAKE_METRICS);
    exporter = pod.spawn(process.execPath, [path.join(ROOT, 'test', 'support', 'metrics-stand-in.mjs')], {
      env: {
        ...process.env,
        CERT_FILE: path.join(files, 'cert.pem'),
        KEY_FILE: path.join(files, 'key.pem'),
        BODY_FILE: path.join(files, 'metrics.txt'),
        LISTEN_HOST: ip,
        LISTEN_PORT: '0',
      },
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    const port = await new Promise<number>((resolve, reject) => {
      let out = '';
      exporter!.stdout!.on('data', (c: Buffer) => {
        out += c.toString();
        const m = /listening (\d+)/.exec(out);
        if (m) resolve(Number(m[1]));
      });
      exporter!.once('exit', (code) => reject(new Error(`the stand-in exporter exited with ${code}`)));
    });
    const node = (await listAll<Obj>(admin, '/api/v1/nodes')).items[0]!.metadata.name as string;
    await admin.request('DELETE', `${CORE}/pods/${FAKE_POD}`).catch(ignoreNotFound);
    await admin.request('POST', `${CORE}/pods`, {
      body: {
        apiVersion: 'v1',
        kind: 'Pod',
        metadata: { name: FAKE_POD },
        spec: {
          nodeName: node,
          serviceAccountName: 'node-exporter',
          automountServiceAccountToken: false,
          containers: [{ name: 'node-exporter', image: 'stand-in' }],
        },
      },
    });
    const address = {
      ip,
      nodeName: node,
      targetRef: { kind: 'Pod', name: FAKE_POD, namespace: MONITORING_NS },
    };
    for (const [svc, portName] of [
      ['node-exporter', 'https'],
      ['kube-state-metrics', 'https-main'],
    ] as const) {
      await admin.request('DELETE', `${CORE}/endpoints/${svc}`).catch(ignoreNotFound);
      await admin.request('POST', `${CORE}/endpoints`, {
        body: {
          apiVersion: 'v1',
          kind: 'Endpoints',
          metadata: { name: svc },
          subsets: [{ addresses: [address], ports: [{ name: portName, port }] }],
        },
      });
    }
  }

  beforeAll(async () => {
    ({ admin, ns } = await prepareOperatorTest('promop'));
    await ensureMonitoringCrds(admin);
    await deleteOperatorGenerated(admin);
    await deletePrometheus(admin);
    await deletePvc(admin);
    // What the original installer left: Prometheus k8s running as root, and its 40Gi volume.
    await admin.request('POST', `${M}/prometheuses`, {
      body: {
        apiVersion: 'monitoring.coreos.com/v1',
        kind: 'Prometheus',
        metadata: { name: 'k8s', namespace: MONITORING_NS },
        spec: {
          replicas: 1,
          securityContext: ORIGINAL_PROMETHEUS_SECURITY_CONTEXT,
          storage: { volumeClaimTemplate: { spec: { resources: { requests: { storage: '40Gi' } } } } },
        },
      },
    });
    await admin.request('POST', `${CORE}/persistentvolumeclaims`, {
      body: {
        apiVersion: 'v1',
        kind: 'PersistentVolumeClaim',
        metadata: { name: PVC, labels: { 'app.kubernetes.io/name': 'prometheus', prometheus: 'k8s' } },
        spec: { accessModes: ['ReadWriteOnce'], resources: { requests: { storage: '40Gi' } } },
      },
    });

    // etcd monitoring with TLS, so that every ServiceMonitor we have is installed.
    await createEtcdClientCertsSecret(admin);

    // The console's parts with monitors of their own: GPU, Grafana, and Istio's (istio-system exists).
    await admin
      .request('POST', '/api/v1/namespaces', {
        body: { apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'istio-system' } },
      })
      .catch((e: unknown) => {
        if (!(e instanceof ApiError && e.conflict)) throw e;
      });

    op = await startOperatorFor(ns);
    const cc: ClusterConfiguration = sampleClusterConfiguration(ns);
    const spec = cc.spec as {
      monitoring: Record<string, unknown>;
      etcd: Record<string, unknown>;
      servicemesh?: Record<string, unknown>;
    };
    etcdIp = newNetNs().podIp;
    spec.etcd = { monitoring: true, endpointIps: etcdIp, port: 2379, tlsEnable: true };
    spec.servicemesh = { enabled: true };
    spec.monitoring = {
      ...spec.monitoring,
      gpu: { nvidia_dcgm_exporter: { enabled: true } },
      grafana: { enabled: true },
      ...PLACEMENT,
      storageClass: STORAGE_CLASS,
      prometheus: { replicas: 1, retention: '3d', resources: PROMETHEUS_RESOURCES },
      alertmanager: { replicas: 2, resources: ALERTMANAGER_RESOURCES },
    };
    await op.runAfter(() => createClusterConfiguration(admin, cc));

    // Node addresses, so that the operator lists the node in kube-system/kubelet's Endpoints.
    for (const node of (await listAll<Obj>(admin, '/api/v1/nodes')).items)
      await mergePatch(admin, `/api/v1/nodes/${node.metadata.name}/status`, {
        status: { addresses: [{ type: 'InternalIP', address: newNetNs().podIp }] },
      });
    const deployment = await admin.get<Obj>(`${APPS}/deployments/prometheus-operator`);
    const container = (deployment.spec.template.spec.containers as Obj[]).find(
      (c) => c.name === 'prometheus-operator',
    )!;
    const started = Date.now();
    po = await startPrometheusOperator(
      container.args as string[],
      await serviceAccountKubeconfig(admin, MONITORING_NS, 'prometheus-operator'),
    );
    await waitUntil('StatefulSets prometheus-k8s and alertmanager-main', async () => {
      const [p, a] = await Promise.all([
        admin.getOrUndefined(`${APPS}/statefulsets/prometheus-k8s`),
        admin.getOrUndefined(`${APPS}/statefulsets/alertmanager-main`),
      ]);
      return p !== undefined && a !== undefined;
    });
    await readGenerated();
    timings.reconciled = Date.now() - started;
  }, 240_000);

  afterAll(async () => {
    const lines = po?.lines ?? [];
    await prometheus?.stop();
    await po?.stop();
    exporter?.kill('SIGTERM');
    for (const n of netns) n.remove();
    await admin.request('DELETE', `${CORE}/pods/${FAKE_POD}`).catch(ignoreNotFound);
    for (const svc of ['node-exporter', 'kube-state-metrics'])
      await admin.request('DELETE', `${CORE}/endpoints/${svc}`).catch(ignoreNotFound);
    for (const node of (await listAll<Obj>(admin, '/api/v1/nodes')).items)
      await mergePatch(admin, `/api/v1/nodes/${node.metadata.name}/status`, { status: { addresses: null } });
    // Back to the sample's values, run twice (see monitoring-carryover.test.ts: the NotificationManager's
    // schemaless placement settles on the second run), so the next file starts from a converged stack.
    const sample = sampleClusterConfiguration(ns).spec as Record<string, Obj>;
    const current = (await admin.get<ClusterConfiguration>(ccPath(ns))).spec as Record<string, Obj>;
    const monitoring = Object.fromEntries(
      Object.keys(current.monitoring!).map((k) => [k, sample.monitoring![k] ?? null]),
    );
    await op.runAfter(() =>
      mergePatch(admin, ccPath(ns), { spec: { monitoring, etcd: sample.etcd, servicemesh: null } }),
    );
    await op.runAfter(() => mergePatch(admin, ccPath(ns), { status: { monitoring: null } }));
    if (process.env.KS_TEST_OPERATOR_LOGS === '1') process.stderr.write(`${lines.join('\n')}\n`);
    expect(await op?.stop()).toBe(0);
    // Leave the shared namespace as the next file expects it: no Prometheus, no volume, nothing generated.
    await deleteOperatorGenerated(admin);
    await deletePrometheus(admin);
    await deletePvc(admin);
    await admin.request('DELETE', `${CORE}/secrets/${ETCD_CERTS}`).catch(ignoreNotFound);
    await admin.request('DELETE', ccPath(ns)).catch(ignoreNotFound);
    rmSync(work, { recursive: true, force: true });
    process.stderr.write(`prometheus-operator reconciled the stack in ${timings.reconciled} ms\n`);
  });

  it('our operator kept the root security context of the adopted Prometheus, and its StatefulSet runs as root', async () => {
    const prom = await admin.get<Obj>(`${M}/prometheuses/k8s`);
    expect(prom.spec.securityContext).toEqual(ORIGINAL_PROMETHEUS_SECURITY_CONTEXT);
    expect(prom.metadata.labels?.['app.kubernetes.io/managed-by']).toBe('ks-installer');
    expect((await podSpec('prometheus-k8s')).securityContext).toEqual(ORIGINAL_PROMETHEUS_SECURITY_CONTEXT);
  });

  it('the Prometheus StatefulSet carries our placement, resources, storage and retention', async () => {
    const sts = await statefulSet('prometheus-k8s');
    const pod = sts.spec.template.spec as Obj;
    expect(sts.spec.replicas).toBe(1);
    expectPlacement(pod);
    expect(pod.serviceAccountName).toBe('prometheus-k8s');
    const prometheus = (pod.containers as Obj[]).find((c) => c.name === 'prometheus')!;
    expect(prometheus.resources).toEqual(PROMETHEUS_RESOURCES);
    expect(prometheus.args).toContain('--storage.tsdb.retention.time=3d');
    // etcd's client certificates are mounted where the etcd ServiceMonitor's tlsConfig looks.
    expect(prometheus.volumeMounts).toContainEqual(
      expect.objectContaining({ mountPath: `/etc/prometheus/secrets/${ETCD_CERTS}` }),
    );
    // The live volume's size carried over; the StorageClass is the spec's.
    const [claim] = sts.spec.volumeClaimTemplates as Obj[];
    expect(claim!.metadata.name).toBe('prometheus-k8s-db');
    expect(claim!.spec.resources.requests.storage).toBe('40Gi');
    expect(claim!.spec.storageClassName).toBe(STORAGE_CLASS);
    // The config reloader is the image our Deployment names.
    const reloader = (pod.containers as Obj[]).find((c) => c.name === 'config-reloader')!;
    expect(reloader.image).toMatch(/prometheus-config-reloader:v0\.55\.1$/);
  });

  it('the Alertmanager StatefulSet carries our replicas, placement and resources', async () => {
    const sts = await statefulSet('alertmanager-main');
    const pod = sts.spec.template.spec as Obj;
    expect(sts.spec.replicas).toBe(2);
    expectPlacement(pod);
    const am = (pod.containers as Obj[]).find((c) => c.name === 'alertmanager')!;
    expect(am.resources).toEqual(ALERTMANAGER_RESOURCES);
  });

  it('each PodDisruptionBudget and Service selects the pods the operator generates', async () => {
    for (const [pdb, svc, sts] of [
      ['prometheus-k8s', 'prometheus-k8s', 'prometheus-k8s'],
      ['alertmanager-main', 'alertmanager-main', 'alertmanager-main'],
    ] as const) {
      const podLabels = (await statefulSet(sts)).spec.template.metadata.labels as Record<string, string>;
      const budget = await admin.get<Obj>(
        `/apis/policy/v1/namespaces/${MONITORING_NS}/poddisruptionbudgets/${pdb}`,
      );
      expect(podLabels).toMatchObject(budget.spec.selector.matchLabels);
      const service = await admin.get<Obj>(`${CORE}/services/${svc}`);
      expect(podLabels).toMatchObject(service.spec.selector);
    }
  });

  it('kube-system/kubelet, made by the operator, is what our kubelet ServiceMonitor selects', async () => {
    const svc = await waitUntil('kube-system/kubelet', () =>
      admin.getOrUndefined<Obj>('/api/v1/namespaces/kube-system/services/kubelet'),
    );
    const monitor = await admin.get<Obj>(`${M}/servicemonitors/kubelet`);
    expect(svc.metadata.labels).toMatchObject(monitor.spec.selector.matchLabels);
    expect((svc.spec.ports as Obj[]).map((p) => p.name)).toContain('https-metrics');
  });

  it('every ServiceMonitor endpoint is a scrape job with our relabelings and keep/drop lists', async () => {
    const monitors = (await listAll<Obj>(admin, `${M}/servicemonitors`)).items;
    const jobs = new Map(config.scrape_configs.map((c) => [c.job_name, c]));
    let endpoints = 0;
    let relabelings = 0;
    for (const m of monitors) {
      (m.spec.endpoints as Obj[]).forEach((e, i) => {
        const job = jobs.get(`serviceMonitor/${MONITORING_NS}/${m.metadata.name}/${i}`);
        expect({ monitor: m.metadata.name, endpoint: i, found: job !== undefined }).toEqual({
          monitor: m.metadata.name,
          endpoint: i,
          found: true,
        });
        endpoints++;
        // Ours come after the operator's own target relabelings (and before its sharding ones), in order.
        const ours = ((e.relabelings ?? []) as Record<string, unknown>[]).map(snake);
        let found = 0;
        for (const g of job!.relabel_configs ?? [])
          if (found < ours.length && sameAs(g, ours[found]!)) found++;
        expect({ monitor: m.metadata.name, endpoint: i, relabelings: ours.slice(found) }).toEqual({
          monitor: m.metadata.name,
          endpoint: i,
          relabelings: [],
        });
        const metric = ((e.metricRelabelings ?? []) as Record<string, unknown>[]).map(snake);
        expect(job!.metric_relabel_configs ?? []).toEqual(metric.map((r) => expect.objectContaining(r)));
        relabelings += ours.length + metric.length;
      });
    }
    // 15 ServiceMonitors (etcd's, the GPU exporter's and Grafana's included), 19 endpoints.
    expect(monitors).toHaveLength(15);
    expect(endpoints).toBe(19);
    process.stderr.write(
      `prometheus-operator: ${config.scrape_configs.length} scrape jobs from ${monitors.length} ServiceMonitors, ${relabelings} relabelings checked\n`,
    );
  });

  it("the console parts' monitors are scrape jobs: GPU exporter, Grafana, istio-proxy sidecars and istiod", () => {
    const job = (name: string) => {
      const found = config.scrape_configs.find((c) => c.job_name === name);
      if (!found) throw new Error(`no scrape job ${name}`);
      return found as ScrapeConfig & Record<string, unknown>;
    };
    expect(job(`serviceMonitor/${MONITORING_NS}/gpu-dcgm-exporter/0`).scrape_interval).toBe('15s');
    expect(job(`serviceMonitor/${MONITORING_NS}/grafana/0`).scrape_interval).toBe('1m');
    const envoy = job(ISTIO_JOBS[0]!);
    expect(envoy.metrics_path).toBe('/stats/prometheus');
    expect(envoy.scrape_interval).toBe('15s');
    const relabels = envoy.relabel_configs as Record<string, unknown>[];
    expect(relabels).toContainEqual(
      expect.objectContaining({
        action: 'keep',
        source_labels: ['__meta_kubernetes_pod_container_name'],
        regex: 'istio-proxy',
      }),
    );
    expect(relabels).toContainEqual(expect.objectContaining({ target_label: 'pod_name' }));
    const keep = (envoy.metric_relabel_configs as Record<string, unknown>[]).find((r) => r.action === 'keep');
    expect(String(keep?.regex)).toContain('istio_requests_total');
    // Sidecars of every namespace: no namespace list in the pod discovery.
    const sd = (envoy.kubernetes_sd_configs as Record<string, unknown>[])[0]!;
    expect(sd.role).toBe('pod');
    expect(sd.namespaces).toBeUndefined();
    const istiod = job(ISTIO_JOBS[1]!);
    expect(istiod.relabel_configs as Record<string, unknown>[]).toContainEqual(
      expect.objectContaining({
        source_labels: ['__meta_kubernetes_service_label_istio'],
        target_label: 'job',
      }),
    );
  });

  it('promtool check config accepts the generated configuration', async () => {
    const promtool = (await resolveTestTool('promtool')).path;
    // 1. As generated, file references unchecked: they point into the pod.
    const asIs = path.join(work, 'prometheus.yaml');
    writeFileSync(asIs, configText);
    await run(promtool, ['check', 'config', '--syntax-only', asIs]);
    // 2. Fully, with the pod's paths moved into a directory that has them: the service-account token
    //    and CA, the mounted Secrets, and the rule files (which this also checks).
    const moved = movedIntoWork();
    const full = path.join(work, 'prometheus-moved.yaml');
    writeFileSync(full, moved);
    const { stdout } = await run(promtool, ['check', 'config', full]);
    expect(stdout).toContain('SUCCESS');
    expect(config.rule_files).toEqual(['/etc/prometheus/rules/prometheus-k8s-rulefiles-0/*.yaml']);
  });

  it('every PrometheusRule we install is in the rule files, and promtool check rules accepts them', async () => {
    const rules = (await listAll<Obj>(admin, '/apis/monitoring.coreos.com/v1/prometheusrules')).items.filter(
      (r) => r.metadata.labels?.prometheus === 'k8s' && r.metadata.labels?.role === 'alert-rules',
    );
    expect(rules.length).toBeGreaterThanOrEqual(6);
    const files = [...ruleFiles.keys()];
    for (const r of rules) {
      const file = `${r.metadata.namespace}-${r.metadata.name}-${r.metadata.uid}.yaml`;
      expect({ rule: r.metadata.name, inRuleFiles: files.includes(file) }).toEqual({
        rule: r.metadata.name,
        inRuleFiles: true,
      });
    }
    const dir = path.join(work, 'rulefiles');
    mkdirSync(dir, { recursive: true });
    for (const [file, text] of ruleFiles) writeFileSync(path.join(dir, file), text);
    const promtool = (await resolveTestTool('promtool')).path;
    const { stdout } = await run(promtool, ['check', 'rules', ...files.map((f) => path.join(dir, f))]);
    expect(stdout).toContain('SUCCESS');
  });

  it('a real Prometheus 2.39.1 loads the configuration and the rules, and labels its targets as the rules expect', async () => {
    // The pod's view: Prometheus k8s's own token and the cluster CA; its Kubernetes service discovery
    // (in-cluster in a pod) pointed at the API server.
    // prometheus-config-reloader expands $(VAR) from the pod's environment: shard 0 of 1, pod name.
    const expanded = movedIntoWork()
      .replaceAll('$(SHARD)', '0')
      .replaceAll('$(POD_NAME)', 'prometheus-k8s-0');
    const moved = yaml.load(expanded) as Record<string, unknown>;
    const sa = path.join(work, 'pod', 'sa');
    writeFileSync(path.join(sa, 'token'), await serviceAccountToken(admin, MONITORING_NS, 'prometheus-k8s'));
    writeFileSync(path.join(sa, 'ca.crt'), clusterCa());
    // Prometheus loads TLS files when it makes a scrape pool: etcd's client certificate must be real.
    const kubeconfig = yaml.load(readFileSync(clusterInfo().kubeconfig, 'utf8')) as Obj;
    const etcd = path.join(work, 'pod', 'secrets', ETCD_CERTS);
    const pem = (b64: string) => Buffer.from(b64, 'base64').toString();
    writeFileSync(path.join(etcd, 'etcd-client-ca.crt'), clusterCa());
    writeFileSync(
      path.join(etcd, 'etcd-client.crt'),
      pem(kubeconfig.users[0].user['client-certificate-data']),
    );
    writeFileSync(path.join(etcd, 'etcd-client.key'), pem(kubeconfig.users[0].user['client-key-data']));
    const server = kubeconfig.clusters[0].cluster.server as string;
    const inject = (node: unknown): void => {
      if (Array.isArray(node)) return node.forEach(inject);
      if (!node || typeof node !== 'object') return;
      for (const [k, v] of Object.entries(node)) {
        if (k === 'kubernetes_sd_configs')
          for (const sd of v as Obj[])
            Object.assign(sd, {
              api_server: server,
              authorization: { credentials_file: path.join(sa, 'token') },
              tls_config: { ca_file: path.join(sa, 'ca.crt') },
            });
        else inject(v);
      }
    };
    inject(moved);
    await startFakeExporter(kubeconfig);
    // Scrape every 5s instead of every minute, so that the series below arrive in seconds.
    const fast = (c: Obj) => Object.assign(c, { scrape_interval: '5s', scrape_timeout: '4s' });
    fast((moved.global ?? {}) as Obj);
    for (const c of moved.scrape_configs as Obj[]) fast(c);
    const file = path.join(work, 'prometheus-run.yaml');
    writeFileSync(file, yaml.dump(moved));
    promPort = await freePort();
    prometheus = await startTool('prometheus', [
      `--config.file=${file}`,
      `--storage.tsdb.path=${path.join(work, 'tsdb')}`,
      `--web.listen-address=127.0.0.1:${promPort}`,
    ]);
    type Target = { labels: Record<string, string>; scrapePool: string };
    const nodes = (await listAll<Obj>(admin, '/api/v1/nodes')).items.map((n) => n.metadata.name as string);
    let last: Target[] | undefined;
    const targets = await waitUntil<Target[]>(
      'Prometheus discovering the kubelet and etcd targets',
      async () => {
        const { activeTargets } = await api<{ activeTargets: Target[] }>('/api/v1/targets');
        last = activeTargets;
        const jobs = new Set(activeTargets.map((t) => t.labels.job));
        const kubelets = activeTargets.filter((t) => t.labels.job === 'kubelet').length;
        // (No apiserver target: default/kubernetes has no Endpoints on a loopback-only control plane.)
        const all = ['kubelet', 'etcd'].every((j) => jobs.has(j));
        return all && kubelets === 2 * nodes.length ? activeTargets : undefined;
      },
      60_000,
      500,
    ).catch((e: Error) => {
      const errors = prometheus!.lines.filter((l) => /level=error/.test(l));
      throw new Error(
        `${e.message}; active targets: ${JSON.stringify(last?.map((t) => t.labels))}\n${errors.join('\n')}`,
      );
    });
    // cAdvisor and kubelet series: job kubelet, the node's name, metrics_path, no service/endpoint.
    const kubelet = targets.filter((t) => t.labels.job === 'kubelet');
    expect(kubelet.map((t) => [t.labels.node, t.labels.metrics_path]).sort()).toEqual(
      nodes
        .flatMap((n) => [
          [n, '/metrics'],
          [n, '/metrics/cadvisor'],
        ])
        .sort(),
    );
    for (const t of kubelet) {
      expect(t.labels).toMatchObject({ namespace: 'kube-system' });
      expect(Object.keys(t.labels).filter((l) => l === 'service' || l === 'endpoint')).toEqual([]);
    }
    expect(targets.find((t) => t.labels.job === 'etcd')?.labels.instance).toBe(`${etcdIp}:2379`);
    // Every group of every rule file is loaded.
    const groups = [...ruleFiles.values()].flatMap(
      (text) => (yaml.load(text) as { groups?: { name: string }[] }).groups ?? [],
    );
    const loaded = await api<{ groups: { name: string }[] }>('/api/v1/rules');
    expect(loaded.groups.map((g) => g.name).sort()).toEqual(groups.map((g) => g.name).sort());
    // Grafana is on: its dashboards' records (rules/recording/<mixin>-*.yaml) are loaded too.
    expect(loaded.groups.map((g) => g.name)).toEqual(
      expect.arrayContaining([
        'kubernetes-mixin-k8s.rules',
        'kubernetes-mixin-node.rules',
        'node-mixin-node-exporter.rules',
      ]),
    );
    process.stderr.write(
      `prometheus: ${targets.length} targets discovered, ${loaded.groups.length} rule groups loaded\n`,
    );
  });

  it('scraped series carry the labels the rules and the console read', async () => {
    const query = (q: string) =>
      api<{ result: { metric: Record<string, string> }[] }>(
        `/api/v1/query?query=${encodeURIComponent(q)}`,
      ).then((d) => d.result.map((r) => r.metric));
    const series = (q: string) =>
      waitUntil(
        `series ${q}`,
        async () => ((await query(q)).length > 0 ? query(q) : undefined),
        60_000,
        1000,
      );
    const node = (await listAll<Obj>(admin, '/api/v1/nodes')).items[0]!.metadata.name as string;
    // kube-state-metrics: the object's own namespace kept (honorLabels), the target's pod, service,
    // endpoint, namespace and container dropped, the workspace copied into `workspace`.
    const [ns] = await series('kube_namespace_labels{job="kube-state-metrics"}');
    expect(ns).toEqual({
      __name__: 'kube_namespace_labels',
      job: 'kube-state-metrics',
      instance: expect.any(String),
      namespace: 'ks-test-ns',
      label_kubesphere_io_workspace: 'ks-test-ws',
      workspace: 'ks-test-ws',
    });
    // node-exporter: instance is the node's name; namespace and pod of the exporter pod; kept series only.
    const [cpu] = await series('node_cpu_seconds_total{job="node-exporter"}');
    expect(cpu).toEqual({
      __name__: 'node_cpu_seconds_total',
      job: 'node-exporter',
      instance: node,
      namespace: MONITORING_NS,
      pod: FAKE_POD,
      cpu: '0',
      mode: 'idle',
    });
    expect(await query('node_scrape_collector_success{job="node-exporter"}')).toEqual([]);
    expect(await query('kube_namespace_labels{job="node-exporter"}')).toEqual([]);
  });

  it('the operator needed nothing our ClusterRole does not grant', () => {
    expect(po!.lines.filter((l) => /forbidden|unauthorized/i.test(l))).toEqual([]);
  });

  it('a fresh install (no Prometheus, no volume) runs Prometheus as uid 1000, and so does its StatefulSet', async () => {
    // A fresh install has no StatefulSet either (the operator would have to replace this one: its
    // volumeClaimTemplates change, and no garbage collector finishes a foreground deletion here).
    await deletePrometheus(admin);
    await deletePvc(admin);
    await deleteOperatorGenerated(admin);
    await op.runAfter(() => mergePatch(admin, ccPath(ns), { status: { monitoring: null } }));
    const fresh = { runAsNonRoot: true, runAsUser: 1000, runAsGroup: 2000, fsGroup: 2000 };
    expect((await admin.get<Obj>(`${M}/prometheuses/k8s`)).spec.securityContext).toEqual(fresh);
    await waitUntil(
      'the StatefulSet regenerated with uid 1000',
      async () => (await podSpec('prometheus-k8s')).securityContext?.runAsUser === 1000,
      60_000,
      500,
    );
    expect((await podSpec('prometheus-k8s')).securityContext).toEqual(fresh);
  });
});
