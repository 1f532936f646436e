import { describe, expect, it } from '@jest/globals';
import { ConfigError } from '../../../src/config/problems.js';
import { resolveValues } from '../../../src/config/resolve.js';
import { facts } from './resolve-helpers.js';

const resolve = (spec: Record<string, unknown>) => resolveValues(spec, facts()).values;

describe('resources', () => {
  it('uses the defaults of the spec-present table', () => {
    const values = resolve({});
    expect(values.prometheus.resources).toEqual({
      limits: { cpu: '4', memory: '16Gi' },
      requests: { cpu: '200m', memory: '400Mi' },
    });
    expect(values.prometheusOperator.resources).toEqual({
      limits: { cpu: '200m', memory: '200Mi' },
      requests: { cpu: '100m', memory: '100Mi' },
    });
    const proxy = { limits: { cpu: 1, memory: '100Mi' }, requests: { cpu: '10m', memory: '20Mi' } };
    expect(values.prometheusOperator.proxyResources).toEqual(proxy);
    expect(values.kubeStateMetrics.proxyMainResources).toEqual(proxy);
    expect(values.kubeStateMetrics.proxySelfResources).toEqual(proxy);
    expect(values.nodeExporter.proxyResources).toEqual(proxy);
    expect(values.kubeStateMetrics.resources).toEqual({
      limits: { cpu: 1, memory: '8Gi' },
      requests: { cpu: '100m', memory: '150Mi' },
    });
    expect(values.nodeExporter.resources).toEqual({
      limits: { cpu: 1, memory: '500Mi' },
      requests: { cpu: '102m', memory: '180Mi' },
    });
    expect(values.alertmanager.resources).toEqual({
      limits: { cpu: '200m', memory: '200Mi' },
      requests: { cpu: '20m', memory: '30Mi' },
    });
    expect(values.notificationManager.resources).toEqual({
      limits: { cpu: '500m', memory: '500Mi' },
      requests: { cpu: '5m', memory: '20Mi' },
    });
    expect(values.notificationManager.operatorResources).toEqual({
      limits: { cpu: '50m', memory: '50Mi' },
      requests: { cpu: '5m', memory: '20Mi' },
    });
    expect(values.notificationManager.proxyResources).toEqual({
      limits: { cpu: '50m', memory: '50Mi' },
      requests: { cpu: '5m', memory: '10Mi' },
    });
  });

  it('takes the new form, then the legacy form, then the default, field by field', () => {
    const spec = {
      monitoring: {
        prometheus: {
          resources: { limits: { cpu: 8 }, requests: { memory: null } },
          limits: { cpu: 6, memory: '32Gi' },
          requests: { memory: '1Gi' },
        },
      },
    };
    expect(resolve(spec).prometheus.resources).toEqual({
      limits: { cpu: 8, memory: '32Gi' },
      requests: { cpu: '200m', memory: '1Gi' },
    });
  });

  it('gives kube-rbac-proxy-self the same new → legacy chain as the other proxies', () => {
    const newForm = resolve({
      monitoring: { kube_rbac_proxy: { resources: { limits: { memory: '200Mi' } } } },
    });
    expect(newForm.kubeStateMetrics.proxySelfResources.limits.memory).toBe('200Mi');
    expect(newForm.kubeStateMetrics.proxyMainResources.limits.memory).toBe('200Mi');
    const legacy = resolve({ monitoring: { kube_rbac_proxy: { limits: { memory: '300Mi' } } } });
    expect(legacy.kubeStateMetrics.proxySelfResources.limits.memory).toBe('300Mi');
  });

  it('reads legacy keys for prometheus-operator and notification-manager too', () => {
    const values = resolve({
      monitoring: {
        prometheus: { operator: { limits: { memory: '1Gi' } } },
        notification_manager: { requests: { cpu: '50m' }, proxy: { resources: { limits: { cpu: '1' } } } },
      },
    });
    expect(values.prometheusOperator.resources.limits.memory).toBe('1Gi');
    expect(values.notificationManager.resources.requests.cpu).toBe('50m');
    expect(values.notificationManager.proxyResources.limits.cpu).toBe('1');
  });

  it('refuses a request larger than its limit, naming the field', () => {
    let error: unknown;
    try {
      resolve({ monitoring: { prometheus: { resources: { requests: { memory: '20Gi' } } } } });
    } catch (caught) {
      error = caught;
    }
    expect(error).toBeInstanceOf(ConfigError);
    const problems = (error as ConfigError).problems;
    expect(problems.map((p) => p.field)).toEqual(['spec.monitoring.prometheus.resources.requests.memory']);
    expect(problems[0]?.message).toContain('16Gi (the default)');
    expect(problems[0]?.fix).toContain('spec.monitoring.prometheus.resources.limits.memory');
  });

  it('reports a shared kube-rbac-proxy conflict once', () => {
    expect(() => resolve({ monitoring: { kube_rbac_proxy: { requests: { cpu: 2 } } } })).toThrow(ConfigError);
    try {
      resolve({ monitoring: { kube_rbac_proxy: { requests: { cpu: 2 } } } });
    } catch (error) {
      expect((error as ConfigError).problems).toHaveLength(1);
    }
  });
});

describe('placement', () => {
  it('uses the workload defaults', () => {
    const values = resolve({});
    expect(values.prometheus.placement.nodeSelector).toEqual({ 'kubernetes.io/os': 'linux' });
    expect(values.prometheus.placement.tolerations).toEqual([
      { key: 'dedicated', operator: 'Equal', value: 'monitoring', effect: 'NoSchedule' },
    ]);
    expect(values.prometheus.placement.affinity).toHaveProperty('nodeAffinity');
    expect(values.prometheus.placement.affinity).toHaveProperty('podAntiAffinity');
    expect(values.prometheusOperator.placement).toEqual({
      nodeSelector: { 'kubernetes.io/os': 'linux' },
      tolerations: [],
      affinity: {},
    });
    expect(values.kubeStateMetrics.placement.nodeSelector).toEqual({ 'kubernetes.io/os': 'linux' });
    expect(JSON.stringify(values.alertmanager.placement.affinity)).toContain('"values":["main"]');
    expect(values.notificationManager.placement).toEqual({ nodeSelector: {}, tolerations: [], affinity: {} });
  });

  it('lets {} and [] win over the defaults', () => {
    const values = resolve({ monitoring: { nodeSelector: {}, tolerations: [], affinity: {} } });
    for (const placement of [
      values.prometheus.placement,
      values.alertmanager.placement,
      values.kubeStateMetrics.placement,
    ]) {
      expect(placement).toEqual({ nodeSelector: {}, tolerations: [], affinity: {} });
    }
  });

  it('takes monitoring.X, then top-level X; null is unset', () => {
    const toleration = { key: 'x', operator: 'Exists' };
    const values = resolve({
      monitoring: { nodeSelector: { a: 'b' }, tolerations: null },
      nodeSelector: { c: 'd' },
      tolerations: [toleration],
    });
    expect(values.prometheus.placement.nodeSelector).toEqual({ a: 'b' });
    expect(values.prometheus.placement.tolerations).toEqual([toleration]);
    expect(values.notificationManager.placement.tolerations).toEqual([toleration]);
  });

  it('does not share objects between workloads or with the spec', () => {
    const spec = { nodeSelector: { a: 'b' } };
    const values = resolve(spec);
    values.prometheus.placement.nodeSelector.x = 'y';
    expect(values.alertmanager.placement.nodeSelector).toEqual({ a: 'b' });
    expect(spec.nodeSelector).toEqual({ a: 'b' });
  });
});

describe('other values', () => {
  it('node_exporter.port defaults to 9100', () => {
    expect(resolve({}).nodeExporter.port).toBe(9100);
    expect(resolve({ monitoring: { node_exporter: { port: 9200 } } }).nodeExporter.port).toBe(9200);
  });

  it('external is common.monitoring.type == external', () => {
    expect(resolve({}).external).toBe(false);
    expect(resolve({ common: { monitoring: { type: 'external' } } }).external).toBe(true);
    expect(resolve({ common: { monitoring: { type: 'internal' } } }).external).toBe(false);
  });

  it('uses policy/v1 whenever it is served', () => {
    const pdb = (f: Parameters<typeof facts>[0]) =>
      resolveValues({}, facts(f)).values.apiVersions.podDisruptionBudget;
    expect(pdb({ kubernetesVersion: 'v1.22.0', servedApiVersions: ['policy/v1', 'policy/v1beta1'] })).toBe(
      'policy/v1',
    );
    expect(pdb({ kubernetesVersion: 'v1.20.0', servedApiVersions: ['policy/v1beta1'] })).toBe(
      'policy/v1beta1',
    );
    expect(pdb({ kubernetesVersion: 'v1.34.4-eks.1', servedApiVersions: [] })).toBe('policy/v1');
    expect(pdb({ kubernetesVersion: 'v1.20.15', servedApiVersions: [] })).toBe('policy/v1beta1');
  });

  it('passes the namespaces, Kubernetes version and webhook certificate through', () => {
    const values = resolve({});
    expect(values.namespace).toBe('kubesphere-monitoring-system');
    expect(values.federatedNamespace).toBe('kubesphere-monitoring-federated');
    expect(values.kubernetesVersion).toBe('v1.34.4');
    expect(values.notificationManager.webhookTls).toEqual({ caCert: 'CA', tlsCert: 'CERT', tlsKey: 'KEY' });
  });
});

describe('etcd', () => {
  const command =
    'kubectl -n kubesphere-monitoring-system create secret generic kube-etcd-client-certs ' +
    '--from-file=etcd-client-ca.crt=<path> --from-file=etcd-client.crt=<path> --from-file=etcd-client.key=<path>';

  it('defaults to off, port 2379, no TLS', () => {
    const values = resolve({});
    expect(values.etcd).toEqual({ enabled: false, endpointIps: [], port: 2379, tls: false });
    expect(values.prometheus.secrets).toEqual([]);
  });

  it('splits and trims endpointIps', () => {
    const values = resolve({
      etcd: { monitoring: true, endpointIps: '10.0.0.1, 10.0.0.2 ,,2001:db8::1', port: 2381 },
    });
    expect(values.etcd).toEqual({
      enabled: true,
      endpointIps: ['10.0.0.1', '10.0.0.2', '2001:db8::1'],
      port: 2381,
      tls: false,
    });
  });

  it('with TLS and no client certificate Secret warns with the command and mounts nothing', () => {
    const spec = { etcd: { monitoring: true, tlsEnable: true, endpointIps: '10.0.0.1' } };
    const { values, warnings } = resolveValues(spec, facts({ live: { etcdClientCertsSecret: false } }));
    expect(values.prometheus.secrets).toEqual([]);
    expect(warnings.map((w) => w.type)).toEqual(['EtcdClientCertsMissing']);
    expect(warnings[0]?.message).toContain(command);
  });

  it('with TLS and the Secret present mounts it into Prometheus', () => {
    const spec = { etcd: { monitoring: true, tlsEnable: true, endpointIps: '10.0.0.1' } };
    const { values, warnings } = resolveValues(spec, facts({ live: { etcdClientCertsSecret: true } }));
    expect(values.prometheus.secrets).toEqual(['kube-etcd-client-certs']);
    expect(warnings).toEqual([]);
  });

  it('does nothing about the Secret while etcd monitoring or TLS is off', () => {
    for (const etcd of [
      { monitoring: false, tlsEnable: true },
      { monitoring: true, tlsEnable: false, endpointIps: '10.0.0.1' },
    ]) {
      const { values, warnings } = resolveValues({ etcd }, facts({ live: { etcdClientCertsSecret: true } }));
      expect(values.prometheus.secrets).toEqual([]);
      expect(warnings).toEqual([]);
    }
  });
});
