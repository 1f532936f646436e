/**
 * The metrics-server role proven with a real metrics-server (sigs.k8s.io/metrics-server v0.6.4, built
 * from the Go module proxy: it does not serve the v0.4.2 the role installs) on a control plane of its
 * own with the aggregation layer on:
 * - three Nodes, each a network namespace on one switched test network with an address of its own:
 *   node-1 and node-2 report kubelet port 10250, edge-1 (labelled as a KubeEdge edge node) 10350; on
 *   that port a kubelet stand-in (test/support/kubelet-standin.ts) serves `/metrics/resource` with this
 *   host's real counters;
 * - metrics-server runs as the role's Deployment would: its arguments read from the Deployment the
 *   operator applied, as the role's ServiceAccount (a token of it at the in-cluster path, in a mount
 *   namespace of its own, uid 1000, its emptyDir at /tmp), on node-1's network (hostNetwork), behind the
 *   Endpoints and EndpointSlice of the role's Service; it reaches kube-apiserver on 127.0.0.1 through a
 *   unix-socket forwarder (test/support/loopback-forwarder.ts);
 * - before metrics-server runs, the APIService is not Available: the run completes and the
 *   ClusterConfiguration carries the APIService's own message; once it runs, the APIService becomes
 *   Available, `kubectl top nodes` lists the three Nodes with values (edge-1's read on 10350) and the
 *   operator's next check sets status.metricsServer.
 * All traffic is on loopback, unix sockets, or the test network; namespaces and links are removed after.
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { execa } from 'execa';
import type { ChildProcess } from 'node:child_process';
import { chmodSync, chownSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import type { Server } from 'node:net';
import { cpus, tmpdir } from 'node:os';
import path from 'node:path';
import type { ClusterConfiguration } from '../../src/api/cluster-configuration.js';
import { METRICS_API_UNAVAILABLE, METRICS_API_WAIT_MS } from '../../src/installer/steps/check-metrics-api.js';
import { CONTENT_TYPE, KubeClient, type KubeObject } from '../../src/kube/client.js';
import { resolveBinaries } from '../../tools/envtest/binaries.js';
import { diff, scrape } from '../../tools/envtest/request-metrics.js';
import { ControlPlane } from '../../tools/envtest/control-plane.js';
import { resolveTestTool } from '../../tools/envtest/test-tools.js';
import { socketToTcp } from '../support/loopback-forwarder.js';
import { createNetwork, type NetNs, type Network } from '../support/netns.js';
import { ccPath, installClusterConfigurationCrd, ROOT, sampleClusterConfiguration } from './fixtures.js';
import { startOperatorProcess, waitUntil, type OperatorProcess } from './operator-process.js';

const NS = 'kubesphere-system';
const KUBE_SYSTEM = 'kube-system';
const API_SERVICE = '/apis/apiregistration.k8s.io/v1/apiservices/v1beta1.metrics.k8s.io';
const STANDIN = path.join(ROOT, 'test', 'support', 'kubelet-standin.ts');
const FORWARDER = path.join(ROOT, 'test', 'support', 'loopback-forwarder.ts');
const NODES = [
  { name: 'node-1', port: 10250, labels: {} },
  { name: 'node-2', port: 10250, labels: {} },
  { name: 'edge-1', port: 10350, labels: { 'node-role.kubernetes.io/edge': '' } },
];
const METRICS_SERVER_UID = 1000;
const NO_DRIFT = /run succeeded: .*; no drift, status left as it was/;

interface Child {
  name: string;
  proc: ChildProcess;
  output: string[];
}

type Condition = { type: string; status: string; reason?: string; message?: string };

describe('metrics-server role with a real metrics-server', () => {
  let cp: ControlPlane;
  let admin: KubeClient;
  let op: OperatorProcess | undefined;
  let network: Network | undefined;
  let forwarder: Server | undefined;
  let tmp: string;
  let metricsServerBin: string;
  let kubectl: string;
  const children: Child[] = [];
  const member = (name: string): NetNs => network!.members[NODES.findIndex((n) => n.name === name)]!;
  const getCc = () => admin.get<ClusterConfiguration>(ccPath(NS));

  /** Starts a process inside `ns`, keeping its output for the assertions and failure messages. */
  function start(name: string, ns: NetNs, cmd: string, args: string[], env: NodeJS.ProcessEnv = {}): Child {
    const proc = ns.spawn(cmd, args, {
      cwd: ROOT,
      env: { ...process.env, ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const child: Child = { name, proc, output: [] };
    const keep = (buf: Buffer) => {
      child.output.push(...buf.toString().split('\n').filter(Boolean));
      if (child.output.length > 400) child.output.splice(0, child.output.length - 400);
    };
    proc.stdout?.on('data', keep);
    proc.stderr?.on('data', keep);
    children.push(child);
    return child;
  }

  const tail = (c: Child) => `${c.name}:\n${c.output.slice(-30).join('\n')}`;

  async function waitForLine(c: Child, re: RegExp, timeoutMs = 30_000): Promise<void> {
    await waitUntil(
      `${c.name}: ${re}`,
      async () => {
        if (c.proc.exitCode !== null) throw new Error(`exited (${c.proc.exitCode})\n${tail(c)}`);
        return c.output.some((l) => re.test(l));
      },
      timeoutMs,
    );
  }

  beforeAll(async () => {
    // On a cold cache this builds metrics-server from its pinned module first (minutes).
    metricsServerBin = (await resolveTestTool('metrics-server')).path;
    kubectl = (await resolveBinaries({ needed: ['kubectl'] })).kubectl!;
    cp = await ControlPlane.start({ aggregation: true, progress: () => undefined });
    admin = KubeClient.fromKubeconfig(cp.kubeconfig);
    await installClusterConfigurationCrd(admin);
    await admin.request('POST', '/api/v1/namespaces', {
      body: { apiVersion: 'v1', kind: 'Namespace', metadata: { name: NS } },
    });
    tmp = mkdtempSync(path.join(tmpdir(), 'ks-installer-metrics-server-'));
    chmodSync(tmp, 0o755);
    network = createNetwork(NODES.length);

    const memTotalKi = Number(/^MemTotal:\s+(\d+)/m.exec(readFileSync('/proc/meminfo', 'utf8'))?.[1]);
    const now = new Date().toISOString().replace(/\.\d+Z$/, 'Z');
    for (const node of NODES) {
      const ip = member(node.name).podIp;
      await admin.request('POST', '/api/v1/nodes', {
        body: { apiVersion: 'v1', kind: 'Node', metadata: { name: node.name, labels: node.labels } },
      });
      const resources = { cpu: String(cpus().length), memory: `${memTotalKi}Ki`, pods: '110' };
      await admin.request('PATCH', `/api/v1/nodes/${node.name}/status`, {
        contentType: CONTENT_TYPE.merge,
        body: {
          status: {
            addresses: [
              { type: 'InternalIP', address: ip },
              { type: 'Hostname', address: node.name },
            ],
            daemonEndpoints: { kubeletEndpoint: { Port: node.port } },
            capacity: resources,
            allocatable: resources,
            conditions: [
              {
                type: 'Ready',
                status: 'True',
                reason: 'KubeletReady',
                message: 'kubelet stand-in of the test',
                lastHeartbeatTime: now,
                lastTransitionTime: now,
              },
            ],
          },
        },
      });
      const podsFile = path.join(tmp, `pods-${node.name}.json`);
      writeFileSync(podsFile, '[]');
      const standin = start(`kubelet stand-in ${node.name}`, member(node.name), process.execPath, [
        '--import',
        'tsx',
        STANDIN,
        '--address',
        ip,
        '--port',
        String(node.port),
        '--pods-file',
        podsFile,
        '--node-name',
        node.name,
      ]);
      await waitForLine(standin, /^listening /);
    }
  }, 30 * 60_000);

  afterAll(async () => {
    if (op) await op.stop();
    for (const c of children) {
      if (c.proc.exitCode !== null || c.proc.signalCode !== null) continue;
      const exited = new Promise((r) => c.proc.once('exit', r));
      c.proc.kill('SIGTERM');
      const timer = setTimeout(() => c.proc.kill('SIGKILL'), 5000);
      await exited;
      clearTimeout(timer);
    }
    forwarder?.close();
    network?.remove();
    await admin?.close();
    await cp?.stop();
    if (tmp) rmSync(tmp, { recursive: true, force: true });
  }, 60_000);

  it('reports the APIService that is not Available with its own message, and the run still completes', async () => {
    // What an older Helm install of metrics-server leaves: its ServiceAccount, written by Helm, and the
    // release Secret; beside it a Secret with the same labels that is not a release (it must stay).
    const helmLabels = { 'app.kubernetes.io/managed-by': 'Helm', owner: 'helm', name: 'metrics-server' };
    await admin.request('POST', `/api/v1/namespaces/${KUBE_SYSTEM}/serviceaccounts`, {
      query: { fieldManager: 'helm' },
      body: {
        apiVersion: 'v1',
        kind: 'ServiceAccount',
        metadata: {
          name: 'metrics-server',
          labels: { 'app.kubernetes.io/managed-by': 'Helm', chart: 'metrics-server-2.11.1' },
          annotations: {
            'meta.helm.sh/release-name': 'metrics-server',
            'meta.helm.sh/release-namespace': KUBE_SYSTEM,
          },
        },
      },
    });
    for (const [name, type] of [
      ['sh.helm.release.v1.metrics-server.v1', 'helm.sh/release.v1'],
      ['not-a-release', 'Opaque'],
    ] as const) {
      await admin.request('POST', `/api/v1/namespaces/${KUBE_SYSTEM}/secrets`, {
        body: { apiVersion: 'v1', kind: 'Secret', type, metadata: { name, labels: helmLabels }, data: {} },
      });
    }

    const cc = sampleClusterConfiguration(NS);
    // External monitoring: the monitoring stack's roles are skipped; metrics-server is not part of it.
    cc.spec = { ...cc.spec, common: { monitoring: { type: 'external' } }, metrics_server: { enabled: true } };
    await admin.request(
      'POST',
      `/apis/installer.kubesphere.io/v1alpha1/namespaces/${NS}/clusterconfigurations`,
      {
        body: cc,
      },
    );
    op = startOperatorProcess(['--kubeconfig', cp.kubeconfig, '--namespace', NS, '--resync-period', '3s']);
    await op.waitFor(/run started/, 60_000);
    const started = Date.now();
    await op.waitFor(/run (succeeded|failed)/, 120_000);
    expect(op.lines.filter((l) => /run failed/.test(l))).toEqual([]);
    // The run waited for the APIService a bounded time, not the original's ten minutes.
    expect(Date.now() - started).toBeLessThan(METRICS_API_WAIT_MS + 30_000);

    const apiService = await admin.get<KubeObject & { status: { conditions: Condition[] } }>(API_SERVICE);
    const available = apiService.status.conditions.find((c) => c.type === 'Available')!;
    expect(available.status).toBe('False');
    const status = (await getCc()).status!;
    const warning = status.conditions?.find((c) => c.type === METRICS_API_UNAVAILABLE);
    process.stderr.write(`\n${METRICS_API_UNAVAILABLE}: ${warning?.reason}: ${warning?.message}\n`);
    expect(warning).toMatchObject({ status: 'True', reason: available.reason });
    expect(warning?.message).toContain(`(${available.reason}): ${available.message}`);
    expect(status.conditions?.find((c) => c.type === 'Ready')?.status).toBe('True');
    expect(status.metricsServer).toBeUndefined();

    // The Helm install is taken over: the ServiceAccount is ours, the release Secret gone, the other kept.
    const sa = await admin.get<KubeObject>(
      `/api/v1/namespaces/${KUBE_SYSTEM}/serviceaccounts/metrics-server`,
    );
    expect(sa.metadata.labels).toEqual({
      'k8s-app': 'metrics-server',
      'app.kubernetes.io/managed-by': 'ks-installer',
      'installer.kubesphere.io/role': 'metrics-server',
    });
    expect(sa.metadata.annotations?.['meta.helm.sh/release-name']).toBeUndefined();
    const secret = (name: string) =>
      admin.getOrUndefined(`/api/v1/namespaces/${KUBE_SYSTEM}/secrets/${name}`);
    expect(await secret('sh.helm.release.v1.metrics-server.v1')).toBeUndefined();
    expect(await secret('not-a-release')).toBeDefined();
    expect(op.lines.some((l) => l.includes("removed Helm's release metrics-server"))).toBe(true);
  }, 180_000);

  it('serves the Metrics API from metrics-server run as the Deployment says: kubectl top nodes lists the three nodes, the edge one through 10350', async () => {
    const deployment = await admin.get<
      KubeObject & {
        spec: {
          template: {
            spec: { hostNetwork: boolean; serviceAccountName: string; containers: { args: string[] }[] };
          };
        };
      }
    >(`/apis/apps/v1/namespaces/${KUBE_SYSTEM}/deployments/metrics-server`);
    const pod = deployment.spec.template.spec;
    expect(pod.hostNetwork).toBe(true);
    const args = pod.containers[0]!.args;
    expect(args).toContain('--kubelet-use-node-status-port');

    // The ServiceAccount's token and the cluster CA at the in-cluster path, readable by uid 1000 only.
    const token = await admin.request<{ status: { token: string } }>(
      'POST',
      `/api/v1/namespaces/${KUBE_SYSTEM}/serviceaccounts/${pod.serviceAccountName}/token`,
      {
        body: {
          apiVersion: 'authentication.k8s.io/v1',
          kind: 'TokenRequest',
          spec: { expirationSeconds: 3600 },
        },
      },
    );
    const sa = path.join(tmp, 'serviceaccount');
    const certDir = path.join(tmp, 'metrics-server-tmp');
    mkdirSync(sa, { mode: 0o755 });
    mkdirSync(certDir, { mode: 0o700 });
    writeFileSync(path.join(sa, 'token'), token.status.token, { mode: 0o600 });
    writeFileSync(path.join(sa, 'ca.crt'), readFileSync(path.join(cp.info.dir, 'pki', 'ca.crt')));
    writeFileSync(path.join(sa, 'namespace'), KUBE_SYSTEM);
    for (const f of [path.join(sa, 'token'), certDir]) chownSync(f, METRICS_SERVER_UID, METRICS_SERVER_UID);

    // kube-apiserver on 127.0.0.1 inside node-1's network, through a unix socket.
    const apiPort = Number(new URL(cp.server).port);
    const socket = path.join(tmp, 'apiserver.sock');
    forwarder = await socketToTcp(socket, apiPort);
    const node1 = member('node-1');
    const fwd = start('forwarder', node1, process.execPath, [
      '--import',
      'tsx',
      FORWARDER,
      '--listen',
      `127.0.0.1:${apiPort}`,
      '--socket',
      socket,
    ]);
    await waitForLine(fwd, /^listening /);

    // A mount namespace of its own: the token at /var/run/secrets/kubernetes.io/serviceaccount, the
    // emptyDir at /tmp; then uid 1000 (runAsUser) and metrics-server with the Deployment's arguments.
    const script = [
      'set -e',
      'mount -t tmpfs tmpfs /run',
      'mkdir -p /run/secrets/kubernetes.io/serviceaccount',
      'mount --bind "$SA_DIR" /run/secrets/kubernetes.io/serviceaccount',
      'mount --bind "$CERT_DIR" /tmp',
      `exec setpriv --reuid=${METRICS_SERVER_UID} --regid=${METRICS_SERVER_UID} --clear-groups "$@"`,
    ].join('\n');
    const ms = start(
      'metrics-server',
      node1,
      'unshare',
      ['--mount', '--propagation', 'private', 'sh', '-c', script, 'sh', metricsServerBin, ...args],
      {
        SA_DIR: sa,
        CERT_DIR: certDir,
        KUBERNETES_SERVICE_HOST: '127.0.0.1',
        KUBERNETES_SERVICE_PORT: String(apiPort),
      },
    );
    // node-1's kubelet reports metrics-server's own container, with its process's counters.
    writeFileSync(
      path.join(tmp, 'pods-node-1.json'),
      JSON.stringify([
        { namespace: KUBE_SYSTEM, pod: 'metrics-server-0', container: 'metrics-server', pid: ms.proc.pid },
      ]),
    );

    // The Service's endpoints: metrics-server's secure port on node-1's address (host network).
    const address = { ip: node1.podIp, nodeName: 'node-1' };
    const port = { name: 'https', port: 4443, protocol: 'TCP' };
    const meta = { name: 'metrics-server', namespace: KUBE_SYSTEM };
    await admin.request('POST', `/api/v1/namespaces/${KUBE_SYSTEM}/endpoints`, {
      body: {
        apiVersion: 'v1',
        kind: 'Endpoints',
        metadata: meta,
        subsets: [{ addresses: [address], ports: [port] }],
      },
    });
    await admin.request('POST', `/apis/discovery.k8s.io/v1/namespaces/${KUBE_SYSTEM}/endpointslices`, {
      body: {
        apiVersion: 'discovery.k8s.io/v1',
        kind: 'EndpointSlice',
        metadata: {
          name: 'metrics-server-test',
          namespace: KUBE_SYSTEM,
          labels: { 'kubernetes.io/service-name': 'metrics-server' },
        },
        addressType: 'IPv4',
        endpoints: [{ addresses: [address.ip], nodeName: address.nodeName, conditions: { ready: true } }],
        ports: [port],
      },
    });

    const fail = (what: string) => `${what}\n${tail(ms)}`;
    await waitUntil(
      'APIService v1beta1.metrics.k8s.io Available',
      async () => {
        if (ms.proc.exitCode !== null) throw new Error(fail(`metrics-server exited (${ms.proc.exitCode})`));
        const a = await admin.get<KubeObject & { status?: { conditions?: Condition[] } }>(API_SERVICE);
        return a.status?.conditions?.some((c) => c.type === 'Available' && c.status === 'True');
      },
      90_000,
      1000,
    );

    // Node metrics need two scrapes (a CPU rate): metrics-server's default resolution is 60 s.
    let top = '';
    await waitUntil(
      'kubectl top nodes with the three nodes',
      async () => {
        if (ms.proc.exitCode !== null) throw new Error(fail(`metrics-server exited (${ms.proc.exitCode})`));
        const r = await execa(kubectl, ['top', 'nodes', '--kubeconfig', cp.kubeconfig], { reject: false });
        top = r.stdout;
        return (
          r.exitCode === 0 &&
          NODES.every((n) => new RegExp(`^${n.name}\\s+\\d+m\\s+\\d+%\\s+\\d+Mi\\s+\\d+%`, 'm').test(top))
        );
      },
      150_000,
      5000,
    ).catch((err: unknown) => {
      throw new Error(fail(`${(err as Error).message}\nlast kubectl top nodes:\n${top}`));
    });
    process.stderr.write(`\nkubectl top nodes:\n${top}\n`);

    // edge-1's kubelet listens on 10350 only: its values came through the port its Node reports.
    const edge = children.find((c) => c.name === 'kubelet stand-in edge-1')!;
    expect(edge.output).toContain(`listening ${member('edge-1').podIp}:10350`);
    expect(edge.output.filter((l) => l.startsWith('GET /metrics/resource')).length).toBeGreaterThanOrEqual(2);

    // The operator's next check (the run asked to be looked at again) sets status.metricsServer.
    const status = await waitUntil(
      'status.metricsServer',
      async () => {
        const s = (await getCc()).status;
        return s?.metricsServer ? s : undefined;
      },
      60_000,
      1000,
    );
    expect(status.metricsServer).toEqual({ status: 'enabled', enabledTime: expect.any(String) });
    expect(status.conditions?.find((c) => c.type === METRICS_API_UNAVAILABLE)).toMatchObject({
      status: 'False',
      reason: 'Resolved',
    });

    // Settled: resyncs read the APIService and write nothing. metrics-server's own SubjectAccessReviews
    // (it authorizes the requests kube-apiserver forwards) are creates too, and not the operator's.
    let from = op!.lines.length;
    const before = await scrape(admin);
    for (let i = 0; i < 2; i++) from = op!.lines.indexOf(await op!.waitFor(NO_DRIFT, 60_000, from), from) + 1;
    const requests = diff(before, await scrape(admin));
    const writes = Object.entries(requests.writesByResource).filter(
      ([resource]) => !/subjectaccessreviews|tokenreviews/.test(resource),
    );
    expect(writes).toEqual([]);
  }, 300_000);

  it('drops status.metricsServer when metrics_server.enabled turns false', async () => {
    await admin.request('PATCH', ccPath(NS), {
      contentType: CONTENT_TYPE.merge,
      body: { spec: { metrics_server: { enabled: false } } },
    });
    const status = await waitUntil(
      'status.metricsServer removed',
      async () => {
        const s = (await getCc()).status;
        return s && s.metricsServer === undefined ? s : undefined;
      },
      60_000,
      500,
    );
    expect(status.conditions?.find((c) => c.type === 'Ready')?.status).toBe('True');
    expect(op!.lines.filter((l) => /run failed/.test(l))).toEqual([]);
  }, 120_000);
});
