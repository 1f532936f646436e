/** Shared setup for tests that run the operator: the ClusterConfiguration CRD, Node objects, the sample CC. */
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import yaml from 'js-yaml';
import { ApiError, CONTENT_TYPE, type KubeClient, type KubeObject } from '../../src/kube/client.js';
import { applyObjects } from '../../tools/apply-objects.js';
import { RestMapper } from '../../src/kube/discovery.js';
import { listAll } from '../../src/kube/list.js';
import { objectPath, type ClusterConfiguration } from '../../src/api/cluster-configuration.js';
import type { ClusterFacts } from '../../src/config/facts.js';
import { loadCrds } from '../../src/installer/plan/role-objects.js';
import { adminClient, clusterInfo, createTestNamespace } from './cluster.js';
import { startOperatorProcess, waitUntil, type OperatorProcess } from './operator-process.js';

export const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
export const MONITORING_NS = 'kubesphere-monitoring-system';

/** An API object whose body the tests read freely. */
export type Obj = KubeObject & Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

export async function installClusterConfigurationCrd(admin: KubeClient): Promise<void> {
  const crd = yaml.load(
    readFileSync(path.join(ROOT, 'crds', 'installer.kubesphere.io_clusterconfigurations.yaml'), 'utf8'),
  ) as KubeObject;
  await applyObjects(admin, new RestMapper(admin), [crd], { fieldManager: 'test-setup' });
}

/** Makes the cluster have exactly `count` Node objects (no kubelets: just what the API lists). */
export async function setNodeCount(admin: KubeClient, count: number): Promise<void> {
  const { items } = await listAll(admin, '/api/v1/nodes', { metadataOnly: true });
  const names = items.map((i) => i.metadata.name).sort();
  for (const extra of names.slice(count)) await admin.request('DELETE', `/api/v1/nodes/${extra}`);
  for (let i = names.length; i < count; i++) {
    await admin.request('POST', '/api/v1/nodes', {
      body: {
        apiVersion: 'v1',
        kind: 'Node',
        metadata: { name: `node-${i}-${Date.now() % 100000}`, labels: { 'kubernetes.io/os': 'linux' } },
      },
    });
  }
}

export function sampleClusterConfiguration(namespace: string, name = 'ks-installer'): ClusterConfiguration {
  const cc = yaml.load(
    readFileSync(path.join(ROOT, 'examples', 'cluster-configuration.yaml'), 'utf8'),
  ) as ClusterConfiguration;
  cc.metadata = { name, namespace };
  return cc;
}

export function ccPath(namespace: string, name = 'ks-installer'): string {
  return objectPath({ namespace, name });
}

export async function createClusterConfiguration(
  admin: KubeClient,
  cc: ClusterConfiguration,
): Promise<ClusterConfiguration> {
  await admin
    .request('POST', `/api/v1/namespaces`, {
      body: { apiVersion: 'v1', kind: 'Namespace', metadata: { name: cc.metadata.namespace } },
    })
    .catch((e: unknown) => {
      if (!(e instanceof ApiError && e.conflict)) throw e;
    });
  return admin.request<ClusterConfiguration>('POST', ccPath(cc.metadata.namespace!).replace(/\/[^/]+$/, ''), {
    body: cc,
  });
}

export function mergePatch(admin: KubeClient, p: string, body: unknown): Promise<KubeObject> {
  return admin.request<KubeObject>('PATCH', p, { body, contentType: CONTENT_TYPE.merge });
}

/** resourceVersions of every object the stack owns in the monitoring namespace and cluster scope, by kind/name. */
export async function stackResourceVersions(admin: KubeClient): Promise<Map<string, string>> {
  const paths = [
    `/api/v1/namespaces/${MONITORING_NS}/services`,
    `/api/v1/namespaces/${MONITORING_NS}/serviceaccounts`,
    `/api/v1/namespaces/${MONITORING_NS}/secrets`,
    `/api/v1/namespaces/${MONITORING_NS}/configmaps`,
    `/apis/apps/v1/namespaces/${MONITORING_NS}/deployments`,
    `/apis/apps/v1/namespaces/${MONITORING_NS}/daemonsets`,
    `/apis/monitoring.coreos.com/v1/namespaces/${MONITORING_NS}/prometheuses`,
    `/apis/monitoring.coreos.com/v1/namespaces/${MONITORING_NS}/alertmanagers`,
    `/apis/monitoring.coreos.com/v1/namespaces/${MONITORING_NS}/servicemonitors`,
    `/apis/monitoring.coreos.com/v1/namespaces/${MONITORING_NS}/prometheusrules`,
    `/apis/rbac.authorization.k8s.io/v1/clusterroles`,
    `/apis/rbac.authorization.k8s.io/v1/clusterrolebindings`,
    `/apis/apiextensions.k8s.io/v1/customresourcedefinitions`,
  ];
  const out = new Map<string, string>();
  for (const p of paths) {
    const { items } = await listAll<KubeObject>(admin, p, { metadataOnly: true }).catch(() => ({
      items: [] as KubeObject[],
    }));
    for (const i of items) {
      if (i.metadata.name.startsWith('system:') || i.metadata.name === 'kube-root-ca.crt') continue;
      out.set(`${p}/${i.metadata.name}`, i.metadata.resourceVersion ?? '');
    }
  }
  return out;
}

export async function clusterEvents(
  admin: KubeClient,
  namespace: string,
  name: string,
): Promise<{ reason: string; type: string; message: string }[]> {
  const list = await admin.get<{
    items: {
      reason: string;
      type: string;
      message: string;
      involvedObject: { name: string; kind: string };
    }[];
  }>(`/api/v1/namespaces/${namespace}/events`);
  return list.items.filter(
    (e) => e.involvedObject.kind === 'ClusterConfiguration' && e.involvedObject.name === name,
  );
}

/**
 * The monitoring namespace and the prometheus-operator CRDs, as an install (ours or the original's)
 * leaves them: for tests that write monitoring objects before our operator runs.
 */
export async function ensureMonitoringCrds(admin: KubeClient): Promise<void> {
  await ensureMonitoringNamespace(admin);
  await applyObjects(
    admin,
    new RestMapper(admin),
    loadCrds(path.join(ROOT, 'crds'), 'monitoring.coreos.com').map((m) => m.object),
    { fieldManager: 'test-setup' },
  );
}

/** Secret kube-etcd-client-certs with placeholder contents, made afresh. */
export async function createEtcdClientCertsSecret(admin: KubeClient): Promise<void> {
  const secrets = `/api/v1/namespaces/${MONITORING_NS}/secrets`;
  await admin.request('DELETE', `${secrets}/kube-etcd-client-certs`).catch((e: unknown) => {
    if (!(e instanceof ApiError && e.notFound)) throw e;
  });
  await admin.request('POST', secrets, {
    body: {
      apiVersion: 'v1',
      kind: 'Secret',
      metadata: { name: 'kube-etcd-client-certs' },
      stringData: { 'etcd-client-ca.crt': 'ca', 'etcd-client.crt': 'cert', 'etcd-client.key': 'key' },
    },
  });
}

/** The common start of an operator test: a namespace for its ClusterConfiguration, the CRD, `nodes` Node objects. */
export async function prepareOperatorTest(
  prefix: string,
  nodes = 1,
): Promise<{ admin: KubeClient; ns: string }> {
  const admin = adminClient();
  const ns = await createTestNamespace(admin, prefix);
  await installClusterConfigurationCrd(admin);
  await setNodeCount(admin, nodes);
  return { admin, ns };
}

/** Starts `ks-installer run` for the ClusterConfiguration ks-installer of `ns`, and waits until it has started. */
export async function startOperatorFor(ns: string, extraArgs: string[] = []): Promise<OperatorProcess> {
  const op = startOperatorProcess([
    '--namespace',
    ns,
    '--name',
    'ks-installer',
    '--resync-period',
    '1h',
    ...extraArgs,
  ]);
  await op.waitFor(/ks-installer starting/, 30_000);
  return op;
}

/** Creates kubesphere-monitoring-system unless it exists (tests that shape objects there before a run). */
export async function ensureMonitoringNamespace(admin: KubeClient): Promise<void> {
  await admin
    .request('POST', '/api/v1/namespaces', {
      body: { apiVersion: 'v1', kind: 'Namespace', metadata: { name: MONITORING_NS } },
    })
    .catch((e: unknown) => {
      if (!(e instanceof ApiError && e.conflict)) throw e;
    });
}

/** Deletes the object at API path `p` (if it exists) and waits until it is gone. */
export async function deleteAndWait(admin: KubeClient, p: string, timeoutMs = 60_000): Promise<void> {
  await admin.request('DELETE', p).catch((e: unknown) => {
    if (!(e instanceof ApiError && e.notFound)) throw e;
  });
  await waitUntil(`${p} gone`, async () => (await admin.getOrUndefined(p)) === undefined, timeoutMs);
}

/** Client-side `kubectl apply` of the objects, as the original installer wrote them; returns kubectl's output. */
export function kubectlApply(objects: readonly KubeObject[]): string {
  const info = clusterInfo();
  return execFileSync(
    path.join(info.binDir, 'kubectl'),
    ['--kubeconfig', info.kubeconfig, 'apply', '-f', '-'],
    { input: objects.map((o) => yaml.dump(o, { noRefs: true })).join('---\n'), encoding: 'utf8' },
  );
}

/** A Prometheus volume as prometheus-operator makes it from the Prometheus's volumeClaimTemplate (no controller binds it here). */
export async function createPrometheusPvc(
  admin: KubeClient,
  name: string,
  size: string,
): Promise<KubeObject> {
  return admin.request<KubeObject>('POST', `/api/v1/namespaces/${MONITORING_NS}/persistentvolumeclaims`, {
    body: {
      apiVersion: 'v1',
      kind: 'PersistentVolumeClaim',
      metadata: { name, labels: { 'app.kubernetes.io/name': 'prometheus', prometheus: 'k8s' } },
      spec: { accessModes: ['ReadWriteOnce'], resources: { requests: { storage: size } } },
    },
  });
}

/** A PVC cannot be deleted without a controller removing its protection finalizer: remove it first. */
export async function deletePvc(admin: KubeClient, name: string): Promise<void> {
  const p = `/api/v1/namespaces/${MONITORING_NS}/persistentvolumeclaims/${name}`;
  if (!(await admin.getOrUndefined(p))) return;
  await mergePatch(admin, p, { metadata: { finalizers: null } });
  await deleteAndWait(admin, p);
}

/** A fresh test namespace, the operator started for it, and the sample ClusterConfiguration installed by a first run. */
export async function installedOperatorTest(
  prefix: string,
): Promise<{ admin: KubeClient; ns: string; op: OperatorProcess }> {
  const { admin, ns } = await prepareOperatorTest(prefix);
  const op = await startOperatorFor(ns);
  await createClusterConfiguration(admin, sampleClusterConfiguration(ns));
  await op.waitFor(/run succeeded/, 120_000);
  return { admin, ns, op };
}

/** Facts of a 1-node cluster with nothing live: what an offline plan of the sample is made from. */
export const ONE_NODE_FACTS: ClusterFacts = {
  nodeCount: 1,
  kubernetesVersion: 'v1.34.0',
  servedApiVersions: [],
  live: { etcdClientCertsSecret: false },
  webhookTls: { caCert: '', tlsCert: '', tlsKey: '' },
};
