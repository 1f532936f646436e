/**
 * A run's report and the one mapping from it to the ClusterConfiguration's conditions: Progressing
 * when a run starts; on success Ready, Progressing, Degraded, BuiltinAlerts, Alerting, RoleObjectsRemoved
 * (a turned-off role's objects removed by the lifecycle stage) and one condition per warning (True
 * while it applies, False once it no longer does); on failure Degraded and Ready with
 * the reason and message naming the field, template or object.
 */
import {
  hasCondition,
  setCondition,
  type ClusterConfiguration,
  type Condition,
} from '../../api/cluster-configuration.js';
import { ISTIO_MONITORS_WAITING } from '../../config/console-parts.js';
import { ENDPOINT_NOT_THANOS_QUERY, LIVE_VALUE_DROPPED } from '../../config/resolve.js';
import { ROLE_REMOVED } from '../lifecycle/remove-turned-off.js';
import type { RunReport } from '../model.js';
import { METRICS_API_UNAVAILABLE } from '../steps/check-metrics-api.js';
import { STORAGE_NOT_EXPANDABLE } from '../steps/storage-growth.js';
import { BUILTIN_ALERTS_CONDITION, builtinAlertsState } from '../steps/switch-builtin-alerts.js';
import { ALERTING_RULES_NOT_MIGRATED } from '../steps/alerting-legacy.js';
import { ALERTING_CONDITION, alertingState } from './alerting-state.js';
import {
  prometheusUrl,
  QUERY_ENDPOINT_CONDITION,
  queryEndpointState,
  THANOS_ROLE,
} from './query-endpoint.js';

/** The warning conditions a run may set, each turned False once it no longer applies. */
const WARNING_TYPES = new Set([
  'PrometheusStorageShrinkRefused',
  LIVE_VALUE_DROPPED,
  'EtcdClientCertsMissing',
  STORAGE_NOT_EXPANDABLE,
  METRICS_API_UNAVAILABLE,
  ALERTING_RULES_NOT_MIGRATED,
  ISTIO_MONITORS_WAITING,
  ENDPOINT_NOT_THANOS_QUERY,
]);

/** Whether the status already shows a finished, successful run of the spec with this hash. */
export function settled(cc: ClusterConfiguration, hash: string): boolean {
  return (
    cc.status?.monitoring?.status === 'enabled' &&
    cc.status.observedSpecHash === hash &&
    hasCondition(cc, 'Ready', 'True') &&
    hasCondition(cc, 'Progressing', 'False') &&
    hasCondition(cc, 'Degraded', 'False')
  );
}

/** The same conditions by type, status, reason and message (times and generations aside). */
export function sameConditions(a: Condition[], b: Condition[]): boolean {
  const key = (list: Condition[]) =>
    JSON.stringify(
      list.map((c) => [c.type, c.status, c.reason, c.message]).sort((x, y) => (x[0]! < y[0]! ? -1 : 1)),
    );
  return key(a) === key(b);
}

type Update = Omit<Condition, 'lastTransitionTime' | 'observedGeneration'>;

function apply(list: Condition[], updates: Update[], generation: number | undefined): Condition[] {
  return updates.reduce((acc, u) => setCondition(acc, { ...u, observedGeneration: generation }), list);
}

export function startedConditions(prev: Condition[], trigger: string, generation?: number): Condition[] {
  return apply(
    prev,
    [{ type: 'Progressing', status: 'True', reason: 'Reconciling', message: `run started: ${trigger}` }],
    generation,
  );
}

/**
 * Whether a role named by a True RoleObjectsRemoved condition (its message: `role (reason): …; …`) is
 * still turned off in this run; undefined when the condition is not True.
 */
function removedRolesStillOff(prev: Condition[], report: RunReport): boolean | undefined {
  const removed = prev.find((c) => c.type === ROLE_REMOVED && c.status === 'True');
  if (!removed) return undefined;
  const named = new Set((removed.message ?? '').split('; ').map((part) => part.split(' (')[0]));
  return report.plan.roles.some((r) => r.remove && named.has(r.role.name));
}

/** One line for the log, the Ready message and the RunSucceeded Event. */
export function summary(report: RunReport): string {
  return report.plan.values.external
    ? `external monitoring: no in-cluster stack; ${report.objects} objects (the console's dashboard CRDs and the monitors switched on)`
    : `${report.objects} objects (${report.changed} changed) in ${(report.durationMs / 1000).toFixed(2)}s; ${endpointLine(report)}`;
}

/** Where KubeSphere should read: Thanos Query while the thanos role runs, else Prometheus k8s. */
function endpointLine(report: RunReport): string {
  const thanos = report.plan.roles.find((r) => r.role.name === THANOS_ROLE);
  const v = report.plan.values;
  return thanos && !thanos.skip
    ? `KubeSphere should read Thanos Query at ${v.thanos.queryUrl} (common.monitoring.endpoint)`
    : `Prometheus answers at ${prometheusUrl(v.namespace)}`;
}

/** The conditions a run's findings set, without Ready/Progressing/Degraded (a quiet resync compares these). */
export function findingConditions(prev: Condition[], report: RunReport, generation?: number): Condition[] {
  const alerts = builtinAlertsState(report.plan);
  const alerting = alertingState(report.plan);
  const endpoint = queryEndpointState(report.plan, prev);
  const current = new Set(report.warnings.map((w) => w.type));
  const updates: Update[] = [
    { type: BUILTIN_ALERTS_CONDITION, status: alerts.status, reason: alerts.reason, message: alerts.message },
    ...(alerting ? [{ type: ALERTING_CONDITION, ...alerting }] : []),
    ...(endpoint
      ? [
          {
            type: QUERY_ENDPOINT_CONDITION,
            status: endpoint.status,
            reason: endpoint.reason,
            message: endpoint.message,
          },
        ]
      : []),
    ...report.warnings.map((w) => ({
      type: w.type,
      status: 'True' as const,
      reason: w.reason,
      message: w.message,
    })),
    // The last removal of a turned-off role's objects: True while a role it names is off, False once
    // each of those is on again (a run that changes nothing else changes nothing here). Roles that are
    // off by default and never had anything removed (e.g. metrics-server) do not hold it True.
    ...(report.removed?.length
      ? [
          {
            type: ROLE_REMOVED,
            status: 'True' as const,
            reason: 'RoleTurnedOff',
            message: report.removed
              .map((r) => `${r.role} (${r.reason}): ${r.removed.length} removed, ${r.kept.length} kept`)
              .join('; '),
          },
        ]
      : removedRolesStillOff(prev, report) === false
        ? [
            {
              type: ROLE_REMOVED,
              status: 'False' as const,
              reason: 'RolesOn',
              message: 'every role whose objects were removed is on again',
            },
          ]
        : []),
    ...prev
      .filter((c) => WARNING_TYPES.has(c.type) && !current.has(c.type) && c.status === 'True')
      .map((c) => ({
        type: c.type,
        status: 'False' as const,
        reason: 'Resolved',
        message: 'no longer applies',
      })),
  ];
  return apply(prev, updates, generation);
}

export function succeededConditions(prev: Condition[], report: RunReport, generation?: number): Condition[] {
  return apply(
    findingConditions(prev, report, generation),
    [
      { type: 'Ready', status: 'True', reason: 'RunSucceeded', message: summary(report) },
      { type: 'Progressing', status: 'False', reason: 'RunComplete', message: 'idle' },
      { type: 'Degraded', status: 'False', reason: 'RunSucceeded', message: 'last run succeeded' },
    ],
    generation,
  );
}

export function failedConditions(
  prev: Condition[],
  reason: string,
  message: string,
  generation?: number,
): Condition[] {
  return apply(
    prev,
    [
      { type: 'Degraded', status: 'True', reason, message },
      { type: 'Ready', status: 'False', reason, message },
      { type: 'Progressing', status: 'False', reason: 'RunFailed', message: 'idle after a failed run' },
    ],
    generation,
  );
}
