/**
 * The scrape contract (test/fixtures/scrape-contract.json, docs/scrape.md): every ServiceMonitor
 * selects, scrapes and relabels as the original's did, so the same series are stored with the same
 * labels, and kube-state-metrics runs with the original's arguments. Deliberate differences are
 * listed here and in docs/differences.md.
 */
import { describe, expect, it } from '@jest/globals';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import type { IServiceMonitor } from '@kubernetes-models/prometheus-operator/monitoring.coreos.com/v1/ServiceMonitor';
import type { KubeObject } from '../../../src/kube/client.js';
import { projectRoot } from '../../../src/paths.js';
import { containerOf, findObject, renderRole, withMonitoring } from './golden.js';

interface ContainerFacts {
  args: string[];
  mounts: Record<string, unknown>[];
  ports: Record<string, unknown>[];
}

interface Contract {
  serviceMonitors: (Record<string, unknown> & { name: string; endpoints: Record<string, unknown>[] })[];
  kubeStateMetricsArgs: string[];
  nodeExporter: Record<string, ContainerFacts>;
  prometheusOperator: Record<string, ContainerFacts>;
  kubeStateMetricsMounts: { mounts: Record<string, unknown>[]; volumes: Record<string, unknown>[] };
}

interface Container {
  name: string;
  args?: string[];
  volumeMounts?: Record<string, unknown>[];
  ports?: Record<string, unknown>[];
}

/** The original's argument as we pass it (docs/differences.md, "Scraping and workloads"). */
function ours(arg: string): string {
  if (arg.startsWith('--tls-cipher-suites='))
    return '--tls-cipher-suites=TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256,TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256,TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384,TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384,TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305,TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305';
  return arg
    .replace('--collector.filesystem.ignored-mount-points=', '--collector.filesystem.mount-points-exclude=')
    .replace('--collector.filesystem.ignored-fs-types=', '--collector.filesystem.fs-types-exclude=');
}

const byName = (a: Record<string, unknown>, b: Record<string, unknown>) =>
  String(a.name).localeCompare(String(b.name));

const contract = JSON.parse(
  readFileSync(path.join(projectRoot(), 'test', 'fixtures', 'scrape-contract.json'), 'utf8'),
) as Contract;

// etcd monitoring with TLS on, so that the etcd ServiceMonitor is rendered as the contract has it.
const spec = withMonitoring({}, { etcd: { monitoring: true, endpointIps: '10.0.0.1', tlsEnable: true } });
const objects: KubeObject[] = [
  'prometheus-stack',
  'node-exporter',
  'kube-state-metrics',
  'alertmanager',
  'etcd-monitor',
].flatMap((role) => renderRole(role, spec));

/** The contract's version label is the original's prometheus-operator 0.55.1, the one we install too. */
describe('the scrape contract', () => {
  it('covers every ServiceMonitor we install, and only those', () => {
    const ours = objects.filter((o) => o.kind === 'ServiceMonitor').map((o) => o.metadata.name);
    expect(ours.sort()).toEqual(contract.serviceMonitors.map((m) => m.name).sort());
  });

  for (const original of contract.serviceMonitors) {
    it(`ServiceMonitor ${original.name}: selector, job label, endpoints, relabelings, keep/drop lists`, () => {
      const m = findObject<IServiceMonitor>(objects, 'ServiceMonitor', original.name);
      // Correction (docs/differences.md): the kubelet's keep list also names the running pod and
      // container counts as kubelets since v1.19 emit them.
      const expected = JSON.parse(
        JSON.stringify(original).replace(
          'kubelet_running_pod_count|',
          'kubelet_running_pod_count|kubelet_running_containers|kubelet_running_pods|',
        ),
      ) as typeof original;
      const { name: _name, ...want } = expected;
      const got: Record<string, unknown> = { selector: m.spec.selector, endpoints: m.spec.endpoints };
      if (m.spec.namespaceSelector) got.namespaceSelector = m.spec.namespaceSelector;
      if (m.spec.jobLabel) got.jobLabel = m.spec.jobLabel;
      expect(got).toEqual(want);
    });
  }

  it('kube-state-metrics runs with the original arguments, PVC access modes kept', () => {
    const ksm = findObject<KubeObject>(objects, 'Deployment', 'kube-state-metrics');
    const args = containerOf<{ name: string; args: string[] }>(ksm as never, 'kube-state-metrics').args;
    // Correction (docs/differences.md): kube_persistentvolumeclaim_access_mode is read by the PVC alerts.
    const want = contract.kubeStateMetricsArgs.map((a) =>
      a.replace(
        'kube_persistentvolumeclaim_(resource_.+|access_.+)',
        'kube_persistentvolumeclaim_(resource_.+)',
      ),
    );
    expect(args).toEqual(want);
  });

  for (const [workload, kind, facts, extraArgs] of [
    ['node-exporter', 'DaemonSet', contract.nodeExporter, {}],
    // Ours listens on loopback only (docs/differences.md).
    [
      'prometheus-operator',
      'Deployment',
      contract.prometheusOperator,
      { 'prometheus-operator': ['--web.listen-address=127.0.0.1:8080'] },
    ],
  ] as const) {
    for (const [name, want] of Object.entries(facts)) {
      it(`${workload}: container ${name} has the original's arguments, mounts and ports`, () => {
        const c = containerOf<Container>(findObject(objects, kind, workload), name);
        const extra: readonly string[] = (extraArgs as Record<string, readonly string[]>)[name] ?? [];
        expect([...(c.args ?? [])].sort()).toEqual([...want.args.map(ours), ...extra].sort());
        expect([...(c.volumeMounts ?? [])].sort(byName)).toEqual([...want.mounts].sort(byName));
        expect(c.ports ?? []).toEqual(want.ports.map((p) => expect.objectContaining(p)));
      });
    }
  }

  it('with Grafana on: node-exporter keeps the five series of the USE records, kube-state-metrics kube_replicaset_owner; nothing else changes', () => {
    const grafanaSpec = {
      ...spec,
      monitoring: { ...(spec.monitoring as object), grafana: { enabled: true } },
    };
    const on = ['prometheus-stack', 'node-exporter', 'kube-state-metrics'].flatMap((r) =>
      renderRole(r, grafanaSpec),
    );
    const keep = (list: KubeObject[]) =>
      findObject<IServiceMonitor>(list, 'ServiceMonitor', 'node-exporter').spec.endpoints[0]!
        .metricRelabelings![0]!.regex!;
    expect(keep(on)).toBe(
      `${keep(objects)}|node_vmstat_pgmajfault|node_disk_io_time_seconds_total|` +
        'node_disk_io_time_weighted_seconds_total|node_network_(receive|transmit)_drop_total',
    );
    const args = (list: KubeObject[]) =>
      containerOf<{ name: string; args: string[] }>(
        findObject(list, 'Deployment', 'kube-state-metrics'),
        'kube-state-metrics',
      ).args;
    expect(args(on)).toEqual(
      args(objects).map((a) =>
        a.replace('kube_replicaset_(status_.+|spec_.+|owner)', 'kube_replicaset_(status_.+|spec_.+)'),
      ),
    );
    expect(args(on)).not.toEqual(args(objects));
    // The kubelet's and every other monitor are unchanged.
    for (const m of on.filter((o) => o.kind === 'ServiceMonitor' && o.metadata.name !== 'node-exporter'))
      expect(m).toEqual(findObject(objects, 'ServiceMonitor', m.metadata.name));
  });

  it('kube-state-metrics mounts the host /etc/localtime', () => {
    const ksm = findObject<{ spec: { template: { spec: { containers: Container[]; volumes: unknown[] } } } }>(
      objects,
      'Deployment',
      'kube-state-metrics',
    );
    expect(containerOf<Container>(ksm, 'kube-state-metrics').volumeMounts).toEqual(
      contract.kubeStateMetricsMounts.mounts,
    );
    expect(ksm.spec.template.spec.volumes).toEqual(contract.kubeStateMetricsMounts.volumes);
  });

  it('every ServiceMonitor of ours selects a Service of ours by its labels, on a port it has', () => {
    const services = objects.filter((o) => o.kind === 'Service') as (KubeObject & {
      spec: { ports: { name: string }[] };
    })[];
    // These select Services of the cluster itself (kubernetes, kube-dns, ks-apiserver's), or
    // kube-system/kubelet, which prometheus-operator makes (the integration test checks that one).
    const notOurs = ['kube-apiserver', 'coredns', 'ks-apiserver', 'ks-controller-manager', 'kubelet'];
    for (const m of objects.filter((o) => o.kind === 'ServiceMonitor') as unknown as IServiceMonitor[]) {
      if (notOurs.includes(m.metadata?.name ?? '')) continue;
      const namespaces = m.spec.namespaceSelector?.matchNames ?? [m.metadata?.namespace];
      const selected = services.filter(
        (s) =>
          namespaces.includes(s.metadata.namespace) &&
          Object.entries(m.spec.selector.matchLabels ?? {}).every(([k, v]) => s.metadata.labels?.[k] === v),
      );
      expect({ monitor: m.metadata?.name, selected: selected.length }).toEqual({
        monitor: m.metadata?.name,
        selected: 1,
      });
      for (const e of m.spec.endpoints.filter((x) => x.port)) {
        expect(selected[0]!.spec.ports.map((p) => p.name)).toContain(e.port);
      }
    }
  });
});
