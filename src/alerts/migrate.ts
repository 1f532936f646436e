/**
 * The custom alerting rules of KubeSphere 3.1–3.3 (its alerting v2alpha1 API stored them as
 * PrometheusRules labelled `custom-alerting-rule-level: cluster|namespace`) converted to the rule
 * groups of alerting.kubesphere.io/v2beta1 that KubeSphere 3.4 lists and evaluates: ClusterRuleGroups
 * for cluster-level rules, RuleGroups in the rule's namespace for namespace-level ones
 * (docs/alerting.md, "Rules KubeSphere 3.1–3.3 left"). Pure: no cluster access.
 *
 * - One rule group per group of the PrometheusRule (not one per rule), named from the PrometheusRule
 *   and the group so that the name is a valid object name and two sources never share one.
 * - A rule keeps its alert, expr, for, labels and annotations; the label severity becomes the field,
 *   and what the old API added for itself goes (labels alerttype, rule_id; annotations kind,
 *   resources, rules, rule_update_time).
 * - A rule made with the old console's form (annotations kind, resources and rules) also gets the
 *   exprBuilder of the new console when its metric is one of the table below, its threshold converted
 *   into the unit of the recorded series.
 * - A rule that cannot be converted is reported with the reason; its group is not converted (it waits
 *   for the rule to be fixed, so that it never arrives in part), the other groups are.
 */
import { createHash } from 'node:crypto';
import { ALERTING_API_VERSION } from '../rules/package.js';

export const LEVEL_LABEL = 'custom-alerting-rule-level';
/** The mark on a PrometheusRule whose rules are all in rule groups (the original's label, kept). */
export const MIGRATED_LABEL = 'migrated-to-alerting-v2beta1';
/** On each rule group we create: the PrometheusRule and group it came from. */
export const MIGRATED_FROM_ANNOTATION = 'installer.kubesphere.io/migrated-from';
export const ENABLE_LABEL = 'alerting.kubesphere.io/enable';

export type Level = 'cluster' | 'namespace';

/** How a console unit is turned into the unit of the recorded series. */
type Dimension = 'ratio' | 'bytes' | 'bytesPerSecond' | 'cores' | 'count' | 'perSecond';

interface MetricRow {
  /** The exprBuilder threshold: `<type>.<field>` under metricThreshold. */
  threshold: [string, string];
  dimension: Dimension;
}

/** Node metrics (ClusterRuleGroup exprBuilder.node), by recording rule. */
export const NODE_METRICS: Readonly<Record<string, MetricRow>> = {
  'node:node_cpu_utilisation:avg1m': { threshold: ['cpu', 'utilization'], dimension: 'ratio' },
  'node:load1:ratio': { threshold: ['cpu', 'load1m'], dimension: 'ratio' },
  'node:load5:ratio': { threshold: ['cpu', 'load5m'], dimension: 'ratio' },
  'node:load15:ratio': { threshold: ['cpu', 'load15m'], dimension: 'ratio' },
  'node:node_memory_utilisation:': { threshold: ['memory', 'utilization'], dimension: 'ratio' },
  'node:node_memory_bytes_available:sum': { threshold: ['memory', 'available'], dimension: 'bytes' },
  'node:node_net_bytes_transmitted:sum_irate': {
    threshold: ['network', 'transmittedRate'],
    dimension: 'bytesPerSecond',
  },
  'node:node_net_bytes_received:sum_irate': {
    threshold: ['network', 'receivedRate'],
    dimension: 'bytesPerSecond',
  },
  'node:disk_space_utilization:ratio': { threshold: ['disk', 'spaceUtilization'], dimension: 'ratio' },
  'node:disk_space_available:': { threshold: ['disk', 'spaceAvailable'], dimension: 'bytes' },
  'node:disk_inode_utilization:ratio': { threshold: ['disk', 'inodeUtilization'], dimension: 'ratio' },
  'node:data_volume_iops_reads:sum': { threshold: ['disk', 'iopsRead'], dimension: 'perSecond' },
  'node:data_volume_iops_writes:sum': { threshold: ['disk', 'iopsWrite'], dimension: 'perSecond' },
  'node:data_volume_throughput_bytes_read:sum': {
    threshold: ['disk', 'throughputRead'],
    dimension: 'bytesPerSecond',
  },
  'node:data_volume_throughput_bytes_written:sum': {
    threshold: ['disk', 'throughputWrite'],
    dimension: 'bytesPerSecond',
  },
  'node:pod_utilization:ratio': { threshold: ['pod', 'utilization'], dimension: 'ratio' },
  'node:pod_abnormal:ratio': { threshold: ['pod', 'abnormalRatio'], dimension: 'ratio' },
};

/** Workload metrics (RuleGroup exprBuilder.workload), by recording rule; `<kind>` is the workload kind. */
export const WORKLOAD_METRICS: Readonly<Record<string, MetricRow>> = {
  'namespace:workload_cpu_usage:sum': { threshold: ['cpu', 'usage'], dimension: 'cores' },
  'namespace:workload_memory_usage:sum': { threshold: ['memory', 'usage'], dimension: 'bytes' },
  'namespace:workload_memory_usage_wo_cache:sum': {
    threshold: ['memory', 'usageWoCache'],
    dimension: 'bytes',
  },
  'namespace:workload_net_bytes_transmitted:sum_irate': {
    threshold: ['network', 'transmittedRate'],
    dimension: 'bytesPerSecond',
  },
  'namespace:workload_net_bytes_received:sum_irate': {
    threshold: ['network', 'receivedRate'],
    dimension: 'bytesPerSecond',
  },
  'namespace:<kind>_unavailable_replicas:ratio': {
    threshold: ['replica', 'unavailableRatio'],
    dimension: 'ratio',
  },
};

export const WORKLOAD_KINDS = ['deployment', 'statefulset', 'daemonset'] as const;

const K = 1000;
const Ki = 1024;

/** Console units: the dimension they measure and the factor into the recorded series' unit. */
export const UNITS: Readonly<Record<string, { dimension: Dimension; factor: number }>> = {
  '%': { dimension: 'ratio', factor: 0.01 },
  core: { dimension: 'cores', factor: 1 },
  cores: { dimension: 'cores', factor: 1 },
  m: { dimension: 'cores', factor: 0.001 },
  B: { dimension: 'bytes', factor: 1 },
  KB: { dimension: 'bytes', factor: K },
  MB: { dimension: 'bytes', factor: K ** 2 },
  GB: { dimension: 'bytes', factor: K ** 3 },
  TB: { dimension: 'bytes', factor: K ** 4 },
  KiB: { dimension: 'bytes', factor: Ki },
  MiB: { dimension: 'bytes', factor: Ki ** 2 },
  GiB: { dimension: 'bytes', factor: Ki ** 3 },
  TiB: { dimension: 'bytes', factor: Ki ** 4 },
  'B/s': { dimension: 'bytesPerSecond', factor: 1 },
  'KB/s': { dimension: 'bytesPerSecond', factor: K },
  'MB/s': { dimension: 'bytesPerSecond', factor: K ** 2 },
  'GB/s': { dimension: 'bytesPerSecond', factor: K ** 3 },
  'KiB/s': { dimension: 'bytesPerSecond', factor: Ki },
  'MiB/s': { dimension: 'bytesPerSecond', factor: Ki ** 2 },
  'GiB/s': { dimension: 'bytesPerSecond', factor: Ki ** 3 },
  // Bits per second: the series count bytes.
  bps: { dimension: 'bytesPerSecond', factor: 1 / 8 },
  Kbps: { dimension: 'bytesPerSecond', factor: K / 8 },
  Mbps: { dimension: 'bytesPerSecond', factor: K ** 2 / 8 },
  Gbps: { dimension: 'bytesPerSecond', factor: K ** 3 / 8 },
  'times/s': { dimension: 'perSecond', factor: 1 },
  'IO/s': { dimension: 'perSecond', factor: 1 },
  IOPS: { dimension: 'perSecond', factor: 1 },
};

const COMPARATORS = ['<', '<=', '>', '>='];
const SEVERITIES = ['critical', 'error', 'warning', 'info'];
const DROPPED_LABELS = ['severity', 'alerttype', 'rule_id'];
const DROPPED_ANNOTATIONS = ['kind', 'resources', 'rules', 'rule_update_time'];

export interface LegacyRule {
  alert?: unknown;
  record?: unknown;
  expr?: unknown;
  for?: unknown;
  labels?: Record<string, unknown>;
  annotations?: Record<string, unknown>;
}

export interface LegacyPrometheusRule {
  metadata: { name: string; namespace?: string; labels?: Record<string, string> };
  spec?: {
    groups?: { name?: string; interval?: string; partial_response_strategy?: string; rules?: LegacyRule[] }[];
  };
}

export interface RuleFailure {
  /** `<namespace>/<PrometheusRule>`, the group and the rule's alert name (or its position). */
  source: string;
  group: string;
  rule: string;
  reason: string;
}

export interface RuleGroupObject {
  apiVersion: string;
  kind: 'RuleGroup' | 'ClusterRuleGroup';
  metadata: {
    name: string;
    namespace?: string;
    labels: Record<string, string>;
    annotations: Record<string, string>;
  };
  spec: { interval?: string; partial_response_strategy?: string; rules: Record<string, unknown>[] };
}

export interface Migration {
  level: Level;
  groups: RuleGroupObject[];
  failures: RuleFailure[];
  /** Rules converted (into `groups`); rules of a group left out for another rule's failure are not counted. */
  converted: number;
}

/** The level of a legacy custom rule, or undefined when the object is not one. */
export function legacyLevel(rule: LegacyPrometheusRule): Level | undefined {
  const level = rule.metadata.labels?.[LEVEL_LABEL];
  return level === 'cluster' || level === 'namespace' ? level : undefined;
}

const MAX_NAME = 63;

/**
 * A valid object name (DNS-1123 label) for the group `group` of PrometheusRule `source`: the two
 * joined and lower-cased, anything else a "-", and a short hash of the exact source whenever that
 * changed or shortened it, so that distinct sources never map to one name.
 */
export function ruleGroupName(source: string, group: string): string {
  const raw = `${source}-${group}`;
  const slug = raw
    .toLowerCase()
    .replace(/[^a-z0-9-]+/g, '-')
    .replace(/-+/g, '-')
    .replace(/^-|-$/g, '');
  if (slug === raw && slug.length <= MAX_NAME) return slug;
  const hash = createHash('sha256').update(`${source}\n${group}`).digest('hex').slice(0, 8);
  const head = slug.slice(0, MAX_NAME - hash.length - 1).replace(/-$/, '');
  return head ? `${head}-${hash}` : `group-${hash}`;
}

function parseJson(text: unknown, what: string): unknown {
  if (typeof text !== 'string') throw new Error(`annotation ${what} is not a string`);
  try {
    return JSON.parse(text);
  } catch {
    throw new Error(`annotation ${what} is not JSON`);
  }
}

/** The metric of a console `_metricType` (`<record>{<selector>}`) and its table row. */
export function metricRow(
  metricType: string,
  level: Level,
): { record: string; row: MetricRow; kind?: string } | undefined {
  const record = metricType.split('{')[0]!.trim();
  if (level === 'cluster') {
    const row = NODE_METRICS[record];
    return row ? { record, row } : undefined;
  }
  // Correction: the replica ratio records are named after the workload kind (no literal "$2").
  const replicas = /^namespace:(deployment|statefulset|daemonset)_unavailable_replicas:ratio$/.exec(record);
  if (replicas)
    return {
      record,
      row: WORKLOAD_METRICS['namespace:<kind>_unavailable_replicas:ratio']!,
      kind: replicas[1],
    };
  const row = WORKLOAD_METRICS[record];
  return row ? { record, row } : undefined;
}

/**
 * The exprBuilder of a rule made with the old console's form, undefined for other rules (their expr
 * is kept as written). Throws, with the reason, when the form's annotations are there but unusable.
 */
export function exprBuilder(
  annotations: Record<string, unknown>,
  level: Level,
): Record<string, unknown> | undefined {
  if (annotations.rules === undefined || annotations.resources === undefined) return undefined;
  const rules = parseJson(annotations.rules, 'rules');
  const resources = parseJson(annotations.resources, 'resources');
  if (!Array.isArray(rules) || rules.length === 0 || typeof rules[0] !== 'object' || rules[0] === null)
    throw new Error('annotation rules holds no condition');
  const condition = rules[0] as Record<string, unknown>;
  const metricType = condition._metricType;
  if (typeof metricType !== 'string') throw new Error('annotation rules has no _metricType');
  const found = metricRow(metricType, level);
  if (!found) return undefined;
  if (
    !Array.isArray(resources) ||
    resources.length === 0 ||
    resources.some((r) => typeof r !== 'string' || !r)
  )
    throw new Error('annotation resources names no node or workload');
  const comparator = condition.condition_type;
  if (typeof comparator !== 'string' || !COMPARATORS.includes(comparator))
    throw new Error(`comparator ${JSON.stringify(comparator)} is not one of ${COMPARATORS.join(' ')}`);
  const value =
    typeof condition.thresholds === 'number' ? condition.thresholds : Number(condition.thresholds);
  if (typeof condition.thresholds === 'boolean' || condition.thresholds === '' || !Number.isFinite(value))
    throw new Error(`threshold ${JSON.stringify(condition.thresholds)} is not a number`);
  const unitName = condition.unit === undefined || condition.unit === null ? '' : String(condition.unit);
  const unit = unitName === '' ? { dimension: found.row.dimension, factor: 1 } : UNITS[unitName];
  if (!unit) throw new Error(`unit ${JSON.stringify(unitName)} of the threshold is not known`);
  if (unit.dimension !== found.row.dimension)
    throw new Error(`unit ${JSON.stringify(unitName)} does not measure ${found.record}`);
  // Rounded to 12 significant digits: 80 % is 0.8, not 0.8000000000000002.
  const threshold = Number((value * unit.factor).toPrecision(12));
  const [type, field] = found.row.threshold;
  const metricThreshold = { [type]: { [field]: threshold } };
  if (level === 'cluster') {
    return { node: { names: resources, comparator, metricThreshold } };
  }
  const kindText = typeof annotations.kind === 'string' ? annotations.kind.toLowerCase() : undefined;
  const kind = found.kind ?? kindText;
  if (!kind || !(WORKLOAD_KINDS as readonly string[]).includes(kind))
    throw new Error(
      `workload kind ${JSON.stringify(annotations.kind)} is not Deployment, StatefulSet or DaemonSet`,
    );
  return { workload: { kind, names: resources, comparator, metricThreshold } };
}

function stringMap(
  map: Record<string, unknown> | undefined,
  drop: string[],
  what: string,
): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(map ?? {})) {
    if (drop.includes(k)) continue;
    if (typeof v !== 'string') throw new Error(`${what} ${k} is not a string`);
    out[k] = v;
  }
  return out;
}

/** One legacy rule in the v2beta1 form; throws with the reason when it cannot be converted. */
export function convertRule(rule: LegacyRule, level: Level): Record<string, unknown> {
  if (rule.record !== undefined) throw new Error('is a recording rule');
  if (typeof rule.alert !== 'string' || rule.alert === '') throw new Error('has no alert name');
  if ((typeof rule.expr !== 'string' || rule.expr.trim() === '') && typeof rule.expr !== 'number')
    throw new Error('has no expression');
  const severity = rule.labels?.severity;
  if (severity !== undefined && (typeof severity !== 'string' || !SEVERITIES.includes(severity)))
    throw new Error(`severity ${JSON.stringify(severity)} is not one of ${SEVERITIES.join(', ')}`);
  if (rule.for !== undefined && typeof rule.for !== 'string') throw new Error('for is not a duration');
  const labels = stringMap(rule.labels, DROPPED_LABELS, 'label');
  const annotations = stringMap(rule.annotations, DROPPED_ANNOTATIONS, 'annotation');
  const builder = exprBuilder(rule.annotations ?? {}, level);
  return {
    alert: rule.alert,
    expr: rule.expr,
    ...(rule.for ? { for: rule.for } : {}),
    ...(severity ? { severity } : {}),
    ...(Object.keys(labels).length ? { labels } : {}),
    ...(Object.keys(annotations).length ? { annotations } : {}),
    ...(builder ? { exprBuilder: builder } : {}),
  };
}

/** Every group of a legacy PrometheusRule as a rule group of its level, and the rules that failed. */
export function migratePrometheusRule(rule: LegacyPrometheusRule): Migration {
  const level = legacyLevel(rule);
  if (!level) throw new Error(`${rule.metadata.name} has no ${LEVEL_LABEL} label of cluster or namespace`);
  const namespace = rule.metadata.namespace ?? '';
  const source = `${namespace}/${rule.metadata.name}`;
  const groups: RuleGroupObject[] = [];
  const failures: RuleFailure[] = [];
  let converted = 0;
  for (const [gi, group] of (rule.spec?.groups ?? []).entries()) {
    const groupName = group.name || `#${gi}`;
    const rules: Record<string, unknown>[] = [];
    const failed = failures.length;
    for (const [ri, r] of (group.rules ?? []).entries()) {
      try {
        rules.push(convertRule(r, level));
      } catch (err) {
        const name = typeof r.alert === 'string' && r.alert ? r.alert : `#${ri}`;
        failures.push({ source, group: groupName, rule: name, reason: (err as Error).message });
      }
    }
    if (rules.length === 0 || failures.length > failed) continue;
    converted += rules.length;
    groups.push({
      apiVersion: ALERTING_API_VERSION,
      kind: level === 'cluster' ? 'ClusterRuleGroup' : 'RuleGroup',
      metadata: {
        name: ruleGroupName(rule.metadata.name, groupName),
        ...(level === 'namespace' ? { namespace } : {}),
        labels: { [ENABLE_LABEL]: 'true' },
        annotations: { [MIGRATED_FROM_ANNOTATION]: `PrometheusRule ${source}, group ${groupName}` },
      },
      spec: {
        ...(group.interval ? { interval: group.interval } : {}),
        ...(group.partial_response_strategy
          ? { partial_response_strategy: group.partial_response_strategy }
          : {}),
        rules,
      },
    });
  }
  return { level, groups, failures, converted };
}
