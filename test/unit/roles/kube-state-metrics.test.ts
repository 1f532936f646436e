import { describe, expect, it } from '@jest/globals';
import type { IServiceMonitor } from '@kubernetes-models/prometheus-operator/monitoring.coreos.com/v1/ServiceMonitor';
import type { IDeployment } from 'kubernetes-models/apps/v1/Deployment';
import type { IClusterRole } from 'kubernetes-models/rbac.authorization.k8s.io/v1/ClusterRole';
import type { IIoK8sApiCoreV1Container } from 'kubernetes-models/v1/Container';
import type { IService } from 'kubernetes-models/v1/Service';
import yaml from 'js-yaml';
import type { KubeObject } from '../../../src/kube/client.js';
import {
  containerOf,
  expectGolden,
  findObject,
  objectIds,
  renderRole,
  renderRoleText,
  sampleSpec,
  unsafeOutputsOf,
} from './golden.js';

const NS = 'kubesphere-monitoring-system';
const render = (spec: Record<string, unknown>): KubeObject[] => renderRole('kube-state-metrics', spec);

const find = findObject;

const deployment = (objects: KubeObject[]): IDeployment =>
  find<IDeployment>(objects, 'Deployment', 'kube-state-metrics');

const container = (w: IDeployment, name: string): IIoK8sApiCoreV1Container => containerOf(w, name);

function withMonitoring(monitoring: Record<string, unknown>): Record<string, unknown> {
  const spec = sampleSpec();
  spec.monitoring = { ...(spec.monitoring as Record<string, unknown>), ...monitoring };
  return spec;
}

/** The `--metric-denylist` entries as kube-state-metrics applies them: each a fully anchored regex. */
function denylist(d: IDeployment): RegExp[] {
  const arg = container(d, 'kube-state-metrics').args?.find((a) => a.startsWith('--metric-denylist='));
  if (!arg) throw new Error('no --metric-denylist');
  return arg
    .slice('--metric-denylist='.length)
    .split(',')
    .map((entry) => new RegExp(`^(?:${entry})$`));
}

describe('role kube-state-metrics', () => {
  const text = renderRoleText('kube-state-metrics', sampleSpec());
  const objects = yaml.loadAll(text) as KubeObject[];
  const ksm = deployment(objects);

  it('renders the sample spec as in the golden file', () => {
    expectGolden('kube-state-metrics', text);
  });

  it('renders the original objects under their names and namespaces', () => {
    expect(objectIds(objects)).toEqual([
      `v1 ServiceAccount ${NS}/kube-state-metrics`,
      'rbac.authorization.k8s.io/v1 ClusterRole -/kubesphere-kube-state-metrics',
      'rbac.authorization.k8s.io/v1 ClusterRoleBinding -/kubesphere-kube-state-metrics',
      `apps/v1 Deployment ${NS}/kube-state-metrics`,
      `v1 Service ${NS}/kube-state-metrics`,
      `monitoring.coreos.com/v1 ServiceMonitor ${NS}/kube-state-metrics`,
    ]);
  });

  it('keeps the kube-prometheus selector', () => {
    const selector = {
      'app.kubernetes.io/name': 'kube-state-metrics',
      'app.kubernetes.io/component': 'exporter',
      'app.kubernetes.io/part-of': 'kube-prometheus',
    };
    expect(ksm.spec?.replicas).toBe(1);
    expect(ksm.spec?.selector.matchLabels).toEqual(selector);
    expect(ksm.spec?.template.metadata?.labels).toEqual({
      ...selector,
      'app.kubernetes.io/version': '2.6.0',
    });
    expect(find<IService>(objects, 'Service', 'kube-state-metrics').spec?.selector).toEqual(selector);
  });

  it('serves on loopback only, behind two kube-rbac-proxy sidecars', () => {
    const pod = ksm.spec?.template.spec;
    expect(pod?.serviceAccountName).toBe('kube-state-metrics');
    expect(pod?.containers.map((c) => c.name)).toEqual([
      'kube-state-metrics',
      'kube-rbac-proxy-main',
      'kube-rbac-proxy-self',
    ]);
    const main = container(ksm, 'kube-state-metrics');
    expect(main.image).toBe('kubesphere/kube-state-metrics:v2.6.0');
    expect(main.args).toEqual(
      expect.arrayContaining([
        '--host=127.0.0.1',
        '--port=8081',
        '--telemetry-host=127.0.0.1',
        '--telemetry-port=8082',
      ]),
    );
    expect(main.ports).toBeUndefined();
    const proxyMain = container(ksm, 'kube-rbac-proxy-main');
    expect(proxyMain.image).toBe('kubesphere/kube-rbac-proxy:v0.11.0');
    expect(proxyMain.args).toEqual(
      expect.arrayContaining(['--secure-listen-address=:8443', '--upstream=http://127.0.0.1:8081/']),
    );
    expect(proxyMain.ports).toEqual([{ name: 'https-main', containerPort: 8443, protocol: 'TCP' }]);
    const proxySelf = container(ksm, 'kube-rbac-proxy-self');
    expect(proxySelf.args).toEqual(
      expect.arrayContaining(['--secure-listen-address=:9443', '--upstream=http://127.0.0.1:8082/']),
    );
    expect(proxySelf.ports).toEqual([{ name: 'https-self', containerPort: 9443, protocol: 'TCP' }]);
    expect(pod?.securityContext?.runAsNonRoot).toBe(true);
    for (const c of pod?.containers ?? []) {
      expect(c.securityContext).toMatchObject({
        allowPrivilegeEscalation: false,
        readOnlyRootFilesystem: true,
        capabilities: { drop: ['ALL'] },
      });
    }
  });

  it("keeps the series the rules, PVC alerts and KubeSphere read, and denies the original's list", () => {
    const entries = denylist(ksm);
    const dropped = (metric: string) => entries.some((re) => re.test(metric));
    for (const kept of [
      'kube_persistentvolumeclaim_access_mode',
      'kube_persistentvolumeclaim_info',
      'kube_persistentvolumeclaim_status_phase',
      'kube_pod_info',
      'kube_pod_owner',
      'kube_pod_status_phase',
      'kube_pod_container_resource_requests',
      'kube_node_status_condition',
      'kube_node_status_allocatable',
      'kube_deployment_metadata_generation',
      'kube_deployment_status_replicas_unavailable',
      'kube_daemonset_status_number_unavailable',
      'kube_statefulset_replicas',
      'kube_resourcequota',
      'kube_job_status_failed',
      'kube_namespace_labels',
      'kube_pod_spec_volumes_persistentvolumeclaims_info',
      'kube_pod_container_status_waiting_reason',
    ]) {
      expect({ metric: kept, dropped: dropped(kept) }).toEqual({ metric: kept, dropped: false });
    }
    for (const noise of [
      'kube_configmap_metadata_resource_version',
      'kube_pod_created',
      'kube_endpoint_address_available',
      'kube_endpoint_info',
      'kube_replicaset_owner',
      'kube_persistentvolumeclaim_resource_requests_storage_bytes',
      'kube_node_info',
      'kube_secret_type',
    ]) {
      expect({ metric: noise, dropped: dropped(noise) }).toEqual({ metric: noise, dropped: true });
    }
  });

  it('gives each container its own resources (proxy-self reads the new keys too)', () => {
    expect(container(ksm, 'kube-state-metrics').resources).toEqual({
      limits: { cpu: 1, memory: '8Gi' },
      requests: { cpu: '100m', memory: '150Mi' },
    });
    const spec = withMonitoring({
      kube_state_metrics: { resources: { limits: { memory: '4Gi' } }, requests: { cpu: '200m' } },
      kube_rbac_proxy: { resources: { limits: { cpu: '500m' } }, requests: { memory: '40Mi' } },
    });
    const overridden = deployment(render(spec));
    expect(container(overridden, 'kube-state-metrics').resources).toEqual({
      limits: { cpu: 1, memory: '4Gi' },
      requests: { cpu: '200m', memory: '150Mi' },
    });
    const proxy = { limits: { cpu: '500m', memory: '100Mi' }, requests: { cpu: '10m', memory: '40Mi' } };
    expect(container(overridden, 'kube-rbac-proxy-main').resources).toEqual(proxy);
    expect(container(overridden, 'kube-rbac-proxy-self').resources).toEqual(proxy);
  });

  it('takes placement from the spec', () => {
    const pod = ksm.spec?.template.spec;
    expect(pod?.nodeSelector).toEqual({ 'kubernetes.io/os': 'linux' });
    expect(pod?.tolerations).toEqual([]);
    expect(pod?.affinity).toEqual({});
    const spec = withMonitoring({
      nodeSelector: { 'node-role.kubernetes.io/monitoring': '' },
      tolerations: [{ key: 'dedicated', operator: 'Equal', value: 'monitoring', effect: 'NoSchedule' }],
    });
    const placed = deployment(render(spec)).spec?.template.spec;
    expect(placed?.nodeSelector).toEqual({ 'node-role.kubernetes.io/monitoring': '' });
    expect(placed?.tolerations).toEqual([
      { key: 'dedicated', operator: 'Equal', value: 'monitoring', effect: 'NoSchedule' },
    ]);
  });

  it('may list and watch what kube-state-metrics reports on, and review tokens for the proxies', () => {
    const role = find<IClusterRole>(objects, 'ClusterRole', 'kubesphere-kube-state-metrics');
    const allowed = (group: string, resource: string, verb: string) =>
      (role.rules ?? []).some(
        (r) => r.apiGroups?.includes(group) && r.resources?.includes(resource) && r.verbs.includes(verb),
      );
    for (const [group, resource] of [
      ['', 'pods'],
      ['', 'nodes'],
      ['', 'namespaces'],
      ['', 'persistentvolumeclaims'],
      ['', 'persistentvolumes'],
      ['', 'resourcequotas'],
      ['', 'services'],
      ['', 'endpoints'],
      ['apps', 'deployments'],
      ['apps', 'daemonsets'],
      ['apps', 'statefulsets'],
      ['apps', 'replicasets'],
      ['batch', 'jobs'],
      ['batch', 'cronjobs'],
      ['autoscaling', 'horizontalpodautoscalers'],
      ['policy', 'poddisruptionbudgets'],
      ['storage.k8s.io', 'storageclasses'],
      ['networking.k8s.io', 'ingresses'],
    ] as const) {
      expect({
        group,
        resource,
        list: allowed(group, resource, 'list'),
        watch: allowed(group, resource, 'watch'),
      }).toEqual({
        group,
        resource,
        list: true,
        watch: true,
      });
    }
    expect(allowed('authentication.k8s.io', 'tokenreviews', 'create')).toBe(true);
    expect(allowed('authorization.k8s.io', 'subjectaccessreviews', 'create')).toBe(true);
    for (const rule of role.rules ?? [])
      expect(rule.verbs.every((v) => ['list', 'watch', 'create'].includes(v))).toBe(true);
    const binding = find<KubeObject>(objects, 'ClusterRoleBinding', 'kubesphere-kube-state-metrics');
    expect(binding.subjects).toEqual([{ kind: 'ServiceAccount', name: 'kube-state-metrics', namespace: NS }]);
  });

  it('exposes both proxies on a headless Service and scrapes both, honoring labels on main', () => {
    const service = find<IService>(objects, 'Service', 'kube-state-metrics');
    expect(service.spec?.clusterIP).toBe('None');
    expect(service.spec?.ports).toEqual([
      { name: 'https-main', port: 8443, targetPort: 'https-main', protocol: 'TCP' },
      { name: 'https-self', port: 9443, targetPort: 'https-self', protocol: 'TCP' },
    ]);
    const monitor = find<IServiceMonitor>(objects, 'ServiceMonitor', 'kube-state-metrics');
    expect(monitor.spec.selector.matchLabels).toEqual(service.spec?.selector);
    const [main, self] = monitor.spec.endpoints;
    expect(monitor.spec.endpoints).toHaveLength(2);
    expect(main).toMatchObject({ port: 'https-main', scheme: 'https', honorLabels: true });
    expect(self).toMatchObject({ port: 'https-self', scheme: 'https' });
    expect(self?.honorLabels).toBeUndefined();
    for (const endpoint of [main, self]) {
      expect(endpoint?.bearerTokenFile).toBe('/var/run/secrets/kubernetes.io/serviceaccount/token');
    }
  });

  it('renders no PrometheusRule: the original one had no rules (docs/rules.md)', () => {
    expect(objects.filter((o) => o.kind === 'PrometheusRule')).toEqual([]);
  });

  it('prints every value through a safe serializer', () => {
    const templates = unsafeOutputsOf('kube-state-metrics');
    expect(templates.length).toBeGreaterThan(0);
    expect(templates.filter((t) => t.unsafe.length > 0)).toEqual([]);
  });
});
