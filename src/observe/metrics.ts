/**
 * The operator's metrics (contract: Metrics), declared once with their exact names, on prom-client,
 * which also supplies the default process and Node.js metrics.
 */
import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client';

export { Registry };

export type ReconcileResult = 'success' | 'error' | 'skipped';
export type ApplyResult = 'changed' | 'unchanged';

const RECONCILE_RESULTS: readonly ReconcileResult[] = ['success', 'error', 'skipped'];
const RECONCILE_DURATION_BUCKETS: readonly number[] = [0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300];
const ROLE_DURATION_BUCKETS: readonly number[] = [0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120];

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
  /** `ks_installer_request_retries_total{reason}`: requests sent again (retry-after, throttled, transport). */
  requestRetries: Counter<'reason'>;
  /** Records the end of a run: result count, duration (not for skipped runs) and, on success, the timestamp. */
  reconcileFinished(result: ReconcileResult, seconds: number): void;
  /** Records the end of a role: its duration and how many objects changed or not. */
  roleFinished(role: string, seconds: number, objects: Record<ApplyResult, number>): void;
}

/** Declares the operator's metrics and the default process metrics in `registry`. */
export function createOperatorMetrics(registry: Registry): OperatorMetrics {
  const reconcileTotal = new Counter({
    registers: [registry],
    name: 'ks_installer_reconcile_total',
    help: 'Reconcile runs of the ClusterConfiguration by result (success, error, skipped).',
    labelNames: ['result'],
  });
  for (const result of RECONCILE_RESULTS) reconcileTotal.inc({ result }, 0);

  const reconcileDuration = new Histogram({
    registers: [registry],
    name: 'ks_installer_reconcile_duration_seconds',
    help: 'Duration of reconcile runs in seconds.',
    buckets: [...RECONCILE_DURATION_BUCKETS],
  });
  const roleDuration = new Histogram({
    registers: [registry],
    name: 'ks_installer_role_duration_seconds',
    help: 'Duration of each role of a reconcile run in seconds.',
    labelNames: ['role'],
    buckets: [...ROLE_DURATION_BUCKETS],
  });
  const objectsApplied = new Counter({
    registers: [registry],
    name: 'ks_installer_objects_applied_total',
    help: 'Objects applied by role and result (changed, unchanged).',
    labelNames: ['role', 'result'],
  });
  const lastSuccessTimestamp = new Gauge({
    registers: [registry],
    name: 'ks_installer_last_success_timestamp_seconds',
    help: 'Unix time of the last successful reconcile run, 0 before the first.',
  });
  const leader = new Gauge({
    registers: [registry],
    name: 'ks_installer_leader',
    help: 'Whether this process is the leader (1) or not (0).',
  });
  const queueDepth = new Gauge({
    registers: [registry],
    name: 'ks_installer_queue_depth',
    help: 'Keys waiting in the work queue.',
  });
  const watchRestarts = new Counter({
    registers: [registry],
    name: 'ks_installer_watch_restarts_total',
    help: 'Watches started again, by reason.',
    labelNames: ['reason'],
  });
  const requestRetries = new Counter({
    registers: [registry],
    name: 'ks_installer_request_retries_total',
    help: 'API requests sent again inside the request, by reason (retry-after, throttled, transport).',
    labelNames: ['reason'],
  });
  collectDefaultMetrics({ register: registry });

  return {
    reconcileTotal,
    reconcileDuration,
    roleDuration,
    objectsApplied,
    lastSuccessTimestamp,
    leader,
    queueDepth,
    watchRestarts,
    requestRetries,
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
