import { describe, expect, it } from '@jest/globals';
import type { IPrometheus } from '@kubernetes-models/prometheus-operator/monitoring.coreos.com/v1/Prometheus';
import type { IPrometheusRule } from '@kubernetes-models/prometheus-operator/monitoring.coreos.com/v1/PrometheusRule';
import type { IServiceMonitor } from '@kubernetes-models/prometheus-operator/monitoring.coreos.com/v1/ServiceMonitor';
import type { IDeployment } from 'kubernetes-models/apps/v1/Deployment';
import type { IPodDisruptionBudget } from 'kubernetes-models/policy/v1/PodDisruptionBudget';
import type { IClusterRole } from 'kubernetes-models/rbac.authorization.k8s.io/v1/ClusterRole';
import type { IIoK8sApiCoreV1Container } from 'kubernetes-models/v1/Container';
import type { IService } from 'kubernetes-models/v1/Service';
import type { ClusterFacts } from '../../../src/config/facts.js';
import type { KubeObject } from '../../../src/kube/client.js';
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

const NS = 'kubesphere-monitoring-system';
const ROLE = 'prometheus-stack';

const render = (spec?: Record<string, unknown>, facts?: Partial<ClusterFacts>): KubeObject[] =>
  renderRole(ROLE, spec, facts);

const find = findObject;

const all = <T>(objects: KubeObject[], kind: string): T[] =>
  objects.filter((o) => o.kind === kind) as unknown as T[];
const prometheus = (objects: KubeObject[]): IPrometheus => find<IPrometheus>(objects, 'Prometheus', 'k8s');
const operator = (objects: KubeObject[]): IDeployment =>
  find<IDeployment>(objects, 'Deployment', 'prometheus-operator');

const container = (w: IDeployment, name: string): IIoK8sApiCoreV1Container => containerOf(w, name);

/** Whether every `matchLabels` entry is among `labels`. */
function selects(
  matchLabels: Record<string, string> | undefined,
  labels: Record<string, string> | undefined,
): boolean {
  if (!matchLabels || Object.keys(matchLabels).length === 0) return false;
  return Object.entries(matchLabels).every(([k, v]) => labels?.[k] === v);
}

// ---- A small static PromQL check: the real parse and evaluation happen in Prometheus, but typos in
// function names, unbalanced brackets and references to records nobody writes are caught here. ----

const PROMQL_AGGREGATIONS = new Set([
  'sum',
  'avg',
  'min',
  'max',
  'count',
  'topk',
  'bottomk',
  'quantile',
  'stddev',
  'stdvar',
  'group',
]);

const PROMQL_FUNCTIONS = new Set([
  // aggregations and their modifiers
  ...PROMQL_AGGREGATIONS,
  'by',
  'without',
  'on',
  'ignoring',
  'group_left',
  'group_right',
  // functions
  'rate',
  'irate',
  'increase',
  'delta',
  'idelta',
  'deriv',
  'clamp_min',
  'clamp_max',
  'clamp',
  'abs',
  'vector',
  'scalar',
  'histogram_quantile',
  'label_replace',
  'label_join',
  'absent',
  'round',
  'time',
  'sum_over_time',
  'avg_over_time',
  'max_over_time',
  'min_over_time',
  'count_over_time',
]);

/** The expression with string literals emptied, so label values cannot disturb the checks. */
const withoutStrings = (expr: string): string =>
  expr.replace(/"(?:[^"\\]|\\.)*"|'(?:[^'\\]|\\.)*'|`[^`]*`/g, '""');

function promqlProblems(expr: string): string[] {
  const problems: string[] = [];
  const text = withoutStrings(expr);
  const closers: Record<string, string> = { ')': '(', ']': '[', '}': '{' };
  const stack: string[] = [];
  for (const char of text) {
    if (char === '(' || char === '[' || char === '{') stack.push(char);
    else if (char in closers && stack.pop() !== closers[char]) problems.push(`unbalanced ${char}`);
  }
  if (stack.length > 0) problems.push(`unclosed ${stack.join('')}`);
  if (/"/.test(text.replace(/""/g, ''))) problems.push('unterminated string');
  for (const match of text.matchAll(/([A-Za-z_][A-Za-z0-9_]*)\s*\(/g)) {
    if (!PROMQL_FUNCTIONS.has(match[1] as string)) problems.push(`unknown function ${match[1]}`);
  }
  for (const match of text.matchAll(/([A-Za-z_][A-Za-z0-9_]*)\s+(?:by|without)\s*\(/g)) {
    if (!PROMQL_AGGREGATIONS.has(match[1] as string)) problems.push(`unknown aggregation ${match[1]}`);
  }
  return problems;
}

/** Recorded series an expression reads: PromQL metric names with a colon are recording-rule outputs. */
const recordsUsed = (expr: string): string[] => [
  ...new Set(
    [...withoutStrings(expr).matchAll(/[A-Za-z_:][A-Za-z0-9_:]*/g)]
      .map((m) => m[0])
      .filter((n) => n.includes(':')),
  ),
];

describe('role prometheus-stack', () => {
  const objects = render();

  it('renders the sample spec on 3 nodes as in the golden file', () => {
    expectGolden('prometheus-stack', renderRoleText(ROLE, sampleSpec()));
  });

  it('renders the sample spec on 1 node as in the golden file', () => {
    expectGolden(
      'prometheus-stack-1-node',
      renderRoleText(ROLE, sampleSpec(), { ...FIXED_FACTS, nodeCount: 1 }),
    );
  });

  it('prints every value through a safe serializer', () => {
    const templates = unsafeOutputsOf('prometheus-stack');
    expect(templates.length).toBeGreaterThan(5);
    expect(templates.filter((t) => t.unsafe.length > 0)).toEqual([]);
  });

  it('renders the original objects under their names and namespaces', () => {
    expect(objectIds(objects)).toEqual([
      `v1 ServiceAccount ${NS}/prometheus-operator`,
      'rbac.authorization.k8s.io/v1 ClusterRole -/kubesphere-prometheus-operator',
      'rbac.authorization.k8s.io/v1 ClusterRoleBinding -/kubesphere-prometheus-operator',
      `apps/v1 Deployment ${NS}/prometheus-operator`,
      `v1 Service ${NS}/prometheus-operator`,
      `monitoring.coreos.com/v1 ServiceMonitor ${NS}/prometheus-operator`,
      `v1 ServiceAccount ${NS}/prometheus-k8s`,
      'rbac.authorization.k8s.io/v1 ClusterRole -/kubesphere-prometheus-k8s',
      'rbac.authorization.k8s.io/v1 ClusterRoleBinding -/kubesphere-prometheus-k8s',
      `rbac.authorization.k8s.io/v1 Role ${NS}/prometheus-k8s-config`,
      `rbac.authorization.k8s.io/v1 RoleBinding ${NS}/prometheus-k8s-config`,
      `monitoring.coreos.com/v1 Prometheus ${NS}/k8s`,
      `policy/v1 PodDisruptionBudget ${NS}/prometheus-k8s`,
      `v1 Service ${NS}/prometheus-k8s`,
      `monitoring.coreos.com/v1 ServiceMonitor ${NS}/prometheus-k8s`,
      'v1 Service kube-system/kube-controller-manager-svc',
      'v1 Service kube-system/kube-scheduler-svc',
      `monitoring.coreos.com/v1 ServiceMonitor ${NS}/kube-apiserver`,
      `monitoring.coreos.com/v1 ServiceMonitor ${NS}/coredns`,
      `monitoring.coreos.com/v1 ServiceMonitor ${NS}/kube-controller-manager`,
      `monitoring.coreos.com/v1 ServiceMonitor ${NS}/kube-scheduler`,
      `monitoring.coreos.com/v1 ServiceMonitor ${NS}/kubelet`,
      `monitoring.coreos.com/v1 ServiceMonitor ${NS}/ks-apiserver`,
      `monitoring.coreos.com/v1 ServiceMonitor ${NS}/ks-controller-manager`,
      // rules/catalog.yaml: the recording rules, after the templates' objects.
      `monitoring.coreos.com/v1 PrometheusRule ${NS}/prometheus-k8s-prometheus-rules`,
      `monitoring.coreos.com/v1 PrometheusRule ${NS}/prometheus-k8s-rules`,
    ]);
  });

  it('puts every object in the monitoring namespace except the kube-system Services and cluster-scoped RBAC', () => {
    for (const o of objects) {
      const where = `${o.kind}/${o.metadata.name}`;
      if (o.kind === 'ClusterRole' || o.kind === 'ClusterRoleBinding')
        expect({ where, ns: o.metadata.namespace }).toEqual({ where });
      else if (o.metadata.name.endsWith('-svc'))
        expect({ where, ns: o.metadata.namespace }).toEqual({ where, ns: 'kube-system' });
      else expect({ where, ns: o.metadata.namespace }).toEqual({ where, ns: NS });
    }
  });

  describe('Prometheus k8s', () => {
    it('runs 1 replica below 3 nodes and 2 from 3 nodes on', () => {
      expect(prometheus(render(sampleSpec(), { nodeCount: 1 })).spec?.replicas).toBe(1);
      expect(prometheus(render(sampleSpec(), { nodeCount: 2 })).spec?.replicas).toBe(1);
      expect(prometheus(render(sampleSpec(), { nodeCount: 3 })).spec?.replicas).toBe(2);
      expect(prometheus(render(sampleSpec(), { nodeCount: 5 })).spec?.replicas).toBe(2);
    });

    it('runs the replicas the spec asks for, whatever the node count', () => {
      expect(
        prometheus(render(withMonitoring({ prometheus: { replicas: 3 } }), { nodeCount: 1 })).spec?.replicas,
      ).toBe(3);
      expect(
        prometheus(render(withMonitoring({ prometheusReplicas: 4 }), { nodeCount: 5 })).spec?.replicas,
      ).toBe(4);
    });

    it('takes retention and storage size from the values', () => {
      const defaults = prometheus(objects).spec;
      expect(defaults?.retention).toBe('7d');
      expect(defaults?.storage?.volumeClaimTemplate?.spec?.resources?.requests).toEqual({ storage: '20Gi' });

      const set = prometheus(
        render(withMonitoring({ prometheus: { retention: '30d', volumeSize: '100Gi' } })),
      ).spec;
      expect(set?.retention).toBe('30d');
      expect(set?.storage?.volumeClaimTemplate?.spec?.resources?.requests).toEqual({ storage: '100Gi' });

      const live = prometheus(
        render(sampleSpec(), {
          live: { etcdClientCertsSecret: false, prometheusRetention: '15d', prometheusPvcSize: '50Gi' },
        }),
      ).spec;
      expect(live?.retention).toBe('15d');
      expect(live?.storage?.volumeClaimTemplate?.spec?.resources?.requests).toEqual({ storage: '50Gi' });
    });

    it('leaves storageClassName out unless a storage class is set', () => {
      const unset = prometheus(objects).spec?.storage?.volumeClaimTemplate?.spec;
      expect(unset).toBeDefined();
      expect(Object.keys(unset ?? {})).not.toContain('storageClassName');
      expect(unset?.accessModes).toEqual(['ReadWriteOnce']);

      const monitoringClass = prometheus(render(withMonitoring({ storageClass: 'fast-ssd' }))).spec;
      expect(monitoringClass?.storage?.volumeClaimTemplate?.spec?.storageClassName).toBe('fast-ssd');
      const persistenceClass = prometheus(
        render({ ...sampleSpec(), persistence: { storageClass: 'local' } }),
      ).spec;
      expect(persistenceClass?.storage?.volumeClaimTemplate?.spec?.storageClassName).toBe('local');
    });

    it('keeps the volume name the operator derives, so the live PVC prometheus-k8s-db-prometheus-k8s-0 is reused', () => {
      expect(prometheus(objects).spec?.storage?.volumeClaimTemplate?.metadata).toBeUndefined();
    });

    it('places the pods as the values say', () => {
      const defaults = prometheus(objects).spec;
      expect(defaults?.nodeSelector).toEqual({ 'kubernetes.io/os': 'linux' });
      expect(defaults?.tolerations).toEqual([
        { key: 'dedicated', operator: 'Equal', value: 'monitoring', effect: 'NoSchedule' },
      ]);
      expect(
        defaults?.affinity?.podAntiAffinity?.preferredDuringSchedulingIgnoredDuringExecution?.[0]
          ?.podAffinityTerm.labelSelector?.matchLabels,
      ).toEqual(
        Object.fromEntries(
          Object.entries(defaults?.podMetadata?.labels ?? {}).filter(
            ([k]) => k !== 'app.kubernetes.io/version',
          ),
        ),
      );

      const placed = render(
        withMonitoring({ nodeSelector: { 'node-role.kubernetes.io/monitoring': '' }, tolerations: [] }),
      );
      expect(prometheus(placed).spec?.nodeSelector).toEqual({ 'node-role.kubernetes.io/monitoring': '' });
      expect(prometheus(placed).spec?.tolerations).toEqual([]);
      expect(operator(placed).spec?.template.spec?.nodeSelector).toEqual({
        'node-role.kubernetes.io/monitoring': '',
      });

      const topLevel = render({ ...sampleSpec(), nodeSelector: { zone: 'a' } });
      expect(prometheus(topLevel).spec?.nodeSelector).toEqual({ zone: 'a' });
    });

    it('mounts secrets only when there are some', () => {
      expect(Object.keys(prometheus(objects).spec ?? {})).not.toContain('secrets');
      const etcdTls = {
        ...sampleSpec(),
        etcd: { monitoring: true, endpointIps: '10.0.0.1', port: 2379, tlsEnable: true },
      };
      expect(prometheus(render(etcdTls, { live: { etcdClientCertsSecret: true } })).spec?.secrets).toEqual([
        'kube-etcd-client-certs',
      ]);
      expect(
        Object.keys(prometheus(render(etcdTls, { live: { etcdClientCertsSecret: false } })).spec ?? {}),
      ).not.toContain('secrets');
    });

    it('takes resources from the values', () => {
      expect(prometheus(objects).spec?.resources).toEqual({
        limits: { cpu: '4', memory: '16Gi' },
        requests: { cpu: '200m', memory: '400Mi' },
      });
      const set = render(
        withMonitoring({ prometheus: { resources: { limits: { cpu: 8, memory: '32Gi' } } } }),
      );
      expect(prometheus(set).spec?.resources?.limits).toEqual({ cpu: 8, memory: '32Gi' });
    });

    it('selects every monitor, and the rules labelled prometheus=k8s, role=alert-rules, in all namespaces', () => {
      const spec = prometheus(objects).spec;
      expect(spec?.serviceAccountName).toBe('prometheus-k8s');
      expect(spec?.serviceMonitorSelector).toEqual({});
      expect(spec?.serviceMonitorNamespaceSelector).toEqual({});
      expect(spec?.podMonitorSelector).toEqual({});
      expect(spec?.podMonitorNamespaceSelector).toEqual({});
      expect(spec?.ruleSelector).toEqual({ matchLabels: { prometheus: 'k8s', role: 'alert-rules' } });
      expect(spec?.ruleNamespaceSelector).toEqual({});
      const rules = all<IPrometheusRule>(objects, 'PrometheusRule');
      expect(rules).toHaveLength(2);
      for (const rule of rules)
        expect(selects(spec?.ruleSelector?.matchLabels, rule.metadata?.labels)).toBe(true);
    });

    it('alerts to alertmanager-main, runs as non-root and scrapes once a minute', () => {
      const spec = prometheus(objects).spec;
      expect(spec?.alerting?.alertmanagers).toEqual([
        { namespace: NS, name: 'alertmanager-main', port: 'web', apiVersion: 'v2' },
      ]);
      expect(spec?.securityContext).toMatchObject({ runAsNonRoot: true, runAsUser: 1000, fsGroup: 2000 });
      expect(spec?.scrapeInterval).toBe('1m');
      expect(spec?.evaluationInterval).toBe('1m');
      expect(spec?.query?.maxConcurrency).toBeGreaterThan(20);
    });

    it('is reached through Service prometheus-k8s and protected by PodDisruptionBudget prometheus-k8s', () => {
      const podLabels = prometheus(objects).spec?.podMetadata?.labels;
      const service = find<IService>(objects, 'Service', 'prometheus-k8s');
      expect(selects(service.spec?.selector, podLabels)).toBe(true);
      expect(service.spec?.sessionAffinity).toBe('ClientIP');
      expect(service.spec?.ports?.map((p) => [p.name, p.port, p.targetPort])).toEqual([
        ['web', 9090, 'web'],
        ['reloader-web', 8080, 'reloader-web'],
      ]);
      const pdb = find<IPodDisruptionBudget>(objects, 'PodDisruptionBudget', 'prometheus-k8s');
      expect(pdb.spec?.minAvailable).toBe(1);
      expect(selects(pdb.spec?.selector?.matchLabels, podLabels)).toBe(true);
    });

    it('lets a single Prometheus be evicted (a minAvailable of 1 would block node drains)', () => {
      const single = render(sampleSpec(), { nodeCount: 1 });
      const pdb = find<IPodDisruptionBudget>(single, 'PodDisruptionBudget', 'prometheus-k8s');
      expect(pdb.spec?.minAvailable).toBeUndefined();
      expect(pdb.spec?.maxUnavailable).toBe(1);
    });

    it('writes the PodDisruptionBudget in the API version the values name', () => {
      const old = render(sampleSpec(), { servedApiVersions: ['v1', 'apps/v1', 'policy/v1beta1'] });
      expect(find<KubeObject>(old, 'PodDisruptionBudget', 'prometheus-k8s').apiVersion).toBe(
        'policy/v1beta1',
      );
    });
  });

  describe('prometheus-operator', () => {
    const d = operator(objects);

    it('keeps the selector of the kube-prometheus manifests and labels its pods with it', () => {
      const selector = {
        'app.kubernetes.io/name': 'prometheus-operator',
        'app.kubernetes.io/component': 'controller',
        'app.kubernetes.io/part-of': 'kube-prometheus',
      };
      expect(d.spec?.selector.matchLabels).toEqual(selector);
      expect(d.spec?.template.metadata?.labels).toMatchObject({
        ...selector,
        'app.kubernetes.io/version': '0.55.1',
      });
      expect(d.spec?.replicas).toBe(1);
      expect(d.spec?.template.spec?.serviceAccountName).toBe('prometheus-operator');
    });

    it('watches the kubelets, names the config reloader image and serves metrics on loopback only', () => {
      expect(container(d, 'prometheus-operator').image).toBe('kubesphere/prometheus-operator:v0.55.1');
      expect(container(d, 'prometheus-operator').args).toEqual([
        '--kubelet-service=kube-system/kubelet',
        '--prometheus-config-reloader=kubesphere/prometheus-config-reloader:v0.55.1',
        '--web.listen-address=127.0.0.1:8080',
      ]);
      const proxy = container(d, 'kube-rbac-proxy');
      expect(proxy.image).toBe('kubesphere/kube-rbac-proxy:v0.11.0');
      expect(proxy.args).toEqual(
        expect.arrayContaining(['--secure-listen-address=:8443', '--upstream=http://127.0.0.1:8080/']),
      );
      expect(proxy.ports).toEqual([{ name: 'https', containerPort: 8443 }]);
    });

    it('runs both containers unprivileged', () => {
      expect(d.spec?.template.spec?.securityContext).toMatchObject({ runAsNonRoot: true });
      for (const c of d.spec?.template.spec?.containers ?? []) {
        expect(c.securityContext).toEqual({
          allowPrivilegeEscalation: false,
          readOnlyRootFilesystem: true,
          capabilities: { drop: ['ALL'] },
        });
      }
    });

    it('takes resources and placement from the values', () => {
      expect(container(d, 'prometheus-operator').resources).toEqual({
        limits: { cpu: '200m', memory: '200Mi' },
        requests: { cpu: '100m', memory: '100Mi' },
      });
      expect(container(d, 'kube-rbac-proxy').resources).toEqual({
        limits: { cpu: 1, memory: '100Mi' },
        requests: { cpu: '10m', memory: '20Mi' },
      });
      expect(d.spec?.template.spec?.nodeSelector).toEqual({ 'kubernetes.io/os': 'linux' });
      expect(d.spec?.template.spec?.tolerations).toEqual([]);
      expect(d.spec?.template.spec?.affinity).toEqual({});

      const set = operator(
        render(
          withMonitoring({
            prometheus: { operator: { resources: { limits: { cpu: '300m' } } } },
            kube_rbac_proxy: { resources: { requests: { memory: '40Mi' } } },
          }),
        ),
      );
      expect(container(set, 'prometheus-operator').resources?.limits).toEqual({
        cpu: '300m',
        memory: '200Mi',
      });
      expect(container(set, 'kube-rbac-proxy').resources?.requests).toEqual({ cpu: '10m', memory: '40Mi' });
    });

    it('is scraped through its headless Service on the kube-rbac-proxy port', () => {
      const service = find<IService>(objects, 'Service', 'prometheus-operator');
      expect(service.spec?.clusterIP).toBe('None');
      expect(service.spec?.ports).toEqual([{ name: 'https', port: 8443, targetPort: 'https' }]);
      expect(selects(service.spec?.selector, d.spec?.template.metadata?.labels)).toBe(true);
    });

    it('may manage what operator v0.55 manages, and let kube-rbac-proxy check tokens', () => {
      const rules = find<IClusterRole>(objects, 'ClusterRole', 'kubesphere-prometheus-operator').rules ?? [];
      const allows = (group: string, resource: string, verb: string): boolean =>
        rules.some(
          (r) =>
            r.apiGroups?.includes(group) &&
            r.resources?.includes(resource) &&
            (r.verbs.includes(verb) || r.verbs.includes('*')),
        );
      for (const resource of [
        'prometheuses',
        'prometheuses/status',
        'prometheuses/finalizers',
        'alertmanagers',
        'thanosrulers',
        'servicemonitors',
        'podmonitors',
        'probes',
        'prometheusrules',
        'alertmanagerconfigs',
      ]) {
        expect({ resource, allowed: allows('monitoring.coreos.com', resource, 'update') }).toEqual({
          resource,
          allowed: true,
        });
      }
      expect(allows('apps', 'statefulsets', 'create')).toBe(true);
      expect(allows('', 'secrets', 'update')).toBe(true);
      expect(allows('', 'configmaps', 'delete')).toBe(true);
      expect(allows('', 'pods', 'delete')).toBe(true);
      expect(allows('', 'pods', 'list')).toBe(true);
      expect(allows('', 'services', 'create')).toBe(true);
      expect(allows('', 'endpoints', 'update')).toBe(true);
      expect(allows('', 'nodes', 'watch')).toBe(true);
      expect(allows('', 'namespaces', 'watch')).toBe(true);
      expect(allows('networking.k8s.io', 'ingresses', 'list')).toBe(true);
      expect(allows('authentication.k8s.io', 'tokenreviews', 'create')).toBe(true);
      expect(allows('authorization.k8s.io', 'subjectaccessreviews', 'create')).toBe(true);
      expect(allows('', 'nodes', 'delete')).toBe(false);
    });
  });

  it('sends an image or registry override to the operator, the reloader argument and Prometheus', () => {
    const mirrored = render({ ...sampleSpec(), local_registry: 'registry.example.com:5000' });
    const d = operator(mirrored);
    expect(container(d, 'prometheus-operator').image).toBe(
      'registry.example.com:5000/kubesphere/prometheus-operator:v0.55.1',
    );
    expect(container(d, 'prometheus-operator').args).toContain(
      '--prometheus-config-reloader=registry.example.com:5000/kubesphere/prometheus-config-reloader:v0.55.1',
    );
    expect(container(d, 'kube-rbac-proxy').image).toBe(
      'registry.example.com:5000/kubesphere/kube-rbac-proxy:v0.11.0',
    );
    expect(prometheus(mirrored).spec?.image).toBe('registry.example.com:5000/prom/prometheus:v2.39.1');

    const retagged = prometheus(render({ ...sampleSpec(), prometheus_tag: 'v2.40.7' }));
    expect(retagged.spec?.image).toBe('prom/prometheus:v2.40.7');
    expect(retagged.spec?.version).toBe('v2.40.7');
    expect(retagged.spec?.podMetadata?.labels?.['app.kubernetes.io/version']).toBe('2.40.7');
  });

  describe('monitors', () => {
    const monitors = all<IServiceMonitor>(objects, 'ServiceMonitor');
    const monitor = (name: string): IServiceMonitor => find<IServiceMonitor>(objects, 'ServiceMonitor', name);

    it('scrape every endpoint once a minute, with the service account token over https', () => {
      expect(monitors.length).toBe(9);
      for (const m of monitors) {
        for (const endpoint of m.spec.endpoints) {
          const where = `${m.metadata?.name} ${endpoint.port ?? endpoint.targetPort} ${endpoint.path ?? ''}`;
          expect({ where, interval: endpoint.interval }).toEqual({ where, interval: '1m' });
          if (endpoint.scheme === 'https') {
            expect({ where, token: endpoint.bearerTokenFile }).toEqual({
              where,
              token: '/var/run/secrets/kubernetes.io/serviceaccount/token',
            });
          }
        }
      }
    });

    it('select the Services this role creates', () => {
      for (const [monitorName, serviceName] of [
        ['prometheus-operator', 'prometheus-operator'],
        ['prometheus-k8s', 'prometheus-k8s'],
        ['kube-controller-manager', 'kube-controller-manager-svc'],
        ['kube-scheduler', 'kube-scheduler-svc'],
      ] as const) {
        const m = monitor(monitorName);
        const service = find<IService>(objects, 'Service', serviceName);
        const namespaces = m.spec.namespaceSelector?.matchNames ?? [m.metadata?.namespace];
        expect({
          monitorName,
          selects: selects(m.spec.selector.matchLabels, service.metadata?.labels),
        }).toEqual({ monitorName, selects: true });
        expect(namespaces).toContain(service.metadata?.namespace);
        const ports = m.spec.endpoints.map((e) => e.port);
        expect(ports.every((p) => service.spec?.ports?.some((sp) => sp.name === p))).toBe(true);
      }
    });

    it('front the control-plane static pods with headless Services in kube-system', () => {
      for (const [name, component, port] of [
        ['kube-controller-manager-svc', 'kube-controller-manager', 10257],
        ['kube-scheduler-svc', 'kube-scheduler', 10259],
      ] as const) {
        const service = find<IService>(objects, 'Service', name);
        expect(service.spec?.clusterIP).toBe('None');
        expect(service.spec?.selector).toEqual({ component });
        expect(service.spec?.ports).toEqual([{ name: 'https-metrics', port, targetPort: port }]);
        expect(service.metadata?.labels?.['app.kubernetes.io/name']).toBe(component);
      }
    });

    it("scrape the API server through default/kubernetes with the original's drop list", () => {
      const m = monitor('kube-apiserver');
      expect(m.spec.jobLabel).toBe('component');
      expect(m.spec.namespaceSelector).toEqual({ matchNames: ['default'] });
      expect(m.spec.selector.matchLabels).toEqual({ component: 'apiserver', provider: 'kubernetes' });
      const [endpoint] = m.spec.endpoints;
      expect(endpoint?.port).toBe('https');
      expect(endpoint?.tlsConfig).toEqual({
        caFile: '/var/run/secrets/kubernetes.io/serviceaccount/ca.crt',
        serverName: 'kubernetes',
      });
      const drops = (endpoint?.metricRelabelings ?? []).map((r) => {
        expect(r.action).toBe('drop');
        return { labels: r.sourceLabels ?? [], re: new RegExp(`^(?:${r.regex})$`) };
      });
      expect(drops).toHaveLength(12);
      // Prometheus joins the source labels with ';' before matching.
      const dropped = (name: string, le = ''): boolean =>
        drops.some((d) => d.re.test(d.labels.map((l) => (l === 'le' ? le : name)).join(';')));
      expect(dropped('etcd_server_has_leader')).toBe(true);
      expect(dropped('apiserver_request_duration_seconds_bucket', '0.15')).toBe(true);
      // The latency and availability rules read these.
      expect(dropped('apiserver_request_duration_seconds_bucket', '1')).toBe(false);
      for (const kept of ['apiserver_request_duration_seconds_count', 'apiserver_request_total', 'up']) {
        expect({ kept, dropped: dropped(kept) }).toEqual({ kept, dropped: false });
      }
    });

    it('scrape the kubelets and their cAdvisor through the Service the operator keeps', () => {
      const m = monitor('kubelet');
      expect(m.spec.namespaceSelector).toEqual({ matchNames: ['kube-system'] });
      // prometheus-operator labels kube-system/kubelet k8s-app=kubelet and app.kubernetes.io/name=kubelet.
      expect(m.spec.selector.matchLabels).toEqual({ 'app.kubernetes.io/name': 'kubelet' });
      expect(m.spec.jobLabel).toBe('app.kubernetes.io/name');
      expect(
        m.spec.endpoints.map((e) => [
          e.port,
          e.path ?? '/metrics',
          e.scheme,
          e.honorLabels,
          e.tlsConfig?.insecureSkipVerify,
        ]),
      ).toEqual([
        ['https-metrics', '/metrics', 'https', true, true],
        ['https-metrics', '/metrics/cadvisor', 'https', true, true],
      ]);
      for (const e of m.spec.endpoints) {
        expect(e.relabelings).toContainEqual({
          sourceLabels: ['__metrics_path__'],
          targetLabel: 'metrics_path',
        });
      }
      expect(container(operator(objects), 'prometheus-operator').args).toContain(
        '--kubelet-service=kube-system/kubelet',
      );
    });

    it('scrape CoreDNS, the controller manager and the scheduler in kube-system', () => {
      expect(monitor('coredns').spec).toMatchObject({
        jobLabel: 'app.kubernetes.io/name',
        namespaceSelector: { matchNames: ['kube-system'] },
        selector: { matchLabels: { 'k8s-app': 'kube-dns' } },
        endpoints: [{ port: 'metrics' }],
      });
      for (const name of ['kube-controller-manager', 'kube-scheduler']) {
        expect(monitor(name).spec.endpoints).toEqual([
          expect.objectContaining({ port: 'https-metrics', scheme: 'https' }),
        ]);
      }
    });

    it('scrape ks-apiserver and ks-controller-manager in kubesphere-system on /kapis/metrics', () => {
      for (const [name, port] of [
        ['ks-apiserver', 9090],
        ['ks-controller-manager', 8080],
      ] as const) {
        const m = monitor(name);
        expect(m.spec.namespaceSelector).toEqual({ matchNames: ['kubesphere-system'] });
        expect(m.spec.selector.matchLabels).toEqual({ app: name });
        expect(m.spec.endpoints).toEqual([
          {
            targetPort: port,
            path: '/kapis/metrics',
            interval: '1m',
            relabelings: [{ action: 'labeldrop', regex: '(endpoint)' }],
          },
        ]);
      }
    });
  });

  describe('recording rules', () => {
    const rules = all<IPrometheusRule>(objects, 'PrometheusRule');
    const groups = rules
      .flatMap((r) => r.spec.groups ?? [])
      .map((g) => ({ name: g.name, rules: g.rules ?? [] }));
    const group = (name: string) => {
      const found = groups.find((g) => g.name === name);
      if (!found) throw new Error(`no group ${name}`);
      return found;
    };
    const records = (name: string): string[] => group(name).rules.map((r) => r.record ?? '');
    const recorded = new Set(groups.flatMap((g) => g.rules.map((r) => r.record)));

    it('render no PrometheusRule without groups (the operator one of the original had none)', () => {
      expect(rules.map((r) => [r.metadata?.name, r.spec.groups?.length])).toEqual([
        ['prometheus-k8s-prometheus-rules', 1],
        ['prometheus-k8s-rules', 13],
      ]);
    });

    it('record the Prometheus totals', () => {
      expect(records('prometheus.rules')).toEqual([
        'prometheus:up:sum',
        'prometheus:prometheus_tsdb_head_samples_appended:sum_rate',
      ]);
    });

    it("record the contract's groups of prometheus-k8s-rules in its order, 1m apart but availability every 3m", () => {
      const k8s = find<IPrometheusRule>(objects, 'PrometheusRule', 'prometheus-k8s-rules').spec.groups ?? [];
      expect(k8s.map((g) => [g.name, g.interval ?? ''])).toEqual([
        ['k8s.rules', ''],
        ['node.rules', ''],
        ['cluster.rules', ''],
        ['namespace.rules', ''],
        ['apiserver.rules', ''],
        ['scheduler.rules', ''],
        ['scheduler_histogram.rules', ''],
        ['controller_manager.rules', ''],
        ['coredns.rules', ''],
        ['kube-apiserver-burnrate.rules', ''],
        ['kube-apiserver-histogram.rules', ''],
        ['kube-apiserver-availability.rules', '3m'],
        ['kubelet.rules', ''],
      ]);
    });

    it('record what the console overview reads for nodes and the cluster, in the original order', () => {
      // docs/rules.md; the order matters: later rules read earlier records.
      expect(records('node.rules')).toEqual([
        'node_cpu_used_seconds_total',
        'qos_owner_node:kube_pod_info:',
        'node_namespace_pod:kube_pod_info:',
        'node:node_num_cpu:sum',
        ':node_cpu_utilisation:avg1m',
        'node:node_cpu_utilisation:avg1m',
        ':node_memory_utilisation:',
        'node:node_memory_bytes_available:sum',
        'node:node_memory_bytes_total:sum',
        'node:node_memory_utilisation:',
        'node:data_volume_iops_reads:sum',
        'node:data_volume_iops_writes:sum',
        'node:data_volume_throughput_bytes_read:sum',
        'node:data_volume_throughput_bytes_written:sum',
        ':node_net_utilisation:sum_irate',
        'node:node_net_utilisation:sum_irate',
        'node:node_net_bytes_transmitted:sum_irate',
        'node:node_net_bytes_received:sum_irate',
        'node:node_inodes_total:',
        'node:node_inodes_free:',
        'node:load1:ratio',
        'node:load5:ratio',
        'node:load15:ratio',
        'node:pod_count:sum',
        'node:pod_capacity:sum',
        'node:pod_utilization:ratio',
        'node:pod_running:count',
        'node:pod_succeeded:count',
        'node:pod_abnormal:count',
        'node:pod_abnormal:ratio',
        'node:disk_space_available:',
        'node:disk_space_utilization:ratio',
        'node:disk_inode_utilization:ratio',
      ]);
      expect(records('cluster.rules')).toEqual([
        'cluster:pod_abnormal:sum',
        'cluster:pod:sum',
        'cluster:pod_abnormal:ratio',
        'cluster:pod_running:count',
        'cluster:pod_utilization:ratio',
        'cluster:disk_utilization:ratio',
        'cluster:disk_inode_utilization:ratio',
        'cluster:node_offline:sum',
        'cluster:node_offline:ratio',
      ]);
      expect(records('k8s.rules')).toEqual([
        'namespace:container_cpu_usage_seconds_total:sum_rate',
        'namespace:container_memory_usage_bytes:sum',
        'namespace:container_memory_usage_bytes_wo_cache:sum',
        'namespace_memory:kube_pod_container_resource_requests:sum',
        'namespace_cpu:kube_pod_container_resource_requests:sum',
      ]);
      expect(records('namespace.rules')).toEqual([
        'namespace:pod_abnormal:count',
        'namespace:pod_abnormal:ratio',
        'namespace:resourcequota_used:ratio',
        'namespace:workload_cpu_usage:sum',
        'namespace:workload_memory_usage:sum',
        'namespace:workload_memory_usage_wo_cache:sum',
        'namespace:workload_net_bytes_transmitted:sum_irate',
        'namespace:workload_net_bytes_transmitted:sum',
        'namespace:workload_net_bytes_received:sum_irate',
        'namespace:workload_net_bytes_received:sum',
        'namespace:deployment_unavailable_replicas:ratio',
        'namespace:daemonset_unavailable_replicas:ratio',
        'namespace:statefulset_unavailable_replicas:ratio',
        'namespace:kube_pod_resource_request:sum',
        'namespace:kube_workload_resource_request:sum',
        'namespace:pvc_bytes_total:sum',
      ]);
    });

    it('are recording rules with well-formed expressions', () => {
      for (const g of groups) {
        for (const rule of g.rules) {
          const where = `${g.name} ${rule.record}`;
          expect({ where, alert: rule.alert, record: typeof rule.record }).toEqual({
            where,
            record: 'string',
          });
          expect({ where, problems: promqlProblems(String(rule.expr)) }).toEqual({ where, problems: [] });
        }
      }
      expect(promqlProblems('sum(rate(x[5m])')).toEqual(['unclosed (']);
      expect(promqlProblems('summ(x)')).toEqual(['unknown function summ']);
      expect(promqlProblems('avgg by (node) (x)')).toEqual(['unknown aggregation avgg']);
    });

    it('read only recorded series some rule writes, and within a group only those written above but where the original reads a record of the previous run', () => {
      // The original's order, kept on purpose (values equal on the fixture): these rules read a record
      // their group writes further down, i.e. its value from the previous evaluation.
      const readsBelow: string[] = [];
      for (const g of groups) {
        const above = new Set<string>();
        for (const rule of g.rules) {
          for (const used of recordsUsed(String(rule.expr))) {
            const where = `${g.name} ${rule.record} reads ${used}`;
            expect({ where, recorded: recorded.has(used) }).toEqual({ where, recorded: true });
            if (g.rules.some((r) => r.record === used) && !above.has(used)) readsBelow.push(where);
          }
          above.add(rule.record ?? '');
        }
      }
      expect([...new Set(readsBelow)]).toEqual([
        'node.rules node:pod_utilization:ratio reads node:pod_running:count',
        'kube-apiserver-availability.rules code_verb:apiserver_request_total:increase30d reads code_verb:apiserver_request_total:increase1h',
      ]);
    });

    it('give each record one definition per set of constant labels', () => {
      const names = groups.flatMap((g) =>
        g.rules.map((r) => `${r.record ?? ''}${JSON.stringify(Object.entries(r.labels ?? {}).sort())}`),
      );
      // code_verb:apiserver_request_total:increase1h is one rule, not the original's four (one per
      // code class, which promtool's duplicate-rule lint flags); see docs/differences.md.
      expect(names.length).toBe(new Set(names).size);
    });

    it('express node records per node via the pod-to-node mapping, with host_ip and role', () => {
      for (const rule of group('node.rules').rules) {
        const expr = String(rule.expr);
        if (/job="node-exporter"/.test(expr) && rule.record?.startsWith('node:')) {
          expect({
            record: rule.record,
            joined: expr.includes('group_left (node, host_ip, role) node_namespace_pod:kube_pod_info:'),
          }).toEqual({
            record: rule.record,
            joined: true,
          });
          expect(expr).toMatch(/by \(node, host_ip, role\)/);
        }
      }
    });
  });
});
