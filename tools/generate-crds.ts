/**
 * `npm run crds:generate [-- --notification-manager-src <git repository>] [--monitoring-dashboard-src <git repository>]`
 * / `npm run crds:check [-- …]`
 *
 * Generates the CRDs of the upstream projects we deploy from their Go API types (pinned in
 * tools/crdgen/versions.ts) into crds/<group>/<plural>.<group>.yaml. With --check, regenerates in a temp
 * directory instead and exits 1 with a summary if the committed files differ or break the inventory.
 *
 * A source the Go module proxy does not serve (notification-manager, monitoring-dashboard) is generated only
 * when a local git repository holding its pinned commit is named, by its option or environment variable
 * (NOTIFICATION_MANAGER_SRC, MONITORING_DASHBOARD_SRC). Without one its committed files are left as they are and checked against the
 * provenance recorded next to them (SOURCE.json: commit, controller-gen, sha256 of each file).
 */
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { formatDifferences } from './crdgen/diff.js';
import { checkCrds, generateCrds, readGroupFiles, writeGeneratedCrds } from './crdgen/generate.js';
import { formatDuration } from './crdgen/go.js';
import { checkGroupFiles } from './crdgen/inventory.js';
import { checkProvenance } from './crdgen/provenance.js';
import { CRD_SOURCES, isLocalGitSource, type LocalGitCrdSource } from './crdgen/sources.js';
import {
  generatorUsage,
  parseGeneratorArguments,
  runGenerator,
  type GeneratorArguments,
  type RepositoryOption,
} from './generator-cli.js';

const CRDS_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', 'crds');
const LOCAL_SOURCES = CRD_SOURCES.filter(isLocalGitSource);
const OPTIONS: RepositoryOption[] = LOCAL_SOURCES.map((s) => ({
  key: s.group,
  option: s.origin.option,
  envVar: s.origin.envVar,
}));
const USAGE = generatorUsage('tools/generate-crds.ts', OPTIONS);

/** `repositories`: group → local git repository. */
type Arguments = GeneratorArguments;

function skippedNote(s: LocalGitCrdSource): string {
  return (
    `${s.group}: not regenerated (no ${s.origin.option} or ${s.origin.envVar}: ${s.module} is not on the Go ` +
    `module proxy); committed files checked against ${s.group}/SOURCE.json`
  );
}

async function check(args: Arguments): Promise<number> {
  const result = await checkCrds(CRDS_ROOT, { localRepositories: args.repositories });
  const g = result.generation;
  console.error(
    `generated ${g.files.size} files with controller-gen ${g.controllerGen.version} in ${formatDuration(g.generateMs)}`,
  );
  for (const s of g.skipped) console.error(skippedNote(s));
  if (result.ok) {
    console.log('crds/ is up to date');
    return 0;
  }
  if (result.differences.length > 0) {
    console.log(`crds/ differs from what tools/generate-crds.ts generates (run it without --check):`);
    console.log(formatDifferences(result.differences));
  }
  if (result.problems.length > 0) {
    console.log('inventory or provenance problems:');
    for (const p of result.problems) console.log(`  ${p}`);
  }
  return 1;
}

async function write(args: Arguments): Promise<number> {
  const g = await generateCrds({ localRepositories: args.repositories });
  const problems = CRD_SOURCES.filter((s) => g.groups.includes(s.group)).flatMap((s) =>
    checkGroupFiles(s, g.files),
  );
  if (problems.length > 0) {
    console.error('generated CRDs do not match the inventory in tools/crdgen/sources.ts; nothing written:');
    for (const p of problems) console.error(`  ${p}`);
    return 1;
  }
  const result = await writeGeneratedCrds(CRDS_ROOT, g.files, g.groups);
  const build =
    g.controllerGen.buildMs === undefined ? '' : `, built it in ${formatDuration(g.controllerGen.buildMs)}`;
  console.log(
    `generated ${g.files.size} files with controller-gen ${g.controllerGen.version} (${g.controllerGen.source}${build}) ` +
      `in ${formatDuration(g.generateMs)}: ${result.written.length} written, ${result.unchanged.length} unchanged, ` +
      `${result.removed.length} removed`,
  );
  for (const rel of [...result.written, ...result.removed.map((r) => `${r} (removed)`)])
    console.log(`  crds/${rel}`);
  const committed = await readGroupFiles(
    CRDS_ROOT,
    g.skipped.map((s) => s.group),
  );
  const skippedProblems = g.skipped.flatMap((s) => [
    ...checkGroupFiles(s, committed),
    ...checkProvenance(s, committed),
  ]);
  for (const s of g.skipped) console.log(skippedNote(s));
  for (const p of skippedProblems) console.error(`  ${p}`);
  return skippedProblems.length > 0 ? 1 : 0;
}

runGenerator(
  USAGE,
  () => parseGeneratorArguments(process.argv.slice(2), process.env, OPTIONS),
  (args) => (args.check ? check(args) : write(args)),
);
