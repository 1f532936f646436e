/**
 * STAND-IN: the kubelet's own HTTPS endpoints, and the cAdvisor inside it, for each Node the process
 * kubelet stands for. No real kubelet can run here (no container runtime: containers are processes), so
 * this module serves what a kubelet of Kubernetes v1.34 serves on port 10250 of its Node, in the same
 * exposition format, metric names, types, label names and stability markers, filled with the real
 * counters of the processes the process kubelet runs on that Node:
 *
 * - `/metrics/cadvisor` (cAdvisor v0.52 through the kubelet's label function): per container
 *   `container_cpu_{usage,user,system}_seconds_total`, `container_memory_{rss,cache,usage_bytes,
 *   working_set_bytes}`, `container_processes`, `container_threads`, `container_threads_max`,
 *   `container_file_descriptors`, `container_start_time_seconds`, `container_last_seen`, labelled
 *   `container`, `id`, `image`, `name`, `namespace`, `pod` (and `cpu="total"`); the same families for
 *   each Pod's cgroup (`container=""`, `image=""`, `name=""`); and `container_network_*` per interface for
 *   each Pod's sandbox, the Pod's network namespace (`lo`, `veth*`, `docker*` left out, as cAdvisor
 *   does), with `machine_cpu_cores` and `machine_memory_bytes`.
 * - `/metrics/resource`: `node_`, `pod_` and `container_cpu_usage_seconds_total` / `_memory_working_set_bytes`,
 *   `container_start_time_seconds`, `resource_scrape_error`.
 * - `/metrics` (the kubelet's own): `kubelet_node_name`, `kubelet_running_pods`,
 *   `kubelet_running_containers`, `kubelet_pleg_relist_duration_seconds` (the time this module takes to
 *   relist the state of the Node's container processes, every second, as the PLEG does),
 *   `kubelet_pod_worker_duration_seconds` (the process kubelet's real sync of each Pod), and
 *   `kubelet_volume_stats_*` of each PersistentVolumeClaim a Pod of the Node mounts (statfs of the
 *   claim's directory, and the bytes and inodes under it).
 *
 * Where the numbers come from: a container is its process and that process's descendants; CPU is the
 * sum of their utime and stime (/proc/<pid>/stat); memory is the sum of their resident pages
 * (/proc/<pid>/status: `rss` = RssAnon, `cache` = RssFile + RssShmem, usage and working set = their sum:
 * without a cgroup per container there is no inactive-file figure to subtract); network is
 * /proc/<pid>/net/dev of the Pod's namespace. The Node as a whole (`/metrics/resource`) is this machine
 * (/proc/stat, /proc/meminfo), as node-exporter sees it. What a real kubelet has and this one does not:
 * CFS quota counters (no CPU limits are enforced here), disk I/O, a pause container per Pod (the sandbox
 * is the network namespace itself: its series carry only network families).
 *
 * Serving: an HTTPS server per Node on a unix socket, with a self-signed serving certificate (CA
 * `<node>-ca@<time>`, as a kubelet without a certificate makes for itself), reached at
 * `<Node InternalIP>:10250` through a live-fwd listener inside the Node's network namespace. Requests are
 * authenticated and authorised as a kubelet with webhook authentication and authorisation does: the
 * bearer token through a TokenReview, then a SubjectAccessReview of `get` on `nodes/metrics` of the Node
 * (401 and 403 otherwise), both cached.
 */
import { lstatSync, readdirSync, readFileSync, rmSync, statfsSync } from 'node:fs';
import { createHash } from 'node:crypto';
import { createServer, type Server } from 'node:https';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { cpus, totalmem } from 'node:os';
import path from 'node:path';
import { createAuthority, issueCertificate } from '../../src/pki/index.js';
import type { Kubelet, LivePod } from './model.js';

export const KUBELET_PORT = 10250;
const CLK_TCK = 100;
/** cAdvisor leaves these interfaces out of a container's network statistics. */
const IGNORED_INTERFACES = /^(lo|veth|docker|nerdctl)/i;
/** The buckets of the kubelet's histograms (Prometheus' default buckets). */
const DEF_BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];

// ---- /proc ------------------------------------------------------------------------------------------

export interface ProcessTreeStats {
  /** CPU seconds in user and kernel mode. */
  user: number;
  system: number;
  rssAnon: number;
  rssFile: number;
  rssShmem: number;
  processes: number;
  threads: number;
  fds: number;
}

/** The process and its descendants (children of every thread). */
export function processTree(pid: number): number[] {
  const out: number[] = [];
  const seen = new Set<number>();
  const visit = (p: number) => {
    if (seen.has(p)) return;
    seen.add(p);
    out.push(p);
    let tasks: string[];
    try {
      tasks = readdirSync(`/proc/${p}/task`);
    } catch {
      return;
    }
    for (const t of tasks) {
      let children = '';
      try {
        children = readFileSync(`/proc/${p}/task/${t}/children`, 'utf8');
      } catch {
        continue;
      }
      for (const c of children.split(' ').filter(Boolean)) visit(Number(c));
    }
  };
  visit(pid);
  return out;
}

/** CPU, memory, thread and descriptor counts of a process and its descendants, from /proc. */
export function processTreeStats(pid: number): ProcessTreeStats | undefined {
  const s: ProcessTreeStats = {
    user: 0,
    system: 0,
    rssAnon: 0,
    rssFile: 0,
    rssShmem: 0,
    processes: 0,
    threads: 0,
    fds: 0,
  };
  for (const p of processTree(pid)) {
    try {
      const stat = readFileSync(`/proc/${p}/stat`, 'utf8');
      const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      const status = readFileSync(`/proc/${p}/status`, 'utf8');
      const kb = (k: string) => Number(new RegExp(`${k}:\\s+(\\d+) kB`).exec(status)?.[1] ?? 0) * 1024;
      s.user += Number(f[11]) / CLK_TCK;
      s.system += Number(f[12]) / CLK_TCK;
      s.threads += Number(f[17]);
      s.rssAnon += kb('RssAnon');
      s.rssFile += kb('RssFile');
      s.rssShmem += kb('RssShmem');
      s.processes += 1;
      try {
        s.fds += readdirSync(`/proc/${p}/fd`).length;
      } catch {
        /* gone meanwhile */
      }
    } catch {
      if (p === pid) return undefined;
    }
  }
  return s;
}

export interface InterfaceStats {
  name: string;
  rxBytes: number;
  rxPackets: number;
  rxErrors: number;
  rxDropped: number;
  txBytes: number;
  txPackets: number;
  txErrors: number;
  txDropped: number;
}

/** The interfaces of the network namespace of pid, as cAdvisor counts them (lo, veth*, docker* left out). */
export function netDev(pid: number): InterfaceStats[] {
  let text: string;
  try {
    text = readFileSync(`/proc/${pid}/net/dev`, 'utf8');
  } catch {
    return [];
  }
  const out: InterfaceStats[] = [];
  for (const line of text.split('\n').slice(2)) {
    const m = /^\s*([^:]+):\s*(.*)$/.exec(line);
    if (!m || IGNORED_INTERFACES.test(m[1]!)) continue;
    const v = m[2]!.trim().split(/\s+/).map(Number);
    out.push({
      name: m[1]!,
      rxBytes: v[0]!,
      rxPackets: v[1]!,
      rxErrors: v[2]!,
      rxDropped: v[3]!,
      txBytes: v[8]!,
      txPackets: v[9]!,
      txErrors: v[10]!,
      txDropped: v[11]!,
    });
  }
  return out;
}

/** This machine's CPU seconds (all CPUs, idle and iowait excluded) and working set, for the Node as a whole. */
function machineUsage(): { cpu: number; workingSet: number } {
  const cpuLine = readFileSync('/proc/stat', 'utf8').split('\n')[0]!.trim().split(/\s+/).slice(1).map(Number);
  // user nice system idle iowait irq softirq steal (guest is inside user)
  const busy = cpuLine.slice(0, 8).reduce((a, b, i) => (i === 3 || i === 4 ? a : a + b), 0);
  const mem = Object.fromEntries(
    readFileSync('/proc/meminfo', 'utf8')
      .split('\n')
      .filter(Boolean)
      .map((l) => [l.split(':')[0]!, Number.parseInt(l.split(':')[1]!, 10) * 1024]),
  );
  return { cpu: busy / CLK_TCK, workingSet: mem.MemTotal! - mem.MemFree! - (mem['Inactive(file)'] ?? 0) };
}

/** Bytes and inodes used under a directory (as the kubelet's du-based volume metrics count them). */
function usage(dir: string): { bytes: number; inodes: number } {
  let bytes = 0;
  let inodes = 0;
  const walk = (d: string) => {
    let entries: string[];
    try {
      entries = readdirSync(d);
    } catch {
      return;
    }
    for (const e of entries) {
      const p = path.join(d, e);
      try {
        const st = lstatSync(p);
        inodes++;
        bytes += st.blocks * 512;
        if (st.isDirectory()) walk(p);
      } catch {
        /* removed meanwhile */
      }
    }
  };
  walk(dir);
  return { bytes, inodes: inodes + 1 };
}

// ---- exposition ---------------------------------------------------------------------------------------

type Labels = Record<string, string>;

const escapeValue = (v: string) => v.replace(/\\/g, '\\\\').replace(/\n/g, '\\n').replace(/"/g, '\\"');

class Exposition {
  private readonly families = new Map<
    string,
    { help: string; type: string; samples: { name: string; labels: Labels; value: number; ts?: number }[] }
  >();

  family(name: string, type: string, help: string) {
    if (!this.families.has(name)) this.families.set(name, { help, type, samples: [] });
    const f = this.families.get(name)!;
    return (labels: Labels, value: number, ts?: number, sampleName = name) =>
      f.samples.push({ name: sampleName, labels, value, ...(ts !== undefined ? { ts } : {}) });
  }

  histogram(name: string, help: string, series: { labels: Labels; h: Histogram }[]) {
    const add = this.family(name, 'histogram', help);
    for (const { labels, h } of series) {
      DEF_BUCKETS.forEach((le, i) =>
        add({ ...labels, le: String(le) }, h.buckets[i]!, undefined, `${name}_bucket`),
      );
      add({ ...labels, le: '+Inf' }, h.count, undefined, `${name}_bucket`);
      add(labels, h.sum, undefined, `${name}_sum`);
      add(labels, h.count, undefined, `${name}_count`);
    }
  }

  text(): string {
    const lines: string[] = [];
    for (const [name, f] of this.families) {
      lines.push(`# HELP ${name} ${f.help}`, `# TYPE ${name} ${f.type}`);
      for (const s of f.samples) {
        const labels = Object.entries(s.labels)
          .map(([k, v]) => `${k}="${escapeValue(v)}"`)
          .join(',');
        const value = Number.isInteger(s.value)
          ? String(s.value)
          : s.value.toPrecision(15).replace(/\.?0+$/, '');
        lines.push(`${s.name}${labels ? `{${labels}}` : ''} ${value}${s.ts !== undefined ? ` ${s.ts}` : ''}`);
      }
    }
    return `${lines.join('\n')}\n`;
  }
}

// ---- the Node's containers ------------------------------------------------------------------------------

interface ContainerSample {
  live: LivePod;
  name: string;
  image: string;
  id: string;
  startedAt: number;
  stats: ProcessTreeStats;
}

/** The QoS class a Pod's resources give it, and so its cgroup's parent (the cgroupfs driver's names). */
function podCgroup(live: LivePod): string {
  type R = { requests?: Record<string, string>; limits?: Record<string, string> };
  const cs = (live.pod.spec.containers ?? []) as { resources?: R }[];
  const all = cs.map((c) => c.resources ?? {});
  const none = all.every((r) => !Object.keys(r.requests ?? {}).length && !Object.keys(r.limits ?? {}).length);
  const guaranteed = all.every(
    (r) =>
      ['cpu', 'memory'].every((k) => r.limits?.[k] !== undefined) &&
      ['cpu', 'memory'].every((k) => r.requests?.[k] === undefined || r.requests[k] === r.limits?.[k]),
  );
  const qos = none ? '/kubepods/besteffort' : guaranteed ? '/kubepods' : '/kubepods/burstable';
  return `${qos}/pod${live.uid}`;
}

const containerId = (live: LivePod, name: string, startedAt: string) =>
  createHash('sha256').update(`${live.uid}/${name}/${startedAt}`).digest('hex');

/** The running containers of a Node's Pods (the API server forwarder, plumbing of this machine, left out). */
function nodeContainers(k: Kubelet, node: string): ContainerSample[] {
  const out: ContainerSample[] = [];
  for (const live of k.pods.values()) {
    if (live.node !== node || live.pending) continue;
    const images = new Map<string, string>(
      [...(live.pod.spec.initContainers ?? []), ...(live.pod.spec.containers ?? [])].map(
        (c: { name: string; image: string }) => [c.name, c.image],
      ),
    );
    for (const c of live.containers) {
      if (
        c.tool === 'live-fwd' ||
        !c.pid ||
        !c.child ||
        c.child.exitCode !== null ||
        c.child.signalCode !== null
      )
        continue;
      const stats = processTreeStats(c.pid);
      if (!stats) continue;
      out.push({
        live,
        name: c.name,
        image: images.get(c.name) ?? '',
        id: containerId(live, c.name, c.startedAt),
        startedAt: Date.parse(c.startedAt) / 1000,
        stats,
      });
    }
  }
  return out;
}

// ---- the endpoints ---------------------------------------------------------------------------------------

function cadvisor(k: Kubelet, node: string): string {
  const now = Date.now();
  const e = new Exposition();
  const containers = nodeContainers(k, node);
  const cores = e.family('machine_cpu_cores', 'gauge', 'Number of logical CPU cores.');
  const mem = e.family('machine_memory_bytes', 'gauge', 'Amount of memory installed on the machine.');
  const machine = { boot_id: '', machine_id: '', system_uuid: '' };
  cores(machine, cpus().length);
  mem(machine, totalmem());
  const cpuUser = e.family(
    'container_cpu_user_seconds_total',
    'counter',
    'Cumulative user cpu time consumed in seconds.',
  );
  const cpuSystem = e.family(
    'container_cpu_system_seconds_total',
    'counter',
    'Cumulative system cpu time consumed in seconds.',
  );
  const cpuUsage = e.family(
    'container_cpu_usage_seconds_total',
    'counter',
    'Cumulative cpu time consumed in seconds.',
  );
  const cache = e.family('container_memory_cache', 'gauge', 'Number of bytes of page cache memory.');
  const rss = e.family('container_memory_rss', 'gauge', 'Size of RSS in bytes.');
  const usageBytes = e.family(
    'container_memory_usage_bytes',
    'gauge',
    'Current memory usage in bytes, including all memory regardless of when it was accessed',
  );
  const ws = e.family('container_memory_working_set_bytes', 'gauge', 'Current working set in bytes.');
  const processes = e.family(
    'container_processes',
    'gauge',
    'Number of processes running inside the container.',
  );
  const fds = e.family(
    'container_file_descriptors',
    'gauge',
    'Number of open file descriptors for the container.',
  );
  const threadsMax = e.family(
    'container_threads_max',
    'gauge',
    'Maximum number of threads allowed inside the container, infinity if value is zero',
  );
  const threads = e.family('container_threads', 'gauge', 'Number of threads running inside the container');
  const lastSeen = e.family('container_last_seen', 'gauge', 'Last time a container was seen by the exporter');
  const start = e.family(
    'container_start_time_seconds',
    'gauge',
    'Start time of the container since unix epoch in seconds.',
  );
  const net = {
    rxBytes: e.family(
      'container_network_receive_bytes_total',
      'counter',
      'Cumulative count of bytes received',
    ),
    rxErrors: e.family(
      'container_network_receive_errors_total',
      'counter',
      'Cumulative count of errors encountered while receiving',
    ),
    rxDropped: e.family(
      'container_network_receive_packets_dropped_total',
      'counter',
      'Cumulative count of packets dropped while receiving',
    ),
    rxPackets: e.family(
      'container_network_receive_packets_total',
      'counter',
      'Cumulative count of packets received',
    ),
    txBytes: e.family(
      'container_network_transmit_bytes_total',
      'counter',
      'Cumulative count of bytes transmitted',
    ),
    txErrors: e.family(
      'container_network_transmit_errors_total',
      'counter',
      'Cumulative count of errors encountered while transmitting',
    ),
    txDropped: e.family(
      'container_network_transmit_packets_dropped_total',
      'counter',
      'Cumulative count of packets dropped while transmitting',
    ),
    txPackets: e.family(
      'container_network_transmit_packets_total',
      'counter',
      'Cumulative count of packets transmitted',
    ),
  };
  const put = (labels: Labels, s: ProcessTreeStats, startedAt: number) => {
    cpuUser(labels, s.user, now);
    cpuSystem(labels, s.system, now);
    if (s.user + s.system > 0) cpuUsage({ ...labels, cpu: 'total' }, s.user + s.system, now);
    cache(labels, s.rssFile + s.rssShmem, now);
    rss(labels, s.rssAnon, now);
    usageBytes(labels, s.rssAnon + s.rssFile + s.rssShmem, now);
    ws(labels, s.rssAnon + s.rssFile + s.rssShmem, now);
    processes(labels, s.processes, now);
    fds(labels, s.fds, now);
    threadsMax(labels, 0, now);
    threads(labels, s.threads, now);
    lastSeen(labels, Math.floor(now / 1000), now);
    start(labels, startedAt, now);
  };
  const byPod = new Map<LivePod, ContainerSample[]>();
  for (const c of containers) byPod.set(c.live, [...(byPod.get(c.live) ?? []), c]);
  for (const [live, cs] of byPod) {
    const cgroup = podCgroup(live);
    // The Pod's cgroup: its containers' sum.
    const sum = cs.reduce(
      (a, c) => {
        for (const key of Object.keys(a) as (keyof ProcessTreeStats)[]) a[key] += c.stats[key];
        return a;
      },
      { user: 0, system: 0, rssAnon: 0, rssFile: 0, rssShmem: 0, processes: 0, threads: 0, fds: 0 },
    );
    const podLabels = {
      container: '',
      id: cgroup,
      image: '',
      name: '',
      namespace: live.namespace,
      pod: live.name,
    };
    put(podLabels, sum, Math.min(...cs.map((c) => c.startedAt)));
    for (const c of cs)
      put(
        {
          container: c.name,
          id: `${cgroup}/${c.id}`,
          image: c.image,
          name: c.id,
          namespace: live.namespace,
          pod: live.name,
        },
        c.stats,
        c.startedAt,
      );
    // The sandbox: the Pod's network namespace.
    const sandbox = createHash('sha256').update(`${live.uid}/sandbox`).digest('hex');
    const sandboxLabels = {
      container: '',
      id: `${cgroup}/${sandbox}`,
      image: '',
      name: sandbox,
      namespace: live.namespace,
      pod: live.name,
    };
    for (const i of netDev(cs[0]!.live.containers.find((x) => x.pid)!.pid!)) {
      const l = { ...sandboxLabels, interface: i.name };
      net.rxBytes(l, i.rxBytes, now);
      net.rxErrors(l, i.rxErrors, now);
      net.rxDropped(l, i.rxDropped, now);
      net.rxPackets(l, i.rxPackets, now);
      net.txBytes(l, i.txBytes, now);
      net.txErrors(l, i.txErrors, now);
      net.txDropped(l, i.txDropped, now);
      net.txPackets(l, i.txPackets, now);
    }
  }
  return e.text();
}

function resource(k: Kubelet, node: string): string {
  const now = Date.now();
  const e = new Exposition();
  const m = machineUsage();
  const containers = nodeContainers(k, node);
  const cpuC = e.family(
    'container_cpu_usage_seconds_total',
    'counter',
    '[STABLE] Cumulative cpu time consumed by the container in core-seconds',
  );
  const memC = e.family(
    'container_memory_working_set_bytes',
    'gauge',
    '[STABLE] Current working set of the container in bytes',
  );
  const startC = e.family(
    'container_start_time_seconds',
    'gauge',
    '[STABLE] Start time of the container since unix epoch in seconds',
  );
  e.family(
    'node_cpu_usage_seconds_total',
    'counter',
    '[STABLE] Cumulative cpu time consumed by the node in core-seconds',
  )({}, m.cpu, now);
  e.family('node_memory_working_set_bytes', 'gauge', '[STABLE] Current working set of the node in bytes')(
    {},
    m.workingSet,
    now,
  );
  const cpuP = e.family(
    'pod_cpu_usage_seconds_total',
    'counter',
    '[STABLE] Cumulative cpu time consumed by the pod in core-seconds',
  );
  const memP = e.family(
    'pod_memory_working_set_bytes',
    'gauge',
    '[STABLE] Current working set of the pod in bytes',
  );
  e.family(
    'resource_scrape_error',
    'gauge',
    '[STABLE] 1 if there was an error while getting container metrics, 0 otherwise',
  )({}, 0);
  const pods = new Map<LivePod, { cpu: number; mem: number }>();
  for (const c of containers) {
    const l = { container: c.name, namespace: c.live.namespace, pod: c.live.name };
    const cpu = c.stats.user + c.stats.system;
    const mem = c.stats.rssAnon + c.stats.rssFile + c.stats.rssShmem;
    cpuC(l, cpu, now);
    memC(l, mem, now);
    startC(l, c.startedAt, now);
    const p = pods.get(c.live) ?? { cpu: 0, mem: 0 };
    pods.set(c.live, { cpu: p.cpu + cpu, mem: p.mem + mem });
  }
  for (const [live, p] of pods) {
    cpuP({ namespace: live.namespace, pod: live.name }, p.cpu, now);
    memP({ namespace: live.namespace, pod: live.name }, p.mem, now);
  }
  return e.text();
}

/** A cumulative histogram on the default buckets. */
export class Histogram {
  readonly buckets = DEF_BUCKETS.map(() => 0);
  sum = 0;
  count = 0;

  observe(v: number): void {
    DEF_BUCKETS.forEach((le, i) => {
      if (v <= le) this.buckets[i]! += 1;
    });
    this.sum += v;
    this.count += 1;
  }
}

/** Observations of the kubelet's histograms, per Node. */
export class KubeletMetrics {
  readonly relist = new Map<string, Histogram>();
  readonly podWorker = new Map<string, Map<string, Histogram>>();

  /** A sync of one Pod by the process kubelet: `create` for its first, `sync` for later ones. */
  observePodSync(node: string, operation: 'create' | 'sync', seconds: number): void {
    const byOp = this.podWorker.get(node) ?? new Map<string, Histogram>();
    this.podWorker.set(node, byOp);
    const h = byOp.get(operation) ?? new Histogram();
    byOp.set(operation, h);
    h.observe(seconds);
  }

  observeRelist(node: string, seconds: number): void {
    const h = this.relist.get(node) ?? new Histogram();
    this.relist.set(node, h);
    h.observe(seconds);
  }
}

function kubeletOwn(k: Kubelet, node: string, metrics: KubeletMetrics): string {
  const e = new Exposition();
  e.family('kubelet_node_name', 'gauge', "[ALPHA] The node's name. The count is always 1.")({ node }, 1);
  const pods = [...k.pods.values()].filter((p) => p.node === node && !p.pending);
  const running = nodeContainers(k, node);
  const exited = pods.flatMap((p) =>
    p.containers.filter(
      (c) => c.tool !== 'live-fwd' && c.child && (c.child.exitCode !== null || c.child.signalCode !== null),
    ),
  ).length;
  e.family(
    'kubelet_running_pods',
    'gauge',
    '[ALPHA] Number of pods that have a running pod sandbox',
  )({}, pods.filter((p) => running.some((c) => c.live === p)).length);
  const rc = e.family(
    'kubelet_running_containers',
    'gauge',
    '[ALPHA] Number of containers currently running',
  );
  rc({ container_state: 'exited' }, exited);
  rc({ container_state: 'running' }, running.length);
  e.histogram(
    'kubelet_pleg_relist_duration_seconds',
    '[ALPHA] Duration in seconds for relisting pods in PLEG.',
    [{ labels: {}, h: metrics.relist.get(node) ?? new Histogram() }],
  );
  e.histogram(
    'kubelet_pod_worker_duration_seconds',
    '[ALPHA] Duration in seconds to sync a single pod. Broken down by operation type: create, update, or sync',
    [...(metrics.podWorker.get(node) ?? new Map<string, Histogram>())].map(([op, h]) => ({
      labels: { operation_type: op },
      h,
    })),
  );
  // Volume statistics of the claims the Node's Pods mount.
  const volumes = [] as { namespace: string; claim: string; dir: string }[];
  for (const p of pods)
    for (const v of p.pod.spec.volumes ?? [])
      if (v.persistentVolumeClaim)
        volumes.push({
          namespace: p.namespace,
          claim: v.persistentVolumeClaim.claimName,
          dir: path.join(k.o.dir, 'claims', p.namespace, v.persistentVolumeClaim.claimName),
        });
  const vs = {
    available: e.family(
      'kubelet_volume_stats_available_bytes',
      'gauge',
      '[ALPHA] Number of available bytes in the volume',
    ),
    capacity: e.family(
      'kubelet_volume_stats_capacity_bytes',
      'gauge',
      '[ALPHA] Capacity in bytes of the volume',
    ),
    health: e.family(
      'kubelet_volume_stats_health_status_abnormal',
      'gauge',
      '[ALPHA] Abnormal volume health status. The count is either 1 or 0. 1 indicates the volume is unhealthy, 0 indicates volume is healthy',
    ),
    inodes: e.family(
      'kubelet_volume_stats_inodes',
      'gauge',
      '[ALPHA] Maximum number of inodes in the volume',
    ),
    inodesFree: e.family(
      'kubelet_volume_stats_inodes_free',
      'gauge',
      '[ALPHA] Number of free inodes in the volume',
    ),
    inodesUsed: e.family(
      'kubelet_volume_stats_inodes_used',
      'gauge',
      '[ALPHA] Number of used inodes in the volume',
    ),
    used: e.family('kubelet_volume_stats_used_bytes', 'gauge', '[ALPHA] Number of used bytes in the volume'),
  };
  for (const v of volumes) {
    let fs;
    try {
      fs = statfsSync(v.dir);
    } catch {
      continue;
    }
    const u = usage(v.dir);
    const l = { namespace: v.namespace, persistentvolumeclaim: v.claim };
    vs.available(l, fs.bavail * fs.bsize);
    vs.capacity(l, fs.blocks * fs.bsize);
    vs.health(l, 0);
    vs.inodes(l, fs.files);
    vs.inodesFree(l, fs.ffree);
    vs.inodesUsed(l, u.inodes);
    vs.used(l, u.bytes);
  }
  return e.text();
}

// ---- the servers -------------------------------------------------------------------------------------------

interface Cached {
  until: number;
  status: number;
}

export class KubeletEndpoints {
  readonly metrics = new KubeletMetrics();
  private readonly servers = new Map<string, Server>();
  private readonly starting = new Set<string>();
  private readonly relistTimer: NodeJS.Timeout;
  private readonly decisions = new Map<string, Cached>();

  constructor(private readonly k: Kubelet) {
    // The PLEG relists every second: the state of every container process of each Node.
    this.relistTimer = setInterval(() => {
      for (const node of this.servers.keys()) {
        const t = process.hrtime.bigint();
        for (const p of k.pods.values())
          if (p.node === node) for (const c of p.containers) if (c.pid) readdirSafe(`/proc/${c.pid}/task`);
        this.metrics.observeRelist(node, Number(process.hrtime.bigint() - t) / 1e9);
      }
    }, 1000);
    this.relistTimer.unref();
  }

  /** Serves the kubelet endpoints of a Node (once), at its address's port 10250. */
  async serve(node: string, ip: string, nsName: string): Promise<void> {
    if (this.servers.has(node) || this.starting.has(node)) return;
    this.starting.add(node);
    try {
      const stamp = Math.floor(Date.now() / 1000);
      const ca = await createAuthority(`${node}-ca@${stamp}`, 365);
      const pair = await issueCertificate(ca, {
        commonName: `${node}@${stamp}`,
        usage: 'server',
        days: 365,
        ips: [ip],
        dnsNames: [node],
      });
      const socket = path.join(this.k.o.dir, `kubelet-${node}.sock`);
      rmSync(socket, { force: true });
      const server = createServer({ key: pair.key, cert: `${pair.cert}${ca.cert}` }, (req, res) => {
        void this.handle(node, req, res);
      });
      await new Promise<void>((resolve, reject) => {
        server.once('error', reject);
        server.listen(socket, () => resolve());
      });
      this.servers.set(node, server);
      this.k.fwdPids.push(
        this.k.spawnLogged(
          `node-${node}-kubelet-forwarder`,
          'ip',
          ['netns', 'exec', nsName, this.k.fwdBin, `tcp:${ip}:${KUBELET_PORT}`, `unix:${socket}`],
          {},
        ),
      );
      this.k.log(`node ${node}: kubelet endpoints at https://${ip}:${KUBELET_PORT}`);
    } finally {
      this.starting.delete(node);
    }
  }

  private async handle(node: string, req: IncomingMessage, res: ServerResponse): Promise<void> {
    try {
      const url = new URL(req.url ?? '/', 'https://kubelet');
      const route = {
        '/metrics': () => kubeletOwn(this.k, node, this.metrics),
        '/metrics/cadvisor': () => cadvisor(this.k, node),
        '/metrics/resource': () => resource(this.k, node),
      }[url.pathname];
      if (url.pathname === '/healthz') return end(res, 200, 'ok');
      const status = await this.authorize(node, req);
      if (status !== 200) return end(res, status, status === 401 ? 'Unauthorized' : 'Forbidden');
      if (!route) return end(res, 404, '404 page not found');
      res.writeHead(200, { 'Content-Type': 'text/plain; version=0.0.4; charset=utf-8' });
      res.end(route());
    } catch (err) {
      end(res, 500, (err as Error).message);
    }
  }

  /** TokenReview, then SubjectAccessReview of get nodes/metrics on this Node; 200, 401 or 403. */
  private async authorize(node: string, req: IncomingMessage): Promise<number> {
    const token = /^Bearer\s+(\S+)$/i.exec(req.headers.authorization ?? '')?.[1];
    if (!token) return 401;
    const key = `${node}/${createHash('sha256').update(token).digest('hex')}`;
    const cached = this.decisions.get(key);
    if (cached && cached.until > Date.now()) return cached.status;
    const review = await this.k.o.client.request<{
      status: {
        authenticated?: boolean;
        user?: { username: string; uid?: string; groups?: string[]; extra?: unknown };
      };
    }>('POST', '/apis/authentication.k8s.io/v1/tokenreviews', {
      body: { apiVersion: 'authentication.k8s.io/v1', kind: 'TokenReview', spec: { token } },
    });
    let status = 401;
    if (review.status.authenticated && review.status.user) {
      const u = review.status.user;
      const sar = await this.k.o.client.request<{ status: { allowed?: boolean } }>(
        'POST',
        '/apis/authorization.k8s.io/v1/subjectaccessreviews',
        {
          body: {
            apiVersion: 'authorization.k8s.io/v1',
            kind: 'SubjectAccessReview',
            spec: {
              user: u.username,
              ...(u.uid ? { uid: u.uid } : {}),
              groups: u.groups ?? [],
              ...(u.extra ? { extra: u.extra } : {}),
              resourceAttributes: {
                verb: 'get',
                resource: 'nodes',
                subresource: 'metrics',
                name: node,
                version: 'v1',
              },
            },
          },
        },
      );
      status = sar.status.allowed ? 200 : 403;
    }
    // The kubelet's defaults: authentication cached 2 minutes, an authorisation 5 minutes (30 s if denied).
    this.decisions.set(key, { status, until: Date.now() + (status === 200 ? 120_000 : 30_000) });
    return status;
  }

  /** The address each Node's endpoints answer at. */
  nodes(): string[] {
    return [...this.servers.keys()];
  }

  close(): void {
    clearInterval(this.relistTimer);
    for (const s of this.servers.values()) s.close();
    this.servers.clear();
  }
}

function end(res: ServerResponse, status: number, text: string): void {
  res.writeHead(status, { 'Content-Type': 'text/plain; charset=utf-8' });
  res.end(`${text}\n`);
}

function readdirSafe(dir: string): void {
  try {
    readdirSync(dir);
  } catch {
    /* exited */
  }
}
