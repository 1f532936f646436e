/**
 * The process kubelet: what stands in, on this machine, for the kube-controller-manager's workload
 * controllers, the scheduler, the kubelets and the endpoints controller of a real cluster, so that the
 * monitoring stack the operator installs runs for real on the embedded control plane (etcd and
 * kube-apiserver only). This module runs the sync loop and owns the state; each concern is a module:
 *
 * - workloads.ts — the pods controller: Deployments, DaemonSets, StatefulSets → Pods bound to Nodes,
 *   and the workloads' status.
 * - runner.ts — the pod runner: containers as local processes (mount namespace, chroot, restarts).
 * - volumes.ts — Secrets, ConfigMaps, projected tokens and other volumes as files, rewritten on change.
 * - network.ts — network namespaces of Nodes and Pods, the forwarders to the API server.
 * - status.ts — Node and Pod status, readiness probes, Endpoints.
 * - images.ts — which image runs as which locally built tool.
 * - kubelet-endpoints.ts — the one stand-in: the kubelet's /metrics, /metrics/cadvisor and
 *   /metrics/resource of each Node, filled from /proc with the counters of the processes run here.
 * - model.ts — the types and helpers they share.
 *
 * stop() ends every process and removes every namespace; so do process exit, SIGINT and SIGTERM.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { closeSync, mkdirSync, openSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import type { NetNs } from '../../test/support/netns.js';
import { resolveTestTool } from '../envtest/test-tools.js';
import { processAlive } from '../envtest/go-build.js';
import { IMAGE_TOOLS, resolveTool } from './images.js';
import { PodDns } from './dns.js';
import { KubeletEndpoints } from './kubelet-endpoints.js';
import {
  sleep,
  type Kubelet,
  type LivePod,
  type NodeNet,
  type Obj,
  type ProcessKubeletOptions,
} from './model.js';
import { startApiForwarders } from './network.js';
import { startPod, stopPod } from './runner.js';
import { reportStatus, syncApiServerEndpoints, syncEndpoints, syncNode } from './status.js';
import { writeVolumes } from './volumes.js';
import { deletePod, desiredPods, ensureDefaultServiceAccount, syncWorkloadStatus } from './workloads.js';

export { alertmanagerAvailable, IMAGE_TOOLS, imageName } from './images.js';
export { expandVars, type ProcessKubeletOptions } from './model.js';
export { processUsage } from './runner.js';

export class ProcessKubelet implements Kubelet {
  readonly pods = new Map<string, LivePod>();
  readonly nodes = new Map<string, NodeNet>();
  readonly tools = new Map<string, string | undefined>();
  readonly apiPort: string;
  readonly socket: string;
  readonly fwdPids: ChildProcess[] = [];
  fwdBin = '';
  apiNs?: NetNs;
  stopped = false;
  private loop?: Promise<void>;
  readonly log: (line: string) => void;
  private readonly exitHandler = () => this.killNow();
  /** The kubelet's own endpoints (and cAdvisor's) for each Node: the stand-in of kubelet-endpoints.ts. */
  readonly endpoints: KubeletEndpoints = new KubeletEndpoints(this);
  readonly dns: PodDns;

  constructor(readonly o: ProcessKubeletOptions) {
    this.apiPort = new URL(o.server).port;
    this.socket = path.join(o.dir, 'apiserver.sock');
    this.log = o.log ?? ((l) => process.stderr.write(`live: ${l}\n`));
    this.dns = new PodDns(o.client, this.log);
    for (const e of o.exposed ?? []) this.fwdPids.push(e.child);
    mkdirSync(path.join(o.dir, 'logs'), { recursive: true });
  }

  /** Resolves (building when needed) every tool, then starts the sync loop. */
  async start(): Promise<void> {
    process.on('exit', this.exitHandler);
    for (const [image, tool] of Object.entries(IMAGE_TOOLS)) {
      if (this.tools.has(tool)) continue;
      this.tools.set(tool, await resolveTool(tool));
      if (!this.tools.get(tool)) this.log(`no local build for image ${image}: its Pods stay Pending`);
    }
    this.fwdBin = (await resolveTestTool('live-fwd')).path;
    this.apiNs = await startApiForwarders(this);
    this.loop = this.run();
  }

  spawnLogged(logName: string, cmd: string, args: string[], env: NodeJS.ProcessEnv): ChildProcess {
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
    for (const n of nodes) {
      await syncNode(this, n);
      const net = this.nodes.get(n.metadata.name)!;
      await this.endpoints.serve(n.metadata.name, net.ip, net.ns.name);
    }
    await syncApiServerEndpoints(this);
    const nodeNames = nodes.map((n) => n.metadata.name).sort();
    if (nodeNames.length === 0) return;
    for (const namespace of this.o.namespaces) {
      const want = await desiredPods(this, namespace, nodeNames);
      const existing = (await this.o.client.get<{ items: Obj[] }>(`/api/v1/namespaces/${namespace}/pods`))
        .items;
      for (const p of existing) {
        const w = want.get(p.metadata.name);
        if (
          !w ||
          w.metadata.annotations?.['live.ks-installer.io/template-hash'] !==
            p.metadata.annotations?.['live.ks-installer.io/template-hash']
        ) {
          await deletePod(this, namespace, p.metadata.name);
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
      await ensureDefaultServiceAccount(this, namespace);
      // One Pod's failure (logged) does not hold the others back.
      for (const p of pods)
        await this.syncPod(p).catch((err: unknown) => {
          if (!this.stopped) this.log(`pod ${namespace}/${p.metadata.name}: ${(err as Error).message}`);
        });
      await syncEndpoints(this, namespace, pods);
      await syncWorkloadStatus(this, namespace, pods);
    }
    this.writeOwner();
  }

  private async syncPod(p: Obj): Promise<void> {
    const started = process.hrtime.bigint();
    const key = `${p.metadata.namespace}/${p.metadata.name}`;
    let live = this.pods.get(key);
    const operation = live && live.uid === p.metadata.uid ? 'sync' : 'create';
    if (live && live.uid !== p.metadata.uid) {
      await stopPod(this, live);
      this.pods.delete(key);
      live = undefined;
    }
    if (!live) {
      live = await startPod(this, p);
      this.pods.set(key, live);
    }
    live.pod = p;
    if (!live.pending) await writeVolumes(this, live);
    await reportStatus(this, live);
    this.endpoints.metrics.observePodSync(
      live.node,
      operation,
      Number(process.hrtime.bigint() - started) / 1e9,
    );
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

  /** Stops every process, removes every namespace. */
  async stop(): Promise<void> {
    this.stopped = true;
    await this.loop;
    this.endpoints.close();
    this.dns.close();
    for (const p of this.pods.values()) await stopPod(this, p);
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
