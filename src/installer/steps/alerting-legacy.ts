/**
 * The alerting role's after-apply step: the alerting rules that KubeSphere 3.1–3.3 left
 * (docs/alerting.md).
 * 1. PrometheusRules of the 3.1/3.2 ThanosRuler (labels thanosruler=thanos-ruler and
 *    role=thanos-alerting-rules) get the 3.3 labels (thanos-ruler=kubesphere, role=alert-rules, no
 *    thanosruler), in every namespace.
 * 2. Where KubeSphere core serves alerting.kubesphere.io/v2beta1: the custom rules of the old alerting
 *    API (label custom-alerting-rule-level) become ClusterRuleGroups and RuleGroups (src/alerts/migrate.ts),
 *    created, never applied: they are the user's from then on. A PrometheusRule whose rules are all
 *    in rule groups is labelled migrated-to-alerting-v2beta1=true and is not read again; one with a
 *    rule that cannot be converted is left as it is, that rule named in the condition
 *    AlertingRulesNotMigrated and in an Event, and tried again each run. Nothing is deleted.
 * Both read with one labelled list each, so a run with nothing left to do writes nothing.
 */
import {
  MIGRATED_FROM_ANNOTATION,
  MIGRATED_LABEL,
  migratePrometheusRule,
  type LegacyPrometheusRule,
  type RuleFailure,
} from '../../alerts/migrate.js';
import { ApiError, CONTENT_TYPE, type KubeClient, type KubeObject } from '../../kube/client.js';
import { listAll } from '../../kube/list.js';
import { JSON_ONLY } from '../../observe/logger.js';
import type { AfterApplyStep } from '../model.js';

export const ALERTING_RULES_NOT_MIGRATED = 'AlertingRulesNotMigrated';

const PROMETHEUS_RULES = '/apis/monitoring.coreos.com/v1/prometheusrules';
export const LEGACY_THANOS_SELECTOR = 'thanosruler=thanos-ruler,role=thanos-alerting-rules';
export const LEGACY_CUSTOM_SELECTOR = `custom-alerting-rule-level in (cluster,namespace),${MIGRATED_LABEL}!=true`;

const rulePath = (o: { metadata: { name: string; namespace?: string } }) =>
  `/apis/monitoring.coreos.com/v1/namespaces/${o.metadata.namespace}/prometheusrules/${o.metadata.name}`;

/** Relabels the 3.1/3.2 rules; returns the names changed and the failures (never thrown, as the original). */
export async function relabelLegacyRules(
  client: KubeClient,
): Promise<{ relabelled: string[]; errors: string[] }> {
  const { items } = await listAll<KubeObject>(client, PROMETHEUS_RULES, {
    labelSelector: LEGACY_THANOS_SELECTOR,
    metadataOnly: true,
  });
  const relabelled: string[] = [];
  const errors: string[] = [];
  for (const item of items) {
    const name = `${item.metadata.namespace}/${item.metadata.name}`;
    try {
      await client.request('PATCH', rulePath(item), {
        body: {
          metadata: { labels: { 'thanos-ruler': 'kubesphere', role: 'alert-rules', thanosruler: null } },
        },
        contentType: CONTENT_TYPE.merge,
      });
      relabelled.push(name);
    } catch (err) {
      errors.push(`${name}: ${(err as Error).message}`);
    }
  }
  return { relabelled, errors };
}

export interface MigrationResult {
  /** Rule groups created by this run. */
  created: string[];
  /** PrometheusRules marked as migrated by this run. */
  marked: string[];
  failures: RuleFailure[];
}

function collection(group: { kind: string; metadata: { namespace?: string } }): string {
  return group.kind === 'ClusterRuleGroup'
    ? '/apis/alerting.kubesphere.io/v2beta1/clusterrulegroups'
    : `/apis/alerting.kubesphere.io/v2beta1/namespaces/${group.metadata.namespace}/rulegroups`;
}

/** Migrates every legacy custom rule not marked yet (see the file comment). */
export async function migrateLegacyRules(client: KubeClient): Promise<MigrationResult> {
  const { items } = await listAll<KubeObject & LegacyPrometheusRule>(client, PROMETHEUS_RULES, {
    labelSelector: LEGACY_CUSTOM_SELECTOR,
  });
  const result: MigrationResult = { created: [], marked: [], failures: [] };
  for (const item of items) {
    const migration = migratePrometheusRule(item);
    const failures = [...migration.failures];
    for (const group of migration.groups) {
      const base = collection(group);
      const id = `${group.kind} ${group.metadata.namespace ? `${group.metadata.namespace}/` : ''}${group.metadata.name}`;
      const fail = (reason: string) =>
        failures.push(
          ...group.spec.rules.map((r) => ({
            source: `${item.metadata.namespace}/${item.metadata.name}`,
            group: group.metadata.annotations[MIGRATED_FROM_ANNOTATION]!.replace(/^.*, group /, ''),
            rule: String(r.alert),
            reason,
          })),
        );
      try {
        await client.request('POST', base, { body: group });
        result.created.push(id);
      } catch (err) {
        if (!(err instanceof ApiError) || err.status !== 409) {
          fail(`${id} was refused: ${(err as Error).message}`);
          continue;
        }
        // Created by an earlier run that stopped before marking its source: the same group, done.
        const live = await client.getOrUndefined<KubeObject>(`${base}/${group.metadata.name}`);
        const from = live?.metadata.annotations?.[MIGRATED_FROM_ANNOTATION];
        if (from !== group.metadata.annotations[MIGRATED_FROM_ANNOTATION])
          fail(`${id} already exists and did not come from this rule; rename or delete it`);
      }
    }
    if (failures.length === 0) {
      await client.request('PATCH', rulePath(item), {
        body: { metadata: { labels: { [MIGRATED_LABEL]: 'true' } } },
        contentType: CONTENT_TYPE.merge,
      });
      result.marked.push(`${item.metadata.namespace}/${item.metadata.name}`);
    }
    result.failures.push(...failures);
  }
  return result;
}

export function describeFailures(failures: RuleFailure[]): string {
  return failures
    .map((f) => `${f.rule} (PrometheusRule ${f.source}, group ${f.group}): ${f.reason}`)
    .join('; ');
}

/** The failures this process last posted an Event about: the same ones again post none. */
let lastReported = '';

export const legacyAlertingRules: AfterApplyStep = async ({ client, plan, logger, event }) => {
  const relabel = await relabelLegacyRules(client).catch((err: unknown) => ({
    relabelled: [],
    errors: [(err as Error).message],
  }));
  if (relabel.relabelled.length)
    logger.info(`alerting: relabelled the 3.1/3.2 PrometheusRules ${relabel.relabelled.join(', ')}`);
  for (const e of relabel.errors) logger.warn(`alerting: could not relabel a 3.1/3.2 PrometheusRule: ${e}`);
  // Rule groups exist only where KubeSphere core serves their API (the built-in alerts' form says so).
  if (plan.values.alerts.form !== 'GlobalRuleGroup')
    return { warnings: [], changed: relabel.relabelled.length };
  const migrated = await migrateLegacyRules(client);
  if (migrated.created.length || migrated.marked.length)
    logger.info(
      `alerting: migrated custom rules of KubeSphere 3.1-3.3: created ${migrated.created.join(', ') || 'no rule group'}; marked ${migrated.marked.join(', ') || 'none'}`,
      { [JSON_ONLY]: { created: migrated.created, marked: migrated.marked } },
    );
  const changed = relabel.relabelled.length + migrated.created.length + migrated.marked.length;
  if (migrated.failures.length === 0) {
    lastReported = '';
    return { warnings: [], changed };
  }
  const message = `custom alerting rules of KubeSphere 3.1-3.3 left as they were (their groups wait), not converted: ${describeFailures(migrated.failures)}`;
  logger.warn(`${ALERTING_RULES_NOT_MIGRATED}: ${message}`, { condition: ALERTING_RULES_NOT_MIGRATED });
  if (message !== lastReported) {
    lastReported = message;
    await event?.('Warning', ALERTING_RULES_NOT_MIGRATED, message);
  }
  return {
    warnings: [{ type: ALERTING_RULES_NOT_MIGRATED, reason: 'ConversionFailed', message }],
    changed,
  };
};
