/**
 * The live stack: the monitoring stack the operator installs, running for real on this machine.
 * On an embedded control plane with Node objects and a ClusterConfiguration that monitoring is enabled
 * for, it starts the process kubelet (kubelet.ts), which runs prometheus-operator, then the Prometheus
 * and Alertmanager StatefulSets it makes, the ThanosRuler, node-exporter on every Node and kube-state-metrics,
 * exposes the embedded etcd to its ServiceMonitor, and gives
 * access to Prometheus's and Alertmanager's HTTP APIs (at their Pods' addresses, inside network
 * namespaces this process created) and to the processes' resource use. See docs/live-stack.md.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { closeSync, mkdtempSync, openSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import yaml from 'js-yaml';
import {
  collectionPath,
  objectPath,
  type ClusterConfiguration,
} from '../../src/api/cluster-configuration.js';
import { projectRoot } from '../../src/paths.js';
import { applyObjects } from '../apply-objects.js';
import { KubeClient, type KubeObject } from '../../src/kube/client.js';
import { RestMapper } from '../../src/kube/discovery.js';
import { ControlPlane } from '../envtest/control-plane.js';
import {
  alertmanagerAvailable,
  ProcessKubelet,
  processUsage,
  reapOrphanedStacks,
  removeDir,
} from './kubelet.js';
import { exposeLoopbackPort, type ExposedPort } from './network.js';
import { resolveTestTool } from '../envtest/test-tools.js';

export const MONITORING_NS = 'kubesphere-monitoring-system';

/** Jobs whose targets exist but cannot be up here, and why (docs/live-stack.md): none. */
export const EXPECTED_DOWN: Record<string, string> = {};

/** Jobs that must have targets here, all of them up (Alertmanager's when a binary for it can be had). */
export const MUST_BE_UP = [
  'prometheus-operator',
  'prometheus-k8s',
  'node-exporter',
  'kube-state-metrics',
  'apiserver',
  'etcd',
  'kubelet',
  'thanos-ruler-kubesphere',
  ...(alertmanagerAvailable() ? ['alertmanager-main'] : []),
];

/** The port the embedded etcd is exposed at for its ServiceMonitor (etcd.port of the ClusterConfiguration). */
export const ETCD_PORT = 2379;

export interface Target {
  labels: Record<string, string>;
  discoveredLabels: Record<string, string>;
  scrapePool: string;
  scrapeUrl: string;
  health: 'up' | 'down' | 'unknown';
  lastError: string;
}

export interface Sample {
  metric: Record<string, string>;
  value: [number, string];
}

/** The CA certificate of the API server a kubeconfig names. */
export function kubeconfigCa(kubeconfig: string): string {
  const kc = yaml.load(readFileSync(kubeconfig, 'utf8')) as {
    clusters: { cluster: { 'certificate-authority-data'?: string; 'certificate-authority'?: string } }[];
  };
  const c = kc.clusters[0]!.cluster;
  return c['certificate-authority-data']
    ? Buffer.from(c['certificate-authority-data'], 'base64').toString()
    : readFileSync(c['certificate-authority']!, 'utf8');
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export class LiveStack {
  private constructor(
    readonly kubelet: ProcessKubelet,
    readonly dir: string,
  ) {}

  static async start(options: {
    client: KubeClient;
    server: string;
    kubeconfig: string;
    log?: (line: string) => void;
    exposed?: ExposedPort[];
    sharedDirs?: { hostPath: string; mountPath: string }[];
  }): Promise<LiveStack> {
    reapOrphanedStacks(tmpdir());
    const dir = mkdtempSync(path.join(tmpdir(), 'ks-live-'));
    const kubelet = new ProcessKubelet({
      client: options.client,
      server: options.server,
      caPem: kubeconfigCa(options.kubeconfig),
      dir,
      namespaces: [MONITORING_NS],
      log: options.log,
      exposed: options.exposed ?? [],
      sharedDirs: options.sharedDirs ?? [],
    });
    // Process exit (a signal included) removes the working directory too; stop() decides for itself.
    const removeOnExit = () => removeDir(dir);
    process.on('exit', removeOnExit);
    await kubelet.start();
    const stack = new LiveStack(kubelet, dir);
    stack.removeOnExit = removeOnExit;
    return stack;
  }

  /** http://<Prometheus pod address>:9090, once its Pod runs. */
  prometheusUrl(): string | undefined {
    const ip = this.kubelet.podIp(MONITORING_NS, 'prometheus-k8s-0');
    return ip ? `http://${ip}:9090` : undefined;
  }

  /** http://<ThanosRuler pod address>:10902, once its Pod runs. */
  thanosRulerUrl(): string | undefined {
    const ip = this.kubelet.podIp(MONITORING_NS, 'thanos-ruler-kubesphere-0');
    return ip ? `http://${ip}:10902` : undefined;
  }

  alertmanagerUrl(): string | undefined {
    const ip = this.kubelet.podIp(MONITORING_NS, 'alertmanager-main-0');
    return ip ? `http://${ip}:9093` : undefined;
  }

  private async prom<T>(p: string): Promise<T> {
    const url = this.prometheusUrl();
    if (!url) throw new Error('Prometheus is not running yet');
    const res = await fetch(`${url}${p}`, { signal: AbortSignal.timeout(20_000) });
    const body = (await res.json()) as { status: string; data: T; error?: string };
    if (body.status !== 'success') throw new Error(`${p}: ${body.error ?? res.status}`);
    return body.data;
  }

  /** GET <base><p> of a Prometheus-compatible HTTP API (Prometheus, Thanos Query, a ThanosRuler): its data. */
  async api<T>(base: string, p: string): Promise<T> {
    const res = await fetch(`${base}${p}`, { signal: AbortSignal.timeout(30_000) });
    const body = (await res.json()) as { status: string; data: T; error?: string };
    if (body.status !== 'success') throw new Error(`${base}${p}: ${body.error ?? res.status}`);
    return body.data;
  }

  /** http://<address>:<port> of a Pod of the stack, once it runs. */
  podUrl(name: string, port: number): string | undefined {
    const ip = this.kubelet.podIp(MONITORING_NS, name);
    return ip ? `http://${ip}:${port}` : undefined;
  }

  async query(promql: string): Promise<Sample[]> {
    const data = await this.prom<{ result: Sample[] }>(`/api/v1/query?query=${encodeURIComponent(promql)}`);
    return data.result;
  }

  async targets(): Promise<Target[]> {
    return (await this.prom<{ activeTargets: Target[] }>('/api/v1/targets?state=active')).activeTargets;
  }

  async ruleGroups(): Promise<
    {
      name: string;
      file: string;
      lastEvaluation: string;
      rules: { name: string; type: string; health: string; lastError?: string; state?: string }[];
    }[]
  > {
    return (await this.prom<{ groups: never[] }>('/api/v1/rules')).groups;
  }

  async alerts(): Promise<{ labels: Record<string, string>; state: string }[]> {
    return (
      await this.prom<{ alerts: { labels: Record<string, string>; state: string }[] }>('/api/v1/alerts')
    ).alerts;
  }

  async flags(): Promise<Record<string, string>> {
    return this.prom<Record<string, string>>('/api/v1/status/flags');
  }

  /** Alerts Alertmanager holds (API v2). */
  async alertmanagerAlerts(): Promise<{ labels: Record<string, string> }[]> {
    const url = this.alertmanagerUrl();
    if (!url) throw new Error('Alertmanager is not running');
    const res = await fetch(`${url}/api/v2/alerts`, { signal: AbortSignal.timeout(10_000) });
    return (await res.json()) as { labels: Record<string, string> }[];
  }

  /** Waits until `check` returns a value (not undefined), polling; throws with the last reason on timeout. */
  async waitFor<T>(
    what: string,
    check: () => Promise<T | undefined>,
    timeoutMs: number,
    everyMs = 2000,
  ): Promise<T> {
    const deadline = Date.now() + timeoutMs;
    let last = '';
    for (;;) {
      try {
        const v = await check();
        if (v !== undefined) return v;
      } catch (err) {
        last = (err as Error).message;
      }
      if (Date.now() > deadline)
        throw new Error(
          `${what}: not within ${timeoutMs / 1000}s${last ? ` (${last})` : ''}; logs in ${this.dir}/logs`,
        );
      await sleep(everyMs);
    }
  }

  /** Resident memory and CPU seconds of every process of the stack, now. */
  usage(): { pod: string; container: string; pid: number; rss: number; cpu: number }[] {
    return this.kubelet.processes().map((p) => ({ ...p, ...(processUsage(p.pid) ?? { rss: 0, cpu: 0 }) }));
  }

  private removeOnExit?: () => void;

  async stop(options: { keepLogs?: boolean } = {}): Promise<void> {
    if (this.removeOnExit) process.removeListener('exit', this.removeOnExit);
    await this.kubelet.stop();
    if (!options.keepLogs) removeDir(this.dir);
  }
}

/**
 * A fresh embedded control plane with `nodes` Node objects, the sample ClusterConfiguration (Prometheus
 * and Alertmanager at 1 replica: one machine), `ks-installer run` until monitoring is enabled, then the
 * live stack. Used by the live-stack integration test; `npm run demo -- --live` does the same steps
 * after the demo's own.
 */
export async function bootLiveCluster(
  options: {
    nodes?: number;
    log?: (line: string) => void;
    /** Changes to the live ClusterConfiguration (after liveClusterConfiguration's). */
    configure?: (cc: ClusterConfiguration) => void;
    /** Runs once monitoring is enabled, before the stack starts (e.g. Secrets the spec names). */
    beforeStack?: (client: KubeClient) => Promise<void>;
    sharedDirs?: { hostPath: string; mountPath: string }[];
  } = {},
): Promise<{
  cp: ControlPlane;
  client: KubeClient;
  stack: LiveStack;
  operator: ChildProcess;
  stop(options?: { keepLogs?: boolean }): Promise<void>;
}> {
  const log = options.log ?? ((l: string) => process.stderr.write(`live: ${l}\n`));
  const cp = await ControlPlane.start({ withTools: true });
  let operator: ChildProcess | undefined;
  let stack: LiveStack | undefined;
  let etcd: ExposedPort | undefined;
  const stop = async (o: { keepLogs?: boolean } = {}) => {
    await stack?.stop(o);
    etcd?.remove();
    if (operator && operator.exitCode === null) {
      const exited = new Promise((r) => operator!.once('exit', r));
      operator.kill('SIGTERM');
      await exited;
    }
    await cp.stop();
  };
  try {
    const client = KubeClient.fromKubeconfig(cp.kubeconfig);
    const crd = yaml.load(
      readFileSync(
        path.join(projectRoot(), 'crds', 'installer.kubesphere.io_clusterconfigurations.yaml'),
        'utf8',
      ),
    ) as KubeObject;
    await applyObjects(client, new RestMapper(client), [crd], { fieldManager: 'ks-installer-live' });
    for (let i = 1; i <= (options.nodes ?? 3); i++)
      await client.request('POST', '/api/v1/nodes', {
        body: {
          apiVersion: 'v1',
          kind: 'Node',
          metadata: { name: `node-${i}`, labels: { 'kubernetes.io/os': 'linux' } },
        },
      });
    const cc = yaml.load(
      readFileSync(path.join(projectRoot(), 'examples', 'cluster-configuration.yaml'), 'utf8'),
    ) as ClusterConfiguration;
    etcd = await liveClusterConfiguration(cc, cp);
    options.configure?.(cc);
    const ns = cc.metadata.namespace!;
    await client.request('POST', '/api/v1/namespaces', {
      body: { apiVersion: 'v1', kind: 'Namespace', metadata: { name: ns } },
    });
    await client.request('POST', collectionPath(ns), { body: cc });
    operator = startOperator(cp.kubeconfig, path.join(cp.info.dir, 'ks-installer.log'));
    await waitForMonitoring(client, { namespace: ns, name: cc.metadata.name }, operator);
    await options.beforeStack?.(client);
    log('monitoring enabled; starting the live stack');
    stack = await LiveStack.start({
      client,
      server: cp.info.server,
      kubeconfig: cp.kubeconfig,
      log,
      exposed: [etcd],
      sharedDirs: options.sharedDirs,
    });
    return { cp, client, stack, operator, stop };
  } catch (err) {
    await stop({ keepLogs: true });
    throw err;
  }
}

/**
 * What the live stack changes in the sample ClusterConfiguration: Prometheus and Alertmanager at 1
 * replica (one machine), the embedded etcd exposed where Endpoints can name it (they refuse loopback)
 * and scraped through our etcd ServiceMonitor (plain HTTP), and KubeSphere's alerting on with one
 * ThanosRuler. Returns the exposed etcd port: remove() it when the stack stops.
 */
export async function liveClusterConfiguration(
  cc: ClusterConfiguration,
  cp: ControlPlane,
): Promise<ExposedPort> {
  const spec = cc.spec as Record<string, unknown> & { monitoring: Record<string, unknown> };
  spec.monitoring.prometheus = { replicas: 1 };
  spec.monitoring.alertmanager = { replicas: 1 };
  const etcd = exposeLoopbackPort(
    (await resolveTestTool('live-fwd')).path,
    cp.info.dir,
    'etcd',
    Number(new URL(cp.info.etcd).port),
    ETCD_PORT,
  );
  spec.etcd = { monitoring: true, endpointIps: etcd.address, port: ETCD_PORT, tlsEnable: false };
  spec.alerting = { enabled: true, thanosruler: { replicas: 1 } };
  return etcd;
}

/** `ks-installer run` as a child process, its log to a file. */
export function startOperator(kubeconfig: string, logFile: string): ChildProcess {
  const fd = openSync(logFile, 'a');
  const child = spawn(
    process.execPath,
    [
      '--import',
      'tsx',
      path.join(projectRoot(), 'src', 'main.ts'),
      'run',
      '--kubeconfig',
      kubeconfig,
      '--health-addr',
      '127.0.0.1:0',
      '--metrics-addr',
      '127.0.0.1:0',
    ],
    { stdio: ['ignore', fd, fd], cwd: projectRoot() },
  );
  closeSync(fd);
  process.once('exit', () => child.kill('SIGKILL'));
  return child;
}

export async function waitForMonitoring(
  client: KubeClient,
  key: { namespace: string; name: string },
  operator: ChildProcess,
  timeoutMs = 300_000,
): Promise<void> {
  const started = Date.now();
  for (;;) {
    const live = await client.get<ClusterConfiguration>(objectPath(key));
    if (live.status?.monitoring?.status === 'enabled') return;
    if (operator.exitCode !== null) throw new Error(`ks-installer exited with code ${operator.exitCode}`);
    if (Date.now() - started > timeoutMs) throw new Error('monitoring was not enabled within 5 minutes');
    await sleep(300);
  }
}
