import { describe, expect, it } from '@jest/globals';
import type { IPrometheusRule } from '@kubernetes-models/prometheus-operator/monitoring.coreos.com/v1/PrometheusRule';
import type { IServiceMonitor } from '@kubernetes-models/prometheus-operator/monitoring.coreos.com/v1/ServiceMonitor';
import type { IEndpoints } from 'kubernetes-models/v1/Endpoints';
import type { IService } from 'kubernetes-models/v1/Service';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import yaml from 'js-yaml';
import { resolveValues } from '../../../src/config/resolve.js';
import { projectRoot } from '../../../src/paths.js';
import { ROLES } from '../../../src/installer/catalog.js';
import type { KubeObject } from '../../../src/kube/client.js';
import {
  expectGolden,
  findObject,
  FIXED_FACTS,
  objectIds,
  renderRole,
  renderRoleText,
  unsafeOutputsOf,
} from './golden.js';

const root = projectRoot();
const NS = 'kubesphere-monitoring-system';
const IPS = ['192.168.0.2', '192.168.0.3', '192.168.0.4'];
const CERTS = '/etc/prometheus/secrets/kube-etcd-client-certs';

/** The sample spec with etcd monitoring on for three members; `etcd` keys override. */
function etcdSpec(etcd: Record<string, unknown> = {}): Record<string, unknown> {
  const spec = (
    yaml.load(readFileSync(path.join(root, 'examples', 'cluster-configuration.yaml'), 'utf8')) as {
      spec: Record<string, unknown>;
    }
  ).spec;
  spec.etcd = {
    ...(spec.etcd as Record<string, unknown>),
    monitoring: true,
    endpointIps: IPS.join(','),
    ...etcd,
  };
  return spec;
}

const render = (spec: Record<string, unknown>): KubeObject[] => renderRole('etcd-monitor', spec);

const find = findObject;

/** Record names of the original's etcd rules (docs/rules.md), with the quantile label of the histogram ones. */
const EXPECTED_RECORDS = {
  'etcd.rules': [
    'etcd:up:sum',
    'etcd:etcd_server_leader_changes_seen:sum_changes',
    'etcd:etcd_server_proposals_failed:sum_irate',
    'etcd:etcd_server_proposals_applied:sum_irate',
    'etcd:etcd_server_proposals_committed:sum_irate',
    'etcd:etcd_server_proposals_pending:sum',
    'etcd:etcd_mvcc_db_total_size:sum',
    'etcd:etcd_network_client_grpc_received_bytes:sum_irate',
    'etcd:etcd_network_client_grpc_sent_bytes:sum_irate',
    'etcd:grpc_server_started:sum_irate',
    'etcd:grpc_server_handled:sum_irate',
    'etcd:grpc_server_msg_received:sum_irate',
    'etcd:grpc_server_msg_sent:sum_irate',
    'etcd:etcd_disk_wal_fsync_duration:avg',
    'etcd:etcd_disk_backend_commit_duration:avg',
  ],
  'etcd_histogram.rules': [
    'etcd:etcd_disk_wal_fsync_duration:histogram_quantile 0.99',
    'etcd:etcd_disk_wal_fsync_duration:histogram_quantile 0.9',
    'etcd:etcd_disk_wal_fsync_duration:histogram_quantile 0.5',
    'etcd:etcd_disk_backend_commit_duration:histogram_quantile 0.99',
    'etcd:etcd_disk_backend_commit_duration:histogram_quantile 0.9',
    'etcd:etcd_disk_backend_commit_duration:histogram_quantile 0.5',
  ],
};

describe('role etcd-monitor', () => {
  const tlsText = renderRoleText('etcd-monitor', etcdSpec());
  const httpText = renderRoleText('etcd-monitor', etcdSpec({ tlsEnable: false }));
  const objects = yaml.loadAll(tlsText) as KubeObject[];

  it('renders three members with TLS as in the golden file', () => {
    expectGolden('etcd-monitor-tls', tlsText);
  });

  it('renders three members without TLS as in the golden file', () => {
    expectGolden('etcd-monitor-http', httpText);
  });

  it('runs only when etcd.monitoring is true', () => {
    const role = ROLES.find((r) => r.name === 'etcd-monitor');
    const when = (spec: Record<string, unknown>) => role?.when(resolveValues(spec, FIXED_FACTS).values).run;
    expect(when(etcdSpec())).toBe(true);
    expect(when(etcdSpec({ monitoring: false }))).toBe(false);
  });

  it('renders the original objects under their names and namespaces', () => {
    expect(objectIds(objects)).toEqual([
      'v1 Service kube-system/etcd',
      'v1 Endpoints kube-system/etcd',
      `monitoring.coreos.com/v1 ServiceMonitor ${NS}/etcd`,
      `monitoring.coreos.com/v1 PrometheusRule ${NS}/prometheus-k8s-etcd-rules`,
    ]);
    for (const o of objects) expect(o.metadata.labels?.['app.kubernetes.io/managed-by']).toBe('ks-installer');
  });

  it('points a selector-less headless Service at one address per etcd member', () => {
    const service = find<IService>(objects, 'Service', 'etcd');
    expect(service.spec?.clusterIP).toBe('None');
    expect(service.spec?.selector).toBeUndefined();
    expect(service.spec?.ports).toEqual([{ name: 'metrics', port: 2379, targetPort: 2379, protocol: 'TCP' }]);
    const endpoints = find<IEndpoints>(objects, 'Endpoints', 'etcd');
    expect(endpoints.subsets).toEqual([
      { addresses: IPS.map((ip) => ({ ip })), ports: [{ name: 'metrics', port: 2379, protocol: 'TCP' }] },
    ]);
  });

  it('uses etcd.port and trims the listed addresses', () => {
    const moved = render(etcdSpec({ port: 12379, endpointIps: ' 10.0.0.1 ,10.0.0.2' }));
    expect(find<IEndpoints>(moved, 'Endpoints', 'etcd').subsets).toEqual([
      {
        addresses: [{ ip: '10.0.0.1' }, { ip: '10.0.0.2' }],
        ports: [{ name: 'metrics', port: 12379, protocol: 'TCP' }],
      },
    ]);
    expect(find<IService>(moved, 'Service', 'etcd').spec?.ports?.[0]).toMatchObject({
      port: 12379,
      targetPort: 12379,
    });
  });

  it('scrapes the kube-system Service over https with the client certificate files when etcd.tlsEnable', () => {
    const monitor = find<IServiceMonitor>(objects, 'ServiceMonitor', 'etcd');
    const service = find<IService>(objects, 'Service', 'etcd');
    expect(monitor.spec.jobLabel).toBe('k8s-app');
    expect(monitor.spec.namespaceSelector).toEqual({ matchNames: ['kube-system'] });
    for (const [key, value] of Object.entries(monitor.spec.selector.matchLabels ?? {})) {
      expect(service.metadata?.labels?.[key]).toBe(value);
    }
    // The job label is the Service's k8s-app label, which the rules select on.
    expect(service.metadata?.labels?.['k8s-app']).toBe('etcd');
    expect(monitor.spec.endpoints).toEqual([
      {
        port: 'metrics',
        interval: '1m',
        scheme: 'https',
        tlsConfig: {
          caFile: `${CERTS}/etcd-client-ca.crt`,
          certFile: `${CERTS}/etcd-client.crt`,
          keyFile: `${CERTS}/etcd-client.key`,
        },
      },
    ]);
  });

  it('scrapes over plain http without etcd.tlsEnable', () => {
    const monitor = find<IServiceMonitor>(yaml.loadAll(httpText) as KubeObject[], 'ServiceMonitor', 'etcd');
    expect(monitor.spec.endpoints).toEqual([{ port: 'metrics', interval: '1m', scheme: 'http' }]);
  });

  it('records every series KubeSphere reads about etcd, from any job whose name contains etcd', () => {
    const rule = find<IPrometheusRule>(objects, 'PrometheusRule', 'prometheus-k8s-etcd-rules');
    expect(rule.metadata?.labels).toMatchObject({ prometheus: 'k8s', role: 'alert-rules' });
    const groups = rule.spec?.groups ?? [];
    expect(
      Object.fromEntries(
        groups.map((g) => [
          g.name,
          g.rules?.map((r) => [r.record, r.labels?.quantile].filter((part) => part !== undefined).join(' ')),
        ]),
      ),
    ).toEqual(EXPECTED_RECORDS);
    for (const r of groups.flatMap((g) => g.rules ?? [])) {
      const expr = String(r.expr);
      // The contract's etcd source: any job matching .*etcd.* (the original's selector).
      expect({ record: r.record, job: expr.includes('job=~".*etcd.*"') }).toEqual({
        record: r.record,
        job: true,
      });
      expect(r.alert).toBeUndefined();
      if (r.labels?.quantile !== undefined) {
        expect(expr).toContain(`histogram_quantile(${r.labels.quantile},`);
        expect(expr).toMatch(/by \(node, le\)/);
      }
      // Balanced parentheses: a cheap guard against a broken expression.
      let depth = 0;
      for (const char of expr) {
        depth += char === '(' ? 1 : char === ')' ? -1 : 0;
        expect(depth).toBeGreaterThanOrEqual(0);
      }
      expect({ record: r.record, depth }).toEqual({ record: r.record, depth: 0 });
    }
  });

  it('prints every value through a safe serializer', () => {
    const templates = unsafeOutputsOf('etcd-monitor');
    expect(templates.length).toBeGreaterThan(0);
    expect(templates.filter((t) => t.unsafe.length > 0)).toEqual([]);
  });
});
