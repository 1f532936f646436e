/**
 * Every PromQL expression of the Grafana dashboards, made parseable by Prometheus's own parser
 * (test/tools/promql-parse, Prometheus 2.39.1): the `expr` of every panel target and annotation, and the
 * expression inside every templating query. Grafana variables are replaced by stand-ins first
 * (docs/dashboards.md, "Every expression parses"):
 *
 * - outside string literals, the time variables a range or subquery takes: `$__rate_interval` → `5m`,
 *   `$__interval` → `1m`, `$__range` → `1h`, and the dashboards' own interval variables `$interval` → `5m`
 *   and `$resolution` → `1m`; any other variable there is left as it is, so the parser refuses it and the
 *   check names it;
 * - inside string literals (label matchers), every variable (`$name`, `${name}`, `${name:format}`,
 *   `[[name]]`) → its bare name, e.g. `namespace=~"$namespace"` → `namespace=~"namespace"`.
 *
 * Templating queries of type `query` are Grafana's Prometheus variable functions: `label_values(selector,
 * label)` and `query_result(expr)` give their expression; `label_values(label)`, `label_names()` and
 * `metrics(regex)` have none. Anything else is reported.
 */
import { execa } from 'execa';

/** Stand-ins for the variables that may stand where PromQL wants a duration. */
export const DURATION_STAND_INS: Readonly<Record<string, string>> = {
  __rate_interval: '5m',
  __interval: '1m',
  __range: '1h',
  interval: '5m',
  resolution: '1m',
};

export interface Expression {
  /** `<file> <JSON path>`, e.g. `apiserver.json rows[1].panels[0].targets[0].expr`. */
  id: string;
  /** As the dashboard has it. */
  original: string;
  /** With the stand-ins, as handed to the parser. */
  expr: string;
}

const VARIABLE = /\$\{(\w+)(?::[^}]*)?\}|\$(\w+)|\[\[(\w+)(?::[^\]]*)?\]\]/g;

/** Replaces Grafana variables by their stand-ins (see the file comment). */
export function substituteVariables(expr: string): string {
  let out = '';
  let i = 0;
  while (i < expr.length) {
    const c = expr[i]!;
    if (c === '"' || c === "'" || c === '`') {
      // A string literal: up to the matching quote; backslash escapes except in raw (`) strings.
      let j = i + 1;
      while (j < expr.length && expr[j] !== c) j += c !== '`' && expr[j] === '\\' ? 2 : 1;
      const body = expr.slice(i + 1, Math.min(j, expr.length));
      out += c + body.replace(VARIABLE, (_m, a?: string, b?: string, d?: string) => a ?? b ?? d ?? '');
      if (j < expr.length) out += c;
      i = j + 1;
      continue;
    }
    let k = i;
    while (k < expr.length && !`"'\``.includes(expr[k]!)) k++;
    out += expr.slice(i, k).replace(VARIABLE, (m, a?: string, b?: string, d?: string) => {
      const name = a ?? b ?? d ?? '';
      return DURATION_STAND_INS[name] ?? m;
    });
    i = k;
  }
  return out;
}

/**
 * The expression inside a Grafana Prometheus variable query, undefined when it has none, or a problem.
 */
export function templatingExpression(query: string): { expr?: string; problem?: string } {
  const q = query.trim();
  const call = /^(\w+)\(([\s\S]*)\)$/.exec(q);
  if (!call) return { problem: `not a Grafana Prometheus variable query: ${q}` };
  const [, fn, args] = call as unknown as [string, string, string];
  switch (fn) {
    case 'label_values': {
      // label_values(label) or label_values(selector, label): the label is the last argument.
      const m = /^([\s\S]*?),\s*([a-zA-Z_]\w*)\s*$/.exec(args);
      if (m) return { expr: m[1]!.trim() };
      if (/^\s*[a-zA-Z_]\w*\s*$/.test(args)) return {};
      return { problem: `label_values needs a label name last: ${q}` };
    }
    case 'query_result':
      return { expr: args.trim() };
    case 'label_names':
    case 'metrics':
      return {};
    default:
      return { problem: `not a Grafana Prometheus variable query: ${q}` };
  }
}

function pathOf(parts: (string | number)[]): string {
  return parts.map((p, i) => (typeof p === 'number' ? `[${p}]` : i === 0 ? p : `.${p}`)).join('');
}

/** Every expression of one dashboard, and what could not be read as one. */
export function dashboardExpressions(
  file: string,
  dashboard: unknown,
): { expressions: Expression[]; problems: string[] } {
  const expressions: Expression[] = [];
  const problems: string[] = [];
  const add = (where: (string | number)[], original: string) =>
    expressions.push({ id: `${file} ${pathOf(where)}`, original, expr: substituteVariables(original) });

  const walk = (node: unknown, where: (string | number)[]) => {
    if (Array.isArray(node)) {
      node.forEach((v, i) => walk(v, [...where, i]));
      return;
    }
    if (node === null || typeof node !== 'object') return;
    const obj = node as Record<string, unknown>;
    if (where.length === 1 && where[0] === 'templating') {
      const list = Array.isArray(obj.list) ? obj.list : [];
      list.forEach((v: unknown, i) => {
        const variable = v as { type?: string; query?: unknown; name?: string };
        if (variable.type !== 'query') return;
        const raw = variable.query;
        const query = typeof raw === 'string' ? raw : (raw as { query?: unknown } | undefined)?.query;
        const at = ['templating', 'list', i, 'query'];
        if (typeof query !== 'string') {
          problems.push(`${file} ${pathOf(at)}: variable ${variable.name ?? '?'} has no query`);
          return;
        }
        const inner = templatingExpression(query);
        if (inner.problem) problems.push(`${file} ${pathOf(at)}: ${inner.problem}`);
        else if (inner.expr !== undefined) add(at, inner.expr);
      });
      return;
    }
    for (const [key, value] of Object.entries(obj)) {
      if (key === 'expr') {
        if (typeof value === 'string' && value.trim() !== '') add([...where, key], value);
        else if (typeof value !== 'string') problems.push(`${file} ${pathOf([...where, key])}: not a string`);
        continue;
      }
      walk(value, [...where, key]);
    }
  };
  walk(dashboard, []);
  return { expressions, problems };
}

/** Parses each expression with promql-parse; returns the parser's error per expression id that failed. */
export async function parseExpressions(
  parser: string,
  expressions: readonly Expression[],
): Promise<{ parsed: number; errors: Map<string, string> }> {
  const input = JSON.stringify(expressions.map((e) => ({ id: e.id, expr: e.expr })));
  const { stdout } = await execa(parser, [], { input, maxBuffer: 64 * 1024 * 1024 });
  const results = JSON.parse(stdout) as { id: string; type?: string; error?: string }[];
  if (results.length !== expressions.length)
    throw new Error(`promql-parse answered ${results.length} results for ${expressions.length} expressions`);
  const errors = new Map<string, string>();
  for (const r of results) if (r.error !== undefined) errors.set(r.id, r.error);
  return { parsed: results.length - errors.size, errors };
}

/**
 * Every expression of every dashboard (file name → JSON text) through the parser: how many parsed, and
 * one problem per expression that did not (with the expression) or could not be read.
 */
export async function checkDashboardExpressions(
  parser: string,
  files: ReadonlyMap<string, string>,
): Promise<{ expressions: number; parsed: number; problems: string[] }> {
  const all: Expression[] = [];
  const problems: string[] = [];
  for (const [file, text] of files) {
    const found = dashboardExpressions(file, JSON.parse(text));
    all.push(...found.expressions);
    problems.push(...found.problems);
  }
  const { parsed, errors } = await parseExpressions(parser, all);
  for (const e of all) {
    const error = errors.get(e.id);
    if (error !== undefined) problems.push(`${e.id}: ${error}\n    ${e.original}`);
  }
  return { expressions: all.length, parsed, problems };
}
