/**
 * The process kubelet: what stands in, on this machine, for the kube-controller-manager's workload
 * controllers, the scheduler, the kubelets and the endpoints controller of a real cluster, so that the
 * monitoring stack the operator installs runs for real on the embedded control plane (etcd and
 * kube-apiserver only).
 *
 * - Workloads to Pods: Deployments (spec.replicas Pods), DaemonSets (one Pod per Node) and StatefulSets
 *   (`<name>-<ordinal>`, claims of volumeClaimTemplates kept as directories) of the namespaces it is
 *   given become Pod objects bound to a Node. A Pod whose template changed (e.g. prometheus-operator
 *   rewrote a StatefulSet after a `kubectl edit cc`) is stopped, deleted and made again.
 * - Pods to processes: each container whose image is one of the stack's (prometheus, prometheus-operator,
 *   prometheus-config-reloader, alertmanager, node-exporter, kube-state-metrics, kube-rbac-proxy) runs as
 *   the binary built from its pinned Go module (tools/envtest/test-tools.ts), with the container's own
 *   arguments and environment ($(VAR) expanded, downward API and secretKeyRef/configMapKeyRef values),
 *   init containers first. Its volumes — Secrets, ConfigMaps, emptyDirs, hostPaths, claims and the
 *   projected service-account token (a TokenRequest for the Pod's ServiceAccount, the cluster's CA, the
 *   namespace) — are files under the Pod's directory, bind-mounted at the containers' mount paths in a
 *   private mount namespace (`unshare --mount`, then chroot into a tmpfs root that holds only those
 *   mounts, /proc, /sys, /dev and a few files of /etc). Mounted Secrets and ConfigMaps are rewritten
 *   when they change, as a kubelet does, so the real config reloaders see prometheus-operator's new
 *   configuration. A Pod with an image that has no local build stays Pending with reason
 *   `NoLocalBuild`. A container that exits is restarted with backoff (restartPolicy Always).
 * - Networking: every Pod gets a Linux network namespace of its own (test/support/netns.ts: a veth pair,
 *   addresses in 198.18.0.0/15); a hostNetwork Pod shares its Node's namespace, and the Node's address is
 *   that namespace's. Pods reach kube-apiserver (loopback of the root namespace) through live-fwd
 *   (tools/live/fwd): a unix socket in the root namespace, and inside each namespace a listener on
 *   127.0.0.1:<API server port>, which is what KUBERNETES_SERVICE_HOST/PORT name. A Pod running
 *   Prometheus must reach every other Pod, and namespaces do not route to each other here (IP forwarding
 *   stays off on this host), so it runs in the root namespace with the root end of its veth pair as its
 *   address: its listen addresses and the reloader's reload URL are rewritten to that address.
 * - Status: a running Pod gets its IP, phase Running and Ready once every container port has a listener
 *   in the Pod's namespace (read from /proc/<pid>/net/tcp); Nodes get their address, this machine's CPU
 *   and memory as capacity, and Ready. No endpoints controller runs here, so the Endpoints of every
 *   Service with a selector in the given namespaces are written from the ready Pods.
 * Each process's output goes to `<dir>/logs/<pod>_<container>.log`. stop() ends every process and
 * removes every namespace; so do process exit, SIGINT and SIGTERM.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import {
  closeSync,
  existsSync,
  mkdirSync,
  openSync,
  readdirSync,
  readFileSync,
  renameSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { cpus, totalmem } from 'node:os';
import path from 'node:path';
import { ApiError, type KubeClient, type KubeObject } from '../../src/kube/client.js';
import { createNetNs, type NetNs } from '../../test/support/netns.js';
import { TEST_TOOLS, resolveTestTool, type TestToolName } from '../envtest/test-tools.js';
import { resolveGoTool, type GoToolSpec } from '../envtest/go-tools.js';
import { processAlive } from '../envtest/go-build.js';

/** Image name (last path segment, no tag) → the tool that stands for it. */
export const IMAGE_TOOLS: Record<string, string> = {
  prometheus: 'prometheus',
  'prometheus-operator': 'prometheus-operator',
  'prometheus-config-reloader': 'prometheus-config-reloader',
  alertmanager: 'alertmanager',
  'node-exporter': 'node-exporter',
  'kube-state-metrics': 'kube-state-metrics',
  'kube-rbac-proxy': 'kube-rbac-proxy',
};

/**
 * Whether an Alertmanager binary can be had: a test tool of that name, or TEST_ASSET_ALERTMANAGER. Without
 * one, Alertmanager's Pod stays Pending and what needs it is left out (and said so).
 */
export function alertmanagerAvailable(env: NodeJS.ProcessEnv = process.env): boolean {
  return Boolean((TEST_TOOLS as Record<string, GoToolSpec>).alertmanager || env.TEST_ASSET_ALERTMANAGER);
}

export function imageName(image: string): string {
  const last = image.split('/').pop() ?? image;
  return last.split('@')[0]!.split(':')[0]!;
}

type Obj = KubeObject & { spec?: any; status?: any }; // eslint-disable-line @typescript-eslint/no-explicit-any

interface Container {
  name: string;
  image: string;
  args?: string[];
  env?: {
    name: string;
    value?: string;
    valueFrom?: {
      fieldRef?: { fieldPath: string };
      secretKeyRef?: { name: string; key: string };
      configMapKeyRef?: { name: string; key: string };
    };
  }[];
  ports?: { name?: string; containerPort: number; protocol?: string }[];
  volumeMounts?: { name: string; mountPath: string; subPath?: string; readOnly?: boolean }[];
  readinessProbe?: {
    httpGet?: { path?: string; port: number | string; scheme?: string };
    tcpSocket?: { port: number | string };
  };
}

interface RunningContainer {
  name: string;
  tool: string;
  child?: ChildProcess;
  pid?: number;
  restarts: number;
  startedAt: string;
  stopped: boolean;
}

interface LivePod {
  namespace: string;
  name: string;
  uid: string;
  hash: string;
  node: string;
  ip: string;
  ns?: NetNs;
  rootNetwork: boolean;
  hostNetwork: boolean;
  dir: string;
  pod: Obj;
  containers: RunningContainer[];
  ready: boolean;
  pending?: string;
  volumeDigest: Map<string, string>;
  statusSent?: string;
}

export interface ProcessKubeletOptions {
  client: KubeClient;
  /** https://127.0.0.1:<port> of the API server. */
  server: string;
  /** The API server's CA (PEM): the projected ca.crt. */
  caPem: string;
  /** Working directory: Pods' files, claims and logs. */
  dir: string;
  /** Namespaces whose Deployments, DaemonSets, StatefulSets and Services are handled. */
  namespaces: string[];
  log?: (line: string) => void;
  /** How often workloads, Pods, mounted volumes and Endpoints are synced (ms). */
  syncMs?: number;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const isNotFound = (e: unknown) => e instanceof ApiError && e.notFound;
const shellQuote = (s: string) => `'${s.replace(/'/g, `'\\''`)}'`;

function hashOf(value: unknown): string {
  return createHash('sha256').update(JSON.stringify(value)).digest('hex').slice(0, 10);
}

/** Expands $(VAR) as the kubelet does; $$(VAR) stays literal. */
export function expandVars(s: string, env: Record<string, string>): string {
  return s.replace(/\$\$|\$\(([A-Za-z_][A-Za-z0-9_.-]*)\)/g, (m, name: string | undefined) =>
    m === '$$' ? '$' : name !== undefined && name in env ? env[name]! : m,
  );
}

/** The TCP ports with a listener in the network namespace of pid (IPv4 and IPv6). */
function listeningPorts(pid: number): Set<number> {
  const ports = new Set<number>();
  for (const f of ['tcp', 'tcp6']) {
    let text: string;
    try {
      text = readFileSync(`/proc/${pid}/net/${f}`, 'utf8');
    } catch {
      continue;
    }
    for (const line of text.split('\n').slice(1)) {
      const cols = line.trim().split(/\s+/);
      if (cols[3] === '0A') ports.add(parseInt(cols[1]!.split(':').pop()!, 16));
    }
  }
  return ports;
}

/** Resident memory (bytes) and CPU time (seconds) of a process, from /proc. */
export function processUsage(pid: number): { rss: number; cpu: number } | undefined {
  try {
    const status = readFileSync(`/proc/${pid}/status`, 'utf8');
    const rss = Number(/VmRSS:\s+(\d+) kB/.exec(status)?.[1] ?? 0) * 1024;
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    const ticks = Number(fields[11]) + Number(fields[12]);
    return { rss, cpu: ticks / 100 };
  } catch {
    return undefined;
  }
}

const ETC_FILES = ['hosts', 'nsswitch.conf', 'resolv.conf', 'passwd', 'group', 'localtime', 'ssl'];

export class ProcessKubelet {
  readonly pods = new Map<string, LivePod>();
  private readonly nodes = new Map<string, { ns: NetNs; ip: string }>();
  private readonly tools = new Map<string, string | undefined>();
  private readonly apiPort: string;
  private readonly socket: string;
  private readonly fwdPids: ChildProcess[] = [];
  private fwdBin = '';
  private apiNs?: NetNs;
  private stopped = false;
  private loop?: Promise<void>;
  private readonly log: (line: string) => void;
  private readonly exitHandler = () => this.killNow();

  constructor(private readonly o: ProcessKubeletOptions) {
    this.apiPort = new URL(o.server).port;
    this.socket = path.join(o.dir, 'apiserver.sock');
    this.log = o.log ?? ((l) => process.stderr.write(`live: ${l}\n`));
    mkdirSync(path.join(o.dir, 'logs'), { recursive: true });
  }

  /** Resolves (building when needed) every tool, then starts the sync loop. */
  async start(): Promise<void> {
    process.on('exit', this.exitHandler);
    for (const [image, tool] of Object.entries(IMAGE_TOOLS)) {
      if (this.tools.has(tool)) continue;
      this.tools.set(tool, await this.resolveTool(tool));
      if (!this.tools.get(tool)) this.log(`no local build for image ${image}: its Pods stay Pending`);
    }
    this.fwdBin = (await resolveTestTool('live-fwd')).path;
    this.fwdPids.push(
      this.spawnLogged(
        'apiserver-forwarder',
        this.fwdBin,
        [`unix:${this.socket}`, `tcp:127.0.0.1:${this.apiPort}`],
        {},
      ),
    );
    for (let i = 0; i < 50 && !existsSync(this.socket); i++) await sleep(100);
    // The API server as the Endpoints of default/kubernetes name it: Endpoints refuse loopback addresses,
    // so it is served (through the socket) on the root end of a veth pair of its own.
    this.apiNs = createNetNs();
    this.fwdPids.push(
      this.spawnLogged(
        'apiserver-endpoint',
        this.fwdBin,
        [`tcp:${this.apiNs.hostIp}:${this.apiPort}`, `unix:${this.socket}`],
        {},
      ),
    );
    this.loop = this.run();
  }

  private async resolveTool(tool: string): Promise<string | undefined> {
    const spec = (TEST_TOOLS as Record<string, GoToolSpec>)[tool];
    if (spec) return (await resolveTestTool(tool as TestToolName)).path;
    // Not (yet) one of our test tools: a prebuilt binary named by TEST_ASSET_<TOOL>.
    const env = `TEST_ASSET_${tool.toUpperCase().replace(/-/g, '_')}`;
    if (process.env[env]) return (await resolveGoTool({ name: tool, assetEnv: env, pkg: '.' })).path;
    return undefined;
  }

  private spawnLogged(logName: string, cmd: string, args: string[], env: NodeJS.ProcessEnv): ChildProcess {
    const fd = openSync(path.join(this.o.dir, 'logs', `${logName}.log`), 'a');
    const child = spawn(cmd, args, { stdio: ['ignore', fd, fd], env });
    closeSync(fd);
    return child;
  }

  private async run(): Promise<void> {
    while (!this.stopped) {
      try {
        await this.syncOnce();
      } catch (err) {
        if (!this.stopped) this.log(`sync: ${(err as Error).message}`);
      }
      await sleep(this.o.syncMs ?? 1000);
    }
  }

  /** One pass: Nodes, workloads → Pods, processes, volumes, status, Endpoints. */
  async syncOnce(): Promise<void> {
    const nodes = (await this.o.client.get<{ items: Obj[] }>('/api/v1/nodes')).items;
    for (const n of nodes) await this.syncNode(n);
    await this.syncApiServerEndpoints();
    const nodeNames = nodes.map((n) => n.metadata.name).sort();
    if (nodeNames.length === 0) return;
    for (const namespace of this.o.namespaces) {
      const want = await this.desiredPods(namespace, nodeNames);
      const existing = (await this.o.client.get<{ items: Obj[] }>(`/api/v1/namespaces/${namespace}/pods`))
        .items;
      for (const p of existing) {
        const w = want.get(p.metadata.name);
        if (
          !w ||
          w.metadata.annotations?.['live.ks-installer.io/template-hash'] !==
            p.metadata.annotations?.['live.ks-installer.io/template-hash']
        ) {
          await this.deletePod(namespace, p.metadata.name);
        }
      }
      const left = new Set(
        (await this.o.client.get<{ items: Obj[] }>(`/api/v1/namespaces/${namespace}/pods`)).items.map(
          (p) => p.metadata.name,
        ),
      );
      for (const [name, pod] of want) {
        if (!left.has(name)) {
          try {
            await this.o.client.request('POST', `/api/v1/namespaces/${namespace}/pods`, { body: pod });
          } catch (err) {
            this.log(`pod ${namespace}/${name}: ${(err as Error).message}`);
          }
        }
      }
      const pods = (await this.o.client.get<{ items: Obj[] }>(`/api/v1/namespaces/${namespace}/pods`)).items;
      for (const p of pods) await this.syncPod(p);
      await this.syncEndpoints(namespace, pods);
      await this.syncWorkloadStatus(namespace, pods);
    }
    this.writeOwner();
  }

  private async syncNode(n: Obj): Promise<void> {
    const name = n.metadata.name;
    if (!this.nodes.has(name)) {
      const ns = createNetNs();
      this.nodes.set(name, { ns, ip: ns.podIp });
      const fwd = this.spawnLogged(
        `node-${name}-apiserver-forwarder`,
        'ip',
        ['netns', 'exec', ns.name, this.fwdBin, `tcp:127.0.0.1:${this.apiPort}`, `unix:${this.socket}`],
        {},
      );
      this.fwdPids.push(fwd);
    }
    const { ip } = this.nodes.get(name)!;
    const now = new Date().toISOString();
    const capacity = {
      cpu: String(cpus().length),
      memory: `${Math.floor(totalmem() / 1024)}Ki`,
      pods: '110',
    };
    const status = {
      addresses: [
        { type: 'InternalIP', address: ip },
        { type: 'Hostname', address: name },
      ],
      capacity,
      allocatable: capacity,
      conditions: [
        {
          type: 'Ready',
          status: 'True',
          reason: 'KubeletReady',
          message: 'process kubelet (tools/live)',
          lastHeartbeatTime: now,
          lastTransitionTime: now,
        },
      ],
      nodeInfo: {
        kubeletVersion: 'v1.34.4',
        kubeProxyVersion: '',
        architecture: 'amd64',
        operatingSystem: 'linux',
        osImage: 'process kubelet',
        kernelVersion: '',
        containerRuntimeVersion: 'process://',
        bootID: '',
        machineID: '',
        systemUUID: '',
      },
    };
    const addrNow = JSON.stringify(n.status?.addresses ?? []);
    if (addrNow !== JSON.stringify(status.addresses) || n.status?.conditions?.[0]?.status !== 'True') {
      await this.o.client.request('PATCH', `/api/v1/nodes/${name}/status`, {
        body: { status },
        contentType: 'application/merge-patch+json',
      });
    }
  }

  /** The Pods the workloads of a namespace call for, by name. */
  private async desiredPods(namespace: string, nodes: string[]): Promise<Map<string, Obj>> {
    const want = new Map<string, Obj>();
    const list = async (kind: string) =>
      (await this.o.client.get<{ items: Obj[] }>(`/apis/apps/v1/namespaces/${namespace}/${kind}`)).items;
    const make = (owner: Obj, kind: string, name: string, node: string, extraVolumes: unknown[] = []) => {
      const template = owner.spec.template;
      const hash = hashOf({ template, extraVolumes });
      const spec = { ...template.spec, nodeName: node };
      if (extraVolumes.length) spec.volumes = [...(spec.volumes ?? []), ...extraVolumes];
      want.set(name, {
        apiVersion: 'v1',
        kind: 'Pod',
        metadata: {
          name,
          namespace,
          labels: {
            ...(template.metadata?.labels ?? {}),
            ...(kind === 'StatefulSet' ? { 'statefulset.kubernetes.io/pod-name': name } : {}),
          },
          annotations: {
            ...(template.metadata?.annotations ?? {}),
            'live.ks-installer.io/template-hash': hash,
          },
          ownerReferences: [
            {
              apiVersion: 'apps/v1',
              kind,
              name: owner.metadata.name,
              uid: owner.metadata.uid!,
              controller: true,
            },
          ],
        },
        spec: kind === 'StatefulSet' ? { ...spec, hostname: name, subdomain: owner.spec.serviceName } : spec,
      });
    };
    let next = 0;
    for (const d of await list('deployments')) {
      const h = hashOf(d.spec.template).slice(0, 8);
      for (let i = 0; i < (d.spec.replicas ?? 1); i++)
        make(d, 'Deployment', `${d.metadata.name}-${h}-${i}`, nodes[next++ % nodes.length]!);
    }
    for (const ds of await list('daemonsets'))
      for (const node of nodes) make(ds, 'DaemonSet', `${ds.metadata.name}-${node}`, node);
    for (const s of await list('statefulsets')) {
      for (let i = 0; i < (s.spec.replicas ?? 1); i++) {
        const name = `${s.metadata.name}-${i}`;
        const claims = (s.spec.volumeClaimTemplates ?? []).map((t: Obj) => ({
          name: t.metadata.name,
          persistentVolumeClaim: { claimName: `${t.metadata.name}-${name}` },
        }));
        make(s, 'StatefulSet', name, nodes[next++ % nodes.length]!, claims);
      }
    }
    return want;
  }

  private async deletePod(namespace: string, name: string): Promise<void> {
    const key = `${namespace}/${name}`;
    const live = this.pods.get(key);
    if (live) {
      this.log(`pod ${key}: template changed or workload gone, stopping`);
      await this.stopPod(live);
      this.pods.delete(key);
    }
    await this.o.client
      .request('DELETE', `/api/v1/namespaces/${namespace}/pods/${name}`, { query: { gracePeriodSeconds: 0 } })
      .catch((e: unknown) => {
        if (!isNotFound(e)) throw e;
      });
  }

  private async syncPod(p: Obj): Promise<void> {
    const key = `${p.metadata.namespace}/${p.metadata.name}`;
    let live = this.pods.get(key);
    if (live && live.uid !== p.metadata.uid) {
      await this.stopPod(live);
      this.pods.delete(key);
      live = undefined;
    }
    if (!live) {
      live = await this.startPod(p);
      this.pods.set(key, live);
    }
    live.pod = p;
    if (!live.pending) await this.writeVolumes(live);
    await this.reportStatus(live);
  }

  private async startPod(p: Obj): Promise<LivePod> {
    const namespace = p.metadata.namespace!;
    const spec = p.spec;
    const node = this.nodes.get(spec.nodeName);
    const all: Container[] = [...(spec.initContainers ?? []), ...spec.containers];
    const dir = path.join(this.o.dir, 'pods', `${namespace}_${p.metadata.name}`);
    mkdirSync(dir, { recursive: true });
    const live: LivePod = {
      namespace,
      name: p.metadata.name,
      uid: p.metadata.uid!,
      hash: p.metadata.annotations?.['live.ks-installer.io/template-hash'] ?? '',
      node: spec.nodeName,
      ip: '',
      rootNetwork: false,
      hostNetwork: !!spec.hostNetwork,
      dir,
      pod: p,
      containers: [],
      ready: false,
      volumeDigest: new Map(),
    };
    const missing = all.filter((c) => !this.tools.get(IMAGE_TOOLS[imageName(c.image)] ?? ''));
    if (missing.length > 0 || !node) {
      live.pending = node
        ? `no local build of image ${missing.map((c) => c.image).join(', ')} (the process kubelet runs only the stack's own images)`
        : `node ${spec.nodeName} unknown`;
      this.log(`pod ${namespace}/${live.name}: Pending: ${live.pending}`);
      return live;
    }
    if (live.hostNetwork) {
      live.ns = node.ns;
      live.ip = node.ip;
    } else {
      live.rootNetwork = all.some((c) => imageName(c.image) === 'prometheus');
      live.ns = createNetNs();
      live.ip = live.rootNetwork ? live.ns.hostIp : live.ns.podIp;
      if (!live.rootNetwork) {
        live.containers.push({
          name: 'apiserver-forwarder',
          tool: 'live-fwd',
          restarts: 0,
          startedAt: '',
          stopped: false,
        });
        const fwd = live.containers[0]!;
        fwd.child = this.spawnLogged(
          `${namespace}_${live.name}_forwarder`,
          'ip',
          [
            'netns',
            'exec',
            live.ns.name,
            this.fwdBin,
            `tcp:127.0.0.1:${this.apiPort}`,
            `unix:${this.socket}`,
          ],
          {},
        );
        fwd.pid = fwd.child.pid;
      }
    }
    this.log(
      `pod ${namespace}/${live.name} on ${live.node} at ${live.ip}${live.rootNetwork ? ' (root network namespace)' : ''}`,
    );
    await this.writeVolumes(live);
    void this.runContainers(live, spec.initContainers ?? [], spec.containers);
    return live;
  }

  private async runContainers(live: LivePod, init: Container[], main: Container[]): Promise<void> {
    for (const c of init) {
      const rc: RunningContainer = {
        name: c.name,
        tool: IMAGE_TOOLS[imageName(c.image)]!,
        restarts: 0,
        startedAt: '',
        stopped: false,
      };
      live.containers.push(rc);
      for (;;) {
        if (rc.stopped || this.stopped) return;
        const code = await new Promise<number | null>((resolve) => {
          const child = this.launch(live, c, rc);
          child.once('exit', (code) => resolve(code));
        });
        if (code === 0) break;
        rc.restarts++;
        this.log(`pod ${live.namespace}/${live.name}: init container ${c.name} exited ${code}, retrying`);
        await sleep(Math.min(2000 * rc.restarts, 10_000));
      }
    }
    for (const c of main) {
      const rc: RunningContainer = {
        name: c.name,
        tool: IMAGE_TOOLS[imageName(c.image)]!,
        restarts: 0,
        startedAt: '',
        stopped: false,
      };
      live.containers.push(rc);
      const keep = () => {
        if (rc.stopped || this.stopped) return;
        const child = this.launch(live, c, rc);
        child.once('exit', (code, signal) => {
          if (rc.stopped || this.stopped) return;
          rc.restarts++;
          this.log(
            `pod ${live.namespace}/${live.name}: ${c.name} exited (${code ?? signal}), restart ${rc.restarts}`,
          );
          setTimeout(keep, Math.min(1000 * 2 ** Math.min(rc.restarts, 5), 30_000));
        });
      };
      keep();
    }
  }

  private env(live: LivePod, c: Container): Record<string, string> {
    const p = live.pod;
    const env: Record<string, string> = {};
    const field = (f: string): string =>
      ({
        'metadata.name': p.metadata.name,
        'metadata.namespace': p.metadata.namespace!,
        'metadata.uid': p.metadata.uid!,
        'spec.nodeName': live.node,
        'spec.serviceAccountName': p.spec.serviceAccountName ?? 'default',
        'status.podIP': live.ip,
        'status.hostIP': this.nodes.get(live.node)!.ip,
      })[f] ?? '';
    for (const e of c.env ?? []) {
      if (e.value !== undefined) env[e.name] = expandVars(e.value, env);
      else if (e.valueFrom?.fieldRef) env[e.name] = field(e.valueFrom.fieldRef.fieldPath);
      else if (e.valueFrom?.secretKeyRef || e.valueFrom?.configMapKeyRef) {
        const ref = (e.valueFrom.secretKeyRef ?? e.valueFrom.configMapKeyRef)!;
        const file = path.join(
          live.dir,
          'env',
          `${e.valueFrom.secretKeyRef ? 'secret' : 'configmap'}-${ref.name}-${ref.key}`,
        );
        if (existsSync(file)) env[e.name] = readFileSync(file, 'utf8');
      }
    }
    return env;
  }

  /** Arguments the root-namespace Pod (Prometheus) needs moved from `:port`/localhost onto its address. */
  private rewriteArgs(live: LivePod, tool: string, args: string[]): string[] {
    if (!live.rootNetwork) return args;
    const onIp = (a: string) =>
      a.replace(/=(?:\[?(?:0\.0\.0\.0|::|localhost|127\.0\.0\.1)\]?)?:(\d+)/, `=${live.ip}:$1`);
    const out = args.map((a) => {
      if (/^--?(web\.)?listen-address=/.test(a)) return onIp(a);
      if (/^--?reload-url=/.test(a)) return a.replace(/\/\/(localhost|127\.0\.0\.1)(?=:)/, `//${live.ip}`);
      return a;
    });
    if (tool === 'prometheus' && !out.some((a) => /^--?web\.listen-address=/.test(a)))
      out.push(`--web.listen-address=${live.ip}:9090`);
    return out;
  }

  private launch(live: LivePod, c: Container, rc: RunningContainer): ChildProcess {
    const bin = this.tools.get(rc.tool)!;
    const root = path.join(live.dir, 'root', c.name);
    const tmp = path.join(live.dir, 'tmp', c.name);
    mkdirSync(root, { recursive: true });
    mkdirSync(tmp, { recursive: true });
    const env = this.env(live, c);
    const args = this.rewriteArgs(
      live,
      rc.tool,
      (c.args ?? []).map((a) => expandVars(a, env)),
    );
    const lines = [
      'set -e',
      `R=${shellQuote(root)}`,
      'mount -t tmpfs -o mode=755 ks-live "$R"',
      'mkdir -p "$R/proc" "$R/sys" "$R/dev" "$R/etc" "$R/tmp" "$R/ks"',
      'mount --rbind /proc "$R/proc"',
      'mount --rbind /sys "$R/sys"',
      'mount --rbind /dev "$R/dev"',
      `mount --bind ${shellQuote(tmp)} "$R/tmp"`,
      `touch "$R/ks/${rc.tool}"`,
      `mount --bind ${shellQuote(bin)} "$R/ks/${rc.tool}"`,
    ];
    for (const f of ETC_FILES) {
      const src = `/etc/${f}`;
      if (!existsSync(src)) continue;
      const isDir = statSync(src).isDirectory();
      lines.push(
        isDir ? `mkdir -p "$R${src}"` : `touch "$R${src}"`,
        `mount --bind ${shellQuote(src)} "$R${src}"`,
      );
    }
    for (const m of c.volumeMounts ?? []) {
      let src = this.volumeSource(live, m.name);
      if (!src) continue;
      if (m.subPath) src = path.join(src, m.subPath);
      const dst = `"$R"${shellQuote(m.mountPath)}`;
      const isDir = !existsSync(src) || statSync(src).isDirectory();
      if (isDir) {
        mkdirSync(src, { recursive: true });
        lines.push(`mkdir -p ${dst}`);
      } else lines.push(`mkdir -p "$(dirname ${dst})"`, `[ -e ${dst} ] || touch ${dst}`);
      lines.push(`mount --rbind ${shellQuote(src)} ${dst}`);
    }
    lines.push(`exec chroot "$R" /ks/${rc.tool} "$@"`);
    const script = path.join(live.dir, `run-${c.name}.sh`);
    writeFileSync(script, `${lines.join('\n')}\n`);
    const base = ['unshare', '--mount', '--propagation', 'private', 'sh', script, ...args];
    const cmd = live.rootNetwork ? base : ['ip', 'netns', 'exec', live.ns!.name, ...base];
    const childEnv: NodeJS.ProcessEnv = {
      PATH: '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin',
      HOME: '/tmp',
      KUBERNETES_SERVICE_HOST: '127.0.0.1',
      KUBERNETES_SERVICE_PORT: this.apiPort,
      ...env,
    };
    const child = this.spawnLogged(
      `${live.namespace}_${live.name}_${c.name}`,
      cmd[0]!,
      cmd.slice(1),
      childEnv,
    );
    rc.child = child;
    rc.pid = child.pid;
    rc.startedAt = new Date().toISOString();
    return child;
  }

  private volumeSource(live: LivePod, name: string): string | undefined {
    const v = (live.pod.spec.volumes ?? []).find((x: { name: string }) => x.name === name);
    if (!v) return undefined;
    if (v.hostPath) return v.hostPath.path;
    if (v.persistentVolumeClaim) {
      const d = path.join(this.o.dir, 'claims', live.namespace, v.persistentVolumeClaim.claimName);
      mkdirSync(d, { recursive: true });
      return d;
    }
    return path.join(live.dir, 'volumes', name);
  }

  /** Writes (or rewrites, when changed) the Pod's Secret, ConfigMap, projected and downward volumes. */
  private async writeVolumes(live: LivePod): Promise<void> {
    const ns = live.namespace;
    const get = async (kind: 'secrets' | 'configmaps', name: string) => {
      try {
        return await this.o.client.get<
          Obj & { data?: Record<string, string>; binaryData?: Record<string, string> }
        >(`/api/v1/namespaces/${ns}/${kind}/${name}`);
      } catch (e) {
        if (isNotFound(e)) return undefined;
        throw e;
      }
    };
    const decode = (kind: 'secrets' | 'configmaps', o: Awaited<ReturnType<typeof get>>) => {
      const files: Record<string, Buffer> = {};
      for (const [k, v] of Object.entries(o?.data ?? {}))
        files[k] = kind === 'secrets' ? Buffer.from(v, 'base64') : Buffer.from(v);
      for (const [k, v] of Object.entries(o?.binaryData ?? {})) files[k] = Buffer.from(v, 'base64');
      return files;
    };
    const pick = (files: Record<string, Buffer>, items?: { key: string; path: string }[]) => {
      if (!items) return files;
      const out: Record<string, Buffer> = {};
      for (const i of items) if (files[i.key]) out[i.path] = files[i.key]!;
      return out;
    };
    const field = (f: string) =>
      Buffer.from(
        ({ 'metadata.namespace': ns, 'metadata.name': live.name } as Record<string, string>)[f] ?? '',
      );
    for (const v of live.pod.spec.volumes ?? []) {
      let files: Record<string, Buffer> | undefined;
      if (v.secret)
        files = pick(decode('secrets', await get('secrets', v.secret.secretName)), v.secret.items);
      else if (v.configMap)
        files = pick(decode('configmaps', await get('configmaps', v.configMap.name)), v.configMap.items);
      else if (v.emptyDir) {
        mkdirSync(path.join(live.dir, 'volumes', v.name), { recursive: true });
        continue;
      } else if (v.downwardAPI) {
        files = {};
        for (const i of v.downwardAPI.items ?? [])
          if (i.fieldRef) files[i.path] = field(i.fieldRef.fieldPath);
      } else if (v.projected) {
        files = {};
        for (const s of v.projected.sources ?? []) {
          if (s.serviceAccountToken) {
            const old = live.volumeDigest.get(`${v.name}/token`);
            const token =
              old && Date.now() - Number(old) < 1800_000
                ? readFileSync(path.join(live.dir, 'volumes', v.name, s.serviceAccountToken.path))
                : Buffer.from(await this.token(live, s.serviceAccountToken.expirationSeconds));
            if (!old || Date.now() - Number(old) >= 1800_000)
              live.volumeDigest.set(`${v.name}/token`, String(Date.now()));
            files[s.serviceAccountToken.path] = token;
          } else if (s.configMap) {
            const cm = await get('configmaps', s.configMap.name);
            const data = cm
              ? decode('configmaps', cm)
              : s.configMap.name === 'kube-root-ca.crt'
                ? { 'ca.crt': Buffer.from(this.o.caPem) }
                : {};
            Object.assign(files, pick(data, s.configMap.items));
          } else if (s.secret)
            Object.assign(
              files,
              pick(decode('secrets', await get('secrets', s.secret.name)), s.secret.items),
            );
          else if (s.downwardAPI)
            for (const i of s.downwardAPI.items ?? [])
              if (i.fieldRef) files[i.path] = field(i.fieldRef.fieldPath);
        }
      } else continue;
      const digest = hashOf(Object.entries(files).map(([k, b]) => [k, b.toString('base64')]));
      if (live.volumeDigest.get(v.name) === digest) continue;
      const dir = path.join(live.dir, 'volumes', v.name);
      mkdirSync(dir, { recursive: true });
      for (const [file, content] of Object.entries(files)) {
        const target = path.join(dir, file);
        mkdirSync(path.dirname(target), { recursive: true });
        writeFileSync(`${target}.tmp`, content, { mode: 0o600 });
        renameSync(`${target}.tmp`, target);
      }
      if (live.volumeDigest.has(v.name))
        this.log(`pod ${ns}/${live.name}: volume ${v.name} rewritten (its source changed)`);
      live.volumeDigest.set(v.name, digest);
    }
    // Values of env secretKeyRef / configMapKeyRef.
    for (const c of [...(live.pod.spec.initContainers ?? []), ...live.pod.spec.containers] as Container[]) {
      for (const e of c.env ?? []) {
        const ref = e.valueFrom?.secretKeyRef ?? e.valueFrom?.configMapKeyRef;
        if (!ref) continue;
        const kind = e.valueFrom!.secretKeyRef ? 'secrets' : 'configmaps';
        const value = decode(kind, await get(kind, ref.name))[ref.key];
        if (!value) continue;
        mkdirSync(path.join(live.dir, 'env'), { recursive: true });
        writeFileSync(
          path.join(live.dir, 'env', `${kind === 'secrets' ? 'secret' : 'configmap'}-${ref.name}-${ref.key}`),
          value,
          { mode: 0o600 },
        );
      }
    }
  }

  private async token(live: LivePod, expirationSeconds = 3607): Promise<string> {
    const sa = live.pod.spec.serviceAccountName ?? 'default';
    const review = await this.o.client.request<{ status: { token: string } }>(
      'POST',
      `/api/v1/namespaces/${live.namespace}/serviceaccounts/${sa}/token`,
      {
        body: {
          apiVersion: 'authentication.k8s.io/v1',
          kind: 'TokenRequest',
          spec: {
            expirationSeconds: Math.max(expirationSeconds, 3600),
            boundObjectRef: { apiVersion: 'v1', kind: 'Pod', name: live.name, uid: live.uid },
          },
        },
      },
    );
    return review.status.token;
  }

  private async reportStatus(live: LivePod): Promise<void> {
    const now = new Date().toISOString();
    let status: Record<string, unknown>;
    if (live.pending) {
      status = {
        phase: 'Pending',
        ...(this.nodes.get(live.node) ? { hostIP: this.nodes.get(live.node)!.ip } : {}),
        reason: 'NoLocalBuild',
        message: live.pending,
        conditions: [
          { type: 'PodScheduled', status: 'True' },
          { type: 'Ready', status: 'False', reason: 'NoLocalBuild', message: live.pending },
        ],
      };
    } else {
      const specContainers: Container[] = live.pod.spec.containers;
      const statuses = await Promise.all(
        specContainers.map(async (c) => {
          const rc = live.containers.find((x) => x.name === c.name);
          const running = !!rc?.child && rc.child.exitCode === null && rc.child.signalCode === null;
          const ready = running && rc?.pid !== undefined && (await this.probe(live, c, rc.pid));
          return {
            name: c.name,
            image: c.image,
            imageID: '',
            ready,
            started: running,
            restartCount: rc?.restarts ?? 0,
            state: running
              ? { running: { startedAt: rc!.startedAt } }
              : { waiting: { reason: rc ? 'CrashLoopBackOff' : 'PodInitializing' } },
          };
        }),
      );
      live.ready = statuses.every((s) => s.ready);
      const cond = live.ready ? 'True' : 'False';
      status = {
        phase: 'Running',
        hostIP: this.nodes.get(live.node)!.ip,
        podIP: live.ip,
        podIPs: [{ ip: live.ip }],
        startTime: live.pod.status?.startTime ?? now,
        conditions: [
          { type: 'PodScheduled', status: 'True' },
          { type: 'Initialized', status: 'True' },
          { type: 'ContainersReady', status: cond },
          { type: 'Ready', status: cond },
        ],
        containerStatuses: statuses,
      };
    }
    const digest = hashOf(status);
    if (live.statusSent === digest) return;
    await this.o.client.request('PATCH', `/api/v1/namespaces/${live.namespace}/pods/${live.name}/status`, {
      body: { status },
      contentType: 'application/merge-patch+json',
    });
    live.statusSent = digest;
  }

  /**
   * A container's readiness: its readinessProbe (httpGet from the root namespace to the Pod's address,
   * tcpSocket as a listener in the Pod's namespace), else a listener on each of its TCP ports.
   */
  private async probe(live: LivePod, c: Container, pid: number): Promise<boolean> {
    const portOf = (p: number | string) =>
      typeof p === 'number' ? p : ((c.ports ?? []).find((x) => x.name === p)?.containerPort ?? Number(p));
    const probe = c.readinessProbe;
    if (probe?.httpGet) {
      const url = `${probe.httpGet.scheme === 'HTTPS' ? 'https' : 'http'}://${live.ip}:${portOf(probe.httpGet.port)}${probe.httpGet.path ?? '/'}`;
      try {
        const res = await fetch(url, { signal: AbortSignal.timeout(2000) });
        await res.arrayBuffer();
        return res.status >= 200 && res.status < 400;
      } catch {
        return false;
      }
    }
    const ports = listeningPorts(pid);
    if (probe?.tcpSocket) return ports.has(portOf(probe.tcpSocket.port));
    return (c.ports ?? [])
      .filter((p) => (p.protocol ?? 'TCP') === 'TCP')
      .every((p) => ports.has(p.containerPort));
  }

  /**
   * The status a workload controller would write: replica counts from the Pods it owns and their
   * readiness, observedGeneration = generation (kube-state-metrics reads both).
   */
  private async syncWorkloadStatus(namespace: string, pods: Obj[]): Promise<void> {
    for (const kind of ['deployments', 'daemonsets', 'statefulsets'] as const) {
      const items = (
        await this.o.client.get<{ items: Obj[] }>(`/apis/apps/v1/namespaces/${namespace}/${kind}`)
      ).items;
      for (const w of items) {
        const owned = pods.filter((p) =>
          ((p.metadata as { ownerReferences?: { uid: string }[] }).ownerReferences ?? []).some(
            (o) => o.uid === w.metadata.uid,
          ),
        );
        const total = owned.length;
        const ready = owned.filter((p) => this.pods.get(`${namespace}/${p.metadata.name}`)?.ready).length;
        const generation = w.metadata.generation;
        const status =
          kind === 'deployments'
            ? {
                observedGeneration: generation,
                replicas: total,
                updatedReplicas: total,
                readyReplicas: ready,
                availableReplicas: ready,
                unavailableReplicas: total - ready,
              }
            : kind === 'daemonsets'
              ? {
                  observedGeneration: generation,
                  desiredNumberScheduled: total,
                  currentNumberScheduled: total,
                  updatedNumberScheduled: total,
                  numberReady: ready,
                  numberAvailable: ready,
                  numberUnavailable: total - ready,
                  numberMisscheduled: 0,
                }
              : {
                  observedGeneration: generation,
                  replicas: total,
                  currentReplicas: total,
                  updatedReplicas: total,
                  readyReplicas: ready,
                  availableReplicas: ready,
                };
        const now = w.status ?? {};
        if (Object.entries(status).every(([k, v]) => (now[k] ?? 0) === v)) continue;
        await this.o.client.request(
          'PATCH',
          `/apis/apps/v1/namespaces/${namespace}/${kind}/${w.metadata.name}/status`,
          {
            body: { status },
            contentType: 'application/merge-patch+json',
          },
        );
      }
    }
  }

  /** default/kubernetes: the API server at its veth address (kube-apiserver itself advertises 127.0.0.1). */
  private async syncApiServerEndpoints(): Promise<void> {
    const subsets = [
      {
        addresses: [{ ip: this.apiNs!.hostIp }],
        ports: [{ name: 'https', port: Number(this.apiPort), protocol: 'TCP' }],
      },
    ];
    await this.putEndpoints('default', 'kubernetes', {}, subsets);
  }

  private async putEndpoints(
    namespace: string,
    name: string,
    labels: Record<string, string>,
    subsets: unknown[],
  ): Promise<void> {
    const body = { apiVersion: 'v1', kind: 'Endpoints', metadata: { name, namespace, labels }, subsets };
    const p = `/api/v1/namespaces/${namespace}/endpoints/${name}`;
    const current = await this.o.client.get<Obj & { subsets?: unknown[] }>(p).catch((e: unknown) => {
      if (isNotFound(e)) return undefined;
      throw e;
    });
    if (!current) await this.o.client.request('POST', `/api/v1/namespaces/${namespace}/endpoints`, { body });
    else if (JSON.stringify(current.subsets ?? []) !== JSON.stringify(subsets))
      await this.o.client.request('PUT', p, {
        body: {
          ...body,
          metadata: {
            ...body.metadata,
            labels: current.metadata.labels ?? labels,
            resourceVersion: current.metadata.resourceVersion,
          },
        },
      });
  }

  /** Endpoints of every Service with a selector: the ready Pods it selects, its ports resolved. */
  private async syncEndpoints(namespace: string, pods: Obj[]): Promise<void> {
    const services = (await this.o.client.get<{ items: Obj[] }>(`/api/v1/namespaces/${namespace}/services`))
      .items;
    for (const svc of services) {
      const selector: Record<string, string> | undefined = svc.spec.selector;
      if (!selector || Object.keys(selector).length === 0) continue;
      const selected = pods.filter((p) =>
        Object.entries(selector).every(([k, v]) => p.metadata.labels?.[k] === v),
      );
      const ready = selected.filter((p) => this.pods.get(`${namespace}/${p.metadata.name}`)?.ready);
      const subsets = [] as unknown[];
      if (ready.length > 0) {
        const first = ready[0]!;
        const ports = (svc.spec.ports ?? []).map(
          (sp: { name?: string; port: number; targetPort?: number | string; protocol?: string }) => {
            let port = typeof sp.targetPort === 'number' ? sp.targetPort : sp.port;
            if (typeof sp.targetPort === 'string') {
              for (const c of first.spec.containers as Container[])
                for (const cp of c.ports ?? []) if (cp.name === sp.targetPort) port = cp.containerPort;
            }
            return { ...(sp.name ? { name: sp.name } : {}), port, protocol: sp.protocol ?? 'TCP' };
          },
        );
        subsets.push({
          addresses: ready
            .map((p) => ({
              ip: this.pods.get(`${namespace}/${p.metadata.name}`)!.ip,
              nodeName: p.spec.nodeName,
              targetRef: { kind: 'Pod', namespace, name: p.metadata.name, uid: p.metadata.uid },
            }))
            .sort((a, b) => a.targetRef.name.localeCompare(b.targetRef.name)),
          ports,
        });
      }
      await this.putEndpoints(namespace, svc.metadata.name, svc.metadata.labels ?? {}, subsets);
    }
  }

  /** Records this process and the pids it started, for reapOrphanedStacks after a SIGKILL of this one. */
  private writeOwner(): void {
    const pids = this.processes().map((p) => p.pid);
    const record = JSON.stringify({ owner: process.pid, pids });
    if (record === this.ownerRecord) return;
    writeFileSync(path.join(this.o.dir, 'owner.json'), record);
    this.ownerRecord = record;
  }

  private ownerRecord = '';

  /** Every process the stack runs now: pod, container, pid. */
  processes(): { pod: string; container: string; pid: number }[] {
    const out = [] as { pod: string; container: string; pid: number }[];
    for (const p of this.pods.values())
      for (const c of p.containers)
        if (c.pid && c.child && c.child.exitCode === null && c.child.signalCode === null)
          out.push({ pod: `${p.namespace}/${p.name}`, container: c.name, pid: c.pid });
    for (const f of this.fwdPids)
      if (f.pid && f.exitCode === null) out.push({ pod: '-', container: 'apiserver-forwarder', pid: f.pid });
    return out;
  }

  /** The address a Pod runs at (its Pod IP). */
  podIp(namespace: string, name: string): string | undefined {
    return this.pods.get(`${namespace}/${name}`)?.ip;
  }

  /** The network namespace (name and address) of each Node. */
  nodeNetworks(): Map<string, { ns: NetNs; ip: string }> {
    return this.nodes;
  }

  private async stopPod(live: LivePod): Promise<void> {
    const children = live.containers.map((c) => {
      c.stopped = true;
      return c.child;
    });
    await Promise.all(
      children.map(async (child) => {
        if (!child || child.exitCode !== null || child.signalCode !== null) return;
        const exited = new Promise((r) => child.once('exit', r));
        child.kill('SIGTERM');
        const t = setTimeout(() => child.kill('SIGKILL'), 5000);
        await exited;
        clearTimeout(t);
      }),
    );
    if (live.ns && !live.hostNetwork) live.ns.remove();
  }

  /** Stops every process, removes every namespace. */
  async stop(): Promise<void> {
    this.stopped = true;
    await this.loop;
    for (const p of this.pods.values()) await this.stopPod(p);
    for (const f of this.fwdPids) if (f.exitCode === null) f.kill('SIGKILL');
    for (const n of this.nodes.values()) n.ns.remove();
    this.apiNs?.remove();
    this.pods.clear();
    this.nodes.clear();
    process.removeListener('exit', this.exitHandler);
  }

  /** Synchronous last resort for process exit. */
  killNow(): void {
    this.stopped = true;
    for (const p of this.pods.values())
      for (const c of p.containers) if (c.child && c.child.exitCode === null) c.child.kill('SIGKILL');
    for (const f of this.fwdPids) if (f.exitCode === null) f.kill('SIGKILL');
    for (const p of this.pods.values()) if (p.ns && !p.hostNetwork) p.ns.remove();
    for (const n of this.nodes.values()) n.ns.remove();
    this.apiNs?.remove();
  }

  /** A random suffix (unused names for ad-hoc objects). */
  static suffix(): string {
    return randomBytes(3).toString('hex');
  }
}

export function removeDir(dir: string): void {
  rmSync(dir, { recursive: true, force: true });
}

/**
 * Ends what a live stack whose owner was killed outright (SIGKILL, OOM) left running: its processes (a
 * pid is killed only while it still runs one of the stack's binaries, pids get reused) and its working
 * directory. Its network namespaces are swept by test/support/netns.ts.
 */
export function reapOrphanedStacks(base: string): number {
  let reaped = 0;
  const binaries = new Set(
    [...Object.values(IMAGE_TOOLS), 'live-fwd', 'node_exporter'].map((n) => n.slice(0, 15)),
  );
  for (const entry of readdirSync(base).filter((e) => e.startsWith('ks-live-'))) {
    const dir = path.join(base, entry);
    let record: { owner: number; pids: number[] };
    try {
      record = JSON.parse(readFileSync(path.join(dir, 'owner.json'), 'utf8')) as typeof record;
    } catch {
      continue;
    }
    if (record.owner === process.pid || processAlive(record.owner)) continue;
    for (const pid of record.pids) {
      let comm = '';
      try {
        comm = readFileSync(`/proc/${pid}/comm`, 'utf8').trim();
      } catch {
        continue;
      }
      if (binaries.has(comm)) {
        try {
          process.kill(pid, 'SIGKILL');
        } catch {
          /* already gone */
        }
      }
    }
    rmSync(dir, { recursive: true, force: true });
    reaped++;
  }
  return reaped;
}
