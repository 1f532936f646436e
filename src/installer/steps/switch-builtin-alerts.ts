/**
 * The run's side of the built-in alerts (rules/alerts, src/rules): which form this run installed, shown as the
 * condition BuiltinAlerts, and the switch-over, an after-apply step of prometheus-stack. Once
 * GlobalRuleGroups are installed the fallback PrometheusRules are deleted, by name, each one we may
 * have created and nothing else (the operator's RBAC allows delete on exactly those names).
 */
import { ALERTING_API_VERSION, FALLBACK_RULE_NAMES, isBuiltinAlertSource } from '../../rules/package.js';
import { ApiError, type KubeClient } from '../../kube/client.js';
import { MANAGED_BY_SELECTOR } from '../../config/ownership.js';
import { listAll } from '../../kube/list.js';
import { JSON_ONLY } from '../../observe/logger.js';
import type { AfterApplyStep, Plan } from '../model.js';

export const BUILTIN_ALERTS_CONDITION = 'BuiltinAlerts';

interface BuiltinAlertsState {
  status: 'True' | 'False';
  /** GlobalRuleGroups, PrometheusRules or NotInstalled. */
  reason: string;
  message: string;
}

/** What the plan installs, for the condition and the log. */
export function builtinAlertsState(plan: Plan): BuiltinAlertsState {
  const objects = plan.roles.flatMap((r) => r.manifests).filter((m) => isBuiltinAlertSource(m.source));
  if (objects.length === 0) {
    return {
      status: 'False',
      reason: 'NotInstalled',
      message: 'no built-in alerts: common.monitoring.type is external',
    };
  }
  const rules = objects.reduce((n, m) => {
    const spec = (m.object as unknown as { spec: { rules?: unknown[]; groups?: { rules: unknown[] }[] } })
      .spec;
    return n + (spec.rules?.length ?? spec.groups?.reduce((k, g) => k + g.rules.length, 0) ?? 0);
  }, 0);
  if (plan.values.alerts.form === 'GlobalRuleGroup') {
    return {
      status: 'True',
      reason: 'GlobalRuleGroups',
      message: `${rules} alerting rules in ${objects.length} GlobalRuleGroups: ${ALERTING_API_VERSION} is served, KubeSphere evaluates them`,
    };
  }
  return {
    status: 'True',
    reason: 'PrometheusRules',
    message: `${rules} alerting rules in ${objects.length} PrometheusRules builtin-alerts-* in ${plan.values.namespace}, evaluated by Prometheus k8s: ${ALERTING_API_VERSION} is not served`,
  };
}

/**
 * Deletes every fallback PrometheusRule that exists; returns the names deleted. Which exist is read
 * first (one metadata-only list of our PrometheusRules), so a run with none left sends no delete; where
 * that list is not allowed, each name is deleted blindly (a 404 is no error).
 */
async function pruneFallbackRules(client: KubeClient, namespace: string): Promise<string[]> {
  const base = `/apis/monitoring.coreos.com/v1/namespaces/${namespace}/prometheusrules`;
  let names: readonly string[] = FALLBACK_RULE_NAMES;
  try {
    const { items } = await listAll(client, base, { labelSelector: MANAGED_BY_SELECTOR, metadataOnly: true });
    const present = new Set(items.map((i) => i.metadata.name));
    names = FALLBACK_RULE_NAMES.filter((n) => present.has(n));
  } catch (err) {
    if (!(err instanceof ApiError) || (err.status !== 403 && !err.notFound)) throw err;
    if (err.notFound) return [];
  }
  const deleted = await Promise.all(
    names.map(async (name) => {
      try {
        await client.request('DELETE', `${base}/${name}`);
        return name;
      } catch (err) {
        if (err instanceof ApiError && err.notFound) return undefined;
        throw err;
      }
    }),
  );
  return deleted.filter((n): n is string => n !== undefined);
}

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
