/**
 * What a role does after every role has applied its objects: steps that read or change the cluster
 * beyond server-side apply. Each returns what it did — warnings (each its own condition), objects it
 * changed, and when the run should be looked at again — and never throws for a state the user can fix.
 */
import type { ValueWarning } from '../config/values.js';
import type { KubeClient } from '../kube/client.js';
import type { Logger } from '../observe/logger.js';
import { JSON_ONLY } from '../observe/logger.js';
import { builtinAlertsState, pruneFallbackRules } from './builtin-alerts.js';
import type { PlannedObject } from './apply-plan.js';
import type { Plan } from './plan.js';
import { growPrometheusStorage } from './storage-growth.js';

export interface AfterApplyContext {
  client: KubeClient;
  plan: Plan;
  logger: Logger;
  /** The role's objects, with their live state before this run's apply. */
  objects: readonly PlannedObject[];
  /** Whether this is the process's first run to get this far (a step left undone by a crash is done now). */
  firstRun: boolean;
  /** Posts an Event on the ClusterConfiguration (best effort). */
  event?: (type: 'Normal' | 'Warning', reason: string, message: string) => Promise<void>;
}

export interface AfterApplyResult {
  warnings: ValueWarning[];
  /** Objects the step created, changed or deleted. */
  changed: number;
  /** Look at the run again after this long (e.g. a volume still expanding). */
  requeueAfterMs?: number;
  /** Status keys the run marks `{status: enabled, enabledTime}` (kept once set), e.g. metricsServer. */
  enabled?: EnabledStatusKey[];
}

/** The status keys of parts installed apart from the monitoring stack. */
export type EnabledStatusKey = 'metricsServer';

export type AfterApplyStep = (ctx: AfterApplyContext) => Promise<AfterApplyResult>;

/** How soon to look at a Prometheus volume again while its expansion is in progress. */
export const EXPANSION_RECHECK_MS = 30_000;

/** Existing Prometheus volumes grow to the size the CR now asks for, where their StorageClass allows it. */
export const growPrometheusVolumes: AfterApplyStep = async ({ client, plan, logger }) => {
  const v = plan.values;
  const growth = await growPrometheusStorage(client, v.namespace, v.prometheus.storage.size, logger);
  for (const w of growth.warnings)
    logger.warn(`${w.type}: ${w.message}`, { condition: w.type, reason: w.reason });
  return {
    warnings: growth.warnings,
    changed: 0,
    ...(growth.expanding ? { requeueAfterMs: EXPANSION_RECHECK_MS } : {}),
  };
};

/** Installed as GlobalRuleGroups: the fallback PrometheusRules of earlier runs go, by name. */
export const switchBuiltinAlerts: AfterApplyStep = async ({ client, plan, logger }) => {
  const alerts = builtinAlertsState(plan);
  const pruned =
    alerts.reason === 'GlobalRuleGroups' ? await pruneFallbackRules(client, plan.values.namespace) : [];
  logger.info(
    `builtin alerts: ${alerts.message}${pruned.length ? `; deleted the fallback PrometheusRules ${pruned.join(', ')}` : ''}`,
    { [JSON_ONLY]: { form: alerts.reason, pruned } },
  );
  return { warnings: [], changed: pruned.length };
};
