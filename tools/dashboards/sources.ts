/**
 * Where the Grafana dashboards come from: the jsonnet mixins, and the jsonnet libraries they import, at the
 * commits kube-prometheus v0.10.0 locks in its `jsonnetfile.lock.json` (the kube-prometheus release whose
 * Grafana 8.3.3 and dashboards KubeSphere 3.4 ships). None of them is a Go module or on a package registry,
 * so they are read from local git repositories (clones or mirrors) named when generating; without them the
 * committed output is checked against its provenance record (tools/dashboards/provenance.ts).
 *
 * The expected dashboards of each mixin are listed here: a mixin that adds, drops or renames one is
 * noticed instead of silently shipped.
 */

/** One locked jsonnet dependency: a directory of a repository at a commit. */
export interface LockedDependency {
  /** `subdir` as the lock names it; '' for the repository's root. */
  subdir: string;
  commit: string;
}

/** A repository the generator reads, named by its option or environment variable. */
export interface DashboardRepository {
  name: string;
  /** The lock's `remote`. */
  remote: string;
  /** tools/generate-dashboards.ts option and environment variable naming a local git repository. */
  option: string;
  envVar: string;
  /** What is read out of it, in extraction order (a later one overwrites an earlier one's files). */
  dependencies: readonly LockedDependency[];
}

/** The import path the mixins use for a dependency, as jsonnet-bundler lays them out. */
export function importPath(repository: DashboardRepository, dependency: LockedDependency): string {
  const base = repository.remote.replace(/^https:\/\//, '').replace(/\.git$/, '');
  return dependency.subdir === '' ? base : `${base}/${dependency.subdir}`;
}

/** kube-prometheus, read only to confirm that its lock names the commits below. */
export const KUBE_PROMETHEUS = {
  remote: 'https://github.com/prometheus-operator/kube-prometheus.git',
  tag: 'v0.10.0',
  commit: '42ea595d60265b803ad460a971a7186488f6be7e',
  lockFile: 'jsonnetfile.lock.json',
  option: '--kube-prometheus-src',
  envVar: 'KUBE_PROMETHEUS_SRC',
} as const;

export const DASHBOARD_REPOSITORIES: readonly DashboardRepository[] = [
  {
    name: 'kubernetes-mixin',
    remote: 'https://github.com/kubernetes-monitoring/kubernetes-mixin.git',
    option: '--kubernetes-mixin-src',
    envVar: 'KUBERNETES_MIXIN_SRC',
    dependencies: [
      { subdir: '', commit: 'b538a10c89508f8d12885680cca72a134d3127f5' },
      // Locked on its own (node-mixin imports it); the same files as the root's at b538a10c.
      { subdir: 'lib/promgrafonnet', commit: 'fd913499e956da06f520c3784c59573ee552b152' },
    ],
  },
  {
    name: 'node-mixin',
    remote: 'https://github.com/prometheus/node_exporter.git',
    option: '--node-exporter-src',
    envVar: 'NODE_EXPORTER_SRC',
    dependencies: [{ subdir: 'docs/node-mixin', commit: 'a2321e7b940ddcff26873612bccdf7cd4c42b6b6' }],
  },
  {
    name: 'prometheus-mixin',
    remote: 'https://github.com/prometheus/prometheus.git',
    option: '--prometheus-src',
    envVar: 'PROMETHEUS_SRC',
    dependencies: [
      { subdir: 'documentation/prometheus-mixin', commit: '41f1a8125e664985dd30674e5bdf6b683eff5d32' },
    ],
  },
  {
    name: 'alertmanager-mixin',
    remote: 'https://github.com/prometheus/alertmanager.git',
    option: '--alertmanager-src',
    envVar: 'ALERTMANAGER_SRC',
    dependencies: [{ subdir: 'doc/alertmanager-mixin', commit: '16fa045db47d68a09a102c7b80b8899c1f57c153' }],
  },
  {
    name: 'grafonnet-lib',
    remote: 'https://github.com/grafana/grafonnet-lib.git',
    option: '--grafonnet-lib-src',
    envVar: 'GRAFONNET_LIB_SRC',
    dependencies: [{ subdir: 'grafonnet', commit: '3626fc4dc2326931c530861ac5bebe39444f6cbf' }],
  },
  {
    name: 'grafana-builder',
    remote: 'https://github.com/grafana/jsonnet-libs.git',
    option: '--jsonnet-libs-src',
    envVar: 'JSONNET_LIBS_SRC',
    dependencies: [{ subdir: 'grafana-builder', commit: '264a5c2078c5930af57fe2d107eff83ab63553af' }],
  },
];

/** The mixins whose dashboards we ship, as tools/dashboards/dashboards.jsonnet groups them, and their files. */
export const EXPECTED_DASHBOARDS: Readonly<Record<string, readonly string[]>> = {
  'kubernetes-mixin': [
    'apiserver.json',
    'cluster-total.json',
    'controller-manager.json',
    'k8s-resources-cluster.json',
    'k8s-resources-namespace.json',
    'k8s-resources-node.json',
    'k8s-resources-pod.json',
    'k8s-resources-workload.json',
    'k8s-resources-workloads-namespace.json',
    'kubelet.json',
    'namespace-by-pod.json',
    'namespace-by-workload.json',
    'persistentvolumesusage.json',
    'pod-total.json',
    'proxy.json',
    'scheduler.json',
    'workload-total.json',
  ],
  'node-mixin': ['node-cluster-rsrc-use.json', 'node-rsrc-use.json', 'nodes.json'],
  'prometheus-mixin': ['prometheus-remote-write.json', 'prometheus.json'],
  'alertmanager-mixin': ['alertmanager-overview.json'],
};

/** Every expected dashboard file → its mixin. */
export function expectedDashboardFiles(): Map<string, string> {
  const out = new Map<string, string>();
  for (const [mixin, files] of Object.entries(EXPECTED_DASHBOARDS)) for (const f of files) out.set(f, mixin);
  return out;
}

/**
 * The mixins' recording rules generated for the dashboards (tools/dashboards/rules.ts): every record the
 * dashboards read that our rules do not record, with the records those read. A different selection (a
 * mixin or dashboard change, or a record of ours added or renamed) fails the generation.
 */
export const EXPECTED_RECORDS: readonly string[] = [
  // kubernetes-mixin, k8s.rules: the Compute Resources and workload Networking dashboards.
  'node_namespace_pod_container:container_cpu_usage_seconds_total:sum_irate',
  'node_namespace_pod_container:container_memory_working_set_bytes',
  'node_namespace_pod_container:container_memory_rss',
  'node_namespace_pod_container:container_memory_cache',
  'node_namespace_pod_container:container_memory_swap',
  'cluster:namespace:pod_memory:active:kube_pod_container_resource_requests',
  'cluster:namespace:pod_cpu:active:kube_pod_container_resource_requests',
  'cluster:namespace:pod_memory:active:kube_pod_container_resource_limits',
  'namespace_memory:kube_pod_container_resource_limits:sum',
  'cluster:namespace:pod_cpu:active:kube_pod_container_resource_limits',
  'namespace_cpu:kube_pod_container_resource_limits:sum',
  'namespace_workload_pod:kube_pod_owner:relabel',
  // kubernetes-mixin, node.rules: Compute Resources / Cluster.
  ':node_memory_MemAvailable_bytes:sum',
  // node-mixin, node-exporter.rules: the USE Method dashboards.
  'instance:node_num_cpu:sum',
  'instance:node_cpu_utilisation:rate5m',
  'instance:node_load1_per_cpu:ratio',
  'instance:node_memory_utilisation:ratio',
  'instance:node_vmstat_pgmajfault:rate5m',
  'instance_device:node_disk_io_time_seconds:rate5m',
  'instance_device:node_disk_io_time_weighted_seconds:rate5m',
  'instance:node_network_receive_bytes_excluding_lo:rate5m',
  'instance:node_network_transmit_bytes_excluding_lo:rate5m',
  'instance:node_network_receive_drop_excluding_lo:rate5m',
  'instance:node_network_transmit_drop_excluding_lo:rate5m',
];
