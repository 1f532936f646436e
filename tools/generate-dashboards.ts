/**
 * `npm run dashboards:generate -- --kubernetes-mixin-src <git> --node-exporter-src <git> --prometheus-src <git>
 *   --alertmanager-src <git> --grafonnet-lib-src <git> --jsonnet-libs-src <git> [--kube-prometheus-src <git>]`
 * / `npm run dashboards:check [-- the same options]`
 *
 * Generates the Grafana dashboards into templates/grafana/dashboards/, and the mixins' recording rules they
 * read that ours do not record into rules/recording/<mixin>-<group>.yaml (tools/dashboards/rules.ts), from
 * the jsonnet mixins at the commits kube-prometheus v0.10.0 locks (tools/dashboards/sources.ts), read from local git repositories (clones or
 * mirrors; each option also from its environment variable, e.g. KUBERNETES_MIXIN_SRC), evaluated by the
 * pinned go-jsonnet with tools/dashboards/dashboards.jsonnet. With --kube-prometheus-src the lock itself is
 * read to confirm the pinned commits, and each dashboard is compared with the one kube-prometheus publishes
 * (manifests/grafana-dashboardDefinitions.yaml) once KubeSphere's two edits are made to it.
 *
 * --check without repositories checks the committed files against their provenance record (SOURCE.json:
 * list, checksums of the dashboards and rule files, records, sources, jsonnet, entry file); with all of them it also regenerates in memory and
 * compares byte for byte. Exit 1 on any difference, 2 on bad arguments.
 */
import path from 'node:path';
import {
  compareFiles,
  DASHBOARDS_DIR,
  generateDashboards,
  readCommitted,
  readCommittedRules,
  readEntry,
  RULES_DIR,
  writeDashboards,
} from './dashboards/generate.js';
import { checkProvenance, inventorySummary, PROVENANCE_FILE } from './dashboards/provenance.js';
import { DASHBOARD_REPOSITORIES, KUBE_PROMETHEUS } from './dashboards/sources.js';
import { formatDuration } from './envtest/go-build.js';
import {
  generatorUsage,
  parseGeneratorArguments,
  runGenerator,
  UsageError,
  type RepositoryOption,
} from './generator-cli.js';

const KUBE_PROMETHEUS_KEY = 'kube-prometheus';
const OPTIONS: RepositoryOption[] = [
  ...DASHBOARD_REPOSITORIES.map((r) => ({ key: r.name, option: r.option, envVar: r.envVar })),
  { key: KUBE_PROMETHEUS_KEY, option: KUBE_PROMETHEUS.option, envVar: KUBE_PROMETHEUS.envVar },
];
const USAGE = generatorUsage('tools/generate-dashboards.ts', OPTIONS);
const RELATIVE_DIR = path.relative(process.cwd(), DASHBOARDS_DIR) || '.';
const RELATIVE_RULES_DIR = path.relative(process.cwd(), RULES_DIR) || '.';

interface Arguments {
  check: boolean;
  /** Repository name (sources.ts) → local git repository. */
  repositories: Map<string, string>;
  kubePrometheus?: string;
}

function parseArguments(argv: string[], env: NodeJS.ProcessEnv): Arguments {
  const { check, repositories } = parseGeneratorArguments(argv, env, OPTIONS);
  const kubePrometheus = repositories.get(KUBE_PROMETHEUS_KEY);
  repositories.delete(KUBE_PROMETHEUS_KEY);
  const args: Arguments = { check, repositories, kubePrometheus };
  const missing = DASHBOARD_REPOSITORIES.filter((r) => !args.repositories.has(r.name));
  if (!args.check && missing.length > 0)
    throw new UsageError(
      `generating needs every repository; missing: ${missing.map((r) => r.option).join(', ')}`,
    );
  if (args.check && missing.length > 0 && missing.length < DASHBOARD_REPOSITORIES.length)
    throw new UsageError(
      `--check regenerates with every repository or none; missing: ${missing.map((r) => r.option).join(', ')}`,
    );
  return args;
}

async function check(args: Arguments): Promise<number> {
  const committed = await readCommitted();
  const committedRules = await readCommittedRules();
  const problems = checkProvenance(committed, await readEntry(), committedRules);
  if (args.repositories.size === 0) {
    console.error(
      `dashboards: not regenerated (no repositories named: the mixins are not on any registry); ` +
        `committed files checked against ${RELATIVE_DIR}/${PROVENANCE_FILE}`,
    );
  } else {
    const started = Date.now();
    const g = await generateDashboards({
      repositories: args.repositories,
      kubePrometheus: args.kubePrometheus,
    });
    console.error(
      `generated ${g.files.size - 1} dashboards and ${g.rules.size} rule files with ${g.jsonnet.path} in ` +
        `${formatDuration(Date.now() - started)}`,
    );
    problems.push(
      ...compareFiles(committed, g.files),
      ...compareFiles(committedRules, g.rules).map((p) => `${RELATIVE_RULES_DIR}/${p}`),
      ...(g.publishedDifferences ?? []),
    );
    if (g.publishedDifferences?.length === 0) console.error(publishedNote(g.files.size - 1));
  }
  if (problems.length === 0) {
    console.log(
      `${RELATIVE_DIR} and the ${committedRules.size} generated files of ${RELATIVE_RULES_DIR} are up to date ` +
        `(${inventorySummary()})`,
    );
    return 0;
  }
  console.log(`${RELATIVE_DIR} does not match (run npm run dashboards:generate with the repositories):`);
  for (const p of problems) console.log(`  ${p}`);
  return 1;
}

function publishedNote(count: number): string {
  return (
    `all ${count} equal kube-prometheus ${KUBE_PROMETHEUS.tag}'s published dashboards once KubeSphere's two ` +
    `edits are made to those`
  );
}

async function write(args: Arguments): Promise<number> {
  const started = Date.now();
  const g = await generateDashboards({
    repositories: args.repositories,
    kubePrometheus: args.kubePrometheus,
  });
  if (g.publishedDifferences?.length) {
    console.error(`kube-prometheus ${KUBE_PROMETHEUS.tag}'s published dashboards differ; nothing written:`);
    for (const d of g.publishedDifferences) console.error(`  ${d}`);
    return 1;
  }
  const result = await writeDashboards(g.files);
  const rules = await writeDashboards(g.rules, RULES_DIR, readCommittedRules);
  console.log(
    `generated ${g.files.size - 1} dashboards and ${g.rules.size} rule files with ` +
      `${g.selection.groups.reduce((n, x) => n + x.rules.length, 0)} rules (${inventorySummary()}) with ` +
      `${g.jsonnet.path} in ${formatDuration(Date.now() - started)}: ` +
      `${result.written.length + rules.written.length} written, ` +
      `${result.unchanged.length + rules.unchanged.length} unchanged, ` +
      `${result.removed.length + rules.removed.length} removed`,
  );
  for (const [dir, r] of [
    [RELATIVE_DIR, result],
    [RELATIVE_RULES_DIR, rules],
  ] as const)
    for (const name of [...r.written, ...r.removed.map((x) => `${x} (removed)`)])
      console.log(`  ${dir}/${name}`);
  if (args.kubePrometheus === undefined)
    console.log(
      `(kube-prometheus not read: name ${KUBE_PROMETHEUS.option} to confirm the commits against its lock and ` +
        `the output against its published dashboards)`,
    );
  else console.log(publishedNote(g.files.size - 1));
  return 0;
}

runGenerator(
  USAGE,
  () => parseArguments(process.argv.slice(2), process.env),
  (args) => (args.check ? check(args) : write(args)),
);
