/**
 * Our rules (rules/, read by ./load.ts) as the objects a role applies:
 * - recording groups: one PrometheusRule per catalog object, its groups in catalog order, selected by
 *   our Prometheus (prometheus: k8s, role: alert-rules);
 * - alert groups, in the form decided each run from discovery (values.alerts.form, src/config/resolve.ts):
 *   GlobalRuleGroup (alerting.kubesphere.io/v2beta1, cluster-scoped) where KubeSphere core serves that
 *   API, as the original shipped them: ks-controller-manager hands them to its rule evaluator; else the
 *   "fallback" PrometheusRule FALLBACK_PREFIX + group, so a cluster without KubeSphere core still gets
 *   alerts. A run that installs GlobalRuleGroups deletes the fallback objects by name
 *   (src/installer/builtin-alerts.ts).
 * A group goes with the role the catalog names, when that role runs and the group's condition holds.
 * Every expression gets the monitoring namespace from values.namespace (docs/rules.md).
 */
import { createHash } from 'node:crypto';
import type { BuiltinAlertToggles } from '../config/facts.js';
import type { MonitoringValues } from '../config/values.js';
import type { KubeObject } from '../kube/client.js';
import { ownershipLabels } from '../config/ownership.js';
import {
  expandVariables,
  loadRuleCatalog,
  type AlertGroupSpec,
  type AlertSpec,
  type RuleCondition,
  type RuleVariables,
} from './load.js';

export const ALERTING_API_VERSION = 'alerting.kubesphere.io/v2beta1';
export const GLOBAL_RULE_GROUP = 'GlobalRuleGroup';

/** Names of the fallback PrometheusRules: this prefix and the group name. */
export const FALLBACK_PREFIX = 'builtin-alerts-';

/**
 * The original's runbook host; its pages sit under runbooks/<component>/<alert name in lower case>
 * (the layout of kubesphere/alert-runbooks, like runbooks.prometheus-operator.dev). Not every alert
 * has a page there.
 */
const RUNBOOK_BASE = 'https://alert-runbooks.kubesphere.io/runbooks';

/** The labels by which our Prometheus selects PrometheusRules (templates/prometheus-stack/21-prometheus). */
const PROMETHEUS_SELECTOR = { prometheus: 'k8s', role: 'alert-rules' };

/** The name of every built-in alert group, in catalog order. */
export const BUILTIN_ALERT_GROUP_NAMES: readonly string[] = loadRuleCatalog().alerts.map((a) => a.group);

/** Names of every fallback PrometheusRule we may have created (the only ones a run ever deletes). */
export const FALLBACK_RULE_NAMES: readonly string[] = BUILTIN_ALERT_GROUP_NAMES.map(
  (group) => `${FALLBACK_PREFIX}${group}`,
);

/** Where a role's objects from rules/ come from (ManifestSource.source). */
const ALERTS_SOURCE = 'rules/alerts/';
export function isBuiltinAlertSource(source: string): boolean {
  return source.startsWith(ALERTS_SOURCE);
}

/**
 * A rule's identity in Alertmanager routing and silences: 32 hex digits, the MD5 of
 * `<group>/<alert>/<severity>/<for>`; stable across runs and releases while those four stay.
 */
export function ruleId(group: string, rule: Pick<AlertSpec, 'alert' | 'severity' | 'for'>): string {
  return createHash('md5')
    .update(`${group}/${rule.alert}/${rule.severity}/${rule.for ?? ''}`)
    .digest('hex');
}

function runbookUrl(group: AlertGroupSpec, rule: AlertSpec): string {
  return `${RUNBOOK_BASE}/${group.runbooks}/${rule.alert.toLowerCase()}`;
}

function annotations(group: AlertGroupSpec, rule: AlertSpec): Record<string, string> {
  return { summary: rule.summary, description: rule.description, runbook_url: runbookUrl(group, rule) };
}

const ENABLE_LABEL = 'alerting.kubesphere.io/enable';

/** A rule's key for the console's per-rule `disable`, independent of rule_id (the original's differ). */
export function toggleKey(rule: { alert?: string; severity?: string; for?: string }): string {
  return `${rule.alert ?? ''}/${rule.severity ?? ''}/${rule.for ?? ''}`;
}

/** What KubeSphere's console toggles on a live GlobalRuleGroup: its enable label, rules' `disable`. */
export function liveToggles(object: KubeObject): BuiltinAlertToggles {
  const rules = (object as { spec?: { rules?: (AlertSpec & { disable?: boolean })[] } }).spec?.rules ?? [];
  const enable = object.metadata.labels?.[ENABLE_LABEL];
  return {
    ...(enable !== undefined ? { enable } : {}),
    disabledRules: rules.filter((r) => r.disable === true).map(toggleKey),
  };
}

/**
 * A GlobalRuleGroup: severity a field of each rule, rule_id (and any fixed labels) its labels. The
 * console's toggles on the live group (`toggles`) are kept: a disabled group or rule stays disabled;
 * the initial-configuration snapshot is always the group as we ship it.
 */
export function globalRuleGroup(
  group: AlertGroupSpec,
  vars: RuleVariables,
  toggles?: BuiltinAlertToggles,
  labels: Record<string, string> = {},
): KubeObject {
  const object = {
    apiVersion: ALERTING_API_VERSION,
    kind: GLOBAL_RULE_GROUP,
    metadata: {
      name: group.name,
      labels: {
        'alerting.kubesphere.io/builtin': 'true',
        'alerting.kubesphere.io/enable': 'true',
        ...labels,
      },
    },
    spec: {
      rules: group.rules.map((rule) => ({
        alert: rule.alert,
        expr: expandVariables(rule.expr, vars),
        ...(rule.for ? { for: rule.for } : {}),
        severity: rule.severity,
        labels: { ...rule.labels, rule_id: ruleId(group.name, rule) },
        annotations: annotations(group, rule),
      })),
    },
  };
  // As the original: a snapshot of the item, which KubeSphere's console restores on "reset".
  const snapshot = JSON.stringify(object);
  const disabled = new Set(toggles?.disabledRules ?? []);
  return {
    ...object,
    metadata: {
      ...object.metadata,
      labels: { ...object.metadata.labels, [ENABLE_LABEL]: toggles?.enable ?? 'true' },
      annotations: { 'alerting.kubesphere.io/initial-configuration': snapshot },
    },
    spec: {
      rules: object.spec.rules.map((r) => (disabled.has(toggleKey(r)) ? { ...r, disable: true } : r)),
    },
  } as KubeObject;
}

/** The fallback PrometheusRule: one group, severity a label beside rule_id. */
function fallbackPrometheusRule(group: AlertGroupSpec, vars: RuleVariables): KubeObject {
  return {
    apiVersion: 'monitoring.coreos.com/v1',
    kind: 'PrometheusRule',
    metadata: {
      name: `${FALLBACK_PREFIX}${group.name}`,
      namespace: vars.MONITORING_NAMESPACE,
      labels: {
        ...PROMETHEUS_SELECTOR,
        'app.kubernetes.io/component': 'builtin-alerts',
      },
    },
    spec: {
      groups: [
        {
          name: group.name,
          rules: group.rules.map((rule) => ({
            alert: rule.alert,
            expr: expandVariables(rule.expr, vars),
            ...(rule.for ? { for: rule.for } : {}),
            labels: { ...rule.labels, severity: rule.severity, rule_id: ruleId(group.name, rule) },
            annotations: annotations(group, rule),
          })),
        },
      ],
    },
  } as KubeObject;
}

function holds(when: RuleCondition | undefined, values: MonitoringValues): boolean {
  switch (when) {
    case undefined:
      return true;
    case 'etcd-monitoring':
      return values.etcd.enabled;
  }
}

/**
 * The objects of one role's rule groups: its recording PrometheusRules, then its alert groups in the
 * run's form. `source` is `rules/recording/<object>` or `rules/alerts/<group>.yaml`.
 */
export function ruleObjects(
  role: string,
  values: MonitoringValues,
): { source: string; object: KubeObject }[] {
  const catalog = loadRuleCatalog();
  const vars: RuleVariables = { MONITORING_NAMESPACE: values.namespace };
  const recording = catalog.recording.filter((e) => e.role === role && holds(e.when, values));
  const objects = [...new Set(recording.map((e) => e.object))].map((name) => ({
    source: `rules/recording/${name}`,
    object: {
      apiVersion: 'monitoring.coreos.com/v1',
      kind: 'PrometheusRule',
      metadata: {
        name,
        namespace: values.namespace,
        labels: { ...catalog.objects[name]!.labels, ...PROMETHEUS_SELECTOR },
      },
      spec: {
        groups: recording
          .filter((e) => e.object === name)
          .map(({ spec }) => ({
            ...spec,
            rules: spec.rules.map((r) => ({ ...r, expr: expandVariables(r.expr, vars) })),
          })),
      },
    } as KubeObject,
  }));
  const alerts = catalog.alerts
    .filter((e) => e.role === role && holds(e.when, values))
    .map(({ file, spec }) => ({
      source: `rules/${file}`,
      object:
        values.alerts.form === 'GlobalRuleGroup'
          ? globalRuleGroup(spec, vars, values.alerts.toggles[spec.name], ownershipLabels(role))
          : fallbackPrometheusRule(spec, vars),
    }));
  return [...objects, ...alerts];
}
