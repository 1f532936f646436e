/**
 * What KubeSphere's console would show of the live stack, read from the records our rules write (the
 * same record names the console queries): per node CPU, memory, disk and network utilisation, pods per
 * node and namespace, cluster totals, CPU and memory per workload, the API server's request rate and
 * latency, etcd, the alerts firing, and what the stack's own processes cost. Printed by
 * `npm run demo -- --live`.
 */
import type { LiveStack, Target } from './stack.js';

const pct = (v: number | undefined) =>
  v === undefined || Number.isNaN(v) ? '–' : `${(v * 100).toFixed(1)}%`;
const mib = (b: number) => `${(b / 1048576).toFixed(0)} MiB`;
const rate = (v: number | undefined, unit: string) =>
  v === undefined || Number.isNaN(v) ? '–' : `${v < 10 ? v.toFixed(2) : v.toFixed(0)} ${unit}`;

async function byLabel(stack: LiveStack, q: string, label: string): Promise<Map<string, number>> {
  const out = new Map<string, number>();
  for (const s of await stack.query(q)) out.set(s.metric[label] ?? '', Number(s.value[1]));
  return out;
}

async function scalar(stack: LiveStack, q: string): Promise<number | undefined> {
  const r = await stack.query(q);
  return r.length ? Number(r[0]!.value[1]) : undefined;
}

/**
 * Records of kube-apiserver-availability.rules (evaluated every 3 minutes) that read records of the same
 * group: they have series from the group's second evaluation on, which waitUntilSettled does not wait for
 * (6 minutes), so one evaluator may have them and another not yet.
 */
export const SECOND_EVALUATION_RECORDS: ReadonlySet<string> = new Set([
  'apiserver_request:availability30d',
  'code:apiserver_request_total:increase30d',
  'code_verb:apiserver_request_total:increase30d',
  'cluster_verb_scope:apiserver_request_duration_seconds_count:increase30d',
  'cluster_verb_scope_le:apiserver_request_duration_seconds_bucket:increase30d',
]);

/** Waits until every target that can be up is up and every rule group has evaluated since. */
export async function waitUntilSettled(
  stack: LiveStack,
  options: { expectedDown: Set<string>; mustBeUp: string[]; say: (l: string) => void },
): Promise<Target[]> {
  const targets = await stack.waitFor(
    'targets up',
    async () => {
      const t = await stack.targets();
      const up = new Set(t.filter((x) => x.health === 'up').map((x) => x.labels.job));
      return options.mustBeUp.every((j) => up.has(j)) &&
        t.every((x) => x.health === 'up' || options.expectedDown.has(x.labels.job!))
        ? t
        : undefined;
    },
    300_000,
  );
  options.say(
    `every target that can be up is up (${targets.filter((t) => t.health === 'up').length} of ${targets.length})`,
  );
  const since = Date.now();
  await stack.waitFor(
    'rule groups evaluated',
    async () => {
      const groups = await stack.ruleGroups();
      // Two evaluations after the targets came up: rate records need two scrapes.
      return groups.length > 0 && groups.every((g) => Date.parse(g.lastEvaluation) > since + 60_000)
        ? groups
        : undefined;
    },
    400_000,
    5000,
  );
  options.say('every rule group has evaluated');
  return targets;
}

export async function printConsole(stack: LiveStack, write: (s: string) => void): Promise<void> {
  const [cpu, mem, disk, tx, rx, pods, capacity] = await Promise.all([
    byLabel(stack, 'node:node_cpu_utilisation:avg1m', 'node'),
    byLabel(stack, 'node:node_memory_utilisation:', 'node'),
    byLabel(stack, 'node:disk_space_utilization:ratio', 'node'),
    byLabel(stack, 'node:node_net_bytes_transmitted:sum_irate', 'node'),
    byLabel(stack, 'node:node_net_bytes_received:sum_irate', 'node'),
    byLabel(stack, 'node:pod_count:sum', 'node'),
    byLabel(stack, 'node:pod_capacity:sum', 'node'),
  ]);
  const nodes = [...new Set([...cpu.keys(), ...mem.keys(), ...pods.keys()])].filter(Boolean).sort();
  write(
    '\nNodes (records node:node_cpu_utilisation:avg1m, node:node_memory_utilisation:, node:disk_space_utilization:ratio,\n',
  );
  write(
    '       node:node_net_bytes_transmitted/received:sum_irate, node:pod_count:sum, node:pod_capacity:sum)\n',
  );
  write(
    `  ${'node'.padEnd(8)} ${'cpu'.padStart(7)} ${'memory'.padStart(7)} ${'disk'.padStart(7)} ${'net out'.padStart(12)} ${'net in'.padStart(12)} ${'pods'.padStart(8)}\n`,
  );
  for (const n of nodes)
    write(
      `  ${n.padEnd(8)} ${pct(cpu.get(n)).padStart(7)} ${pct(mem.get(n)).padStart(7)} ${pct(disk.get(n)).padStart(7)} ${rate(tx.get(n), 'B/s').padStart(12)} ${rate(rx.get(n), 'B/s').padStart(12)} ${`${pods.get(n) ?? 0}/${capacity.get(n) ?? '–'}`.padStart(8)}\n`,
    );
  const perNs = await byLabel(stack, 'count by (namespace) (kube_pod_info)', 'namespace');
  write('\nPods per namespace (kube_pod_info)\n');
  for (const [ns, n] of [...perNs].sort()) write(`  ${ns.padEnd(32)} ${n}\n`);
  const [ccpu, cmem, cdisk, running, all, abnormal] = await Promise.all([
    scalar(stack, ':node_cpu_utilisation:avg1m'),
    scalar(stack, ':node_memory_utilisation:'),
    scalar(stack, 'cluster:disk_utilization:ratio'),
    scalar(stack, 'cluster:pod_running:count'),
    scalar(stack, 'cluster:pod:sum'),
    scalar(stack, 'cluster:pod_abnormal:sum'),
  ]);
  write(
    '\nCluster (:node_cpu_utilisation:avg1m, :node_memory_utilisation:, cluster:disk_utilization:ratio, cluster:pod_*)\n',
  );
  write(
    `  cpu ${pct(ccpu)}, memory ${pct(cmem)}, disk ${pct(cdisk)}, pods ${all ?? '–'} (${running ?? '–'} running, ${abnormal ?? '–'} abnormal)\n`,
  );
  const [reqs, latency, byVerb] = await Promise.all([
    scalar(stack, 'apiserver:apiserver_request_total:sum_irate'),
    scalar(stack, 'apiserver:apiserver_request_duration:avg'),
    byLabel(stack, 'apiserver:apiserver_request_total:sum_verb_irate', 'verb'),
  ]);
  write(
    '\nAPI server (apiserver:apiserver_request_total:sum_irate, apiserver:apiserver_request_duration:avg)\n',
  );
  write(
    `  ${rate(reqs, 'requests/s')}, mean latency ${latency === undefined ? '–' : `${(latency * 1000).toFixed(1)} ms`}; by verb: ${[...byVerb].map(([v, n]) => `${v} ${n.toFixed(2)}`).join(', ')}\n`,
  );
  const [wcpu, wmem] = await Promise.all([
    byLabel(stack, 'namespace:workload_cpu_usage:sum', 'workload'),
    byLabel(stack, 'namespace:workload_memory_usage_wo_cache:sum', 'workload'),
  ]);
  write(
    '\nWorkloads (namespace:workload_cpu_usage:sum, namespace:workload_memory_usage_wo_cache:sum; kubelet/cAdvisor endpoints)\n',
  );
  for (const w of [...wcpu.keys()].sort())
    write(
      `  ${w.padEnd(48)} ${`${((wcpu.get(w) ?? 0) * 1000).toFixed(0)}m`.padStart(6)} ${mib(wmem.get(w) ?? 0).padStart(9)}\n`,
    );
  const [etcdUp, dbSize, committed, fsync] = await Promise.all([
    scalar(stack, 'etcd:up:sum'),
    scalar(stack, 'sum(etcd:etcd_mvcc_db_total_size:sum)'),
    scalar(stack, 'sum(etcd:etcd_server_proposals_committed:sum_irate)'),
    scalar(stack, 'max(etcd:etcd_disk_wal_fsync_duration:avg)'),
  ]);
  write(
    '\netcd (etcd:up:sum, etcd:etcd_mvcc_db_total_size:sum, etcd:etcd_server_proposals_committed:sum_irate, etcd:etcd_disk_wal_fsync_duration:avg)\n',
  );
  write(
    `  members up ${etcdUp ?? '–'}, database ${dbSize === undefined ? '–' : mib(dbSize)}, ${rate(committed, 'proposals/s')}, WAL fsync ${fsync === undefined || Number.isNaN(fsync) ? '– (none in the last minute)' : `${(fsync * 1000).toFixed(1)} ms`}\n`,
  );
  const firing = (await stack.alerts()).filter((a) => a.state === 'firing');
  const names = new Map<string, number>();
  for (const a of firing) names.set(a.labels.alertname!, (names.get(a.labels.alertname!) ?? 0) + 1);
  write(`\nAlerts firing (${firing.length})\n`);
  for (const [n, c] of [...names].sort()) write(`  ${n}${c > 1 ? ` ×${c}` : ''}\n`);
}

/** Resident memory now and CPU used since `base` (per process and in total). */
export function printUsage(
  stack: LiveStack,
  base: Map<number, number>,
  seconds: number,
  write: (s: string) => void,
): { rss: number; cores: number } {
  const rows = stack.usage();
  let rss = 0;
  let cpu = 0;
  write(`\nThe stack's processes (resident memory now, CPU over the last ${seconds.toFixed(0)} s)\n`);
  for (const r of rows.sort((a, b) => b.rss - a.rss)) {
    const used = r.cpu - (base.get(r.pid) ?? 0);
    rss += r.rss;
    cpu += used;
    if (r.container !== 'apiserver-forwarder')
      write(
        `  ${`${r.pod.replace(/^kubesphere-monitoring-system\//, '')} ${r.container}`.padEnd(56)} ${mib(r.rss).padStart(8)} ${`${((used / seconds) * 1000).toFixed(0)}m`.padStart(6)}\n`,
      );
  }
  const cores = cpu / seconds;
  write(
    `  total (${rows.length} processes, forwarders included): ${mib(rss)} resident, ${(cores * 1000).toFixed(0)}m CPU\n`,
  );
  return { rss, cores };
}
