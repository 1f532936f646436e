import { describe, expect, it } from '@jest/globals';
import type { IAlertmanager } from '@kubernetes-models/prometheus-operator/monitoring.coreos.com/v1/Alertmanager';
import type { IServiceMonitor } from '@kubernetes-models/prometheus-operator/monitoring.coreos.com/v1/ServiceMonitor';
import type { IService } from 'kubernetes-models/v1/Service';
import yaml from 'js-yaml';
import type { ClusterFacts } from '../../../src/config/facts.js';
import type { KubeObject } from '../../../src/kube/client.js';
import {
  expectGolden,
  findObject,
  FIXED_FACTS,
  objectIds,
  renderRole,
  renderRoleText,
  sampleSpec,
  unsafeOutputsOf,
} from './golden.js';

const NS = 'kubesphere-monitoring-system';
const WEBHOOK = 'http://notification-manager-svc.kubesphere-monitoring-system.svc:19093/api/v2/alerts';
const render = (spec: Record<string, unknown>, facts?: ClusterFacts): KubeObject[] =>
  renderRole('alertmanager', spec, facts);

const find = findObject;

const alertmanagerOf = (objects: KubeObject[]): IAlertmanager =>
  find<IAlertmanager>(objects, 'Alertmanager', 'main');

function withMonitoring(monitoring: Record<string, unknown>): Record<string, unknown> {
  const spec = sampleSpec();
  spec.monitoring = { ...(spec.monitoring as Record<string, unknown>), ...monitoring };
  return spec;
}

interface Route {
  receiver: string;
  matchers?: string[];
  group_by?: string[];
  group_wait?: string;
  group_interval?: string;
  repeat_interval?: string;
  routes?: Route[];
}

interface AlertmanagerConfig {
  global: Record<string, unknown>;
  inhibit_rules: { source_matchers: string[]; target_matchers: string[]; equal: string[] }[];
  receivers: { name: string; webhook_configs?: { url: string; send_resolved?: boolean }[] }[];
  route: Route;
}

describe('role alertmanager', () => {
  const text = renderRoleText('alertmanager', sampleSpec());
  const objects = yaml.loadAll(text) as KubeObject[];
  const am = alertmanagerOf(objects);
  const secret = find<KubeObject & { stringData: Record<string, string> }>(
    objects,
    'Secret',
    'alertmanager-main',
  );
  const config = yaml.load(secret.stringData['alertmanager.yaml'] ?? '') as AlertmanagerConfig;

  it('renders the sample spec as in the golden file', () => {
    expectGolden('alertmanager', text);
  });

  it('renders the original objects under their names and namespaces', () => {
    expect(objectIds(objects)).toEqual([
      `v1 ServiceAccount ${NS}/alertmanager-main`,
      `v1 Secret ${NS}/alertmanager-main`,
      `monitoring.coreos.com/v1 Alertmanager ${NS}/main`,
      `policy/v1 PodDisruptionBudget ${NS}/alertmanager-main`,
      `v1 Service ${NS}/alertmanager-main`,
      `monitoring.coreos.com/v1 ServiceMonitor ${NS}/alertmanager-main`,
    ]);
  });

  it('sizes replicas by node count unless the spec says otherwise', () => {
    const replicas = (spec: Record<string, unknown>, nodeCount: number) =>
      alertmanagerOf(render(spec, { ...FIXED_FACTS, nodeCount })).spec?.replicas;
    expect(replicas(sampleSpec(), 1)).toBe(1);
    expect(replicas(sampleSpec(), 2)).toBe(1);
    expect(replicas(sampleSpec(), 3)).toBe(3);
    expect(replicas(sampleSpec(), 5)).toBe(3);
    expect(replicas(withMonitoring({ alertmanager: { replicas: 2 } }), 5)).toBe(2);
    expect(replicas(withMonitoring({ alertmanager: { replicas: 4 } }), 1)).toBe(4);
    expect(replicas(withMonitoring({ alertmanagerReplicas: 2 }), 5)).toBe(2);
  });

  it('runs the configured image non-root under its own service account', () => {
    expect(am.spec?.image).toBe('prom/alertmanager:v0.23.0');
    expect(am.spec?.version).toBe('v0.23.0');
    expect(am.spec?.serviceAccountName).toBe('alertmanager-main');
    expect(am.spec?.securityContext).toMatchObject({ runAsNonRoot: true, runAsUser: 1000, fsGroup: 2000 });
    expect(am.spec?.podMetadata?.labels).toMatchObject({ 'app.kubernetes.io/version': '0.23.0' });
    const sa = find<KubeObject>(objects, 'ServiceAccount', 'alertmanager-main');
    expect(sa.automountServiceAccountToken).toBe(false);
    const spec = sampleSpec();
    spec.zone = 'cn';
    expect(alertmanagerOf(render(spec)).spec?.image).toBe(
      'registry.cn-beijing.aliyuncs.com/kubesphereio/alertmanager:v0.23.0',
    );
  });

  it('takes resources from the new keys, then the legacy keys', () => {
    expect(am.spec?.resources).toEqual({
      limits: { cpu: '200m', memory: '200Mi' },
      requests: { cpu: '20m', memory: '30Mi' },
    });
    const spec = withMonitoring({
      alertmanager: {
        resources: { limits: { memory: '1Gi' } },
        limits: { memory: '2Gi', cpu: '1' },
        requests: { cpu: '50m' },
      },
    });
    expect(alertmanagerOf(render(spec)).spec?.resources).toEqual({
      limits: { cpu: '1', memory: '1Gi' },
      requests: { cpu: '50m', memory: '30Mi' },
    });
  });

  it('spreads over nodes by default and takes placement from the spec', () => {
    expect(am.spec?.nodeSelector).toEqual({ 'kubernetes.io/os': 'linux' });
    expect(am.spec?.tolerations).toEqual([]);
    expect(am.spec?.affinity?.podAntiAffinity?.preferredDuringSchedulingIgnoredDuringExecution).toEqual([
      {
        weight: 100,
        podAffinityTerm: {
          topologyKey: 'kubernetes.io/hostname',
          labelSelector: { matchExpressions: [{ key: 'alertmanager', operator: 'In', values: ['main'] }] },
        },
      },
    ]);
    const placed = alertmanagerOf(
      render(
        withMonitoring({ nodeSelector: { zone: 'a' }, affinity: {}, tolerations: [{ operator: 'Exists' }] }),
      ),
    );
    expect(placed.spec?.nodeSelector).toEqual({ zone: 'a' });
    expect(placed.spec?.affinity).toEqual({});
    expect(placed.spec?.tolerations).toEqual([{ operator: 'Exists' }]);
  });

  it('limits voluntary disruptions to one pod, with the API version the server serves', () => {
    const pdb = find<KubeObject>(objects, 'PodDisruptionBudget', 'alertmanager-main');
    expect(pdb.apiVersion).toBe('policy/v1');
    expect(pdb.spec).toEqual({
      maxUnavailable: 1,
      selector: {
        matchLabels: {
          'app.kubernetes.io/name': 'alertmanager',
          'app.kubernetes.io/component': 'alert-router',
          'app.kubernetes.io/instance': 'main',
          'app.kubernetes.io/part-of': 'kube-prometheus',
        },
      },
    });
    const old = render(sampleSpec(), {
      ...FIXED_FACTS,
      kubernetesVersion: 'v1.20.4',
      servedApiVersions: ['v1', 'apps/v1', 'policy/v1beta1'],
    });
    expect(find<KubeObject>(old, 'PodDisruptionBudget', 'alertmanager-main').apiVersion).toBe(
      'policy/v1beta1',
    );
  });

  it('selects the Alertmanager pods from the PDB and the Service by labels the pods carry', () => {
    // prometheus-operator labels every pod `alertmanager: <name>`; the rest comes from podMetadata.
    const podLabels: Record<string, string> = { alertmanager: 'main', ...am.spec?.podMetadata?.labels };
    const service = find<IService>(objects, 'Service', 'alertmanager-main');
    const pdb = find<KubeObject & { spec: { selector: { matchLabels: Record<string, string> } } }>(
      objects,
      'PodDisruptionBudget',
      'alertmanager-main',
    );
    for (const selector of [service.spec?.selector ?? {}, pdb.spec.selector.matchLabels]) {
      expect(Object.keys(selector).length).toBeGreaterThan(0);
      for (const [key, value] of Object.entries(selector))
        expect({ key, value: podLabels[key] }).toEqual({ key, value });
    }
    expect(service.spec?.sessionAffinity).toBe('ClientIP');
    expect(service.spec?.ports).toEqual([
      { name: 'web', port: 9093, targetPort: 'web', protocol: 'TCP' },
      { name: 'reloader-web', port: 8080, targetPort: 'reloader-web', protocol: 'TCP' },
    ]);
    const monitor = find<IServiceMonitor>(objects, 'ServiceMonitor', 'alertmanager-main');
    for (const [key, value] of Object.entries(monitor.spec.selector.matchLabels ?? {})) {
      expect(service.metadata?.labels?.[key]).toBe(value);
    }
    expect(monitor.spec.endpoints.map((e) => e.port)).toEqual(['web', 'reloader-web']);
  });

  it('configures Alertmanager as data: timeouts, inhibitions and receivers', () => {
    expect(Object.keys(secret.stringData)).toEqual(['alertmanager.yaml']);
    expect(config.global).toEqual({ resolve_timeout: '5m' });
    expect(config.inhibit_rules).toEqual([
      {
        source_matchers: ['severity="critical"'],
        target_matchers: ['severity=~"warning|info"'],
        equal: ['namespace', 'alertname'],
      },
      {
        source_matchers: ['severity="warning"'],
        target_matchers: ['severity="info"'],
        equal: ['namespace', 'alertname'],
      },
      {
        source_matchers: ['alertname="InfoInhibitor"'],
        target_matchers: ['severity="info"'],
        equal: ['namespace'],
      },
    ]);
    expect(config.receivers).toEqual([
      { name: 'Default' },
      { name: 'null' },
      { name: 'Watchdog' },
      { name: 'prometheus', webhook_configs: [{ url: WEBHOOK }] },
      { name: 'event', webhook_configs: [{ url: WEBHOOK, send_resolved: false }] },
      { name: 'auditing', webhook_configs: [{ url: WEBHOOK, send_resolved: false }] },
    ]);
  });

  it('routes every alert to notification-manager, events and audits on their own fast routes', () => {
    const { routes, ...root } = config.route;
    expect(root).toEqual({
      receiver: 'Default',
      group_by: ['namespace', 'alertname', 'rule_id'],
      group_wait: '30s',
      group_interval: '5m',
      repeat_interval: '12h',
    });
    expect(routes).toEqual([
      { receiver: 'Watchdog', matchers: ['alertname="Watchdog"'] },
      { receiver: 'null', matchers: ['alertname="InfoInhibitor"'] },
      { receiver: 'event', matchers: ['alerttype="event"'], group_interval: '30s' },
      { receiver: 'auditing', matchers: ['alerttype="auditing"'], group_interval: '30s' },
      { receiver: 'prometheus', matchers: ['alerttype=~".*"'] },
    ]);
    const receivers = new Set(config.receivers.map((r) => r.name));
    for (const route of [config.route, ...(routes ?? [])]) expect(receivers.has(route.receiver)).toBe(true);
  });

  it('renders no PrometheusRule: the original one had no rules (docs/rules.md)', () => {
    expect(objects.filter((o) => o.kind === 'PrometheusRule')).toEqual([]);
  });

  it('prints every value through a safe serializer', () => {
    const templates = unsafeOutputsOf('alertmanager');
    expect(templates.length).toBeGreaterThan(0);
    expect(templates.filter((t) => t.unsafe.length > 0)).toEqual([]);
  });
});
