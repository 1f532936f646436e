/**
 * A real prometheus-operator (test-tools.ts: v0.55.0, the nearest to the v0.55.1 we install that the
 * Go module proxy serves) run as a process against the embedded control plane, as the ServiceAccount
 * our templates give it: what it can do there, our ClusterRole grants. v0.55 has no --kubeconfig
 * flag; it reads $KUBECONFIG. No kubelet is needed: it only writes objects (StatefulSets, the
 * generated configuration Secret, rule-file ConfigMaps, governing Services, kube-system/kubelet).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import yaml from 'js-yaml';
import { resolveTestTool, type TestToolName } from '../../tools/envtest/test-tools.js';
import { ApiError, type KubeClient, type KubeObject } from '../../src/kube/client.js';
import { listAll } from '../../src/kube/list.js';
import { clusterInfo } from './cluster.js';
import { MONITORING_NS } from './fixtures.js';

export interface ToolProcess {
  child: ChildProcess;
  lines: string[];
  stop(): Promise<void>;
}

/** Runs a test tool, collecting its output lines; stopped by stop(), killed if the test process exits. */
export async function startTool(
  name: TestToolName,
  args: string[],
  env: NodeJS.ProcessEnv = {},
): Promise<ToolProcess> {
  const bin = (await resolveTestTool(name)).path;
  const child = spawn(bin, args, { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  const lines: string[] = [];
  const collect = (b: Buffer) => lines.push(...b.toString().split('\n').filter(Boolean));
  child.stdout!.on('data', collect);
  child.stderr!.on('data', collect);
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const kill = () => child.kill('SIGKILL');
  process.once('exit', kill);
  return {
    child,
    lines,
    async stop() {
      process.removeListener('exit', kill);
      if (child.exitCode !== null || child.signalCode !== null) return;
      child.kill('SIGTERM');
      const timer = setTimeout(kill, 10_000);
      await exited;
      clearTimeout(timer);
    },
  };
}

/** A fresh bound token of ServiceAccount namespace/name. */
export async function serviceAccountToken(
  admin: KubeClient,
  namespace: string,
  name: string,
): Promise<string> {
  const review = await admin.request<{ status: { token: string } }>(
    'POST',
    `/api/v1/namespaces/${namespace}/serviceaccounts/${name}/token`,
    {
      body: {
        apiVersion: 'authentication.k8s.io/v1',
        kind: 'TokenRequest',
        spec: { expirationSeconds: 3600 },
      },
    },
  );
  return review.status.token;
}

interface Kubeconfig {
  clusters: { cluster: { server: string; 'certificate-authority-data': string } }[];
  users: { name: string; user: Record<string, unknown> }[];
}

const adminKubeconfig = () => yaml.load(readFileSync(clusterInfo().kubeconfig, 'utf8')) as Kubeconfig;

/** The API server's CA certificate (PEM). */
export function clusterCa(): string {
  return Buffer.from(
    adminKubeconfig().clusters[0]!.cluster['certificate-authority-data'],
    'base64',
  ).toString();
}

/** A kubeconfig that authenticates as ServiceAccount namespace/name with a fresh bound token. */
export async function serviceAccountKubeconfig(admin: KubeClient, namespace: string, name: string) {
  const token = await serviceAccountToken(admin, namespace, name);
  const config = adminKubeconfig();
  for (const u of config.users) u.user = { token };
  const file = path.join(mkdtempSync(path.join(tmpdir(), 'ks-po-')), 'kubeconfig');
  writeFileSync(file, yaml.dump(config), { mode: 0o600 });
  return file;
}

/**
 * Starts the operator with `args` (those of our Deployment's prometheus-operator container), its web
 * listener moved to a free loopback port.
 */
export function startPrometheusOperator(args: string[], kubeconfig: string): Promise<ToolProcess> {
  return startTool(
    'prometheus-operator',
    [...args.filter((a) => !a.startsWith('--web.listen-address=')), '--web.listen-address=127.0.0.1:0'],
    { KUBECONFIG: kubeconfig },
  );
}

const OWNED_BY_OPERATOR = new Set(['Prometheus', 'Alertmanager', 'ThanosRuler']);

/**
 * Deletes what prometheus-operator generated in the monitoring namespace (objects owned by a
 * Prometheus or Alertmanager; no garbage collector runs here) and kube-system/kubelet.
 */
export async function deleteOperatorGenerated(admin: KubeClient): Promise<void> {
  const ignoreNotFound = (e: unknown) => {
    if (!(e instanceof ApiError && e.notFound)) throw e;
  };
  for (const collection of [
    `/apis/apps/v1/namespaces/${MONITORING_NS}/statefulsets`,
    `/api/v1/namespaces/${MONITORING_NS}/secrets`,
    `/api/v1/namespaces/${MONITORING_NS}/configmaps`,
    `/api/v1/namespaces/${MONITORING_NS}/services`,
  ]) {
    const { items } = await listAll<KubeObject>(admin, collection, { metadataOnly: true });
    for (const item of items) {
      const owners = (item.metadata as { ownerReferences?: { kind: string }[] }).ownerReferences ?? [];
      if (owners.some((o) => OWNED_BY_OPERATOR.has(o.kind)))
        await admin.request('DELETE', `${collection}/${item.metadata.name}`).catch(ignoreNotFound);
    }
  }
  for (const p of [
    '/api/v1/namespaces/kube-system/services/kubelet',
    '/api/v1/namespaces/kube-system/endpoints/kubelet',
  ])
    await admin.request('DELETE', p).catch(ignoreNotFound);
}
