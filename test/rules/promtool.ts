/**
 * promtool 2.39.1 (the release we install) on our rules (rules/, docs/rules.md):
 * - `check rules --lint=all --lint-fatal` on every committed rule file as it is, and on every
 *   PrometheusRule a plan renders for a given ClusterConfiguration and facts (a lint finding such as a
 *   duplicate rule fails it);
 * - `test rules` on our cases (promtool's unit-test format):
 *   - test/rules/cases/*.yaml, the recording groups: the PrometheusRules a plan renders are written
 *     next to a copy of each case under their object's name (`prometheus-k8s-rules.yaml`,
 *     `prometheus-k8s-etcd-rules.yaml`, `prometheus-k8s-prometheus-rules.yaml`, and with Grafana on
 *     `prometheus-k8s-grafana-rules.yaml`), which is what their `rule_files` name;
 *   - test/rules/cases/alerts/<group>.yaml, one per alert group: the committed alert file with the
 *     monitoring namespace filled in, written as rules/alerts/<group>.yaml of the same directory.
 */
import { execa } from 'execa';
import { copyFileSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import yaml from 'js-yaml';
import type { ClusterFacts } from '../../src/config/facts.js';
import { projectRoot } from '../../src/paths.js';
import { MONITORING_NAMESPACE } from '../../src/config/values.js';
import { expandVariables, loadRuleCatalog, rulesRoot } from '../../src/rules/load.js';
import { fixtureSpec, renderRuleObjects, withGrafana, type RenderedRuleObject } from './rule-files.js';

export const CASES_DIR = path.join(projectRoot(), 'test', 'rules', 'cases');
const ALERT_CASES = 'alerts';

/** Every committed rule file (recording/*.yaml, alerts/*.yaml), as paths under rules/. */
export function committedRuleFiles(): string[] {
  const catalog = loadRuleCatalog();
  return [...catalog.recording, ...catalog.alerts].map((e) => path.join(rulesRoot(), e.file));
}

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

/** The case files, relative to CASES_DIR: the recording groups' and `alerts/<group>.yaml`. */
export function caseFiles(): string[] {
  const yamls = (dir: string) => readdirSync(dir).filter((f) => f.endsWith('.yaml'));
  return [
    ...yamls(CASES_DIR).sort(),
    ...yamls(path.join(CASES_DIR, ALERT_CASES))
      .sort()
      .map((f) => `${ALERT_CASES}/${f}`),
  ];
}

/**
 * Renders the rule files once into a temp dir (by default the fixture's spec with Grafana on, so that every
 * recording object is there), copies the cases next to them; returns the dir.
 */
export async function prepareCases(
  spec: Record<string, unknown> = withGrafana(fixtureSpec()),
): Promise<string> {
  const dir = mkdtempSync(path.join(tmpdir(), 'ks-promtool-test-'));
  writeNamedRuleFiles(await renderRuleObjects(spec), dir);
  mkdirSync(path.join(dir, ALERT_CASES));
  mkdirSync(path.join(dir, 'rules', 'alerts'), { recursive: true });
  for (const { file } of loadRuleCatalog().alerts) {
    const text = readFileSync(path.join(rulesRoot(), file), 'utf8');
    writeFileSync(
      path.join(dir, 'rules', file),
      expandVariables(text, { MONITORING_NAMESPACE: MONITORING_NAMESPACE }),
    );
  }
  for (const f of caseFiles()) copyFileSync(path.join(CASES_DIR, f), path.join(dir, f));
  return dir;
}

/** `promtool check rules` on the committed rule files as they are. */
export async function checkCommittedRules(promtool: string): Promise<PromtoolRun & { files: number }> {
  const files = committedRuleFiles();
  const result = await run(promtool, ['check', 'rules', '--lint=all', '--lint-fatal', ...files], rulesRoot());
  return { ...result, files: files.length };
}

/** `promtool test rules` on one case file of a directory made by prepareCases. */
export function testRules(promtool: string, dir: string, caseFile: string): Promise<PromtoolRun> {
  return run(promtool, ['test', 'rules', caseFile], dir);
}
