/**
 * `npm run bench`: measures the operator on fresh embedded control planes and prints figures (no
 * thresholds: numbers for people to compare), then writes them as JSON (BENCH_OUT, default
 * bench-results.json). Each repetition starts a control plane with 3 Node objects and runs the
 * operator through: first install, the first resync after it, a resync with nothing to fix, drift repair (an owned Service
 * deleted, repaired by the next resync), a one-field edit, a forced full run (status.monitoring
 * removed); then grows the cluster to BENCH_NODES Node objects (default 5,000) and measures a resync
 * there, the node count (requests, bytes) and the process's memory. Requests and writes are read from
 * the API server's own `apiserver_request_total` (diffed around each scenario, split by verb). Beside
 * it, on another fresh control plane, the floor: our rendered manifests applied by `kubectl apply
 * --server-side` (CRDs, wait for Established, the rest).
 *
 * BENCH_REPEAT (default 3) repetitions, medians printed. BENCH_ENTRY=dist measures the compiled
 * program (`npm run build` first), BENCH_ENTRY=<path of a main.js> another build (e.g. an older commit).
 * The operator runs with the Node flags of the image's ENTRYPOINT (BENCH_NODE_ARGS overrides them) and
 * the caller's NODE_OPTIONS (the image sets --max-semi-space-size=2).
 */
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import yaml from 'js-yaml';
import { ControlPlane } from './envtest/control-plane.js';
import { projectRoot } from '../src/paths.js';
import { collectionPath, objectPath, type ClusterConfiguration } from '../src/api/cluster-configuration.js';
import { applyObjects } from './apply-objects.js';
import { CONTENT_TYPE, KubeClient, type KubeObject } from '../src/kube/client.js';
import { RestMapper } from '../src/kube/discovery.js';
import { countItems, listAll } from '../src/kube/list.js';
import { diff, scrape, type Requests } from './envtest/request-metrics.js';

const run = promisify(execFile);
const root = projectRoot();
const REPEAT = Number(process.env.BENCH_REPEAT ?? 3);
const NODES = Number(process.env.BENCH_NODES ?? 5000);
const RESYNC = '5s';
const OUT = path.resolve(process.env.BENCH_OUT ?? 'bench-results.json');
/** The Node flags the image's ENTRYPOINT gives (`node <flags> dist/main.js`), or BENCH_NODE_ARGS. */
function imageNodeFlags(): string[] {
  if (process.env.BENCH_NODE_ARGS !== undefined)
    return process.env.BENCH_NODE_ARGS.split(/\s+/).filter(Boolean);
  const line = /^ENTRYPOINT\s+(\[.*\])\s*$/m.exec(readFileSync(path.join(root, 'Dockerfile'), 'utf8'));
  const argv = line ? (JSON.parse(line[1]!) as string[]) : [];
  return argv.slice(1).filter((a) => a.startsWith('--'));
}
const NODE_FLAGS = imageNodeFlags();
const ENTRY = [
  ...NODE_FLAGS,
  ...(process.env.BENCH_ENTRY === 'dist'
    ? [path.join(root, 'dist', 'main.js')]
    : process.env.BENCH_ENTRY
      ? [path.resolve(process.env.BENCH_ENTRY)]
      : ['--import', 'tsx', path.join(root, 'src', 'main.ts')]),
];
const NAMESPACE = 'kubesphere-system';
const MONITORING = 'kubesphere-monitoring-system';
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

// ---- the operator process --------------------------------------------------------------------

interface RunLine {
  msg: string;
  durationSeconds?: number;
  changed?: number;
  objects?: number;
}

class Operator {
  private readonly lines: RunLine[] = [];
  private readonly child: ChildProcess;

  constructor(kubeconfig: string) {
    this.child = spawn(
      process.execPath,
      [
        ...ENTRY,
        'run',
        '--kubeconfig',
        kubeconfig,
        '--namespace',
        NAMESPACE,
        '--health-addr',
        '0',
        '--metrics-addr',
        '0',
        '--log-format',
        'json',
        '--resync-period',
        RESYNC,
      ],
      { cwd: root, stdio: ['ignore', 'pipe', 'inherit'] },
    );
    let rest = '';
    this.child.stdout!.on('data', (b: Buffer) => {
      const parts = (rest + b.toString()).split('\n');
      rest = parts.pop()!;
      for (const l of parts.filter(Boolean)) this.lines.push(JSON.parse(l) as RunLine);
    });
  }

  private succeeded(): RunLine[] {
    return this.lines.filter((l) => l.msg.startsWith('run succeeded'));
  }

  get runs(): number {
    return this.succeeded().length;
  }

  async waitFor(test: (l: RunLine) => boolean, what: string, timeoutMs = 120_000): Promise<void> {
    const end = Date.now() + timeoutMs;
    while (!this.lines.some(test)) {
      if (Date.now() > end) throw new Error(`operator: no ${what} in ${timeoutMs / 1000}s`);
      if (this.child.exitCode !== null) throw new Error(`operator exited with ${this.child.exitCode}`);
      await sleep(20);
    }
  }

  /** The next successful run after `after` runs. */
  async nextRun(after: number): Promise<RunLine> {
    await this.waitFor(() => this.runs > after, `run ${after + 1}`);
    return this.succeeded()[after]!;
  }

  private status(field: 'VmRSS' | 'VmHWM'): number {
    const m = new RegExp(`${field}:\\s+(\\d+) kB`).exec(
      readFileSync(`/proc/${this.child.pid}/status`, 'utf8'),
    );
    return m ? Number(m[1]) / 1024 : NaN;
  }

  get rssMiB(): number {
    return this.status('VmRSS');
  }

  get peakMiB(): number {
    return this.status('VmHWM');
  }

  async stop(): Promise<void> {
    if (this.child.exitCode !== null) return;
    this.child.kill('SIGTERM');
    await new Promise((res) => this.child.once('exit', res));
  }
}

// ---- scenarios -------------------------------------------------------------------------------

interface Scenario extends Requests {
  seconds: number;
  changed?: number;
  /** The run's writes of the ClusterConfiguration (the bench's own edit taken off). */
  statusWrites?: number;
  /** The floor only: until every CRD is Established (kubectl apply of the CRDs, then kubectl wait). */
  crdSeconds?: number;
}

interface Count {
  requests: number;
  bytes: number;
  seconds: number;
  count: number;
}

interface Repetition {
  objects: number;
  scenarios: Record<string, Scenario>;
  memory: {
    idleBeforeWorkMiB: number;
    idleAfterInstallMiB: number;
    peakAt3MiB: number;
    peakAtLargeMiB: number;
  };
  nodeCount: Record<string, { countItems: Count; listAll500: Count }>;
  floor: Scenario;
}

async function createNodes(admin: KubeClient, from: number, to: number): Promise<void> {
  const BATCH = 100;
  for (let b = from; b < to; b += BATCH) {
    await Promise.all(
      Array.from({ length: Math.min(BATCH, to - b) }, (_, i) =>
        admin.request('POST', '/api/v1/nodes', {
          body: {
            apiVersion: 'v1',
            kind: 'Node',
            metadata: { name: `bench-${b + i}`, labels: { 'kubernetes.io/os': 'linux' } },
          },
        }),
      ),
    );
  }
}

/** A client that counts its GETs and the JSON bytes they answered. */
function measured(client: KubeClient): { client: KubeClient; requests: () => number; bytes: () => number } {
  let requests = 0;
  let bytes = 0;
  const proxy = new Proxy(client, {
    get(target, prop, receiver) {
      if (prop !== 'get') return Reflect.get(target, prop, receiver) as unknown;
      return async (...args: Parameters<KubeClient['get']>) => {
        const answer = await target.get(...args);
        requests++;
        bytes += JSON.stringify(answer).length;
        return answer;
      };
    },
  });
  return { client: proxy, requests: () => requests, bytes: () => bytes };
}

async function measureCount(admin: KubeClient): Promise<{ countItems: Count; listAll500: Count }> {
  const a = measured(admin);
  let t = performance.now();
  const { count } = await countItems(a.client, '/api/v1/nodes');
  const counted = {
    requests: a.requests(),
    bytes: a.bytes(),
    seconds: (performance.now() - t) / 1000,
    count,
  };
  const b = measured(admin);
  t = performance.now();
  const listed = await listAll(b.client, '/api/v1/nodes', { metadataOnly: true, limit: 500 });
  return {
    countItems: counted,
    listAll500: {
      requests: b.requests(),
      bytes: b.bytes(),
      seconds: (performance.now() - t) / 1000,
      count: listed.items.length,
    },
  };
}

/**
 * BENCH_SPEC: a YAML mapping merged into the sample's spec (e.g. `{alerting: {enabled: true},
 * metrics_server: {enabled: true}}`), to measure the optional parts; ours and the floor use the same.
 */
const SPEC_OVERRIDE = process.env.BENCH_SPEC
  ? (yaml.load(process.env.BENCH_SPEC) as Record<string, unknown>)
  : {};

function deepMerge(into: Record<string, unknown>, from: Record<string, unknown>): Record<string, unknown> {
  for (const [k, v] of Object.entries(from)) {
    const cur = into[k];
    into[k] =
      v && typeof v === 'object' && !Array.isArray(v) && cur && typeof cur === 'object' && !Array.isArray(cur)
        ? deepMerge(cur as Record<string, unknown>, v as Record<string, unknown>)
        : v;
  }
  return into;
}

function sampleClusterConfiguration(): ClusterConfiguration {
  const cc = yaml.load(
    readFileSync(path.join(root, 'examples', 'cluster-configuration.yaml'), 'utf8'),
  ) as ClusterConfiguration;
  cc.metadata = { name: 'ks-installer', namespace: NAMESPACE };
  cc.spec = deepMerge(
    (cc.spec ?? {}) as Record<string, unknown>,
    SPEC_OVERRIDE,
  ) as ClusterConfiguration['spec'];
  return cc;
}

async function ours(): Promise<Omit<Repetition, 'floor'>> {
  const cp = await ControlPlane.start({ progress: () => undefined });
  const admin = KubeClient.fromKubeconfig(cp.kubeconfig);
  let op: Operator | undefined;
  try {
    const crd = yaml.load(
      readFileSync(path.join(root, 'crds', 'installer.kubesphere.io_clusterconfigurations.yaml'), 'utf8'),
    ) as KubeObject;
    await applyObjects(admin, new RestMapper(admin), [crd], { fieldManager: 'bench' });
    await createNodes(admin, 0, 3);
    await admin.request('POST', '/api/v1/namespaces', {
      body: { apiVersion: 'v1', kind: 'Namespace', metadata: { name: NAMESPACE } },
    });
    const nodeCount: Repetition['nodeCount'] = { '3': await measureCount(admin) };

    op = new Operator(cp.kubeconfig);
    await op.waitFor((l) => l.msg.includes('not found; waiting for it'), 'start');
    await sleep(1000);
    const idleBeforeWorkMiB = op.rssMiB;

    const scenarios: Record<string, Scenario> = {};
    /** Runs `act` right after the previous run's scrape and measures the next run. */
    const scenario = async (name: string, act: () => Promise<unknown>, own: Record<string, number> = {}) => {
      const n = op!.runs;
      const before = await scrape(admin);
      await act();
      const line = await op!.nextRun(n);
      // The run's last write (status, Event) precedes its log line; the API server counts on reply.
      await sleep(200);
      const requests = diff(before, await scrape(admin), own);
      // The bench's own PATCHes are its edits of the ClusterConfiguration.
      const ownEdit = own.PATCH ?? 0;
      scenarios[name] = {
        seconds: line.durationSeconds!,
        changed: line.changed,
        ...requests,
        statusWrites: (requests.writesByResource['PATCH clusterconfigurations'] ?? 0) - ownEdit,
      };
      return line;
    };
    const cc = sampleClusterConfiguration();
    const first = await scenario(
      'first install',
      () => admin.request('POST', collectionPath(NAMESPACE), { body: cc }),
      {
        POST: 1,
      },
    );
    // The first resync after an install renders again (the live carry-over now exists) and runs code
    // paths for the first time; the periodic resyncs after it are the steady state.
    await scenario('first resync after the install', async () => undefined);
    await scenario('resync, nothing to fix', async () => undefined);
    await sleep(1000);
    const idleAfterInstallMiB = op.rssMiB;
    await scenario(
      'drift repair (a Service deleted)',
      () => admin.request('DELETE', `/api/v1/namespaces/${MONITORING}/services/prometheus-operator`),
      { DELETE: 1 },
    );
    const p = objectPath({ namespace: NAMESPACE, name: 'ks-installer' });
    /** The bench's own merge patch of the ClusterConfiguration. */
    const editing = (body: unknown) => () =>
      admin.request('PATCH', p, { body, contentType: CONTENT_TYPE.merge });
    await scenario('one-field edit', editing({ spec: { monitoring: { node_exporter: { port: 9200 } } } }), {
      PATCH: 1,
    });
    await scenario('no-op full run (status.monitoring removed)', editing({ status: { monitoring: null } }), {
      PATCH: 1,
    });
    const peakAt3MiB = op.peakMiB;

    await createNodes(admin, 3, NODES);
    // The first run that starts after every Node exists.
    await op.nextRun(op.runs);
    await scenario(`resync at ${NODES} nodes`, async () => undefined);
    const peakAtLargeMiB = op.peakMiB;
    nodeCount[String(NODES)] = await measureCount(admin);
    return {
      objects: first.objects ?? NaN,
      scenarios,
      memory: { idleBeforeWorkMiB, idleAfterInstallMiB, peakAt3MiB, peakAtLargeMiB },
      nodeCount,
    };
  } finally {
    await op?.stop();
    await admin.close();
    await cp.stop();
  }
}

/** Our manifests applied by kubectl: CRDs, wait until Established, then the rest. */
async function floor(): Promise<Scenario> {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'ks-bench-'));
  const ccFile = path.join(dir, 'cluster-configuration.yaml');
  writeFileSync(ccFile, yaml.dump(sampleClusterConfiguration()));
  const rendered = await run(process.execPath, [...ENTRY, 'render', '-f', ccFile, '--nodes', '3'], {
    cwd: root,
    maxBuffer: 64 * 1024 * 1024,
  });
  const docs = yaml.loadAll(rendered.stdout) as KubeObject[];
  const crds = path.join(dir, 'crds.yaml');
  const rest = path.join(dir, 'rest.yaml');
  const dump = (xs: KubeObject[]) => xs.map((x) => yaml.dump(x)).join('---\n');
  writeFileSync(crds, dump(docs.filter((d) => d.kind === 'CustomResourceDefinition')));
  writeFileSync(rest, dump(docs.filter((d) => d.kind !== 'CustomResourceDefinition')));
  const cp = await ControlPlane.start({ withTools: true, progress: () => undefined });
  const admin = KubeClient.fromKubeconfig(cp.kubeconfig);
  try {
    const kubectl = cp.info.binaries.kubectl!;
    // A fresh discovery cache, as a first kubectl on a new machine.
    const env = { ...process.env, KUBECONFIG: cp.kubeconfig, KUBECACHEDIR: path.join(dir, 'cache') };
    const before = await scrape(admin);
    const t = performance.now();
    await run(kubectl, ['apply', '--server-side', '-f', crds], { env });
    await run(kubectl, ['wait', '--for=condition=Established', 'crd', '--all', '--timeout=60s'], { env });
    const crdSeconds = (performance.now() - t) / 1000;
    await run(kubectl, ['apply', '--server-side', '-f', rest], { env, maxBuffer: 16 * 1024 * 1024 });
    const seconds = (performance.now() - t) / 1000;
    await sleep(200);
    return { seconds, crdSeconds, ...diff(before, await scrape(admin)) };
  } finally {
    await admin.close();
    await cp.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}

// ---- report ----------------------------------------------------------------------------------

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2]! : (s[s.length / 2 - 1]! + s[s.length / 2]!) / 2;
}

const pad = (s: string, n: number) => s.padEnd(n);

function printScenario(name: string, xs: Scenario[]): void {
  const secs = xs.map((x) => x.seconds);
  const verbs = [...new Set(xs.flatMap((x) => Object.keys(x.byVerb)))].sort();
  const byVerb = verbs.map((v) => `${v} ${median(xs.map((x) => x.byVerb[v] ?? 0))}`).join(', ');
  console.log(
    `${pad(name, 44)} ${median(secs).toFixed(2)}s (${Math.min(...secs).toFixed(2)}–${Math.max(...secs).toFixed(2)})` +
      `  requests ${median(xs.map((x) => x.requests))}  writes ${median(xs.map((x) => x.writes))}  [${byVerb}]` +
      `  (API server itself: ${median(xs.map((x) => x.serverOwn))})`,
  );
}

/** Issue 12's targets beside what was measured (medians), each said met or not. */
function printTargets(reps: Repetition[]): void {
  const at = (name: string, f: (s: Scenario) => number) => median(reps.map((r) => f(r.scenarios[name]!)));
  const floorAt = (f: (s: Scenario) => number) => median(reps.map((r) => f(r.floor)));
  const objects = median(reps.map((r) => r.objects));
  const applies = (s: Scenario) => s.byVerb.APPLY ?? 0;
  const lines: [string, string, boolean][] = [];
  const first = 'first install';
  lines.push([
    `${first} ≤ 1.1 s`,
    `${at(first, (s) => s.seconds).toFixed(2)} s (kubectl needs ${floorAt((s) => s.crdSeconds ?? NaN).toFixed(2)} s for the CRDs alone)`,
    at(first, (s) => s.seconds) <= 1.1,
  ]);
  const perObject = at(first, (s) => s.requests) / objects;
  lines.push([
    `${first} ≤ 1 request per object`,
    `${at(first, (s) => s.requests)} requests for ${objects} objects: ${perObject.toFixed(2)} per object ` +
      `(${(at(first, applies) / objects).toFixed(2)} applies per object; kubectl ${(floorAt((s) => s.requests) / objects).toFixed(2)})`,
    perObject <= 1,
  ]);
  const ratio = median(reps.map((r) => r.scenarios[first]!.seconds / r.floor.seconds));
  lines.push([
    `${first} faster than kubectl apply --server-side`,
    `ours/floor ${ratio.toFixed(2)}`,
    ratio < 1,
  ]);
  for (const name of [
    'first resync after the install',
    'resync, nothing to fix',
    `resync at ${NODES} nodes`,
  ]) {
    const secs = at(name, (s) => s.seconds);
    const writes = at(name, (s) => s.writes);
    lines.push([
      `${name}: ≤ 0.2 s, 0 writes`,
      `${secs.toFixed(2)} s, ${writes} writes`,
      secs <= 0.2 && writes === 0,
    ]);
  }
  const full = 'no-op full run (status.monitoring removed)';
  const fullEvents = (s: Scenario) => s.writesByResource['POST events'] ?? 0;
  lines.push([
    `${full}: no object written, 2 write requests (one status patch, one Event)`,
    `${at(full, applies)} applies, ${at(full, (s) => s.writes)} writes: ${at(full, (s) => s.statusWrites ?? 0)} status writes, ${at(full, fullEvents)} Events`,
    at(full, applies) === 0 &&
      at(full, (s) => s.writes) === 2 &&
      at(full, (s) => s.statusWrites ?? 0) === 1 &&
      at(full, fullEvents) === 1,
  ]);
  const statusWrites = Math.max(
    ...[first, 'one-field edit', full, 'drift repair (a Service deleted)'].map((n) =>
      at(n, (s) => s.statusWrites ?? 0),
    ),
  );
  lines.push([`≤ 3 status writes a run`, `at most ${statusWrites}`, statusWrites <= 3]);
  const count = reps.map((r) => r.nodeCount[String(NODES)]!.countItems);
  const kib = median(count.map((c) => c.bytes)) / 1024;
  const requests = median(count.map((c) => c.requests));
  lines.push([
    `node count at ${NODES} nodes: 1 request, ≤ 10 KB`,
    `${requests} request(s), ${kib.toFixed(1)} KiB`,
    requests === 1 && kib <= 10,
  ]);
  const mem = (k: keyof Repetition['memory']) => median(reps.map((r) => r.memory[k]));
  lines.push([
    `idle ≤ 100 MiB resident (after the install)`,
    `${mem('idleAfterInstallMiB').toFixed(0)} MiB`,
    mem('idleAfterInstallMiB') <= 100,
  ]);
  lines.push([
    `peak ≤ 150 MiB at ${NODES} nodes`,
    `${mem('peakAtLargeMiB').toFixed(0)} MiB`,
    mem('peakAtLargeMiB') <= 150,
  ]);
  console.log('targets:');
  for (const [target, measured, met] of lines)
    console.log(`  ${met ? 'met    ' : 'NOT MET'}  ${pad(target, 52)} ${measured}`);
}

async function main(): Promise<void> {
  const started = new Date();
  const reps: Repetition[] = [];
  for (let r = 0; r < REPEAT; r++) {
    process.stderr.write(`bench: repetition ${r + 1}/${REPEAT}: operator…\n`);
    const o = await ours();
    process.stderr.write(`bench: repetition ${r + 1}/${REPEAT}: kubectl floor…\n`);
    reps.push({ ...o, floor: await floor() });
  }
  const names = Object.keys(reps[0]!.scenarios);
  console.log(
    `operator: node ${ENTRY.map((e) => path.relative(root, e) || e).join(' ')}` +
      (process.env.NODE_OPTIONS ? ` (NODE_OPTIONS=${process.env.NODE_OPTIONS})` : '') +
      `; ${reps[0]!.objects} objects; medians of ${reps.length} fresh control planes (min–max)`,
  );
  console.log(
    `machine: ${os.cpus().length} × ${os.cpus()[0]?.model ?? '?'}, load average ${os.loadavg()[0]!.toFixed(1)}`,
  );
  for (const name of names)
    printScenario(
      name,
      reps.map((r) => r.scenarios[name]!),
    );
  printScenario(
    'floor: kubectl apply --server-side',
    reps.map((r) => r.floor),
  );
  console.log(
    `floor: the CRDs applied and Established after ${median(reps.map((r) => r.floor.crdSeconds ?? NaN)).toFixed(2)}s of it`,
  );
  const firstOf = (r: Repetition) => r.scenarios['first install']!;
  const ratio = (f: (s: Scenario) => number) =>
    median(reps.map((r) => f(firstOf(r)) / f(r.floor))).toFixed(2);
  console.log(
    `ours/floor (first install): time ${ratio((s) => s.seconds)}, requests ${ratio((s) => s.requests)}, writes ${ratio((s) => s.writes)}`,
  );
  for (const n of Object.keys(reps[0]!.nodeCount)) {
    const line = (k: 'countItems' | 'listAll500') => {
      const xs = reps.map((r) => r.nodeCount[n]![k]);
      return (
        `${median(xs.map((x) => x.requests))} request(s), ${(median(xs.map((x) => x.bytes)) / 1024).toFixed(1)} KiB, ` +
        `${(median(xs.map((x) => x.seconds)) * 1000).toFixed(0)} ms`
      );
    };
    console.log(
      `node count at ${n} nodes: one-item list ${line('countItems')}; pages of 500 ${line('listAll500')}`,
    );
  }
  const mem = (k: keyof Repetition['memory']) => median(reps.map((r) => r.memory[k])).toFixed(0);
  console.log(
    `operator memory (MiB, resident): idle before work ${mem('idleBeforeWorkMiB')}, idle after install ${mem('idleAfterInstallMiB')}, ` +
      `peak at 3 nodes ${mem('peakAt3MiB')}, peak at ${NODES} nodes ${mem('peakAtLargeMiB')}`,
  );
  printTargets(reps);
  writeFileSync(
    OUT,
    `${JSON.stringify(
      {
        started: started.toISOString(),
        entry: ENTRY,
        nodeOptions: process.env.NODE_OPTIONS ?? '',
        nodes: NODES,
        machine: { cpus: os.cpus().length, model: os.cpus()[0]?.model, loadAverage: os.loadavg() },
        repetitions: reps,
      },
      null,
      2,
    )}\n`,
  );
  console.log(`figures: ${OUT}`);
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
