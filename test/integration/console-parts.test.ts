/**
 * The console's parts on the embedded control plane, with GPU monitoring, Grafana and servicemesh on:
 * the dashboard CRDs Established with full schemas, both versions served, a ClusterDashboard and a
 * Dashboard of each version round-tripping; the GPU exporter's objects and dashboard, the GPU node labelled
 * and the CPU node not, a node that gains nvidia.com/gpu after the install labelled by the next run;
 * Grafana's objects with a generated admin password that stays across runs and is never logged, and its 23
 * dashboards, one ConfigMap each, as generated (templates/grafana/dashboards); the Istio
 * monitors waiting (a condition says why) until istio-system exists, then applied by the next run; then
 * each part turned off has its objects removed (the dashboard ConfigMaps and the dashboards' PrometheusRule too),
 * Grafana's volume and Secrets kept.
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import type { ClusterConfiguration } from '../../src/api/cluster-configuration.js';
import { projectRoot } from '../../src/paths.js';
import { ApiError, type KubeClient } from '../../src/kube/client.js';
import { diff, scrape } from '../../tools/envtest/request-metrics.js';
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

const CRD = '/apis/apiextensions.k8s.io/v1/customresourcedefinitions';
const GPU_NODE = 'gpu-node-at-install';
const LATE_GPU_NODE = 'gpu-node-later';
const CPU_NODE = 'cpu-node-console-parts';
const GPU_LABEL = 'nvidia.com/gpu.present';
const ISTIO = '/api/v1/namespaces/istio-system';
/** The generated Grafana dashboards (templates/grafana/dashboards), name → JSON text. */
const DASHBOARDS_DIR = path.join(projectRoot(), 'templates', 'grafana', 'dashboards');
const DASHBOARDS = new Map(
  readdirSync(DASHBOARDS_DIR)
    .filter((f) => f.endsWith('.json') && f !== 'SOURCE.json')
    .map((f) => [f.slice(0, -'.json'.length), readFileSync(path.join(DASHBOARDS_DIR, f), 'utf8')]),
);

/** The names of Grafana's dashboard ConfigMaps in the monitoring namespace. */
async function dashboardConfigMaps(admin: KubeClient): Promise<Obj[]> {
  const list = await admin.get<{ items: Obj[] }>(
    `/api/v1/namespaces/${MONITORING_NS}/configmaps?labelSelector=${encodeURIComponent('app.kubernetes.io/name=grafana')}`,
  );
  return list.items.filter((c) => c.metadata.name.startsWith('grafana-dashboard-'));
}

async function createNode(admin: KubeClient, name: string, gpus?: string): Promise<void> {
  await admin.request('DELETE', `/api/v1/nodes/${name}`).catch(() => undefined);
  await admin.request('POST', '/api/v1/nodes', {
    body: { apiVersion: 'v1', kind: 'Node', metadata: { name, labels: { 'kubernetes.io/os': 'linux' } } },
  });
  if (gpus !== undefined) await giveGpus(admin, name, gpus);
}

/** What the NVIDIA device plugin does: the node's allocatable gains nvidia.com/gpu. */
async function giveGpus(admin: KubeClient, name: string, gpus: string): Promise<void> {
  await mergePatch(admin, `/api/v1/nodes/${name}/status`, {
    status: { capacity: { 'nvidia.com/gpu': gpus }, allocatable: { 'nvidia.com/gpu': gpus } },
  });
}

const labelOf = async (admin: KubeClient, node: string) =>
  (await admin.get<Obj>(`/api/v1/nodes/${node}`)).metadata.labels?.[GPU_LABEL];

const condition = (cc: ClusterConfiguration, type: string) =>
  cc.status?.conditions?.find((c) => c.type === type);

describe('console parts: dashboard CRDs, GPU monitoring, Grafana, Istio monitors', () => {
  let admin: KubeClient;
  let ns: string;
  let op: OperatorProcess;

  beforeAll(async () => {
    ({ admin, ns } = await prepareOperatorTest('console-parts'));
    expect(await admin.getOrUndefined(ISTIO)).toBeUndefined();
    await createNode(admin, GPU_NODE, '2');
    await createNode(admin, CPU_NODE);
    op = startOperatorProcess(['--namespace', ns, '--resync-period', '3s']);
    await op.waitFor(/ks-installer starting/, 30_000);
    const cc = sampleClusterConfiguration(ns);
    const spec = cc.spec as Record<string, Record<string, unknown>>;
    spec.monitoring = {
      ...spec.monitoring,
      gpu: { nvidia_dcgm_exporter: { enabled: true } },
      grafana: { enabled: true },
    };
    spec.servicemesh = { enabled: true };
    await createClusterConfiguration(admin, cc);
    expect(await op.waitFor(/run (succeeded|failed)/, 150_000)).toMatch(/run succeeded/);
  });

  afterAll(async () => {
    expect(await op?.stop()).toBe(0);
    for (const n of [GPU_NODE, LATE_GPU_NODE, CPU_NODE])
      await admin.request('DELETE', `/api/v1/nodes/${n}`).catch(() => undefined);
  });

  it('installs both dashboard CRDs Established, with full schemas, both versions served, v1alpha2 stored', async () => {
    for (const plural of ['clusterdashboards', 'dashboards']) {
      const crd = await admin.get<Obj>(`${CRD}/${plural}.monitoring.kubesphere.io`);
      expect(crd.status.conditions.find((c: { type: string }) => c.type === 'Established')?.status).toBe(
        'True',
      );
      expect(crd.spec.versions.map((v: Obj) => [v.name, v.served, v.storage])).toEqual([
        ['v1alpha1', true, false],
        ['v1alpha2', true, true],
      ]);
      for (const v of crd.spec.versions) {
        const schema = v.schema.openAPIV3Schema;
        expect(schema['x-kubernetes-preserve-unknown-fields']).toBeUndefined();
        expect(Object.keys(schema.properties.spec.properties).length).toBeGreaterThan(5);
      }
      expect(crd.spec.scope).toBe(plural === 'dashboards' ? 'Namespaced' : 'Cluster');
    }
  });

  it('round-trips a ClusterDashboard and a Dashboard of each version', async () => {
    const bodies = {
      v1alpha1: {
        title: 'v1 board',
        description: 'written at v1alpha1',
        panels: [{ id: 1, title: 'cpu', type: 'graph', targets: [{ expr: 'up', refId: 1 }] }],
      },
      v1alpha2: {
        title: 'v2 board',
        description: 'written at v1alpha2',
        editable: true,
        time: { from: 'now-1h', to: 'now' },
        panels: [
          {
            id: 1,
            title: 'cpu',
            type: 'graph',
            targets: [{ expr: 'up', refId: 1, legendFormat: '{{instance}}' }],
          },
        ],
        templatings: [{ name: 'node', type: 'query', query: 'label_values(up, instance)' }],
      },
    };
    for (const [version, spec] of Object.entries(bodies)) {
      const group = `/apis/monitoring.kubesphere.io/${version}`;
      const cases = [
        { kind: 'ClusterDashboard', collection: `${group}/clusterdashboards` },
        { kind: 'Dashboard', collection: `${group}/namespaces/${ns}/dashboards` },
      ];
      for (const { kind, collection } of cases) {
        // A field of v1alpha1 only is dropped: objects are stored at v1alpha2 and the CRDs convert nothing
        // (strategy None, as upstream's), so the stored object is pruned by v1alpha2's schema.
        if (version === 'v1alpha1') {
          const name = 'v1alpha1-only-field';
          await admin.request('DELETE', `${collection}/${name}`).catch(() => undefined);
          await admin.request('POST', collection, {
            body: {
              apiVersion: `monitoring.kubesphere.io/${version}`,
              kind,
              metadata: { name },
              spec: { ...spec, datasource: 'prometheus' },
            },
          });
          expect((await admin.get<Obj>(`${collection}/${name}`)).spec.datasource).toBeUndefined();
          await admin.request('DELETE', `${collection}/${name}`);
        }
        const name = `round-trip-${version}`;
        await admin.request('DELETE', `${collection}/${name}`).catch(() => undefined);
        await admin.request('POST', collection, {
          body: { apiVersion: `monitoring.kubesphere.io/${version}`, kind, metadata: { name }, spec },
        });
        const back = await admin.get<Obj>(`${collection}/${name}`);
        expect({ kind, version, spec: back.spec }).toEqual({ kind, version, spec });
        // Served at the other version too (no conversion: the API server rewrites apiVersion only).
        const other = version === 'v1alpha1' ? 'v1alpha2' : 'v1alpha1';
        const there = await admin.get<Obj>(`${collection.replace(version, other)}/${name}`);
        expect(there.apiVersion).toBe(`monitoring.kubesphere.io/${other}`);
        await admin.request('DELETE', `${collection}/${name}`);
      }
    }
  });

  it("installs the DCGM exporter's objects and the GPU dashboard", async () => {
    const base = `/namespaces/${MONITORING_NS}`;
    for (const p of [
      `/api/v1${base}/serviceaccounts/gpu-dcgm-exporter`,
      `/apis/apps/v1${base}/daemonsets/gpu-dcgm-exporter`,
      `/api/v1${base}/services/gpu-dcgm-exporter`,
      `/apis/monitoring.coreos.com/v1${base}/servicemonitors/gpu-dcgm-exporter`,
      '/apis/monitoring.kubesphere.io/v1alpha2/clusterdashboards/nvidia-gpu-dcgm-exporter',
    ])
      expect({ p, found: (await admin.getOrUndefined(p)) !== undefined }).toEqual({ p, found: true });
    const board = await admin.get<Obj>(
      '/apis/monitoring.kubesphere.io/v1alpha2/clusterdashboards/nvidia-gpu-dcgm-exporter',
    );
    const metrics = board.spec.panels.map((p: Obj) => /^(\w+)/.exec(p.targets[0].expr)![1]);
    expect(metrics.sort()).toEqual([
      'DCGM_FI_DEV_FB_USED',
      'DCGM_FI_DEV_GPU_TEMP',
      'DCGM_FI_DEV_GPU_UTIL',
      'DCGM_FI_DEV_POWER_USAGE',
      'DCGM_FI_DEV_SM_CLOCK',
      'DCGM_FI_PROF_PIPE_TENSOR_ACTIVE',
    ]);
  });

  it('labels the GPU node, not the CPU node', async () => {
    expect(await labelOf(admin, GPU_NODE)).toBe('true');
    expect(await labelOf(admin, CPU_NODE)).toBeUndefined();
  });

  it("installs Grafana's objects with a generated admin password, never logged", async () => {
    const base = `/namespaces/${MONITORING_NS}`;
    for (const p of [
      `/api/v1${base}/serviceaccounts/grafana`,
      `/api/v1${base}/secrets/grafana-datasources`,
      `/api/v1${base}/configmaps/grafana-dashboards`,
      `/api/v1${base}/persistentvolumeclaims/grafana-storage`,
      `/apis/apps/v1${base}/deployments/grafana`,
      `/api/v1${base}/services/grafana`,
      `/apis/monitoring.coreos.com/v1${base}/servicemonitors/grafana`,
    ])
      expect({ p, found: (await admin.getOrUndefined(p)) !== undefined }).toEqual({ p, found: true });
    const secret = await admin.get<Obj>(`/api/v1${base}/secrets/grafana-admin`);
    const password = Buffer.from(secret.data['admin-password'], 'base64').toString('utf8');
    expect(password).toMatch(/^[A-Za-z0-9_-]{32}$/);
    expect(op.lines.join('\n')).not.toContain(password);
    const maps = await dashboardConfigMaps(admin);
    expect(maps.map((m) => m.metadata.name).sort()).toEqual(
      [...DASHBOARDS.keys()].map((n) => `grafana-dashboard-${n}`).sort(),
    );
    expect(maps).toHaveLength(23);
    for (const m of maps) {
      const name = m.metadata.name.slice('grafana-dashboard-'.length);
      expect({ name, same: m.data[`${name}.json`] === DASHBOARDS.get(name) }).toEqual({ name, same: true });
    }
    const deployment = await admin.get<Obj>(`/apis/apps/v1${base}/deployments/grafana`);
    const mounts = deployment.spec.template.spec.containers[0].volumeMounts as Obj[];
    expect(mounts.filter((v) => v.mountPath.startsWith('/grafana-dashboard-definitions/0/'))).toHaveLength(
      23,
    );
    const datasources = await admin.get<Obj>(`/api/v1${base}/secrets/grafana-datasources`);
    expect(Buffer.from(datasources.data['datasources.yaml'], 'base64').toString('utf8')).toContain(
      `http://prometheus-k8s.${MONITORING_NS}.svc:9090`,
    );
    // The mixins' records the dashboards read (rules/recording/<mixin>-*.yaml), for Prometheus k8s.
    const rules = await admin.get<Obj>(
      `/apis/monitoring.coreos.com/v1${base}/prometheusrules/prometheus-k8s-grafana-rules`,
    );
    expect(rules.metadata.labels).toMatchObject({ prometheus: 'k8s', role: 'alert-rules' });
    expect((rules.spec.groups as Obj[]).map((g) => [g.name, (g.rules as Obj[]).length])).toEqual([
      ['kubernetes-mixin-k8s.rules', 14],
      ['kubernetes-mixin-node.rules', 1],
      ['node-mixin-node-exporter.rules', 11],
    ]);
  });

  it('the Istio monitors wait for istio-system, and a condition says why', async () => {
    const cc = await admin.get<ClusterConfiguration>(ccPath(ns));
    expect(condition(cc, 'IstioMonitorsWaiting')).toMatchObject({
      status: 'True',
      reason: 'NamespaceMissing',
    });
    expect(
      op.lines.some((l) =>
        /istio-monitoring: skipped: the namespace istio-system does not exist yet/.test(l),
      ),
    ).toBe(true);
  });

  it('the next runs label a node that gains nvidia.com/gpu, apply the Istio monitors once istio-system exists, and keep the password', async () => {
    const secretPath = `/api/v1/namespaces/${MONITORING_NS}/secrets/grafana-admin`;
    const before = (await admin.get<Obj>(secretPath)).data['admin-password'];
    await createNode(admin, LATE_GPU_NODE);
    const seen = op.lines.length;
    await waitUntil('a resync after the node came', async () =>
      op.lines.slice(seen).some((l) => /gpu nodes: /.test(l)),
    );
    expect(await labelOf(admin, LATE_GPU_NODE)).toBeUndefined();
    await giveGpus(admin, LATE_GPU_NODE, '1');
    await admin
      .request('POST', '/api/v1/namespaces', {
        body: { apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'istio-system' } },
      })
      .catch((e: unknown) => {
        if (!(e instanceof ApiError && e.conflict)) throw e;
      });
    await waitUntil(
      'the late GPU node labelled',
      async () => (await labelOf(admin, LATE_GPU_NODE)) === 'true',
      60_000,
    );
    await waitUntil(
      'the Istio monitors',
      async () =>
        (await admin.getOrUndefined(
          '/apis/monitoring.coreos.com/v1/namespaces/istio-system/podmonitors/envoy-stats-monitor',
        )) &&
        (await admin.getOrUndefined(
          '/apis/monitoring.coreos.com/v1/namespaces/istio-system/servicemonitors/istio-component-monitor',
        )),
      60_000,
    );
    const cc = await waitUntil(
      'IstioMonitorsWaiting False',
      async () => {
        const c = await admin.get<ClusterConfiguration>(ccPath(ns));
        return condition(c, 'IstioMonitorsWaiting')?.status === 'False' ? c : undefined;
      },
      60_000,
    );
    expect(condition(cc, 'Ready')?.status).toBe('True');
    expect(await labelOf(admin, CPU_NODE)).toBeUndefined();
    expect((await admin.get<Obj>(secretPath)).data['admin-password']).toBe(before);
    const podMonitor = await admin.get<Obj>(
      '/apis/monitoring.coreos.com/v1/namespaces/istio-system/podmonitors/envoy-stats-monitor',
    );
    expect(podMonitor.spec.namespaceSelector).toEqual({ any: true });
  });

  it('then settles: resyncs with every part on send no write (counted by the API server)', async () => {
    const noDrift = /run succeeded: .*; no drift, status left as it was/;
    let from = op.lines.length;
    from = op.lines.indexOf(await op.waitFor(noDrift, 60_000, from), from) + 1;
    const before = await scrape(admin);
    for (let i = 0; i < 2; i++) from = op.lines.indexOf(await op.waitFor(noDrift, 60_000, from), from) + 1;
    const requests = diff(before, await scrape(admin), {});
    expect(requests.writesByResource).toEqual({});
    expect(requests.writes).toBe(0);
  });

  it("turned off, each part's objects are removed; Grafana's volume and Secrets, the node labels and the dashboard CRDs stay", async () => {
    await mergePatch(admin, ccPath(ns), {
      spec: {
        monitoring: { gpu: { nvidia_dcgm_exporter: { enabled: false } }, grafana: { enabled: false } },
        servicemesh: { enabled: false },
      },
    });
    const base = `/namespaces/${MONITORING_NS}`;
    const gone = [
      `/api/v1${base}/serviceaccounts/gpu-dcgm-exporter`,
      `/apis/apps/v1${base}/daemonsets/gpu-dcgm-exporter`,
      `/api/v1${base}/services/gpu-dcgm-exporter`,
      `/apis/monitoring.coreos.com/v1${base}/servicemonitors/gpu-dcgm-exporter`,
      '/apis/monitoring.kubesphere.io/v1alpha2/clusterdashboards/nvidia-gpu-dcgm-exporter',
      '/apis/monitoring.coreos.com/v1/namespaces/istio-system/podmonitors/envoy-stats-monitor',
      '/apis/monitoring.coreos.com/v1/namespaces/istio-system/servicemonitors/istio-component-monitor',
      `/api/v1${base}/serviceaccounts/grafana`,
      `/api/v1${base}/configmaps/grafana-dashboards`,
      `/apis/apps/v1${base}/deployments/grafana`,
      `/api/v1${base}/services/grafana`,
      `/apis/monitoring.coreos.com/v1${base}/servicemonitors/grafana`,
      `/apis/monitoring.coreos.com/v1${base}/prometheusrules/prometheus-k8s-grafana-rules`,
    ];
    await waitUntil(
      'the parts removed',
      async () => {
        for (const p of gone) if ((await admin.getOrUndefined(p)) !== undefined) return undefined;
        return (await dashboardConfigMaps(admin)).length === 0;
      },
      90_000,
    );
    for (const p of [
      `/api/v1${base}/persistentvolumeclaims/grafana-storage`,
      `/api/v1${base}/secrets/grafana-admin`,
      `/api/v1${base}/secrets/grafana-datasources`,
      `${CRD}/clusterdashboards.monitoring.kubesphere.io`,
      `${CRD}/dashboards.monitoring.kubesphere.io`,
    ])
      expect({ p, found: (await admin.getOrUndefined(p)) !== undefined }).toEqual({ p, found: true });
    expect(await labelOf(admin, GPU_NODE)).toBe('true');
    expect(
      op.lines.some((l) =>
        /role grafana is off \(monitoring\.grafana\.enabled is not true\): 29 objects removed/.test(l),
      ),
    ).toBe(true);
  });
});
