import { describe, expect, it } from '@jest/globals';
import type { IServiceMonitor } from '@kubernetes-models/prometheus-operator/monitoring.coreos.com/v1/ServiceMonitor';
import type { IDaemonSet } from 'kubernetes-models/apps/v1/DaemonSet';
import type { IService } from 'kubernetes-models/v1/Service';
import type { IClusterRole } from 'kubernetes-models/rbac.authorization.k8s.io/v1/ClusterRole';
import type { IIoK8sApiCoreV1Container } from 'kubernetes-models/v1/Container';
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
const render = (spec: Record<string, unknown>): KubeObject[] => renderRole('node-exporter', spec);

const find = findObject;

const container = (w: IDaemonSet, name: string): IIoK8sApiCoreV1Container => containerOf(w, name);

/** The sample spec with `monitoring` keys merged in. */
function withMonitoring(monitoring: Record<string, unknown>): Record<string, unknown> {
  const spec = sampleSpec();
  spec.monitoring = { ...(spec.monitoring as Record<string, unknown>), ...monitoring };
  return spec;
}

describe('role node-exporter', () => {
  const text = renderRoleText('node-exporter', sampleSpec());
  const objects = yaml.loadAll(text) as KubeObject[];
  const ds = find<IDaemonSet>(objects, 'DaemonSet', 'node-exporter');

  it('renders the sample spec as in the golden file', () => {
    expectGolden('node-exporter', text);
  });

  it('renders the original objects under their names and namespaces', () => {
    expect(objectIds(objects)).toEqual([
      `v1 ServiceAccount ${NS}/node-exporter`,
      'rbac.authorization.k8s.io/v1 ClusterRole -/kubesphere-node-exporter',
      'rbac.authorization.k8s.io/v1 ClusterRoleBinding -/kubesphere-node-exporter',
      `apps/v1 DaemonSet ${NS}/node-exporter`,
      `v1 Service ${NS}/node-exporter`,
      `monitoring.coreos.com/v1 ServiceMonitor ${NS}/node-exporter`,
    ]);
  });

  it('keeps the kube-prometheus selector and labels the pods with the version', () => {
    const selector = {
      'app.kubernetes.io/name': 'node-exporter',
      'app.kubernetes.io/component': 'exporter',
      'app.kubernetes.io/part-of': 'kube-prometheus',
    };
    expect(ds.spec?.selector.matchLabels).toEqual(selector);
    expect(ds.spec?.template.metadata?.labels).toEqual({ ...selector, 'app.kubernetes.io/version': '1.3.1' });
    expect(find<IService>(objects, 'Service', 'node-exporter').spec?.selector).toEqual(selector);
  });

  it('runs on every Linux node but edge nodes, in the host network and PID namespaces', () => {
    const pod = ds.spec?.template.spec;
    expect(pod?.hostNetwork).toBe(true);
    expect(pod?.hostPID).toBe(true);
    expect(pod?.serviceAccountName).toBe('node-exporter');
    expect(pod?.nodeSelector).toEqual({ 'kubernetes.io/os': 'linux' });
    expect(pod?.tolerations).toEqual([{ operator: 'Exists' }]);
    expect(
      pod?.affinity?.nodeAffinity?.requiredDuringSchedulingIgnoredDuringExecution?.nodeSelectorTerms,
    ).toEqual([{ matchExpressions: [{ key: 'node-role.kubernetes.io/edge', operator: 'DoesNotExist' }] }]);
  });

  it('ignores the placement keys of the other workloads (its placement is fixed)', () => {
    const spec = sampleSpec();
    spec.nodeSelector = { role: 'monitoring' };
    spec.tolerations = [{ key: 'x', operator: 'Exists' }];
    const pod = find<IDaemonSet>(render(spec), 'DaemonSet', 'node-exporter').spec?.template.spec;
    expect(pod?.nodeSelector).toEqual({ 'kubernetes.io/os': 'linux' });
    expect(pod?.tolerations).toEqual([{ operator: 'Exists' }]);
  });

  it('listens on loopback only and reads the host file systems read-only', () => {
    const exporter = container(ds, 'node-exporter');
    expect(exporter.image).toBe('prom/node-exporter:v1.3.1');
    expect(exporter.args).toContain('--web.listen-address=127.0.0.1:9100');
    expect(exporter.args).toEqual(
      expect.arrayContaining([
        '--path.rootfs=/host/root',
        '--path.sysfs=/host/sys',
        '--path.procfs=/host/proc',
      ]),
    );
    expect(exporter.ports).toBeUndefined();
    const mounts = Object.fromEntries((exporter.volumeMounts ?? []).map((m) => [m.mountPath, m]));
    expect(Object.keys(mounts).sort()).toEqual(['/host/proc', '/host/root', '/host/sys']);
    for (const mount of Object.values(mounts)) expect(mount.readOnly).toBe(true);
    const hostPaths = Object.fromEntries(
      (ds.spec?.template.spec?.volumes ?? []).map((v) => [v.name, v.hostPath?.path]),
    );
    expect(hostPaths).toEqual({ root: '/', sys: '/sys', proc: '/proc' });
    for (const c of ds.spec?.template.spec?.containers ?? []) {
      expect(c.securityContext).toMatchObject({
        allowPrivilegeEscalation: false,
        readOnlyRootFilesystem: true,
        capabilities: { drop: ['ALL'] },
      });
    }
    expect(ds.spec?.template.spec?.securityContext).toMatchObject({ runAsNonRoot: true, runAsUser: 65534 });
  });

  it('publishes through kube-rbac-proxy on the pod (node) address with a host port', () => {
    const proxy = container(ds, 'kube-rbac-proxy');
    expect(proxy.image).toBe('kubesphere/kube-rbac-proxy:v0.11.0');
    expect(proxy.args).toEqual(
      expect.arrayContaining(['--secure-listen-address=[$(IP)]:9100', '--upstream=http://127.0.0.1:9100/']),
    );
    expect(proxy.env).toEqual([{ name: 'IP', valueFrom: { fieldRef: { fieldPath: 'status.podIP' } } }]);
    expect(proxy.ports).toEqual([{ name: 'https', containerPort: 9100, hostPort: 9100, protocol: 'TCP' }]);
  });

  it('moves all five places to monitoring.node_exporter.port', () => {
    const moved = find<IDaemonSet>(
      render(withMonitoring({ node_exporter: { port: 9200 } })),
      'DaemonSet',
      'node-exporter',
    );
    expect(container(moved, 'node-exporter').args).toContain('--web.listen-address=127.0.0.1:9200');
    const proxy = container(moved, 'kube-rbac-proxy');
    expect(proxy.args).toContain('--secure-listen-address=[$(IP)]:9200');
    expect(proxy.args).toContain('--upstream=http://127.0.0.1:9200/');
    expect(proxy.ports?.[0]?.containerPort).toBe(9200);
    expect(proxy.ports?.[0]?.hostPort).toBe(9200);
    expect(JSON.stringify(moved)).not.toContain('9100');
  });

  it('gives each container its own resources, new keys first, then legacy keys', () => {
    expect(container(ds, 'node-exporter').resources).toEqual({
      limits: { cpu: 1, memory: '500Mi' },
      requests: { cpu: '102m', memory: '180Mi' },
    });
    expect(container(ds, 'kube-rbac-proxy').resources).toEqual({
      limits: { cpu: 1, memory: '100Mi' },
      requests: { cpu: '10m', memory: '20Mi' },
    });

    const spec = withMonitoring({
      node_exporter: {
        resources: { limits: { cpu: '2' } },
        requests: { memory: '300Mi' },
        limits: { cpu: '9' },
      },
      kube_rbac_proxy: { limits: { memory: '64Mi' }, resources: { requests: { cpu: '20m' } } },
    });
    const overridden = find<IDaemonSet>(render(spec), 'DaemonSet', 'node-exporter');
    expect(container(overridden, 'node-exporter').resources).toEqual({
      limits: { cpu: '2', memory: '500Mi' },
      requests: { cpu: '102m', memory: '300Mi' },
    });
    expect(container(overridden, 'kube-rbac-proxy').resources).toEqual({
      limits: { cpu: 1, memory: '64Mi' },
      requests: { cpu: '20m', memory: '20Mi' },
    });
  });

  it('follows the registry settings for both images', () => {
    const spec = sampleSpec();
    spec.local_registry = 'registry.example.com';
    const moved = find<IDaemonSet>(render(spec), 'DaemonSet', 'node-exporter');
    expect(container(moved, 'node-exporter').image).toBe('registry.example.com/prom/node-exporter:v1.3.1');
    expect(container(moved, 'kube-rbac-proxy').image).toBe(
      'registry.example.com/kubesphere/kube-rbac-proxy:v0.11.0',
    );
  });

  it('lets kube-rbac-proxy review tokens and access, nothing more', () => {
    const role = find<IClusterRole>(objects, 'ClusterRole', 'kubesphere-node-exporter');
    expect(role.rules).toEqual([
      { apiGroups: ['authentication.k8s.io'], resources: ['tokenreviews'], verbs: ['create'] },
      { apiGroups: ['authorization.k8s.io'], resources: ['subjectaccessreviews'], verbs: ['create'] },
    ]);
    const binding = find<KubeObject>(objects, 'ClusterRoleBinding', 'kubesphere-node-exporter');
    expect(binding.roleRef).toEqual({
      apiGroup: 'rbac.authorization.k8s.io',
      kind: 'ClusterRole',
      name: 'kubesphere-node-exporter',
    });
    expect(binding.subjects).toEqual([{ kind: 'ServiceAccount', name: 'node-exporter', namespace: NS }]);
  });

  it('exposes a headless Service and scrapes it over https with the node name as instance', () => {
    const service = find<IService>(objects, 'Service', 'node-exporter');
    expect(service.spec?.clusterIP).toBe('None');
    expect(service.spec?.ports).toEqual([
      { name: 'https', port: 9100, targetPort: 'https', protocol: 'TCP' },
    ]);
    const monitor = find<IServiceMonitor>(objects, 'ServiceMonitor', 'node-exporter');
    expect(monitor.spec.selector.matchLabels).toEqual(service.spec?.selector);
    expect(monitor.spec.endpoints).toHaveLength(1);
    const endpoint = monitor.spec.endpoints[0];
    expect(endpoint).toMatchObject({
      port: 'https',
      scheme: 'https',
      bearerTokenFile: '/var/run/secrets/kubernetes.io/serviceaccount/token',
      tlsConfig: { insecureSkipVerify: true },
    });
    expect(endpoint?.relabelings).toEqual([
      expect.objectContaining({ sourceLabels: ['__meta_kubernetes_pod_node_name'], targetLabel: 'instance' }),
      { action: 'labeldrop', regex: '(service|endpoint|container)' },
    ]);
  });

  it('renders no PrometheusRule: the original one had no rules (docs/rules.md)', () => {
    expect(objects.filter((o) => o.kind === 'PrometheusRule')).toEqual([]);
  });

  it('prints every value through a safe serializer', () => {
    const templates = unsafeOutputsOf('node-exporter');
    expect(templates.length).toBeGreaterThan(0);
    expect(templates.filter((t) => t.unsafe.length > 0)).toEqual([]);
  });
});
