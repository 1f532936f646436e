/**
 * `npx tsx scripts/generate-crds.ts [--check]`
 *
 * Generates the CRDs of the upstream projects we deploy from their Go API types (pinned in
 * src/crdgen/versions.ts) into crds/<group>/<plural>.<group>.yaml. With --check, regenerates in a temp
 * directory instead and exits 1 with a summary if the committed files differ or break the inventory.
 */
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { formatDifferences } from '../src/crdgen/diff.js';
import { checkCrds, generateCrds, readGroupFiles, writeGeneratedCrds } from '../src/crdgen/generate.js';
import { formatDuration } from '../src/crdgen/go.js';
import { checkGroupFiles } from '../src/crdgen/inventory.js';
import { CRD_SOURCES } from '../src/crdgen/sources.js';

const CRDS_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', 'crds');
const USAGE = 'usage: npx tsx scripts/generate-crds.ts [--check]';

function handWrittenNotes(): string[] {
  return CRD_SOURCES.filter((s) => s.kind === 'hand-written').map(
    (s) => `${s.group}: hand-written (${s.reason}); left as is`,
  );
}

async function check(): Promise<number> {
  const result = await checkCrds(CRDS_ROOT);
  const g = result.generation;
  console.error(
    `generated ${g.files.size} CRDs with controller-gen ${g.controllerGen.version} in ${formatDuration(g.generateMs)}`,
  );
  for (const note of handWrittenNotes()) console.error(note);
  if (result.ok) {
    console.log('crds/ is up to date');
    return 0;
  }
  if (result.differences.length > 0) {
    console.log(`crds/ differs from what scripts/generate-crds.ts generates (run it without --check):`);
    console.log(formatDifferences(result.differences));
  }
  if (result.problems.length > 0) {
    console.log('inventory problems:');
    for (const p of result.problems) console.log(`  ${p}`);
  }
  return 1;
}

async function write(): Promise<number> {
  const g = await generateCrds();
  const problems = CRD_SOURCES.flatMap((s) => (s.kind === 'generated' ? checkGroupFiles(s, g.files) : []));
  if (problems.length > 0) {
    console.error('generated CRDs do not match the inventory in src/crdgen/sources.ts; nothing written:');
    for (const p of problems) console.error(`  ${p}`);
    return 1;
  }
  const result = await writeGeneratedCrds(CRDS_ROOT, g.files);
  const build =
    g.controllerGen.buildMs === undefined ? '' : `, built it in ${formatDuration(g.controllerGen.buildMs)}`;
  console.log(
    `generated ${g.files.size} CRDs with controller-gen ${g.controllerGen.version} (${g.controllerGen.source}${build}) ` +
      `in ${formatDuration(g.generateMs)}: ${result.written.length} written, ${result.unchanged.length} unchanged, ` +
      `${result.removed.length} removed`,
  );
  for (const rel of [...result.written, ...result.removed.map((r) => `${r} (removed)`)])
    console.log(`  crds/${rel}`);
  const handWritten = CRD_SOURCES.filter((s) => s.kind === 'hand-written');
  const committed = await readGroupFiles(
    CRDS_ROOT,
    handWritten.map((s) => s.group),
  );
  const handProblems = handWritten.flatMap((s) => checkGroupFiles(s, committed));
  for (const note of handWrittenNotes()) console.log(note);
  for (const p of handProblems) console.error(`  ${p}`);
  return handProblems.length > 0 ? 1 : 0;
}

async function main(argv: string[]): Promise<number> {
  const unknown = argv.filter((a) => a !== '--check');
  if (unknown.length > 0) {
    console.error(`unknown argument(s): ${unknown.join(' ')}\n${USAGE}`);
    return 2;
  }
  return argv.includes('--check') ? check() : write();
}

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (err: unknown) => {
    console.error(err instanceof Error ? err.message : String(err));
    process.exit(1);
  },
);
