/**
 * Reads our Prometheus rules (the rules/ folder: catalog.yaml, recording/<group>.yaml,
 * alerts/<group>.yaml) and checks them, once per process. Each file is a Prometheus rule file with
 * exactly the one group the catalog names, so promtool reads the committed files as they are; the
 * catalog says which role installs each group, in which object, and when. What the rules mean:
 * docs/rules.md. ./package.ts turns them into the objects a role applies.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import yaml from 'js-yaml';
import { projectRoot } from '../paths.js';

/** The `severity` of an alert: a top-level field of a GlobalRuleGroup rule, a label in a PrometheusRule. */
export type Severity = 'critical' | 'warning' | 'info' | 'none';
const SEVERITIES: readonly string[] = ['critical', 'warning', 'info', 'none'];

/** A condition a group needs beyond its role running (catalog key `when`). */
export type RuleCondition = 'etcd-monitoring';
const CONDITIONS: readonly string[] = ['etcd-monitoring'];

export interface AlertSpec {
  alert: string;
  severity: Severity;
  /** How long the expression must hold before the alert fires; omitted: fires at once. */
  for?: string;
  /** As written in the file: the monitoring namespace still as $(MONITORING_NAMESPACE). */
  expr: string;
  /** Labels besides severity (e.g. the burn-rate windows of KubeAPIErrorBudgetBurn). */
  labels?: Record<string, string>;
  summary: string;
  /** May use Prometheus alert templating: {{ $labels.x }}, {{ $value }}. */
  description: string;
}

export interface AlertGroupSpec {
  /** The group's name: the GlobalRuleGroup's, as in the original. */
  name: string;
  /** Path segment of the group's runbooks under the runbook host (see ./package.ts). */
  runbooks: string;
  rules: AlertSpec[];
}

/** A recording group exactly as its file holds it (rules: record, expr and any labels). */
export interface RecordingGroup {
  name: string;
  interval?: string;
  rules: { record: string; expr: string; labels?: Record<string, string> }[];
}

interface Placement {
  group: string;
  role: string;
  when?: RuleCondition;
  /** `recording/<group>.yaml` or `alerts/<group>.yaml`, relative to the rules folder. */
  file: string;
}

export interface RecordingEntry extends Placement {
  /** The PrometheusRule the group goes into (its role and condition are the group's). */
  object: string;
  spec: RecordingGroup;
}

export interface AlertEntry extends Placement {
  spec: AlertGroupSpec;
}

/** A PrometheusRule of recording groups: the role that installs it, when, its own labels. */
export interface RecordingObject {
  role: string;
  when?: RuleCondition;
  /** Besides the selector and managed-by labels, which ./package.ts adds. */
  labels: Record<string, string>;
}

export interface RuleCatalog {
  /** PrometheusRules of recording groups, by name. */
  objects: Record<string, RecordingObject>;
  /** In catalog order, which is the order of the groups inside each object. */
  recording: RecordingEntry[];
  alerts: AlertEntry[];
}

/** The rules/ folder of the installed program, beside templates/. */
export function rulesRoot(): string {
  return path.join(projectRoot(), 'rules');
}

class RuleFileError extends Error {
  constructor(file: string, reason: string) {
    super(`rules/${file}: ${reason}`);
    this.name = 'RuleFileError';
  }
}

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function stringMap(v: unknown, file: string, what: string): Record<string, string> {
  if (!isRecord(v) || Object.values(v).some((x) => typeof x !== 'string'))
    throw new RuleFileError(file, `${what} must map names to strings`);
  return v as Record<string, string>;
}

/** `role` and `when` of a catalog entry (an alert line or a recording object). */
function roleAndCondition(
  raw: Record<string, unknown>,
  what: string,
): { role: string; when?: RuleCondition } {
  if (typeof raw.role !== 'string') throw new RuleFileError('catalog.yaml', `${what}: role is missing`);
  if (raw.when !== undefined && !CONDITIONS.includes(raw.when as string))
    throw new RuleFileError(
      'catalog.yaml',
      `${what}: unknown condition ${JSON.stringify(raw.when)} (known: ${CONDITIONS.join(', ')})`,
    );
  return { role: raw.role, ...(raw.when !== undefined ? { when: raw.when as RuleCondition } : {}) };
}

/** A line of `recording` or `alerts`: its group, whose file is <kind>/<group>.yaml. */
function groupLine(
  raw: unknown,
  kind: 'recording' | 'alerts',
): Record<string, unknown> & { group: string; file: string } {
  if (!isRecord(raw) || typeof raw.group !== 'string')
    throw new RuleFileError('catalog.yaml', `each ${kind} line needs a group: ${JSON.stringify(raw)}`);
  return { ...raw, group: raw.group, file: `${kind}/${raw.group}.yaml` };
}

/** The one group of a rule file, which must carry the catalog's group name. */
function readGroup(root: string, file: string, name: string): Record<string, unknown> & { rules: unknown[] } {
  let doc: unknown;
  try {
    doc = yaml.load(readFileSync(path.join(root, file), 'utf8'));
  } catch (error) {
    throw new RuleFileError(file, error instanceof Error ? error.message : String(error));
  }
  const groups = isRecord(doc) ? doc.groups : undefined;
  if (!Array.isArray(groups) || groups.length !== 1)
    throw new RuleFileError(file, 'must hold exactly one group (groups: [ {name, rules} ])');
  const group = groups[0] as unknown;
  if (!isRecord(group) || group.name !== name || !Array.isArray(group.rules) || group.rules.length === 0)
    throw new RuleFileError(file, `its one group must be named ${name} and have rules`);
  return group as Record<string, unknown> & { rules: unknown[] };
}

function recordingGroup(root: string, file: string, name: string): RecordingGroup {
  const group = readGroup(root, file, name);
  for (const rule of group.rules) {
    if (
      !isRecord(rule) ||
      typeof rule.record !== 'string' ||
      typeof rule.expr !== 'string' ||
      'alert' in rule
    )
      throw new RuleFileError(
        file,
        `every rule of a recording group has record and expr: ${JSON.stringify(rule)}`,
      );
  }
  return group as unknown as RecordingGroup;
}

function alertGroup(root: string, file: string, name: string, runbooks: string): AlertGroupSpec {
  const group = readGroup(root, file, name);
  const rules = group.rules.map((rule): AlertSpec => {
    if (
      !isRecord(rule) ||
      typeof rule.alert !== 'string' ||
      typeof rule.expr !== 'string' ||
      'record' in rule
    )
      throw new RuleFileError(
        file,
        `every rule of an alert group has alert and expr: ${JSON.stringify(rule)}`,
      );
    const { severity, ...labels } = stringMap(rule.labels, file, `${rule.alert}: labels`);
    if (severity === undefined || !SEVERITIES.includes(severity))
      throw new RuleFileError(file, `${rule.alert}: labels.severity must be one of ${SEVERITIES.join(', ')}`);
    const { summary, description, ...other } = stringMap(
      rule.annotations,
      file,
      `${rule.alert}: annotations`,
    );
    if (!summary || !description || Object.keys(other).length > 0)
      throw new RuleFileError(
        file,
        `${rule.alert}: annotations are a summary and a description (rule_id and runbook_url are added)`,
      );
    if (rule.for !== undefined && typeof rule.for !== 'string')
      throw new RuleFileError(file, `${rule.alert}: for must be a duration such as 5m`);
    return {
      alert: rule.alert,
      severity: severity as Severity,
      ...(rule.for ? { for: rule.for } : {}),
      expr: rule.expr,
      ...(Object.keys(labels).length > 0 ? { labels } : {}),
      summary,
      description,
    };
  });
  return { name, runbooks, rules };
}

const cache = new Map<string, RuleCatalog>();

/** Reads rules/catalog.yaml and every file it names; throws on the first file that is not as described. */
export function loadRuleCatalog(root: string = rulesRoot()): RuleCatalog {
  const cached = cache.get(root);
  if (cached) return cached;
  const raw = yaml.load(readFileSync(path.join(root, 'catalog.yaml'), 'utf8'));
  if (!isRecord(raw) || !isRecord(raw.objects) || !Array.isArray(raw.recording) || !Array.isArray(raw.alerts))
    throw new RuleFileError('catalog.yaml', 'needs objects, recording and alerts');
  const objects = Object.fromEntries(
    Object.entries(raw.objects).map(([name, o]): [string, RecordingObject] => {
      if (!isRecord(o)) throw new RuleFileError('catalog.yaml', `objects.${name}: role, when and labels`);
      return [
        name,
        {
          ...roleAndCondition(o, `objects.${name}`),
          labels: stringMap(o.labels ?? {}, 'catalog.yaml', `objects.${name}.labels`),
        },
      ];
    }),
  );
  const recording = raw.recording.map((line): RecordingEntry => {
    const g = groupLine(line, 'recording');
    if (typeof g.object !== 'string' || !Object.hasOwn(objects, g.object))
      throw new RuleFileError('catalog.yaml', `group ${g.group}: object must be one of objects`);
    const { role, when } = objects[g.object]!;
    return {
      group: g.group,
      role,
      ...(when ? { when } : {}),
      file: g.file,
      object: g.object,
      spec: recordingGroup(root, g.file, g.group),
    };
  });
  const alerts = raw.alerts.map((line): AlertEntry => {
    const g = groupLine(line, 'alerts');
    if (typeof g.runbooks !== 'string')
      throw new RuleFileError('catalog.yaml', `group ${g.group}: runbooks (its runbook path) is missing`);
    return {
      group: g.group,
      ...roleAndCondition(g, `group ${g.group}`),
      file: g.file,
      spec: alertGroup(root, g.file, g.group, g.runbooks),
    };
  });
  const names = [...recording, ...alerts].map((e) => e.group);
  const twice = names.filter((n, i) => names.indexOf(n) !== i);
  if (twice.length > 0) throw new RuleFileError('catalog.yaml', `groups listed twice: ${twice.join(', ')}`);
  for (const name of Object.keys(objects)) {
    if (!recording.some((e) => e.object === name))
      throw new RuleFileError(
        'catalog.yaml',
        `object ${name} has no group: an empty PrometheusRule is never installed`,
      );
  }
  const catalog = { objects, recording, alerts };
  cache.set(root, catalog);
  return catalog;
}

/**
 * The variables a rule file may use, written $(NAME): today only the monitoring namespace, so that
 * its one value (config/values.ts) reaches every expression. Anything else written $( fails.
 */
export interface RuleVariables {
  MONITORING_NAMESPACE: string;
}

export function expandVariables(expr: string, vars: RuleVariables): string {
  return expr.replace(/\$\(([^)]*)\)/g, (whole, name: string) => {
    if (!Object.hasOwn(vars, name))
      throw new Error(
        `unknown variable ${whole} in a rule expression (known: ${Object.keys(vars).join(', ')})`,
      );
    return vars[name as keyof RuleVariables];
  });
}
