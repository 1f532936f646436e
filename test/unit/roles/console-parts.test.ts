/**
 * The console's parts beyond the core stack: the dashboard CRDs (always), GPU monitoring, the Istio
 * monitors and Grafana. Golden renders, when each role runs, the validation of their keys, the GPU image
 * through the registry rules, the GPU node selection and Grafana's password kept from the live Secret.
 */
import { describe, expect, it } from '@jest/globals';
import { createHash } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import type { IDeployment } from 'kubernetes-models/apps/v1/Deployment';
import type { IDaemonSet } from 'kubernetes-models/apps/v1/DaemonSet';
import { resolveValues } from '../../../src/config/resolve.js';
import { validateSpec } from '../../../src/config/validate.js';
import { extractLiveFacts } from '../../../src/facts/live.js';
import { gpuNodesToLabel } from '../../../src/installer/steps/label-gpu-nodes.js';
import { ROLES } from '../../../src/installer/catalog.js';
import type { KubeObject } from '../../../src/kube/client.js';
import { projectRoot } from '../../../src/paths.js';
import {
  containerOf,
  expectGolden,
  findObject,
  FIXED_FACTS,
  objectIds,
  renderRole,
  renderRoleText,
  sampleSpec,
  unsafeOutputsOf,
  withMonitoring,
} from './golden.js';

const PASSWORD = 'fixed-grafana-password-for-tests';
const FACTS = { ...FIXED_FACTS, grafanaAdminPassword: PASSWORD };
const ISTIO_FACTS = { ...FACTS, live: { ...FACTS.live, istioNamespaceExists: true } };

const gpuOn = (extra: Record<string, unknown> = {}) =>
  withMonitoring({ gpu: { nvidia_dcgm_exporter: { enabled: true, ...extra } } });
const grafanaOn = () => withMonitoring({ grafana: { enabled: true } });
const meshOn = () => ({ ...sampleSpec(), servicemesh: { enabled: true } });

const role = (name: string) => ROLES.find((r) => r.name === name)!;

/** The generated dashboards (templates/grafana/dashboards, tools/generate-dashboards.ts), name → text. */
const DASHBOARDS_DIR = path.join(projectRoot(), 'templates', 'grafana', 'dashboards');
const DASHBOARDS = new Map(
  readdirSync(DASHBOARDS_DIR)
    .filter((f) => f.endsWith('.json') && f !== 'SOURCE.json')
    .sort()
    .map((f) => [f.slice(0, -'.json'.length), readFileSync(path.join(DASHBOARDS_DIR, f), 'utf8')]),
);
const isDashboardConfigMap = (o: KubeObject) =>
  o.kind === 'ConfigMap' && o.metadata.name.startsWith('grafana-dashboard-');

/** In the golden file a dashboard's text stands as its size and sha256 (the text is checked below). */
function abbreviateDashboards(o: KubeObject): KubeObject {
  if (!isDashboardConfigMap(o)) return o;
  const data = (o as KubeObject & { data: Record<string, string> }).data;
  const short = Object.fromEntries(
    Object.entries(data).map(([k, v]) => [
      k,
      `${Buffer.byteLength(v)} bytes, sha256 ${createHash('sha256').update(v).digest('hex')}`,
    ]),
  );
  return { ...o, data: short } as KubeObject;
}
const decision = (name: string, spec: Record<string, unknown>, facts = FACTS) =>
  role(name).when(resolveValues(spec, facts).values);

describe('console parts', () => {
  it('render as the golden files say', () => {
    expectGolden('gpu-monitoring', renderRoleText('gpu-monitoring', gpuOn(), FACTS));
    expectGolden('istio-monitoring', renderRoleText('istio-monitoring', meshOn(), ISTIO_FACTS));
    expectGolden('grafana', renderRoleText('grafana', grafanaOn(), FACTS, abbreviateDashboards));
  });

  it('serialize every template output safely', () => {
    for (const folder of ['gpu-monitoring', 'istio-monitoring', 'grafana'])
      expect(unsafeOutputsOf(folder).filter((t) => t.unsafe.length > 0)).toEqual([]);
  });

  it('the dashboard CRDs are applied always, also with external monitoring', () => {
    const external = { ...sampleSpec(), common: { monitoring: { type: 'external' } } };
    expect(decision('monitoring-dashboard', sampleSpec())).toEqual({ run: true });
    expect(decision('monitoring-dashboard', external)).toEqual({ run: true });
    expect(role('monitoring-dashboard').crds).toEqual(['monitoring.kubesphere.io']);
  });

  it('each part runs only when switched on (exactly true)', () => {
    expect(decision('gpu-monitoring', sampleSpec())).toMatchObject({ run: false });
    expect(decision('gpu-monitoring', gpuOn())).toEqual({ run: true });
    expect(decision('grafana', sampleSpec())).toMatchObject({ run: false });
    expect(decision('grafana', grafanaOn())).toEqual({ run: true });
    expect(decision('istio-monitoring', sampleSpec(), ISTIO_FACTS)).toMatchObject({ run: false });
    expect(decision('istio-monitoring', meshOn(), ISTIO_FACTS)).toEqual({ run: true });
  });

  it('the Istio monitors wait for istio-system, with a warning condition saying why', () => {
    expect(decision('istio-monitoring', meshOn())).toEqual({
      run: false,
      reason: 'the namespace istio-system does not exist yet',
    });
    const { warnings } = resolveValues(meshOn(), FACTS);
    expect(warnings.map((w) => [w.type, w.reason])).toEqual([['IstioMonitorsWaiting', 'NamespaceMissing']]);
    expect(resolveValues(meshOn(), ISTIO_FACTS).warnings).toEqual([]);
  });

  it('turned off, GPU, Istio monitors and Grafana ask for removal; waiting, external or unserved do not', () => {
    const external = (spec: Record<string, unknown>) => ({
      ...spec,
      common: { monitoring: { type: 'external' } },
    });
    const unserved = { ...ISTIO_FACTS, servedApiVersions: ['v1', 'apps/v1'] };
    for (const name of ['gpu-monitoring', 'istio-monitoring', 'grafana'])
      expect([name, decision(name, sampleSpec(), ISTIO_FACTS)]).toEqual([
        name,
        expect.objectContaining({ run: false, remove: true }),
      ]);
    expect(decision('istio-monitoring', meshOn())).not.toHaveProperty('remove');
    expect(decision('istio-monitoring', external(meshOn()), unserved)).not.toHaveProperty('remove');
    expect(decision('gpu-monitoring', external(gpuOn()), unserved)).not.toHaveProperty('remove');
    expect(decision('grafana', external(grafanaOn()))).not.toHaveProperty('remove');
    expect(role('monitoring-dashboard').removal).toBeUndefined();
    // Grafana's volume and Secrets are never listed nor deleted.
    const grafanaKinds = role('grafana').removal!.owns.map((k) => k.kind);
    expect(grafanaKinds).not.toContain('Secret');
    expect(grafanaKinds).not.toContain('PersistentVolumeClaim');
  });

  it('with external monitoring, GPU and Istio monitors need the served monitoring.coreos.com/v1; Grafana never runs', () => {
    const external = (spec: Record<string, unknown>) => ({
      ...spec,
      common: { monitoring: { type: 'external' } },
    });
    const unserved = { ...ISTIO_FACTS, servedApiVersions: ['v1', 'apps/v1'] };
    expect(decision('gpu-monitoring', external(gpuOn()), ISTIO_FACTS)).toEqual({ run: true });
    expect(decision('gpu-monitoring', external(gpuOn()), unserved)).toMatchObject({ run: false });
    expect(decision('istio-monitoring', external(meshOn()), ISTIO_FACTS)).toEqual({ run: true });
    expect(decision('istio-monitoring', external(meshOn()), unserved)).toMatchObject({ run: false });
    expect(decision('grafana', external(grafanaOn()))).toMatchObject({ run: false });
  });

  it('objects of each part, in order', () => {
    expect(objectIds(renderRole('gpu-monitoring', gpuOn(), FACTS))).toEqual([
      'v1 ServiceAccount kubesphere-monitoring-system/gpu-dcgm-exporter',
      'apps/v1 DaemonSet kubesphere-monitoring-system/gpu-dcgm-exporter',
      'v1 Service kubesphere-monitoring-system/gpu-dcgm-exporter',
      'monitoring.coreos.com/v1 ServiceMonitor kubesphere-monitoring-system/gpu-dcgm-exporter',
      'monitoring.kubesphere.io/v1alpha2 ClusterDashboard -/nvidia-gpu-dcgm-exporter',
    ]);
    expect(objectIds(renderRole('istio-monitoring', meshOn(), ISTIO_FACTS))).toEqual([
      'monitoring.coreos.com/v1 PodMonitor istio-system/envoy-stats-monitor',
      'monitoring.coreos.com/v1 ServiceMonitor istio-system/istio-component-monitor',
    ]);
    expect(objectIds(renderRole('grafana', grafanaOn(), FACTS))).toEqual([
      'v1 ServiceAccount kubesphere-monitoring-system/grafana',
      'v1 Secret kubesphere-monitoring-system/grafana-admin',
      'v1 Secret kubesphere-monitoring-system/grafana-datasources',
      'v1 ConfigMap kubesphere-monitoring-system/grafana-dashboards',
      ...[...DASHBOARDS.keys()].map(
        (n) => `v1 ConfigMap kubesphere-monitoring-system/grafana-dashboard-${n}`,
      ),
      'v1 PersistentVolumeClaim kubesphere-monitoring-system/grafana-storage',
      'apps/v1 Deployment kubesphere-monitoring-system/grafana',
      'v1 Service kubesphere-monitoring-system/grafana',
      'monitoring.coreos.com/v1 ServiceMonitor kubesphere-monitoring-system/grafana',
      'monitoring.coreos.com/v1 PrometheusRule kubesphere-monitoring-system/prometheus-k8s-grafana-rules',
    ]);
  });

  it("Grafana's dashboards' records: one PrometheusRule of the generated groups, selected by Prometheus k8s", () => {
    const rule = findObject<{
      metadata: { labels: Record<string, string> };
      spec: { groups: { name: string; rules: { record: string }[] }[] };
    }>(renderRole('grafana', grafanaOn(), FACTS), 'PrometheusRule', 'prometheus-k8s-grafana-rules');
    expect(rule.spec.groups.map((g) => [g.name, g.rules.length])).toEqual([
      ['kubernetes-mixin-k8s.rules', 14],
      ['kubernetes-mixin-node.rules', 1],
      ['node-mixin-node-exporter.rules', 11],
    ]);
    const prometheus = findObject<{ spec: { ruleSelector: { matchLabels: Record<string, string> } } }>(
      renderRole('prometheus-stack', grafanaOn(), FACTS),
      'Prometheus',
      'k8s',
    );
    expect(rule.metadata.labels).toMatchObject(prometheus.spec.ruleSelector.matchLabels);
    expect(
      objectIds(renderRole('grafana', grafanaOn(), FACTS)).filter((o) => o.includes('PrometheusRule')),
    ).toHaveLength(1);
    // Turned off, the role's PrometheusRule kind is among what its removal lists.
    expect(role('grafana').removal!.owns).toContainEqual({
      apiVersion: 'monitoring.coreos.com/v1',
      kind: 'PrometheusRule',
      namespace: 'kubesphere-monitoring-system',
    });
  });

  it("ships the 23 generated dashboards, one ConfigMap each under 1 MiB, each mounted where Grafana's provider reads", () => {
    expect(DASHBOARDS.size).toBe(23);
    const objects = renderRole('grafana', grafanaOn(), FACTS);
    const maps = objects.filter(isDashboardConfigMap) as (KubeObject & { data: Record<string, string> })[];
    expect(maps.map((m) => m.metadata.name)).toEqual(
      [...DASHBOARDS.keys()].map((n) => `grafana-dashboard-${n}`),
    );
    for (const m of maps) {
      const name = m.metadata.name.slice('grafana-dashboard-'.length);
      expect(Object.keys(m.data)).toEqual([`${name}.json`]);
      expect(m.data[`${name}.json`]).toBe(DASHBOARDS.get(name));
      expect(Buffer.byteLength(JSON.stringify(m))).toBeLessThan(1024 * 1024);
    }
    const deployment = findObject<IDeployment>(objects, 'Deployment', 'grafana');
    const pod = deployment.spec!.template.spec!;
    const mounts = containerOf<{ name: string; volumeMounts: { name: string; mountPath: string }[] }>(
      deployment,
      'grafana',
    ).volumeMounts;
    for (const name of DASHBOARDS.keys()) {
      const volume = `grafana-dashboard-${name}`;
      expect(pod.volumes!.find((v) => v.name === volume)?.configMap?.name).toBe(volume);
      expect(mounts.find((v) => v.name === volume)?.mountPath).toBe(
        `/grafana-dashboard-definitions/0/${name}`,
      );
    }
    const provider = findObject<{ data: Record<string, string> }>(objects, 'ConfigMap', 'grafana-dashboards');
    expect(JSON.parse(provider.data['dashboards.yaml']!).providers[0].options.path).toBe(
      '/grafana-dashboard-definitions/0',
    );
  });

  it('the DCGM exporter takes its resources from the spec and its image through the registry rules', () => {
    const resources = { limits: { cpu: '1', memory: '1Gi' }, requests: { cpu: '200m', memory: '256Mi' } };
    const ds = findObject<IDaemonSet>(
      renderRole('gpu-monitoring', gpuOn({ resources }), FACTS),
      'DaemonSet',
      'gpu-dcgm-exporter',
    );
    const exporter = containerOf<{ name: string; image: string; resources: unknown }>(ds, 'exporter');
    expect(exporter.resources).toEqual(resources);
    expect(exporter.image).toBe('nvcr.io/nvidia/k8s/dcgm-exporter:2.1.8-2.4.0-rc.3-ubuntu18.04');
    const images = (top: Record<string, unknown>) =>
      resolveValues({ ...gpuOn(), ...top }, FACTS).values.images.dcgm_exporter.image;
    expect(images({ local_registry: 'registry.example.com:5000' })).toBe(
      'registry.example.com:5000/nvidia/k8s/dcgm-exporter:2.1.8-2.4.0-rc.3-ubuntu18.04',
    );
    expect(images({ zone: 'cn' })).toBe(
      'registry.cn-beijing.aliyuncs.com/kubesphereio/dcgm-exporter:2.1.8-2.4.0-rc.3-ubuntu18.04',
    );
    expect(images({ dcgm_exporter_repo: 'mirror.example.com/dcgm', dcgm_exporter_tag: 'x' })).toBe(
      'mirror.example.com/dcgm:x',
    );
    expect(resolveValues(grafanaOn(), FACTS).values.images.grafana.image).toBe('grafana/grafana:8.3.3');
  });

  it('refuses a wrong type for a switch, bad GPU quantities and a non-map monitoring.grafana', () => {
    const problems = validateSpec({
      servicemesh: { enabled: 'true' },
      monitoring: {
        grafana: 'on',
        gpu: { nvidia_dcgm_exporter: { enabled: 1, resources: { limits: { cpu: 'lots', memory: '1Gx' } } } },
      },
    });
    expect(problems.map((p) => p.field).sort()).toEqual([
      'spec.monitoring.gpu.nvidia_dcgm_exporter.enabled',
      'spec.monitoring.gpu.nvidia_dcgm_exporter.resources.limits.cpu',
      'spec.monitoring.gpu.nvidia_dcgm_exporter.resources.limits.memory',
      'spec.monitoring.grafana',
      'spec.servicemesh.enabled',
    ]);
    const mesh = problems.find((p) => p.field === 'spec.servicemesh.enabled')!;
    expect(mesh.message).toContain('is not true or false');
    expect(mesh.fix).toContain('true or false (without quotes)');
    expect(problems.find((p) => p.field === 'spec.monitoring.grafana')!.message).toContain(
      'is not a mapping',
    );
    expect(() => resolveValues({ servicemesh: { enabled: 'yes' } }, FACTS)).toThrow(
      /spec\.servicemesh\.enabled/,
    );
  });

  it('labels GPU nodes that lack the label, and no other', () => {
    const node = (
      name: string,
      allocatable: Record<string, string>,
      labels: Record<string, string> = {},
    ) => ({
      metadata: { name, labels },
      status: { allocatable },
    });
    expect(
      gpuNodesToLabel([
        node('cpu-only', { cpu: '4' }),
        node('gpu-new', { 'nvidia.com/gpu': '2' }),
        node('gpu-zero', { 'nvidia.com/gpu': '0' }),
        node('gpu-done', { 'nvidia.com/gpu': '1' }, { 'nvidia.com/gpu.present': 'true' }),
        node('labelled-no-gpu', { cpu: '4' }, { 'nvidia.com/gpu.present': 'true' }),
      ]),
    ).toEqual(['gpu-new', 'gpu-zero']);
  });

  it("keeps Grafana's admin password from the live Secret, and renders it instead of admin/admin", () => {
    const secret = {
      apiVersion: 'v1',
      kind: 'Secret',
      metadata: { name: 'grafana-admin', namespace: 'kubesphere-monitoring-system' },
      data: { 'admin-password': Buffer.from('kept-password').toString('base64') },
    } as KubeObject;
    expect(extractLiveFacts([secret]).grafanaAdminPassword).toBe('kept-password');
    expect(extractLiveFacts([]).grafanaAdminPassword).toBeUndefined();
    const rendered = renderRoleText('grafana', grafanaOn(), FACTS);
    expect(rendered).not.toContain('admin/admin');
    expect(rendered).toContain(Buffer.from(PASSWORD).toString('base64'));
  });
});
