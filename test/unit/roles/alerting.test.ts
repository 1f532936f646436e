/**
 * The alerting role, field by field against what KubeSphere's alerting module needs (docs/alerting.md):
 * the ThanosRuler kubesphere, its PodDisruptionBudget, Service and ServiceMonitor; when it runs; the
 * keys it reads and the input it refuses.
 */
import { describe, expect, it } from '@jest/globals';
import yaml from 'js-yaml';
import { ConfigError } from '../../../src/config/problems.js';
import { resolveValues } from '../../../src/config/resolve.js';
import type { KubeObject } from '../../../src/kube/client.js';
import { ruleObjects } from '../../../src/rules/package.js';
import { ROLES } from '../../../src/installer/catalog.js';
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
const LABELS = {
  'app.kubernetes.io/component': 'thanos-ruler',
  'app.kubernetes.io/instance': 'kubesphere',
  'app.kubernetes.io/name': 'thanos-ruler',
  'app.kubernetes.io/part-of': 'kube-prometheus',
};

// eslint-disable-next-line @typescript-eslint/no-explicit-any -- rendered objects, read field by field
type Obj = KubeObject & { spec: Record<string, any> };

function alertingSpec(
  alerting: Record<string, unknown> = {},
  top: Record<string, unknown> = {},
): Record<string, unknown> {
  return { ...sampleSpec(), ...top, alerting: { enabled: true, ...alerting } };
}

const ruler = (objects: KubeObject[]) => findObject<Obj>(objects, 'ThanosRuler', 'kubesphere');

function problems(spec: Record<string, unknown>): { field: string; fix: string }[] {
  try {
    resolveValues(spec, FIXED_FACTS);
  } catch (err) {
    if (err instanceof ConfigError) return err.problems;
    throw err;
  }
  return [];
}

describe('role alerting', () => {
  const text = renderRoleText('alerting', alertingSpec());
  const objects = yaml.loadAll(text) as Obj[];
  const tr = ruler(objects);

  it('renders the sample spec with alerting on as in the golden file', () => {
    expectGolden('alerting', text);
  });

  it('renders the ThanosRuler, its PodDisruptionBudget, Service and ServiceMonitor', () => {
    expect(objectIds(objects)).toEqual([
      `monitoring.coreos.com/v1 ThanosRuler ${NS}/kubesphere`,
      `policy/v1 PodDisruptionBudget ${NS}/thanos-ruler-kubesphere`,
      `v1 Service ${NS}/thanos-ruler-kubesphere`,
      `monitoring.coreos.com/v1 ServiceMonitor ${NS}/thanos-ruler-kubesphere`,
    ]);
    for (const o of objects) expect(o.metadata.labels?.['app.kubernetes.io/managed-by']).toBe('ks-installer');
  });

  it('runs only when alerting.enabled is the boolean true, and not for external monitoring', () => {
    const role = ROLES.find((r) => r.name === 'alerting')!;
    const when = (spec: Record<string, unknown>) => role.when(resolveValues(spec, FIXED_FACTS).values);
    expect(when(alertingSpec())).toEqual({ run: true });
    expect(when(sampleSpec())).toEqual({ run: false, reason: 'alerting.enabled is not true', remove: true });
    expect(when({ ...sampleSpec(), alerting: { enabled: false } }).run).toBe(false);
    const external = when(alertingSpec({}, { common: { monitoring: { type: 'external' } } }));
    expect(external.run).toBe(false);
  });

  describe('ThanosRuler kubesphere, field by field', () => {
    it('labels: the four app labels and the version without its v, on the object and the pods', () => {
      expect(tr.metadata.labels).toMatchObject({ ...LABELS, 'app.kubernetes.io/version': '0.31.0' });
      expect(tr.spec.podMetadata.labels).toEqual({ ...LABELS, 'app.kubernetes.io/version': '0.31.0' });
    });

    it('replicas: 1 below 3 nodes, else 2, unless alerting.thanosruler.replicas says', () => {
      expect(tr.spec.replicas).toBe(2);
      expect(ruler(renderRole('alerting', alertingSpec(), { nodeCount: 2 })).spec.replicas).toBe(1);
      expect(
        ruler(renderRole('alerting', alertingSpec({ thanosruler: { replicas: 3 } }))).spec.replicas,
      ).toBe(3);
      expect(
        ruler(renderRole('alerting', alertingSpec({ thanosruler: { replicas: 0 } }), { nodeCount: 1 })).spec
          .replicas,
      ).toBe(0);
    });

    it('resources: limits 1 CPU and 1Gi, requests 100m and 100Mi, each from alerting.thanosruler.resources', () => {
      expect(tr.spec.resources).toEqual({
        limits: { cpu: '1', memory: '1Gi' },
        requests: { cpu: '100m', memory: '100Mi' },
      });
      const set = ruler(
        renderRole(
          'alerting',
          alertingSpec({
            thanosruler: { resources: { limits: { memory: '2Gi' }, requests: { cpu: '200m' } } },
          }),
        ),
      );
      expect(set.spec.resources).toEqual({
        limits: { cpu: '1', memory: '2Gi' },
        requests: { cpu: '200m', memory: '100Mi' },
      });
    });

    it('placement: linux nodes, no tolerations, preferred anti-affinity per host on the four labels in the namespace', () => {
      expect(tr.spec.nodeSelector).toEqual({ 'kubernetes.io/os': 'linux' });
      expect(tr.spec.tolerations).toEqual([]);
      expect(tr.spec.affinity).toEqual({
        podAntiAffinity: {
          preferredDuringSchedulingIgnoredDuringExecution: [
            {
              weight: 100,
              podAffinityTerm: {
                topologyKey: 'kubernetes.io/hostname',
                labelSelector: { matchLabels: LABELS },
                namespaces: [NS],
              },
            },
          ],
        },
      });
    });

    it('placement: monitoring.* before the top-level keys before the default', () => {
      const toleration = { key: 'dedicated', operator: 'Equal', value: 'monitoring', effect: 'NoSchedule' };
      const spec = alertingSpec({}, { nodeSelector: { pool: 'top' }, tolerations: [toleration] });
      spec.monitoring = {
        ...(spec.monitoring as object),
        nodeSelector: { pool: 'monitoring' },
        affinity: {},
      };
      const placed = ruler(renderRole('alerting', spec));
      expect(placed.spec.nodeSelector).toEqual({ pool: 'monitoring' });
      expect(placed.spec.tolerations).toEqual([toleration]);
      expect(placed.spec.affinity).toEqual({});
    });

    it('alertmanagersUrl: one DNS SRV address of the web port of our Alertmanager pods, over http', () => {
      expect(tr.spec.alertmanagersUrl).toEqual([`dnssrv+http://_web._tcp.alertmanager-operated.${NS}.svc`]);
    });

    it('evaluationInterval 1m and the image thanosio/thanos:v0.31.0 through the registry rules', () => {
      expect(tr.spec.evaluationInterval).toBe('1m');
      expect(tr.spec.image).toBe('thanosio/thanos:v0.31.0');
      const local = ruler(
        renderRole('alerting', alertingSpec({}, { local_registry: 'registry.example.com:5000' })),
      );
      expect(local.spec.image).toBe('registry.example.com:5000/thanosio/thanos:v0.31.0');
      const cn = ruler(renderRole('alerting', alertingSpec({}, { zone: 'cn' })));
      expect(cn.spec.image).toBe('registry.cn-beijing.aliyuncs.com/kubesphereio/thanos:v0.31.0');
      const own = ruler(
        renderRole('alerting', alertingSpec({}, { thanos_repo: 'r.example/t', thanos_tag: 'v0.32.0' })),
      );
      expect(own.spec.image).toBe('r.example/t:v0.32.0');
      expect(own.spec.podMetadata.labels['app.kubernetes.io/version']).toBe('0.32.0');
    });

    it('queryEndpoints: common.monitoring.endpoint verbatim, else our Prometheus without scheme', () => {
      // The sample spec carries KubeSphere's documented value, with its scheme.
      expect(tr.spec.queryEndpoints).toEqual([`http://prometheus-operated.${NS}.svc:9090`]);
      const unset = ruler(renderRole('alerting', alertingSpec({}, { common: {} })));
      expect(unset.spec.queryEndpoints).toEqual([`prometheus-operated.${NS}.svc:9090`]);
      const spec = alertingSpec({}, { common: { monitoring: { endpoint: 'http://prom.example:9090' } } });
      expect(ruler(renderRole('alerting', spec)).spec.queryEndpoints).toEqual(['http://prom.example:9090']);
    });

    it('ruleSelector: rule_level In namespace, cluster, global; no ruleNamespaceSelector (own namespace)', () => {
      expect(tr.spec.ruleSelector).toEqual({
        matchExpressions: [
          {
            key: 'alerting.kubesphere.io/rule_level',
            operator: 'In',
            values: ['namespace', 'cluster', 'global'],
          },
        ],
      });
      expect(tr.spec).not.toHaveProperty('ruleNamespaceSelector');
      for (const unset of ['storage', 'retention', 'serviceAccountName', 'alertmanagersConfig'])
        expect(tr.spec).not.toHaveProperty(unset);
    });
  });

  it('PodDisruptionBudget: minAvailable 1 on the four labels, policy/v1 where served', () => {
    const pdb = findObject<Obj>(objects, 'PodDisruptionBudget', 'thanos-ruler-kubesphere');
    expect(pdb.spec).toEqual({ minAvailable: 1, selector: { matchLabels: LABELS } });
    const old = renderRole('alerting', alertingSpec(), {
      kubernetesVersion: 'v1.20.0',
      servedApiVersions: ['v1', 'policy/v1beta1'],
    });
    expect(findObject<Obj>(old, 'PodDisruptionBudget', 'thanos-ruler-kubesphere').apiVersion).toBe(
      'policy/v1beta1',
    );
  });

  it('Service: web 10902 to the web port, the four labels, ClientIP affinity', () => {
    const svc = findObject<Obj>(objects, 'Service', 'thanos-ruler-kubesphere');
    expect(svc.spec).toEqual({
      type: 'ClusterIP',
      sessionAffinity: 'ClientIP',
      ports: [{ name: 'web', port: 10902, targetPort: 'web', protocol: 'TCP' }],
      selector: LABELS,
    });
  });

  it('ServiceMonitor: the web endpoint every minute, the four labels, vendor kubesphere', () => {
    const sm = findObject<Obj>(objects, 'ServiceMonitor', 'thanos-ruler-kubesphere');
    expect(sm.metadata.labels).toMatchObject({ ...LABELS, 'app.kubernetes.io/vendor': 'kubesphere' });
    expect(sm.spec).toEqual({
      selector: { matchLabels: LABELS },
      endpoints: [{ port: 'web', interval: '1m' }],
    });
  });

  it('brings the thanos-rule group: 11 alerts on job thanos-ruler-kubesphere, in both forms', () => {
    const { values } = resolveValues({ ...sampleSpec(), alerting: { enabled: true } }, FIXED_FACTS);
    for (const form of ['GlobalRuleGroup', 'PrometheusRule'] as const) {
      const groups = ruleObjects('alerting', { ...values, alerts: { form, toggles: {} } });
      expect(groups.map((g) => g.source)).toEqual(['rules/alerts/thanos-rule.yaml']);
      const o = groups[0]!.object as Obj;
      const rules = (o.spec.rules ?? o.spec.groups[0].rules) as { alert: string; expr: string }[];
      expect(rules).toHaveLength(11);
      for (const r of rules)
        expect(r.expr).toContain('job="thanos-ruler-kubesphere", namespace="kubesphere-monitoring-system"');
    }
    const stack = ruleObjects('prometheus-stack', {
      ...values,
      alerts: { form: 'PrometheusRule', toggles: {} },
    });
    expect(stack.map((g) => g.source)).not.toContain('rules/alerts/thanos-rule.yaml');
  });

  it('prints every value through a safe filter', () => {
    for (const t of unsafeOutputsOf('alerting')) expect(t).toEqual({ template: t.template, unsafe: [] });
  });

  describe('refuses bad input before anything is applied, naming the field and the fix', () => {
    it.each([
      [{ ...sampleSpec(), alerting: { enabled: 'yes' } }, 'spec.alerting.enabled', 'true or false'],
      [alertingSpec({ thanosruler: { replicas: -1 } }), 'spec.alerting.thanosruler.replicas', 'whole number'],
      [
        alertingSpec({ thanosruler: { replicas: 'two' } }),
        'spec.alerting.thanosruler.replicas',
        'whole number',
      ],
      [
        alertingSpec({ thanosruler: { resources: { limits: { memory: 'lots' } } } }),
        'spec.alerting.thanosruler.resources.limits.memory',
        'Kubernetes quantity',
      ],
      [
        alertingSpec({ thanosruler: { resources: { requests: { cpu: '-1' } } } }),
        'spec.alerting.thanosruler.resources.requests.cpu',
        'Kubernetes quantity',
      ],
      [
        alertingSpec({ thanosruler: { resources: { limits: { cpu: '100m' }, requests: { cpu: '200m' } } } }),
        'spec.alerting.thanosruler.resources.requests.cpu',
        'alerting.thanosruler.resources.limits.cpu',
      ],
      [
        alertingSpec({}, { common: { monitoring: { endpoint: 'http://prom example:9090' } } }),
        'spec.common.monitoring.endpoint',
        'query endpoint',
      ],
      [
        alertingSpec({}, { common: { monitoring: { endpoint: 'ftp://prom:9090' } } }),
        'spec.common.monitoring.endpoint',
        'query endpoint',
      ],
      [
        alertingSpec({}, { common: { monitoring: { endpoint: 'http://prom:99999' } } }),
        'spec.common.monitoring.endpoint',
        'query endpoint',
      ],
      [
        alertingSpec({}, { common: { monitoring: { endpoint: 'http://u:p@prom:9090' } } }),
        'spec.common.monitoring.endpoint',
        'query endpoint',
      ],
      [
        alertingSpec({}, { common: { monitoring: { endpoint: 9090 } } }),
        'spec.common.monitoring.endpoint',
        'query endpoint',
      ],
      [{ ...sampleSpec(), alerting: 'on' }, 'spec.alerting', 'mapping'],
    ])('%j: %s', (spec, field, fix) => {
      const found = problems(spec as Record<string, unknown>);
      expect(found.map((p) => p.field)).toContain(field);
      expect(found.find((p) => p.field === field)!.fix).toContain(fix);
    });

    it('accepts the endpoints KubeSphere documents', () => {
      for (const endpoint of [
        'http://prometheus-operated.kubesphere-monitoring-system.svc:9090',
        'prometheus-operated.kubesphere-monitoring-system.svc:9090',
        'https://prom.example/prefix',
        'http://10.0.0.1:9090',
        'http://[fd00::1]:9090',
      ])
        expect(problems(alertingSpec({}, { common: { monitoring: { endpoint } } }))).toEqual([]);
    });
  });
});
