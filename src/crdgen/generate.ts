/**
 * Generates the upstream CRDs from their Go API types: fetch each pinned API module through the Go module
 * proxy, copy it to a scratch directory, run the pinned controller-gen on its packages, normalise the output.
 * Also writes the result into crds/ and compares it with what is committed there.
 */
import { execa } from 'execa';
import { chmod, cp, mkdir, mkdtemp, readdir, readFile, rm, stat, unlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { controllerGenVersion, resolveControllerGen, type ControllerGenOptions } from './controller-gen.js';
import { compareFileSets, type FileDifference } from './diff.js';
import { downloadModule, goEnv, scratchGoMod } from './go.js';
import { checkGroupFiles } from './inventory.js';
import { normalizeGenerated } from './normalize.js';
import { CRD_SOURCES, type CrdSource, type GeneratedCrdSource } from './sources.js';
import { CONTROLLER_GEN_CRD_OPTIONS } from './versions.js';

export interface GenerateOptions extends ControllerGenOptions {
  /** Default: CRD_SOURCES. */
  sources?: readonly CrdSource[];
}

export interface GenerationResult {
  /** Path relative to crds/ → file content, for every generated source. */
  files: Map<string, string>;
  controllerGen: { path: string; version: string; source: string; buildMs?: number };
  /** Wall time of fetching the modules, running controller-gen and normalising (without building it). */
  generateMs: number;
}

function generatedSources(sources: readonly CrdSource[]): GeneratedCrdSource[] {
  return sources.filter((s): s is GeneratedCrdSource => s.kind === 'generated');
}

/** Files copied out of the Go module cache are read-only; controller-gen's `go list` may need to write go.sum. */
async function makeWritable(dir: string): Promise<void> {
  await chmod(dir, 0o755);
  for (const entry of await readdir(dir, { withFileTypes: true })) {
    const full = path.join(dir, entry.name);
    if (entry.isDirectory()) await makeWritable(full);
    else await chmod(full, 0o644);
  }
}

function pathsArgument(packages: readonly string[]): string {
  return packages.length === 1 ? `paths=${packages[0]}` : `paths={${packages.join(',')}}`;
}

async function generateSource(
  source: GeneratedCrdSource,
  scratch: string,
  controllerGen: { path: string; version: string },
  env: NodeJS.ProcessEnv,
  files: Map<string, string>,
): Promise<void> {
  const module = await downloadModule(source.module, source.version, scratch, env);
  const work = path.join(scratch, source.group);
  const src = path.join(work, 'src');
  const out = path.join(work, 'out');
  await cp(module.dir, src, { recursive: true });
  await makeWritable(src);
  const args = [CONTROLLER_GEN_CRD_OPTIONS, pathsArgument(source.packages), `output:crd:dir=${out}`];
  const run = await execa(controllerGen.path, args, { cwd: src, env: goEnv(env), all: true, reject: false });
  if (run.exitCode !== 0) {
    throw new Error(
      `controller-gen failed on ${source.module}@${source.version} (exit ${run.exitCode}):\n${run.all}`,
    );
  }
  const outputs = (await readdir(out)).filter((f) => f.endsWith('.yaml')).sort();
  for (const name of outputs) {
    const text = await readFile(path.join(out, name), 'utf8');
    for (const file of normalizeGenerated(text, name, source, controllerGen.version)) {
      if (files.has(file.relativePath)) throw new Error(`${file.relativePath} generated twice`);
      files.set(file.relativePath, file.content);
    }
  }
}

/** Generates every `generated` source's CRDs in memory (scratch work happens in a temp directory). */
export async function generateCrds(options: GenerateOptions = {}): Promise<GenerationResult> {
  const env = options.env ?? process.env;
  const resolved = await resolveControllerGen(options);
  const version = await controllerGenVersion(resolved.path);
  const started = Date.now();
  const scratch = await mkdtemp(path.join(tmpdir(), 'ks-crdgen-'));
  const files = new Map<string, string>();
  try {
    await writeFile(path.join(scratch, 'go.mod'), scratchGoMod('download'));
    for (const source of generatedSources(options.sources ?? CRD_SOURCES)) {
      await generateSource(source, scratch, { path: resolved.path, version }, env, files);
    }
  } finally {
    await rm(scratch, { recursive: true, force: true });
  }
  return {
    files: new Map([...files.entries()].sort(([a], [b]) => a.localeCompare(b))),
    controllerGen: { ...resolved, version },
    generateMs: Date.now() - started,
  };
}

async function isDirectory(dir: string): Promise<boolean> {
  return stat(dir).then(
    (s) => s.isDirectory(),
    () => false,
  );
}

/** Every file under crds/<group>/ for the given groups, keyed by path relative to crds/. */
export async function readGroupFiles(
  crdsRoot: string,
  groups: readonly string[],
): Promise<Map<string, string>> {
  const files = new Map<string, string>();
  for (const group of groups) {
    const dir = path.join(crdsRoot, group);
    if (!(await isDirectory(dir))) continue;
    for (const name of (await readdir(dir)).sort()) {
      const full = path.join(dir, name);
      if ((await stat(full)).isFile()) files.set(`${group}/${name}`, await readFile(full, 'utf8'));
    }
  }
  return files;
}

export interface WriteResult {
  written: string[];
  unchanged: string[];
  removed: string[];
}

/**
 * Writes generated files into crds/ and removes files of generated groups that generation no longer
 * produces. Hand-written groups are never touched.
 */
export async function writeGeneratedCrds(
  crdsRoot: string,
  files: ReadonlyMap<string, string>,
  sources: readonly CrdSource[] = CRD_SOURCES,
): Promise<WriteResult> {
  const groups = generatedSources(sources).map((s) => s.group);
  const committed = await readGroupFiles(crdsRoot, groups);
  const result: WriteResult = { written: [], unchanged: [], removed: [] };
  for (const [rel, content] of files) {
    if (!groups.some((g) => rel.startsWith(`${g}/`)))
      throw new Error(`${rel} is outside the generated groups`);
    if (committed.get(rel) === content) {
      result.unchanged.push(rel);
      continue;
    }
    await mkdir(path.dirname(path.join(crdsRoot, rel)), { recursive: true });
    await writeFile(path.join(crdsRoot, rel), content);
    result.written.push(rel);
  }
  for (const rel of committed.keys()) {
    if (!files.has(rel)) {
      await unlink(path.join(crdsRoot, rel));
      result.removed.push(rel);
    }
  }
  return result;
}

export interface CheckResult {
  ok: boolean;
  /** Generated vs committed files of the generated groups. */
  differences: FileDifference[];
  /** Inventory problems of the committed files (all groups) and of the generated ones. */
  problems: string[];
  generation: GenerationResult;
}

/** Regenerates and compares with the committed files; also checks every group against its inventory. */
export async function checkCrds(crdsRoot: string, options: GenerateOptions = {}): Promise<CheckResult> {
  const sources = options.sources ?? CRD_SOURCES;
  const generation = await generateCrds({ ...options, sources });
  const generatedGroups = generatedSources(sources).map((s) => s.group);
  const committed = await readGroupFiles(
    crdsRoot,
    sources.map((s) => s.group),
  );
  const committedGenerated = new Map(
    [...committed].filter(([rel]) => generatedGroups.some((g) => rel.startsWith(`${g}/`))),
  );
  const differences = compareFileSets(generation.files, committedGenerated);
  const problems = [
    ...sources.flatMap((s) => checkGroupFiles(s, committed)),
    ...generatedSources(sources).flatMap((s) =>
      checkGroupFiles(s, generation.files).map((p) => `generated ${p}`),
    ),
  ];
  return { ok: differences.length === 0 && problems.length === 0, differences, problems, generation };
}
