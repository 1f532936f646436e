import { describe, expect, it } from '@jest/globals';
import { resolveValues } from '../../../src/config/resolve.js';
import { facts } from './resolve-helpers.js';

const images = (spec: Record<string, unknown>) => resolveValues(spec, facts()).values.images;

describe('images', () => {
  it('default: Docker Hub with the original orgs and tags', () => {
    const all = images({});
    expect(all.prometheus).toEqual({
      repository: 'prom/prometheus',
      tag: 'v2.39.1',
      image: 'prom/prometheus:v2.39.1',
    });
    expect(all.prometheus_operator.image).toBe('kubesphere/prometheus-operator:v0.55.1');
    expect(all.prometheus_config_reloader.image).toBe('kubesphere/prometheus-config-reloader:v0.55.1');
    expect(all.kube_rbac_proxy.image).toBe('kubesphere/kube-rbac-proxy:v0.11.0');
    expect(all.kube_state_metrics.image).toBe('kubesphere/kube-state-metrics:v2.6.0');
    expect(all.node_exporter.image).toBe('prom/node-exporter:v1.3.1');
    expect(all.alertmanager.image).toBe('prom/alertmanager:v0.23.0');
    expect(all.notification_manager_operator_proxy.image).toBe('kubesphere/kube-rbac-proxy:v0.11.0');
    expect(all.notification_manager_operator.image).toBe('kubesphere/notification-manager-operator:v2.3.0');
    expect(all.notification_manager.image).toBe('kubesphere/notification-manager:v2.3.0');
    expect(all.notification_tenant_sidecar.image).toBe('kubesphere/notification-tenant-sidecar:v3.2.0');
  });

  it('an empty local_registry means Docker Hub', () => {
    expect(images({ local_registry: '' }).prometheus.image).toBe('prom/prometheus:v2.39.1');
  });

  it('local_registry R keeps the original orgs under R', () => {
    const all = images({ local_registry: 'registry.example.com:5000' });
    expect(all.prometheus.image).toBe('registry.example.com:5000/prom/prometheus:v2.39.1');
    expect(all.kube_state_metrics.repository).toBe('registry.example.com:5000/kubesphere/kube-state-metrics');
    expect(images({ local_registry: 'registry.example.com/' }).prometheus.repository).toBe(
      'registry.example.com/prom/prometheus',
    );
  });

  it('zone cn uses the Aliyun mirror with the kubesphereio namespace', () => {
    const all = images({ zone: 'cn' });
    expect(all.prometheus.image).toBe('registry.cn-beijing.aliyuncs.com/kubesphereio/prometheus:v2.39.1');
    expect(all.node_exporter.image).toBe(
      'registry.cn-beijing.aliyuncs.com/kubesphereio/node-exporter:v1.3.1',
    );
  });

  it('zone cn wins over any local_registry', () => {
    expect(images({ zone: 'cn', local_registry: 'registry.example.com' }).prometheus.image).toBe(
      'registry.cn-beijing.aliyuncs.com/kubesphereio/prometheus:v2.39.1',
    );
  });

  it('local_registry set to the Aliyun registry behaves like zone cn', () => {
    expect(images({ local_registry: 'registry.cn-beijing.aliyuncs.com' }).alertmanager.image).toBe(
      'registry.cn-beijing.aliyuncs.com/kubesphereio/alertmanager:v0.23.0',
    );
  });

  it('namespace_override replaces the org of every image', () => {
    expect(images({ namespace_override: 'mirror' }).prometheus.image).toBe('mirror/prometheus:v2.39.1');
    const all = images({ local_registry: 'R', namespace_override: 'mirror' });
    expect(all.prometheus.image).toBe('R/mirror/prometheus:v2.39.1');
    expect(all.kube_rbac_proxy.image).toBe('R/mirror/kube-rbac-proxy:v0.11.0');
    expect(images({ zone: 'cn', namespace_override: 'mine' }).prometheus.image).toBe(
      'registry.cn-beijing.aliyuncs.com/mine/prometheus:v2.39.1',
    );
    expect(images({ namespace_override: '' }).prometheus.image).toBe('prom/prometheus:v2.39.1');
  });

  it('<name>_repo and <name>_tag override one image as a whole', () => {
    const all = images({
      zone: 'cn',
      prometheus_repo: 'quay.io/prometheus/prometheus',
      prometheus_tag: 'v2.53.0',
      node_exporter_tag: 'v1.8.2',
    });
    expect(all.prometheus).toEqual({
      repository: 'quay.io/prometheus/prometheus',
      tag: 'v2.53.0',
      image: 'quay.io/prometheus/prometheus:v2.53.0',
    });
    expect(all.node_exporter.image).toBe(
      'registry.cn-beijing.aliyuncs.com/kubesphereio/node-exporter:v1.8.2',
    );
    expect(all.alertmanager.image).toBe('registry.cn-beijing.aliyuncs.com/kubesphereio/alertmanager:v0.23.0');
  });

  it('versions strip exactly one leading v', () => {
    const { versions } = resolveValues(
      { alertmanager_tag: 'vv1.0-dev', node_exporter_tag: '1.3.1' },
      facts(),
    ).values;
    expect(versions.prometheus).toBe('2.39.1');
    expect(versions.alertmanager).toBe('v1.0-dev');
    expect(versions.node_exporter).toBe('1.3.1');
    expect(versions.notification_tenant_sidecar).toBe('3.2.0');
  });
});
