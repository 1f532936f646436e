/**
 * promtool 2.39.1 (the release we install) on our rendered PrometheusRules:
 * - `check rules --lint=all --lint-fatal` on every PrometheusRule a plan renders, for a given
 *   ClusterConfiguration and facts (a lint finding such as a duplicate rule fails it);
 * - `test rules` on our cases (test/rules/cases/*.yaml, promtool's unit-test format): the rule files
 *   are rendered next to a copy of each case under their PrometheusRule name
 *   (`prometheus-k8s-rules.yaml`, `prometheus-k8s-etcd-rules.yaml`, `prometheus-k8s-prometheus-rules.yaml`),
 *   which is what the cases' `rule_files` name.
 */
import { execa } from 'execa';
import { copyFileSync, mkdtempSync, readdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import yaml from 'js-yaml';
import type { ClusterFacts } from '../../src/config/facts.js';
import { projectRoot } from '../../src/paths.js';
import { renderRuleObjects, type RenderedRuleObject } from './rule-files.js';

export const CASES_DIR = path.join(projectRoot(), 'test', 'rules', 'cases');

export interface PromtoolRun {
  exitCode: number;
  output: string;
}

/** Writes each PrometheusRule with groups as `<name>.yaml` into `dir`; returns the paths. */
export function writeNamedRuleFiles(objects: RenderedRuleObject[], dir: string): string[] {
  return objects
    .filter((o) => o.kind === 'PrometheusRule' && o.groups.length > 0)
    .map((o) => {
      const file = path.join(dir, `${o.name}.yaml`);
      writeFileSync(file, yaml.dump({ groups: o.groups }, { lineWidth: -1, noRefs: true }));
      return file;
    });
}

async function run(promtool: string, args: string[], cwd: string): Promise<PromtoolRun> {
  const r = await execa(promtool, args, { cwd, reject: false, all: true });
  return { exitCode: r.exitCode ?? -1, output: r.all ?? '' };
}

/** `promtool check rules` on the PrometheusRules rendered for `spec` and `facts`. */
export async function checkRules(
  promtool: string,
  spec: Record<string, unknown>,
  facts: Partial<ClusterFacts>,
): Promise<PromtoolRun & { files: string[]; rules: number; rendered: { rules: number; records: number } }> {
  const dir = mkdtempSync(path.join(tmpdir(), 'ks-promtool-check-'));
  const objects = await renderRuleObjects(spec, facts);
  const files = writeNamedRuleFiles(objects, dir);
  const result = await run(promtool, ['check', 'rules', '--lint=all', '--lint-fatal', ...files], dir);
  const rules = [...result.output.matchAll(/SUCCESS: (\d+) rules found/g)].reduce(
    (n, m) => n + Number(m[1]),
    0,
  );
  const all = objects
    .filter((o) => o.kind === 'PrometheusRule')
    .flatMap((o) => o.groups.flatMap((g) => g.rules));
  return {
    ...result,
    files: files.map((f) => path.basename(f)),
    rules,
    rendered: { rules: all.length, records: all.filter((r) => r.record !== undefined).length },
  };
}

export function caseFiles(): string[] {
  return readdirSync(CASES_DIR)
    .filter((f) => f.endsWith('.yaml'))
    .sort();
}

/** Renders the rule files once into a temp dir, copies the cases next to them; returns the dir. */
export async function prepareCases(spec?: Record<string, unknown>): Promise<string> {
  const dir = mkdtempSync(path.join(tmpdir(), 'ks-promtool-test-'));
  writeNamedRuleFiles(await renderRuleObjects(spec), dir);
  for (const f of caseFiles()) copyFileSync(path.join(CASES_DIR, f), path.join(dir, f));
  return dir;
}

/** `promtool test rules` on one case file of a directory made by prepareCases. */
export function testRules(promtool: string, dir: string, caseFile: string): Promise<PromtoolRun> {
  return run(promtool, ['test', 'rules', caseFile], dir);
}
