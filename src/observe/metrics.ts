/**
 * The operator's metrics (contract: Metrics), declared once with their exact names, plus the
 * process metrics read at render time. The registry itself lives in metrics-registry.ts.
 */
import type { Counter, Gauge, Histogram, Registry } from './metrics-registry.js';

export {
  Counter,
  DEFAULT_BUCKETS,
  Gauge,
  Histogram,
  PROMETHEUS_CONTENT_TYPE,
  Registry,
  escapeHelp,
  escapeLabelValue,
  formatSampleValue,
} from './metrics-registry.js';
export type {
  CollectedMetricOptions,
  HistogramOptions,
  LabelValues,
  MetricOptions,
  MetricType,
} from './metrics-registry.js';

export type ReconcileResult = 'success' | 'error' | 'skipped';
export type ApplyResult = 'changed' | 'unchanged';

export const RECONCILE_RESULTS: readonly ReconcileResult[] = ['success', 'error', 'skipped'];
export const RECONCILE_DURATION_BUCKETS: readonly number[] = [
  0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300,
];
export const ROLE_DURATION_BUCKETS: readonly number[] = [0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120];

export interface OperatorMetrics {
  /** `ks_installer_reconcile_total{result}`: runs by result (success, error, skipped). */
  reconcileTotal: Counter<'result'>;
  /** `ks_installer_reconcile_duration_seconds`: duration of whole runs. */
  reconcileDuration: Histogram;
  /** `ks_installer_role_duration_seconds{role}`: duration of each role in a run. */
  roleDuration: Histogram<'role'>;
  /** `ks_installer_objects_applied_total{role,result}`: applied objects, changed or unchanged. */
  objectsApplied: Counter<'role' | 'result'>;
  /** `ks_installer_last_success_timestamp_seconds`: Unix time of the last successful run. */
  lastSuccessTimestamp: Gauge;
  /** `ks_installer_leader`: 1 while this process holds the lease (or runs without election). */
  leader: Gauge;
  /** `ks_installer_queue_depth`: keys waiting in the work queue. */
  queueDepth: Gauge;
  /** `ks_installer_watch_restarts_total{reason}`: watches started again (expired, error, idle). */
  watchRestarts: Counter<'reason'>;
  /** Records the end of a run: result count, duration (not for skipped runs) and, on success, the timestamp. */
  reconcileFinished(result: ReconcileResult, seconds: number): void;
  /** Records the end of a role: its duration and how many objects changed or not. */
  roleFinished(role: string, seconds: number, objects: Record<ApplyResult, number>): void;
}

/** process_cpu_seconds_total, process_resident_memory_bytes, process_start_time_seconds, nodejs_heap_used_bytes. */
export function registerProcessMetrics(registry: Registry): void {
  const startTime = Date.now() / 1000 - process.uptime();
  registry.counter({
    name: 'process_cpu_seconds_total',
    help: 'Total user and system CPU time spent in seconds.',
    collect: () => {
      const usage = process.cpuUsage();
      return (usage.user + usage.system) / 1e6;
    },
  });
  registry.gauge({
    name: 'process_resident_memory_bytes',
    help: 'Resident memory size in bytes.',
    collect: () => process.memoryUsage.rss(),
  });
  registry.gauge({
    name: 'process_start_time_seconds',
    help: 'Start time of the process since unix epoch in seconds.',
    collect: () => startTime,
  });
  registry.gauge({
    name: 'nodejs_heap_used_bytes',
    help: 'Size of the used V8 heap in bytes.',
    collect: () => process.memoryUsage().heapUsed,
  });
}

/** Declares the operator's metrics (and the process metrics) in `registry`. */
export function createOperatorMetrics(registry: Registry): OperatorMetrics {
  const reconcileTotal = registry.counter({
    name: 'ks_installer_reconcile_total',
    help: 'Reconcile runs of the ClusterConfiguration by result (success, error, skipped).',
    labelNames: ['result'],
  });
  for (const result of RECONCILE_RESULTS) reconcileTotal.inc({ result }, 0);

  const reconcileDuration = registry.histogram({
    name: 'ks_installer_reconcile_duration_seconds',
    help: 'Duration of reconcile runs in seconds.',
    buckets: RECONCILE_DURATION_BUCKETS,
  });
  const roleDuration = registry.histogram({
    name: 'ks_installer_role_duration_seconds',
    help: 'Duration of each role of a reconcile run in seconds.',
    labelNames: ['role'],
    buckets: ROLE_DURATION_BUCKETS,
  });
  const objectsApplied = registry.counter({
    name: 'ks_installer_objects_applied_total',
    help: 'Objects applied by role and result (changed, unchanged).',
    labelNames: ['role', 'result'],
  });
  const lastSuccessTimestamp = registry.gauge({
    name: 'ks_installer_last_success_timestamp_seconds',
    help: 'Unix time of the last successful reconcile run, 0 before the first.',
  });
  const leader = registry.gauge({
    name: 'ks_installer_leader',
    help: 'Whether this process is the leader (1) or not (0).',
  });
  const queueDepth = registry.gauge({
    name: 'ks_installer_queue_depth',
    help: 'Keys waiting in the work queue.',
  });
  const watchRestarts = registry.counter({
    name: 'ks_installer_watch_restarts_total',
    help: 'Watches started again, by reason.',
    labelNames: ['reason'],
  });
  registerProcessMetrics(registry);

  return {
    reconcileTotal,
    reconcileDuration,
    roleDuration,
    objectsApplied,
    lastSuccessTimestamp,
    leader,
    queueDepth,
    watchRestarts,
    reconcileFinished(result, seconds) {
      reconcileTotal.inc({ result });
      if (result !== 'skipped') reconcileDuration.observe(seconds);
      if (result === 'success') lastSuccessTimestamp.setToCurrentTime();
    },
    roleFinished(role, seconds, objects) {
      roleDuration.observe({ role }, seconds);
      objectsApplied.inc({ role, result: 'changed' }, objects.changed);
      objectsApplied.inc({ role, result: 'unchanged' }, objects.unchanged);
    },
  };
}
