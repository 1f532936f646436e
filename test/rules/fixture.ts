/**
 * The rules fixture (test/fixtures/rules-fixture, see its README): a synthetic 3-node cluster's
 * series and what the original installer's recording rules and built-in alerts output on them with
 * Prometheus 2.39.1. Our rule files are evaluated on the same series by rules-eval (the same
 * release's rules engine, test/tools/rules-eval) and compared record by record:
 * - present: one of our rules records that name;
 * - labels: the label names on our series equal the original's;
 * - values: the same series (label sets) with values within 1e-6 relative at every listed step.
 * Alerts pending or firing at the last step are compared by name, labels (`rule_id` is ours, so only
 * its presence is checked), state and value.
 */
import { execa } from 'execa';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { projectRoot } from '../../src/paths.js';

export const FIXTURE_DIR = path.join(projectRoot(), 'test', 'fixtures', 'rules-fixture');
export const RELATIVE_TOLERANCE = 1e-6;

type Labels = Record<string, string>;
type Value = number | 'NaN' | '+Inf' | '-Inf';

export interface SeriesOut {
  labels: Labels;
  values: [number, Value][];
}

export interface AlertOut {
  name: string;
  state: string;
  labels: Labels;
  value: number;
}

export interface EvalOutput {
  steps: number[];
  records: Record<string, SeriesOut[]>;
  alerts: AlertOut[];
  errors: string[];
}

export function loadExpected(): EvalOutput {
  const raw = JSON.parse(readFileSync(path.join(FIXTURE_DIR, 'expected.json'), 'utf8')) as Omit<
    EvalOutput,
    'errors'
  >;
  return { ...raw, errors: [] };
}

/** Runs rules-eval on the fixture's series with the given rule files, at the fixture's steps. */
export async function evaluate(rulesEval: string, ruleFiles: string[], steps: number[]): Promise<EvalOutput> {
  const out = path.join(mkdtempSync(path.join(tmpdir(), 'ks-rules-eval-')), 'out.json');
  await execa(rulesEval, [
    '-series',
    path.join(FIXTURE_DIR, 'series.jsonl'),
    ...ruleFiles.flatMap((f) => ['-rules', f]),
    '-steps',
    steps.join(','),
    '-out',
    out,
  ]);
  return JSON.parse(readFileSync(out, 'utf8')) as EvalOutput;
}

function num(v: Value): number {
  if (v === 'NaN') return NaN;
  if (v === '+Inf') return Infinity;
  if (v === '-Inf') return -Infinity;
  return v;
}

export function closeEnough(a: Value, b: Value): boolean {
  const x = num(a);
  const y = num(b);
  if (Number.isNaN(x) || Number.isNaN(y)) return Number.isNaN(x) && Number.isNaN(y);
  if (x === y) return true;
  return Math.abs(x - y) <= RELATIVE_TOLERANCE * Math.max(Math.abs(x), Math.abs(y));
}

/** A label set as one sortable string, `__name__` left out. */
export function labelKey(labels: Labels, without: string[] = []): string {
  return Object.keys(labels)
    .filter((k) => k !== '__name__' && !without.includes(k))
    .sort()
    .map((k) => `${k}=${JSON.stringify(labels[k])}`)
    .join(',');
}

function labelNames(series: SeriesOut[]): string {
  const names = new Set<string>();
  for (const s of series) for (const k of Object.keys(s.labels)) if (k !== '__name__') names.add(k);
  return [...names].sort().join(',');
}

export interface RecordVerdict {
  record: string;
  present: boolean;
  labelsEqual: boolean;
  valuesEqual: boolean;
  /** What differs, for a person: missing or extra series, the first differing value. */
  detail: string;
}

export function compareRecord(
  record: string,
  expected: SeriesOut[],
  ours: SeriesOut[] | undefined,
): RecordVerdict {
  if (ours === undefined) {
    return { record, present: false, labelsEqual: false, valuesEqual: false, detail: 'no rule records it' };
  }
  const labelsEqual = labelNames(expected) === labelNames(ours);
  const exp = new Map(expected.map((s) => [labelKey(s.labels), s]));
  const got = new Map(ours.map((s) => [labelKey(s.labels), s]));
  const problems: string[] = [];
  const missing = [...exp.keys()].filter((k) => !got.has(k));
  const extra = [...got.keys()].filter((k) => !exp.has(k));
  if (missing.length) problems.push(`${missing.length} series missing, e.g. {${missing[0]}}`);
  if (extra.length) problems.push(`${extra.length} series extra, e.g. {${extra[0]}}`);
  const differing: string[] = [];
  for (const [key, e] of exp) {
    const g = got.get(key);
    if (!g) continue;
    const gv = new Map(g.values.map(([t, v]) => [t, v]));
    const bad = e.values.find(([t, v]) => !gv.has(t) || !closeEnough(v, gv.get(t)!));
    if (bad) differing.push(`{${key}} at ${bad[0]}: expected ${bad[1]}, got ${gv.get(bad[0]) ?? 'nothing'}`);
  }
  if (differing.length === 1) problems.push(differing[0]!);
  else if (differing.length > 1)
    problems.push(`${differing.length} of ${exp.size} series differ in value, e.g. ${differing[0]!}`);
  if (!labelsEqual) problems.unshift(`label names ${labelNames(ours)} instead of ${labelNames(expected)}`);
  return {
    record,
    present: true,
    labelsEqual,
    valuesEqual: problems.length === 0,
    detail: problems.join('; '),
  };
}

export function compareRecords(expected: EvalOutput, ours: EvalOutput): RecordVerdict[] {
  return Object.keys(expected.records)
    .sort()
    .map((name) => compareRecord(name, expected.records[name]!, ours.records[name]));
}

export interface AlertVerdict {
  missing: string[];
  extra: string[];
  different: string[];
  withoutRuleId: string[];
}

export function compareAlerts(expected: AlertOut[], ours: AlertOut[]): AlertVerdict {
  const key = (a: AlertOut) => `${a.name}{${labelKey(a.labels, ['rule_id'])}}`;
  const exp = new Map(expected.map((a) => [key(a), a]));
  const got = new Map(ours.map((a) => [key(a), a]));
  const different: string[] = [];
  for (const [k, e] of exp) {
    const g = got.get(k);
    if (g && (g.state !== e.state || !closeEnough(e.value, g.value))) {
      different.push(`${k}: expected ${e.state} ${e.value}, got ${g.state} ${g.value}`);
    }
  }
  return {
    missing: [...exp.keys()].filter((k) => !got.has(k)),
    extra: [...got.keys()].filter((k) => !exp.has(k)),
    different,
    withoutRuleId: ours.filter((a) => !/^[0-9a-f]{32}$/.test(a.labels.rule_id ?? '')).map(key),
  };
}

/** The docs table: one row per record of the contract. */
export function verdictTable(verdicts: RecordVerdict[]): string {
  const yes = (b: boolean) => (b ? 'yes' : '**no**');
  const rows = verdicts.map(
    (v) =>
      `| \`${v.record}\` | ${yes(v.present)} | ${yes(v.labelsEqual)} | ${yes(v.valuesEqual)} | ${v.detail.replace(/\|/g, '\\|')} |`,
  );
  const count = (f: (v: RecordVerdict) => boolean) => verdicts.filter(f).length;
  return [
    `Records of the contract: ${verdicts.length}. Present: ${count((v) => v.present)}. Same label names: ${count((v) => v.labelsEqual)}. Same series and values: ${count((v) => v.valuesEqual)}.`,
    '',
    '| record | present | labels equal | values equal | difference |',
    '|---|---|---|---|---|',
    ...rows,
  ].join('\n');
}
