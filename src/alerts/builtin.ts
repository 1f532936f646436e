/**
 * Our built-in alerts (./groups, data) in the form a cluster can use, decided each run from
 * discovery (values.alerts.form, src/config/resolve.ts):
 * - GlobalRuleGroup (alerting.kubesphere.io/v2beta1, cluster-scoped) where KubeSphere core serves that
 *   API, as the original shipped them: ks-controller-manager hands them to its rule evaluator;
 * - PrometheusRule where it does not, selected by our Prometheus (prometheus: k8s, role: alert-rules),
 *   so a cluster without KubeSphere core still gets alerts. These are the "fallback" objects: one per
 *   group, named FALLBACK_PREFIX + group; a run that installs GlobalRuleGroups deletes them by name.
 * Each group goes with the role that installs what it watches (docs/rules.md).
 */
import { createHash } from 'node:crypto';
import type { BuiltinAlertToggles } from '../config/facts.js';
import type { KubeObject } from '../kube/client.js';
import { MANAGED_BY_LABEL, MANAGED_BY_VALUE } from '../kube/live-objects.js';
import { ETCD_GROUP } from './groups/etcd.js';
import { KUBERNETES_GROUPS } from './groups/kubernetes.js';
import { KUBESPHERE_GROUPS } from './groups/kubesphere.js';
import { GENERAL_GROUP, NODE_EXPORTER_GROUP, NODE_NETWORK_GROUP } from './groups/node.js';
import {
  ALERTMANAGER_GROUP,
  CONFIG_RELOADERS_GROUP,
  KUBE_STATE_METRICS_GROUP,
  PROMETHEUS_GROUP,
  PROMETHEUS_OPERATOR_GROUP,
  THANOS_RULE_GROUP,
} from './groups/components.js';
import type { AlertGroupSpec, AlertSpec } from './model.js';

export const ALERTING_API_VERSION = 'alerting.kubesphere.io/v2beta1';
export const GLOBAL_RULE_GROUP = 'GlobalRuleGroup';

/** GlobalRuleGroup where alerting.kubesphere.io/v2beta1 is served, else PrometheusRule. */
type AlertForm = 'GlobalRuleGroup' | 'PrometheusRule';

/** Names of the fallback PrometheusRules: this prefix and the group name. */
export const FALLBACK_PREFIX = 'builtin-alerts-';

/**
 * The original's runbook host; its pages sit under runbooks/<component>/<alert name in lower case>
 * (the layout of kubesphere/alert-runbooks, like runbooks.prometheus-operator.dev). Not every alert
 * has a page there.
 */
const RUNBOOK_BASE = 'https://alert-runbooks.kubesphere.io/runbooks';

/** Every group with the role that installs it, in apply order within each role. */
export const BUILTIN_ALERT_GROUPS: readonly { role: string; group: AlertGroupSpec }[] = [
  // prometheus-stack: the operator's (3.1.c) and Prometheus's (3.1.g) groups, the Kubernetes groups
  // with the component monitors (3.1.i), the KubeSphere groups with its monitors (3.1.j); and, never
  // applied by the original, kube-prometheus's general-rules.
  ...[
    PROMETHEUS_OPERATOR_GROUP,
    CONFIG_RELOADERS_GROUP,
    PROMETHEUS_GROUP,
    ...KUBERNETES_GROUPS,
    ...KUBESPHERE_GROUPS,
    GENERAL_GROUP,
  ].map((group) => ({ role: 'prometheus-stack', group })),
  // node-exporter (3.1.d), with kube-prometheus's node-network, which the original never applied.
  { role: 'node-exporter', group: NODE_EXPORTER_GROUP },
  { role: 'node-exporter', group: NODE_NETWORK_GROUP },
  { role: 'kube-state-metrics', group: KUBE_STATE_METRICS_GROUP },
  { role: 'alertmanager', group: ALERTMANAGER_GROUP },
  // Only with etcd monitoring, as the role itself.
  { role: 'etcd-monitor', group: ETCD_GROUP },
  // Only with the alerting module: the ThanosRuler's own alerts.
  { role: 'alerting', group: THANOS_RULE_GROUP },
];

/** Names of every fallback PrometheusRule we may have created (the only ones a run ever deletes). */
export const FALLBACK_RULE_NAMES: readonly string[] = BUILTIN_ALERT_GROUPS.map(
  ({ group }) => `${FALLBACK_PREFIX}${group.name}`,
);

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

const MANAGED_BY = { [MANAGED_BY_LABEL]: MANAGED_BY_VALUE };

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
export function globalRuleGroup(group: AlertGroupSpec, toggles?: BuiltinAlertToggles): KubeObject {
  const object = {
    apiVersion: ALERTING_API_VERSION,
    kind: GLOBAL_RULE_GROUP,
    metadata: {
      name: group.name,
      labels: {
        'alerting.kubesphere.io/builtin': 'true',
        'alerting.kubesphere.io/enable': 'true',
        ...MANAGED_BY,
      },
    },
    spec: {
      rules: group.rules.map((rule) => ({
        alert: rule.alert,
        expr: rule.expr,
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
function fallbackPrometheusRule(group: AlertGroupSpec, namespace: string): KubeObject {
  return {
    apiVersion: 'monitoring.coreos.com/v1',
    kind: 'PrometheusRule',
    metadata: {
      name: `${FALLBACK_PREFIX}${group.name}`,
      namespace,
      labels: {
        prometheus: 'k8s',
        role: 'alert-rules',
        'app.kubernetes.io/component': 'builtin-alerts',
        ...MANAGED_BY,
      },
    },
    spec: {
      groups: [
        {
          name: group.name,
          rules: group.rules.map((rule) => ({
            alert: rule.alert,
            expr: rule.expr,
            ...(rule.for ? { for: rule.for } : {}),
            labels: { ...rule.labels, severity: rule.severity, rule_id: ruleId(group.name, rule) },
            annotations: annotations(group, rule),
          })),
        },
      ],
    },
  } as KubeObject;
}

/** The objects of one role's groups in the given form. */
export function builtinAlertObjects(
  role: string,
  alerts: { form: AlertForm; toggles: Record<string, BuiltinAlertToggles> },
  namespace: string,
): { group: string; object: KubeObject }[] {
  return BUILTIN_ALERT_GROUPS.filter((g) => g.role === role).map(({ group }) => ({
    group: group.name,
    object:
      alerts.form === 'GlobalRuleGroup'
        ? globalRuleGroup(group, alerts.toggles[group.name])
        : fallbackPrometheusRule(group, namespace),
  }));
}
