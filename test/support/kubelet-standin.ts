/**
 * A stand-in for the kubelet's resource-metrics endpoint, for tests only: there is no kubelet on this
 * machine (no container runtime), and metrics-server needs one per Node. It serves what a kubelet 1.27
 * serves at `GET /metrics/resource` on its HTTPS port (10250, or 10350 for a KubeEdge edgecore), in the
 * same Prometheus text format — the same metric names, HELP texts with their stability level, label
 * order, millisecond timestamps and float formatting:
 *   container_cpu_usage_seconds_total, container_memory_working_set_bytes, container_start_time_seconds,
 *   node_cpu_usage_seconds_total, node_memory_working_set_bytes, pod_cpu_usage_seconds_total,
 *   pod_memory_working_set_bytes, resource_scrape_error.
 * The values are this host's real counters, read from /proc at each request: the node's CPU time is the
 * non-idle time of /proc/stat, its working set is MemTotal - MemFree - Inactive(file) of /proc/meminfo;
 * a container's are those of a process (utime + stime, VmRSS, start time), listed in a JSON file the test
 * writes (`[{namespace, pod, container, pid}]`), re-read at each request.
 * Like the kubelet, it answers 401 without a bearer token; unlike it, it does not ask the API server
 * whether the token may read nodes/metrics.
 *
 * Run inside a network namespace: `tsx test/support/kubelet-standin.ts --address A --port P --pods-file F`.
 * It prints `listening <address>:<port>` once it serves.
 */
import { readFileSync } from 'node:fs';
import https from 'node:https';
import { parseArgs } from 'node:util';
import { createServingBundle } from '../../src/pki/index.js';

const USER_HZ = 100;

export interface StandinPod {
  namespace: string;
  pod: string;
  container: string;
  pid: number;
}

/** Go's strconv.FormatFloat(v, 'g', -1, 64), as the Prometheus text format prints sample values. */
export function goFloat(v: number): string {
  if (Number.isNaN(v)) return 'NaN';
  if (!Number.isFinite(v)) return v > 0 ? '+Inf' : '-Inf';
  if (v === 0) return '0';
  const [mantissa, exp] = v.toExponential().split('e') as [string, string];
  const e = Number(exp);
  // Shortest 'g' decides on the exponent form as with precision 6: below 1e-4 and from 1e6 on.
  if (e < -4 || e >= 6) return `${mantissa}e${e < 0 ? '-' : '+'}${String(Math.abs(e)).padStart(2, '0')}`;
  return String(v);
}

/** Non-idle CPU seconds of the host (/proc/stat "cpu" line: user nice system idle iowait irq softirq steal). */
export function nodeCpuSeconds(procStat: string): number {
  const fields = procStat.split('\n')[0]!.trim().split(/\s+/).slice(1).map(Number);
  const [user, nice, system, , , irq, softirq, steal] = fields as number[];
  return (user! + nice! + system! + irq! + softirq! + (steal ?? 0)) / USER_HZ;
}

/** MemTotal - MemFree - Inactive(file), in bytes: a cgroup's usage less its inactive file pages. */
export function nodeWorkingSetBytes(meminfo: string): number {
  const kb = (key: string) =>
    Number(new RegExp(`^${key.replace(/[()]/g, '\\$&')}:\\s+(\\d+)`, 'm').exec(meminfo)?.[1] ?? 0);
  return (kb('MemTotal') - kb('MemFree') - kb('Inactive(file)')) * 1024;
}

interface ProcessSample {
  cpuSeconds: number;
  workingSetBytes: number;
  startTimeSeconds: number;
}

function processSample(pid: number, bootTime: number): ProcessSample | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // Fields after the command name (which may hold spaces): state is field 3, utime 14, stime 15, starttime 22.
    const rest = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    const utime = Number(rest[11]);
    const stime = Number(rest[12]);
    const starttime = Number(rest[19]);
    const status = readFileSync(`/proc/${pid}/status`, 'utf8');
    const rssKb = Number(/^VmRSS:\s+(\d+)/m.exec(status)?.[1] ?? 0);
    return {
      cpuSeconds: (utime + stime) / USER_HZ,
      workingSetBytes: rssKb * 1024,
      startTimeSeconds: bootTime + starttime / USER_HZ,
    };
  } catch {
    return undefined;
  }
}

interface Family {
  name: string;
  help: string;
  type: 'counter' | 'gauge';
  samples: { labels?: Record<string, string>; value: number; timestampMs?: number }[];
}

function render(families: Family[]): string {
  const lines: string[] = [];
  for (const f of families.sort((a, b) => (a.name < b.name ? -1 : 1))) {
    if (f.samples.length === 0) continue;
    lines.push(`# HELP ${f.name} ${f.help}`, `# TYPE ${f.name} ${f.type}`);
    for (const s of f.samples) {
      const labels = s.labels
        ? `{${Object.keys(s.labels)
            .sort()
            .map((k) => `${k}="${s.labels![k]}"`)
            .join(',')}}`
        : '';
      lines.push(
        `${f.name}${labels} ${goFloat(s.value)}${s.timestampMs === undefined ? '' : ` ${s.timestampMs}`}`,
      );
    }
  }
  return `${lines.join('\n')}\n`;
}

/** The body of GET /metrics/resource at `now`, from /proc and the pods of `podsFile`. */
export function resourceMetrics(podsFile: string | undefined, now = Date.now()): string {
  const procStat = readFileSync('/proc/stat', 'utf8');
  const bootTime = Number(/^btime (\d+)/m.exec(procStat)?.[1] ?? 0);
  const pods: StandinPod[] = podsFile
    ? (JSON.parse(readFileSync(podsFile, 'utf8').trim() || '[]') as StandinPod[])
    : [];
  const stable = (text: string) => `[STABLE] ${text}`;
  const families: Record<string, Family> = {
    containerCpu: {
      name: 'container_cpu_usage_seconds_total',
      help: stable('Cumulative cpu time consumed by the container in core-seconds'),
      type: 'counter',
      samples: [],
    },
    containerMemory: {
      name: 'container_memory_working_set_bytes',
      help: stable('Current working set of the container in bytes'),
      type: 'gauge',
      samples: [],
    },
    containerStart: {
      name: 'container_start_time_seconds',
      help: stable('Start time of the container since unix epoch in seconds'),
      type: 'gauge',
      samples: [],
    },
    nodeCpu: {
      name: 'node_cpu_usage_seconds_total',
      help: stable('Cumulative cpu time consumed by the node in core-seconds'),
      type: 'counter',
      samples: [{ value: nodeCpuSeconds(procStat), timestampMs: now }],
    },
    nodeMemory: {
      name: 'node_memory_working_set_bytes',
      help: stable('Current working set of the node in bytes'),
      type: 'gauge',
      samples: [{ value: nodeWorkingSetBytes(readFileSync('/proc/meminfo', 'utf8')), timestampMs: now }],
    },
    podCpu: {
      name: 'pod_cpu_usage_seconds_total',
      help: stable('Cumulative cpu time consumed by the pod in core-seconds'),
      type: 'counter',
      samples: [],
    },
    podMemory: {
      name: 'pod_memory_working_set_bytes',
      help: stable('Current working set of the pod in bytes'),
      type: 'gauge',
      samples: [],
    },
    scrapeError: {
      name: 'resource_scrape_error',
      help: stable('1 if there was an error while getting container metrics, 0 otherwise'),
      type: 'gauge',
      samples: [],
    },
  };
  let error = 0;
  const perPod = new Map<string, { namespace: string; pod: string; cpu: number; memory: number }>();
  for (const p of pods) {
    const sample = processSample(p.pid, bootTime);
    if (!sample) {
      error = 1;
      continue;
    }
    const labels = { container: p.container, namespace: p.namespace, pod: p.pod };
    families.containerCpu!.samples.push({ labels, value: sample.cpuSeconds, timestampMs: now });
    families.containerMemory!.samples.push({ labels, value: sample.workingSetBytes, timestampMs: now });
    families.containerStart!.samples.push({
      labels,
      value: sample.startTimeSeconds,
      timestampMs: Math.round(sample.startTimeSeconds * 1000),
    });
    const key = `${p.namespace}/${p.pod}`;
    const sum = perPod.get(key) ?? { namespace: p.namespace, pod: p.pod, cpu: 0, memory: 0 };
    sum.cpu += sample.cpuSeconds;
    sum.memory += sample.workingSetBytes;
    perPod.set(key, sum);
  }
  for (const p of perPod.values()) {
    const labels = { namespace: p.namespace, pod: p.pod };
    families.podCpu!.samples.push({ labels, value: p.cpu, timestampMs: now });
    families.podMemory!.samples.push({ labels, value: p.memory, timestampMs: now });
  }
  families.scrapeError!.samples.push({ value: error });
  return render(Object.values(families));
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      address: { type: 'string' },
      port: { type: 'string' },
      'pods-file': { type: 'string' },
      'node-name': { type: 'string' },
    },
  });
  const address = values.address ?? '0.0.0.0';
  const port = Number(values.port ?? 10250);
  const tls = await createServingBundle({
    caCommonName: `${values['node-name'] ?? 'node'}-ca`,
    commonName: values['node-name'] ?? 'node',
    dnsNames: [values['node-name'] ?? 'node'],
    days: 1,
  });
  const server = https.createServer({ cert: tls.tlsCert, key: tls.tlsKey }, (req, res) => {
    const url = new URL(req.url ?? '/', 'https://node');
    // One line per request: the test reads which port and path were asked for.
    res.on('finish', () => process.stdout.write(`${req.method} ${url.pathname} ${res.statusCode}\n`));
    if (!/^Bearer \S+/.test(req.headers.authorization ?? '')) {
      res.writeHead(401, { 'content-type': 'text/plain' }).end('Unauthorized');
      return;
    }
    if (req.method !== 'GET' || url.pathname !== '/metrics/resource') {
      res.writeHead(404, { 'content-type': 'text/plain' }).end('404 page not found\n');
      return;
    }
    let body: string;
    try {
      body = resourceMetrics(values['pods-file']);
    } catch (err) {
      res.writeHead(500, { 'content-type': 'text/plain' }).end(String(err));
      return;
    }
    res.writeHead(200, { 'content-type': 'text/plain; version=0.0.4; charset=utf-8' }).end(body);
  });
  server.listen(port, address, () => process.stdout.write(`listening ${address}:${port}\n`));
  const stop = () => server.close(() => process.exit(0));
  process.on('SIGTERM', stop);
  process.on('SIGINT', stop);
}

if (process.argv[1]?.endsWith('kubelet-standin.ts')) void main();
