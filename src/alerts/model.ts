/**
 * The shape of our built-in alerts as data (./groups/*.ts): one entry per alerting rule of the
 * contract (docs/rules.md). Expressions, summaries and
 * descriptions are ours; ./builtin.ts turns the data into GlobalRuleGroups or PrometheusRules.
 */

/** The `severity` of a rule: a top-level field of a GlobalRuleGroup rule, a label in a PrometheusRule. */
type Severity = 'critical' | 'warning' | 'info' | 'none';

export interface AlertSpec {
  alert: string;
  severity: Severity;
  /** How long the expression must hold before the alert fires; omitted: fires at once. */
  for?: string;
  expr: string;
  /** Labels besides severity and rule_id (e.g. the burn-rate windows of KubeAPIErrorBudgetBurn). */
  labels?: Record<string, string>;
  summary: string;
  /** May use Prometheus alert templating: {{ $labels.x }}, {{ $value }}. */
  description: string;
}

export interface AlertGroupSpec {
  /** The GlobalRuleGroup's name, as in the original. */
  name: string;
  /** Path segment of the group's runbooks under the runbook host (see ./builtin.ts). */
  runbooks: string;
  rules: AlertSpec[];
}

/**
 * Trims the indentation and the surrounding blank lines of a multi-line expression; a multi-line value
 * put in it is indented like the line it starts on.
 */
export function promql(strings: TemplateStringsArray, ...values: unknown[]): string {
  const text = strings.reduce((acc, s, i) => {
    const upTo = acc + s;
    if (i >= values.length) return upTo;
    const indent = /(?:^|\n)( *)[^\n]*$/.exec(upTo)![1]!;
    return upTo + String(values[i]).replace(/\n/g, `\n${indent}`);
  }, '');
  const lines = text.replace(/^\n+|\s+$/g, '').split('\n');
  const indent = Math.min(...lines.filter((l) => l.trim()).map((l) => /^ */.exec(l)![0].length));
  return lines.map((l) => l.slice(indent)).join('\n');
}
