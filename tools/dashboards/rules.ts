/**
 * The recording rules the generated dashboards need: out of the mixins' own rule groups (their
 * `prometheusRules`, evaluated with the same configuration as the dashboards by
 * tools/dashboards/dashboards.jsonnet), exactly the rules that record a series some dashboard reads and
 * none of our rules records, and the rules those read, transitively. Each mixin group that keeps a rule
 * becomes one rule file of rules/recording, named `<mixin>-<group>` (our own groups already use names such
 * as k8s.rules and node.rules), with the mixin's rules in the mixin's order, unchanged.
 *
 * A record name is a metric name with a colon (Prometheus's naming convention for recording rules, which
 * every mixin record follows; label names cannot hold one). Refused, with the reason:
 * - a recorded series a dashboard reads that neither our rules nor the mixins' record;
 * - a needed rule that reads one of our records, or a needed record that one of ours also records (the
 *   two would clash: same name, different labels and meaning);
 * - a selection other than EXPECTED_RECORDS (tools/dashboards/sources.ts), so that a mixin or dashboard
 *   change that adds or drops a record is noticed.
 * Pure: takes the evaluated groups, the dashboard files and our record names.
 */
import yaml from 'js-yaml';
import { dashboardExpressions, substituteVariables } from './expressions.js';
import { DASHBOARD_REPOSITORIES, EXPECTED_DASHBOARDS, EXPECTED_RECORDS } from './sources.js';

/** A rule as a mixin's `prometheusRules` holds it (recording or alerting). */
export interface MixinRule {
  record?: string;
  alert?: string;
  expr: string;
  labels?: Record<string, string>;
}

export interface MixinGroup {
  name: string;
  interval?: string;
  rules: MixinRule[];
}

/** mixin name → its rule groups, in the mixin's order. */
export type EvaluatedRules = Record<string, MixinGroup[]>;

/** Where the generated rule files go, relative to the project root (the home of all our rules). */
export const RULES_SUBDIR = 'rules/recording';

/** The group (and file) name of a mixin group in rules/recording. */
export function generatedGroupName(mixin: string, group: string): string {
  return `${mixin}-${group}`;
}

/** Whether a file of rules/recording is one the generator writes (its name starts with a mixin's). */
export function isGeneratedRuleFile(file: string): boolean {
  return Object.keys(EXPECTED_DASHBOARDS).some((mixin) => file.startsWith(`${mixin}-`));
}

/** Record names an expression reads: metric names holding a colon, outside string literals. */
export function recordsRead(expr: string): string[] {
  const code = substituteVariables(expr).replace(/"(?:\\.|[^"\\])*"|'(?:\\.|[^'\\])*'|`[^`]*`/g, '""');
  const names = [...code.matchAll(/(?<![\w:.])[a-zA-Z_:][\w:]*/g)].map((m) => m[0]);
  return [...new Set(names.filter((n) => n.includes(':')))];
}

/** Every record name the dashboards' expressions read (panels, annotations, templating queries). */
export function recordsReadByDashboards(dashboards: ReadonlyMap<string, string>): Set<string> {
  const read = new Set<string>();
  for (const [file, text] of dashboards)
    for (const e of dashboardExpressions(file, JSON.parse(text)).expressions)
      for (const name of recordsRead(e.expr)) read.add(name);
  return read;
}

export interface SelectedGroup {
  mixin: string;
  /** The mixin's group name. */
  group: string;
  /** Our name for it: `<mixin>-<group>`; the file is `<name>.yaml`. */
  name: string;
  interval?: string;
  rules: MixinRule[];
}

export interface RuleSelection {
  groups: SelectedGroup[];
  /** Every record name generated, sorted. */
  records: string[];
}

/** Selects the rules (see the header); throws with every problem found. */
export function selectRecordingRules(
  evaluated: EvaluatedRules,
  dashboards: ReadonlyMap<string, string>,
  ours: ReadonlySet<string>,
): RuleSelection {
  const problems: string[] = [];
  const recordedBy = new Map<string, MixinRule[]>();
  for (const groups of Object.values(evaluated))
    for (const g of groups)
      for (const r of g.rules)
        if (r.record !== undefined) recordedBy.set(r.record, [...(recordedBy.get(r.record) ?? []), r]);

  const needed = new Set<string>();
  const queue: string[] = [];
  for (const name of [...recordsReadByDashboards(dashboards)].sort()) {
    if (ours.has(name)) continue;
    if (!recordedBy.has(name))
      problems.push(`${name}: read by a dashboard, recorded by no rule of ours nor of the mixins`);
    else {
      needed.add(name);
      queue.push(name);
    }
  }
  while (queue.length > 0) {
    const name = queue.shift()!;
    for (const rule of recordedBy.get(name)!)
      for (const dep of recordsRead(rule.expr)) {
        if (ours.has(dep))
          problems.push(
            `${name} reads ${dep}, which one of our rules records with its own labels and meaning`,
          );
        else if (!recordedBy.has(dep)) problems.push(`${name} reads ${dep}, which no rule records`);
        else if (!needed.has(dep)) {
          needed.add(dep);
          queue.push(dep);
        }
      }
  }

  const groups: SelectedGroup[] = [];
  for (const mixin of DASHBOARD_REPOSITORIES.map((r) => r.name).filter((m) => m in EXPECTED_DASHBOARDS))
    for (const g of evaluated[mixin] ?? []) {
      const rules = g.rules.filter((r) => r.record !== undefined && needed.has(r.record));
      if (rules.length === 0) continue;
      groups.push({
        mixin,
        group: g.name,
        name: generatedGroupName(mixin, g.name),
        ...(g.interval !== undefined ? { interval: g.interval } : {}),
        rules,
      });
    }
  const names = groups.map((g) => g.name);
  for (const n of names.filter((x, i) => names.indexOf(x) !== i)) problems.push(`group ${n} given twice`);

  const records = [...needed].sort();
  const expected = [...EXPECTED_RECORDS].sort();
  if (problems.length === 0 && JSON.stringify(records) !== JSON.stringify(expected))
    problems.push(
      `the dashboards need the records ${records.join(', ')}; tools/dashboards/sources.ts expects ` +
        `${expected.join(', ')}`,
    );
  if (problems.length > 0)
    throw new Error(`the mixins' recording rules do not fit the dashboards:\n  ${problems.join('\n  ')}`);
  return { groups, records };
}

/** A generated rule file's text: a header, then the one group as Prometheus reads it. */
export function ruleFileText(group: SelectedGroup): string {
  const repository = DASHBOARD_REPOSITORIES.find((r) => r.name === group.mixin)!;
  const commit = repository.dependencies[0]!.commit;
  const header = [
    `# Generated by npm run dashboards:generate (tools/generate-dashboards.ts); do not edit, regenerate.`,
    `# The recording rules of group ${group.group} of ${group.mixin}`,
    `# (${repository.remote.replace(/^https:\/\//, '').replace(/\.git$/, '')} at ${commit})`,
    `# that the Grafana dashboards read and our own rules do not record, configured by`,
    `# tools/dashboards/dashboards.jsonnet. Checksum: templates/grafana/dashboards/SOURCE.json. Installed`,
    `# with Grafana (rules/catalog.yaml); what they record and why: docs/dashboards.md.`,
  ];
  const doc = {
    groups: [
      {
        name: group.name,
        ...(group.interval !== undefined ? { interval: group.interval } : {}),
        rules: group.rules.map((r) => ({
          record: r.record,
          ...(r.labels !== undefined ? { labels: r.labels } : {}),
          expr: r.expr,
        })),
      },
    ],
  };
  return `${header.join('\n')}\n${yaml.dump(doc, { lineWidth: -1, noRefs: true })}`;
}

/** rules/recording file name → text, for every selected group. */
export function ruleFiles(selection: RuleSelection): Map<string, string> {
  return new Map(selection.groups.map((g) => [`${g.name}.yaml`, ruleFileText(g)]));
}
