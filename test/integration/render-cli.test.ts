/**
 * `ks-installer render` as a user runs it: a child process printing, offline, every object a run
 * would apply, under the original installer's names and namespaces; node count and live objects
 * change what it prints; an invalid spec exits 2 with nothing on stdout and the field on stderr.
 */
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import yaml from 'js-yaml';
import type { KubeObject } from '../../src/kube/client.js';
import { ROOT } from './fixtures.js';

interface Result {
  code: number;
  stdout: string;
  stderr: string;
}

function run(file: string, argv: string[]): Promise<Result> {
  return new Promise((resolve) => {
    execFile(file, argv, { cwd: ROOT, maxBuffer: 64 * 1024 * 1024 }, (err, stdout, stderr) => {
      const code = err ? (typeof err.code === 'number' ? err.code : 1) : 0;
      resolve({ code, stdout, stderr });
    });
  });
}

/** `ks-installer render …` through package.json's bin, the launcher `npx ks-installer` starts. */
const render = (args: string[]) =>
  run(process.execPath, [path.join(ROOT, 'bin', 'ks-installer.js'), 'render', ...args]);

type Obj = KubeObject & { spec?: Record<string, any> }; // eslint-disable-line @typescript-eslint/no-explicit-any

const objectsOf = (r: Result) => (yaml.loadAll(r.stdout) as Obj[]).filter((o) => o && typeof o === 'object');
const id = (o: Obj) =>
  `${o.kind} ${o.metadata.namespace ? `${o.metadata.namespace}/` : ''}${o.metadata.name}`;
const find = (objects: Obj[], kind: string, name: string) => {
  const o = objects.find((x) => x.kind === kind && x.metadata.name === name);
  if (!o) throw new Error(`render printed no ${kind} ${name}`);
  return o;
};

const NS = 'kubesphere-monitoring-system';
const SAMPLE = path.join(ROOT, 'examples', 'cluster-configuration.yaml');

/**
 * The original installer's objects (docs/original-installer.md#objects), by kind, namespace and name, but its
 * four PrometheusRules without rules (EMPTY_RULES), which we leave out (docs/rules.md).
 */
const EXPECTED = [
  // prometheus-operator
  'CustomResourceDefinition alertmanagerconfigs.monitoring.coreos.com',
  'CustomResourceDefinition alertmanagers.monitoring.coreos.com',
  'CustomResourceDefinition podmonitors.monitoring.coreos.com',
  'CustomResourceDefinition probes.monitoring.coreos.com',
  'CustomResourceDefinition prometheuses.monitoring.coreos.com',
  'CustomResourceDefinition prometheusrules.monitoring.coreos.com',
  'CustomResourceDefinition servicemonitors.monitoring.coreos.com',
  'CustomResourceDefinition thanosrulers.monitoring.coreos.com',
  `Deployment ${NS}/prometheus-operator`,
  'ClusterRole kubesphere-prometheus-operator',
  'ClusterRoleBinding kubesphere-prometheus-operator',
  `ServiceAccount ${NS}/prometheus-operator`,
  `Service ${NS}/prometheus-operator`,
  `ServiceMonitor ${NS}/prometheus-operator`,
  // prometheus k8s
  `Prometheus ${NS}/k8s`,
  `PodDisruptionBudget ${NS}/prometheus-k8s`,
  'ClusterRole kubesphere-prometheus-k8s',
  'ClusterRoleBinding kubesphere-prometheus-k8s',
  `Role ${NS}/prometheus-k8s-config`,
  `RoleBinding ${NS}/prometheus-k8s-config`,
  `ServiceAccount ${NS}/prometheus-k8s`,
  `Service ${NS}/prometheus-k8s`,
  `ServiceMonitor ${NS}/prometheus-k8s`,
  `PrometheusRule ${NS}/prometheus-k8s-prometheus-rules`,
  // node-exporter
  `DaemonSet ${NS}/node-exporter`,
  'ClusterRole kubesphere-node-exporter',
  'ClusterRoleBinding kubesphere-node-exporter',
  `ServiceAccount ${NS}/node-exporter`,
  `Service ${NS}/node-exporter`,
  `ServiceMonitor ${NS}/node-exporter`,
  // kube-state-metrics
  `Deployment ${NS}/kube-state-metrics`,
  'ClusterRole kubesphere-kube-state-metrics',
  'ClusterRoleBinding kubesphere-kube-state-metrics',
  `ServiceAccount ${NS}/kube-state-metrics`,
  `Service ${NS}/kube-state-metrics`,
  `ServiceMonitor ${NS}/kube-state-metrics`,
  // alertmanager main
  `Alertmanager ${NS}/main`,
  `PodDisruptionBudget ${NS}/alertmanager-main`,
  `Secret ${NS}/alertmanager-main`,
  `ServiceAccount ${NS}/alertmanager-main`,
  `Service ${NS}/alertmanager-main`,
  `ServiceMonitor ${NS}/alertmanager-main`,
  // Kubernetes component monitors
  'Service kube-system/kube-controller-manager-svc',
  'Service kube-system/kube-scheduler-svc',
  `ServiceMonitor ${NS}/kube-apiserver`,
  `ServiceMonitor ${NS}/coredns`,
  `ServiceMonitor ${NS}/kube-controller-manager`,
  `ServiceMonitor ${NS}/kube-scheduler`,
  `ServiceMonitor ${NS}/kubelet`,
  `PrometheusRule ${NS}/prometheus-k8s-rules`,
  // KubeSphere monitors
  `ServiceMonitor ${NS}/ks-apiserver`,
  `ServiceMonitor ${NS}/ks-controller-manager`,
  // notification-manager
  'CustomResourceDefinition configs.notification.kubesphere.io',
  'CustomResourceDefinition notificationmanagers.notification.kubesphere.io',
  'CustomResourceDefinition receivers.notification.kubesphere.io',
  'CustomResourceDefinition routers.notification.kubesphere.io',
  'CustomResourceDefinition silences.notification.kubesphere.io',
  `ServiceAccount ${NS}/notification-manager-sa`,
  'ClusterRole notification-manager-controller-role',
  'ClusterRole notification-manager-metrics-reader',
  'ClusterRole notification-manager-proxy-role',
  'ClusterRole notification-manager-tenant-sidecar-role',
  'ClusterRoleBinding notification-manager-controller-rolebinding',
  'ClusterRoleBinding notification-manager-proxy-rolebinding',
  'ClusterRoleBinding notification-manager-tenant-sidecar-rolebinding',
  `Role ${NS}/notification-manager-leader-election-role`,
  `RoleBinding ${NS}/notification-manager-leader-election-rolebinding`,
  `Deployment ${NS}/notification-manager-operator`,
  `Service ${NS}/notification-manager-controller-metrics`,
  `Service ${NS}/notification-manager-webhook`,
  `Secret ${NS}/notification-manager-webhook-server-cert`,
  'ValidatingWebhookConfiguration notification-manager-validating-webhook',
  'NotificationManager notification-manager',
  `ConfigMap ${NS}/notification-manager-template`,
  `ConfigMap ${NS}/zh-cn`,
];

const EMPTY_RULES = ['prometheus-operator', 'node-exporter', 'kube-state-metrics', 'alertmanager-main'].map(
  (n) => `PrometheusRule ${NS}/${n}-rules`,
);

const ETCD = [
  'Service kube-system/etcd',
  'Endpoints kube-system/etcd',
  `ServiceMonitor ${NS}/etcd`,
  `PrometheusRule ${NS}/prometheus-k8s-etcd-rules`,
];

describe('ks-installer render', () => {
  let dir: string;
  let sample: Result;
  let fiveNodes: Result;
  let live: Result;
  let invalid: Result;
  let withAlertingApi: Result;
  let badApiVersion: Result;

  beforeAll(async () => {
    dir = mkdtempSync(path.join(tmpdir(), 'render-cli-'));
    const liveFile = path.join(dir, 'live.yaml');
    writeFileSync(
      liveFile,
      yaml.dump({
        apiVersion: 'v1',
        kind: 'PersistentVolumeClaim',
        metadata: { name: 'prometheus-k8s-db-prometheus-k8s-0', namespace: NS },
        spec: { accessModes: ['ReadWriteOnce'], resources: { requests: { storage: '50Gi' } } },
      }),
    );
    const bad = yaml.load(readFileSync(SAMPLE, 'utf8')) as Obj;
    bad.spec!.etcd = { monitoring: true, endpointIps: 'localhost', port: 2379, tlsEnable: false };
    const badFile = path.join(dir, 'invalid.yaml');
    writeFileSync(badFile, yaml.dump(bad));
    [sample, fiveNodes, live, invalid, withAlertingApi, badApiVersion] = await Promise.all([
      render(['-f', SAMPLE]),
      render(['-f', SAMPLE, '--nodes', '5']),
      render(['-f', SAMPLE, '--live', liveFile]),
      render(['-f', badFile]),
      render(['-f', SAMPLE, '--api-versions', 'alerting.kubesphere.io/v2beta1']),
      render(['-f', SAMPLE, '--api-versions', 'alerting']),
    ]);
  });

  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('runs as `npx ks-installer` in a clone right after npm ci, without a build', async () => {
    const r = await run('npx', ['--no-install', 'ks-installer', '--help']);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^ks-installer: installs the KubeSphere monitoring stack/);
  });

  it('prints every object of the original, under its names and namespaces, and no etcd objects', () => {
    expect(sample.stderr).toBe('');
    expect(sample.code).toBe(0);
    const printed = objectsOf(sample).map(id);
    expect(printed.filter((p) => EXPECTED.includes(p)).sort()).toEqual([...EXPECTED].sort());
    expect(new Set(printed).size).toBe(printed.length);
    expect(printed.filter((p) => ETCD.includes(p))).toEqual([]);
    expect(printed.filter((p) => EMPTY_RULES.includes(p))).toEqual([]);
    expect(sample.stdout).toContain('# role etcd-monitor: skipped (etcd.monitoring is not true)');
  });

  it('--nodes 5 changes the replicas', () => {
    expect(fiveNodes.code).toBe(0);
    const replicas = (r: Result) => {
      const objects = objectsOf(r);
      return [
        find(objects, 'Prometheus', 'k8s').spec!.replicas,
        find(objects, 'Alertmanager', 'main').spec!.replicas,
        find(objects, 'NotificationManager', 'notification-manager').spec!.replicas,
      ];
    };
    expect(replicas(sample)).toEqual([1, 1, 1]);
    expect(replicas(fiveNodes)).toEqual([2, 3, 2]);
  });

  it('--live with a 50Gi PVC carries the size over, and runs Prometheus as root', () => {
    expect(live.code).toBe(0);
    const size = (r: Result) =>
      find(objectsOf(r), 'Prometheus', 'k8s').spec!.storage.volumeClaimTemplate.spec.resources.requests
        .storage;
    expect(size(sample)).toBe('20Gi');
    expect(size(live)).toBe('50Gi');
    // A volume without a Prometheus: its owner is unknown, so Prometheus runs as root (prometheus-security.ts).
    const user = (r: Result) => find(objectsOf(r), 'Prometheus', 'k8s').spec!.securityContext.runAsUser;
    expect([user(sample), user(live)]).toEqual([1000, 0]);
  });

  it('prints the built-in alerts as fallback PrometheusRules, or as GlobalRuleGroups with --api-versions', () => {
    const alerts = (r: Result) =>
      objectsOf(r)
        .filter((o) => o.kind === 'GlobalRuleGroup' || o.metadata.name.startsWith('builtin-alerts-'))
        .map((o) => o.kind);
    // The sample has etcd monitoring and alerting off: 19 of the 21 groups.
    expect(alerts(sample)).toEqual(Array(19).fill('PrometheusRule'));
    expect(withAlertingApi.code).toBe(0);
    expect(alerts(withAlertingApi)).toEqual(Array(19).fill('GlobalRuleGroup'));
    expect(badApiVersion.code).toBe(2);
    expect(badApiVersion.stderr).toContain('--api-versions');
  });

  it('an invalid spec exits 2, prints nothing on stdout, and names the field on stderr', () => {
    expect(invalid.code).toBe(2);
    expect(invalid.stdout).toBe('');
    expect(invalid.stderr).toContain('spec.etcd.endpointIps');
    expect(invalid.stderr).toContain('localhost');
  });
});

type Spec = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

describe('ks-installer render rejects what run rejects', () => {
  let dir: string;
  beforeAll(() => {
    dir = mkdtempSync(path.join(tmpdir(), 'render-parity-'));
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  const cases: [string, string, (s: Spec) => void][] = [
    [
      'a newline in a nodeSelector value',
      'spec.monitoring.nodeSelector["role"]',
      (s) => (s.monitoring.nodeSelector = { role: 'a\nb' }),
    ],
    [
      'common.monitoring.type: externel',
      'spec.common.monitoring.type',
      (s) => (s.common.monitoring.type = 'externel'),
    ],
    [
      'a local_registry too long for an image reference',
      'spec.local_registry',
      (s) => (s.local_registry = `r${'e'.repeat(300)}.example.com`),
    ],
  ];

  it.each(cases)('%s: exit 2, the field named, nothing printed', async (name, field, edit) => {
    const cc = yaml.load(readFileSync(SAMPLE, 'utf8')) as Obj;
    edit(cc.spec as Spec);
    const file = path.join(dir, `${name.replace(/\W+/g, '-')}.yaml`);
    writeFileSync(file, yaml.dump(cc));
    const r = await render(['-f', file]);
    expect(r.code).toBe(2);
    expect(r.stdout).toBe('');
    expect(r.stderr).toContain(field);
  });
});
