/**
 * Generating the Grafana dashboards and the recording rules they need: the locked directories are copied out
 * of local git repositories (clones or bare mirrors, at the pinned commits only) into a scratch library path
 * laid out as jsonnet-bundler lays out `vendor/`, tools/dashboards/dashboards.jsonnet is evaluated there by
 * the pinned go-jsonnet, and each dashboard is written as one JSON file (two-space indentation, keys in
 * jsonnet's order, a final newline) next to its provenance record; the mixins' recording rules the
 * dashboards read and ours do not record (./rules.ts) are written as rule files of rules/recording, their
 * checksums in the same record.
 */
import { execa } from 'execa';
import yaml from 'js-yaml';
import { isDeepStrictEqual } from 'node:util';
import { mkdir, mkdtemp, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { MONITORING_NAMESPACE } from '../../src/config/values.js';
import { projectRoot } from '../../src/paths.js';
import { resolveGoTool } from '../envtest/go-tools.js';
import { JSONNET_TOOL } from '../envtest/test-tools.js';
import { ENTRY_FILE, PROVENANCE_FILE, provenanceText } from './provenance.js';
import {
  isGeneratedRuleFile,
  ruleFiles,
  RULES_SUBDIR,
  selectRecordingRules,
  type EvaluatedRules,
  type RuleSelection,
} from './rules.js';
import {
  DASHBOARD_REPOSITORIES,
  EXPECTED_DASHBOARDS,
  importPath,
  KUBE_PROMETHEUS,
  type DashboardRepository,
} from './sources.js';

/** The committed output: templates/grafana/dashboards (the Grafana role mounts each file). */
export const DASHBOARDS_DIR = path.join(projectRoot(), 'templates', 'grafana', 'dashboards');
/** Where the generated rule files go, beside our own (catalog.yaml names the role that installs them). */
export const RULES_DIR = path.join(projectRoot(), RULES_SUBDIR);

async function git(repo: string, args: string[]): Promise<{ ok: boolean; stdout: string; stderr: string }> {
  const r = await execa('git', ['-C', repo, ...args], { reject: false, stripFinalNewline: true });
  return { ok: r.exitCode === 0, stdout: String(r.stdout), stderr: String(r.stderr) };
}

async function isDirectory(p: string): Promise<boolean> {
  return stat(p).then(
    (s) => s.isDirectory(),
    () => false,
  );
}

/** Checks that `repo` holds every commit `repository` needs. */
export async function verifyRepository(repository: DashboardRepository, repo: string): Promise<void> {
  const named = `${repository.option} / ${repository.envVar}=${repo}`;
  if (!(await isDirectory(repo))) throw new Error(`${named}: not a directory`);
  for (const d of repository.dependencies) {
    const has = await git(repo, ['cat-file', '-e', `${d.commit}^{commit}`]);
    if (!has.ok)
      throw new Error(`${named}: not a git repository holding commit ${d.commit}: ${has.stderr.trim()}`);
  }
}

/**
 * Checks that kube-prometheus's lock at the pinned tag names exactly the commits we read (optional: only
 * when a kube-prometheus repository is named).
 */
export async function verifyLock(repo: string): Promise<void> {
  const named = `${KUBE_PROMETHEUS.option} / ${KUBE_PROMETHEUS.envVar}=${repo}`;
  const tag = await git(repo, [
    'rev-parse',
    '--verify',
    '--quiet',
    `refs/tags/${KUBE_PROMETHEUS.tag}^{commit}`,
  ]);
  if (tag.ok && tag.stdout !== KUBE_PROMETHEUS.commit)
    throw new Error(
      `${named}: tag ${KUBE_PROMETHEUS.tag} is ${tag.stdout}, ${KUBE_PROMETHEUS.commit} is pinned`,
    );
  const lock = await git(repo, ['show', `${KUBE_PROMETHEUS.commit}:${KUBE_PROMETHEUS.lockFile}`]);
  if (!lock.ok) throw new Error(`${named}: cannot read ${KUBE_PROMETHEUS.lockFile}: ${lock.stderr.trim()}`);
  const locked = (
    JSON.parse(lock.stdout) as {
      dependencies: { source: { git?: { remote: string; subdir: string } }; version: string }[];
    }
  ).dependencies;
  for (const r of DASHBOARD_REPOSITORIES)
    for (const d of r.dependencies) {
      const entry = locked.find((l) => l.source.git?.remote === r.remote && l.source.git.subdir === d.subdir);
      if (entry?.version !== d.commit)
        throw new Error(
          `${KUBE_PROMETHEUS.lockFile} of kube-prometheus ${KUBE_PROMETHEUS.tag} locks ${r.remote} ` +
            `${d.subdir || '(root)'} at ${entry?.version ?? 'nothing'}, ${d.commit} is pinned`,
        );
    }
}

/** Copies every locked directory out of its repository into `vendor/<import path>`. */
export async function extractSources(
  repositories: ReadonlyMap<string, string>,
  vendor: string,
): Promise<void> {
  for (const r of DASHBOARD_REPOSITORIES) {
    const repo = repositories.get(r.name);
    if (repo === undefined) throw new Error(`${r.name}: no repository (${r.option} or ${r.envVar})`);
    await verifyRepository(r, repo);
    for (const d of r.dependencies) {
      const dest = path.join(vendor, importPath(r, d));
      await mkdir(dest, { recursive: true });
      const archive = `${dest}.${process.pid}.tar`;
      // The tree of the directory alone: a mirror may lack the blobs of unrelated large files.
      const tree = d.subdir === '' ? `${d.commit}^{tree}` : `${d.commit}:${d.subdir}`;
      try {
        await execa('git', ['-C', repo, 'archive', '--format=tar', '-o', archive, tree]);
        await execa('tar', ['-xf', archive, '-C', dest]);
      } finally {
        await rm(archive, { force: true });
      }
    }
  }
}

/** kube-prometheus's published dashboards: one ConfigMapList, a dashboard file per `data` key. */
const PUBLISHED_DASHBOARDS = 'manifests/grafana-dashboardDefinitions.yaml';

/** KubeSphere's two edits, made to a published dashboard's strings: our namespace, no metrics_path matcher. */
function kubesphereEdits(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(kubesphereEdits);
  if (value !== null && typeof value === 'object')
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, kubesphereEdits(v)]));
  if (typeof value !== 'string') return value;
  return value
    .replaceAll('namespace="monitoring"', `namespace="${MONITORING_NAMESPACE}"`)
    .replace(/,\s*metrics_path="\/metrics(\/cadvisor)?"/g, '');
}

/**
 * Cross-check against the dashboards kube-prometheus v0.10.0 publishes: each generated dashboard must equal
 * (as JSON) the published one once KubeSphere's two edits are made to it. Returns the files that differ.
 */
export async function compareWithPublished(
  repo: string,
  files: ReadonlyMap<string, string>,
): Promise<string[]> {
  const published = await git(repo, ['show', `${KUBE_PROMETHEUS.commit}:${PUBLISHED_DASHBOARDS}`]);
  if (!published.ok) throw new Error(`cannot read ${PUBLISHED_DASHBOARDS}: ${published.stderr.trim()}`);
  const list = yaml.load(published.stdout) as { items: { data: Record<string, string> }[] };
  const theirs = new Map(list.items.flatMap((i) => Object.entries(i.data)));
  const out: string[] = [];
  for (const [file, text] of files) {
    if (file === PROVENANCE_FILE) continue;
    const other = theirs.get(file);
    if (other === undefined) out.push(`${file}: not among kube-prometheus's published dashboards`);
    else if (!isDeepStrictEqual(kubesphereEdits(JSON.parse(other)), JSON.parse(text)))
      out.push(`${file}: differs from kube-prometheus's published dashboard with the two edits`);
  }
  for (const file of theirs.keys()) if (!files.has(file)) out.push(`${file}: published, not generated`);
  return out;
}

/** What tools/dashboards/dashboards.jsonnet gives: each mixin's dashboards and rule groups. */
interface Evaluated {
  dashboards: Record<string, Record<string, unknown>>;
  rules: EvaluatedRules;
}

/** file name → content, checked against the expected dashboards of each mixin. */
export function dashboardFiles(evaluated: Evaluated['dashboards']): Map<string, string> {
  const problems: string[] = [];
  const files = new Map<string, string>();
  const mixins = Object.keys(evaluated).sort();
  const expectedMixins = Object.keys(EXPECTED_DASHBOARDS).sort();
  if (JSON.stringify(mixins) !== JSON.stringify(expectedMixins))
    problems.push(`mixins ${mixins.join(', ')}, expected ${expectedMixins.join(', ')}`);
  for (const [mixin, dashboards] of Object.entries(evaluated)) {
    const got = Object.keys(dashboards).sort();
    const want = [...(EXPECTED_DASHBOARDS[mixin] ?? [])].sort();
    if (JSON.stringify(got) !== JSON.stringify(want))
      problems.push(`${mixin} gives ${got.join(', ')}; expected ${want.join(', ')}`);
    for (const [file, dashboard] of Object.entries(dashboards)) {
      if (files.has(file)) problems.push(`${file} given by two mixins`);
      files.set(file, `${JSON.stringify(dashboard, null, 2)}\n`);
    }
  }
  if (problems.length > 0)
    throw new Error(
      `the mixins do not give the expected dashboards (tools/dashboards/sources.ts):\n  ${problems.join('\n  ')}`,
    );
  return files;
}

/** Record names of our own rule files in `dir` (every file of rules/recording but the generated ones). */
export async function ourRecords(dir: string = RULES_DIR): Promise<Set<string>> {
  const out = new Set<string>();
  for (const f of (await readdir(dir)).filter((x) => x.endsWith('.yaml') && !isGeneratedRuleFile(x)).sort()) {
    const doc = yaml.load(await readFile(path.join(dir, f), 'utf8')) as {
      groups?: { rules?: { record?: string }[] }[];
    };
    for (const g of doc.groups ?? []) for (const r of g.rules ?? []) if (r.record) out.add(r.record);
  }
  return out;
}

export interface Generation {
  /** Every file of the dashboards folder: the dashboards and SOURCE.json. */
  files: Map<string, string>;
  /** The generated rule files of rules/recording, by file name. */
  rules: Map<string, string>;
  selection: RuleSelection;
  jsonnet: { path: string; source: string };
  /** With kube-prometheus at hand: dashboards that differ from its published ones with the two edits. */
  publishedDifferences?: string[];
}

/** Generates every dashboard and the provenance record in memory. */
export async function generateDashboards(options: {
  repositories: ReadonlyMap<string, string>;
  kubePrometheus?: string;
  env?: NodeJS.ProcessEnv;
  progress?: (line: string) => void;
}): Promise<Generation> {
  if (options.kubePrometheus !== undefined) await verifyLock(options.kubePrometheus);
  const jsonnet = await resolveGoTool(JSONNET_TOOL, { env: options.env, progress: options.progress });
  const scratch = await mkdtemp(path.join(tmpdir(), 'ks-dashboards-'));
  try {
    const vendor = path.join(scratch, 'vendor');
    await extractSources(options.repositories, vendor);
    const entry = path.join(projectRoot(), ENTRY_FILE);
    const { stdout } = await execa(
      jsonnet.path,
      ['-J', vendor, '--ext-str', `namespace=${MONITORING_NAMESPACE}`, entry],
      { maxBuffer: 256 * 1024 * 1024 },
    );
    const evaluated = JSON.parse(stdout) as Evaluated;
    const files = dashboardFiles(evaluated.dashboards);
    const selection = selectRecordingRules(evaluated.rules, files, await ourRecords());
    const rules = ruleFiles(selection);
    files.set(PROVENANCE_FILE, provenanceText(files, await readFile(entry, 'utf8'), rules, selection));
    const publishedDifferences =
      options.kubePrometheus === undefined
        ? undefined
        : await compareWithPublished(options.kubePrometheus, files);
    return {
      files,
      rules,
      selection,
      jsonnet: { path: jsonnet.path, source: jsonnet.source },
      publishedDifferences,
    };
  } finally {
    await rm(scratch, { recursive: true, force: true });
  }
}

/** The committed folder's files (every regular file), by name. */
export async function readCommitted(dir: string = DASHBOARDS_DIR): Promise<Map<string, string>> {
  const out = new Map<string, string>();
  const entries = await readdir(dir, { withFileTypes: true }).catch(() => []);
  for (const e of entries.filter((x) => x.isFile()).sort((a, b) => (a.name < b.name ? -1 : 1)))
    out.set(e.name, await readFile(path.join(dir, e.name), 'utf8'));
  return out;
}

/** The generated rule files committed in rules/recording, by file name. */
export async function readCommittedRules(dir: string = RULES_DIR): Promise<Map<string, string>> {
  const out = new Map<string, string>();
  for (const f of (await readdir(dir)).filter(isGeneratedRuleFile).sort())
    out.set(f, await readFile(path.join(dir, f), 'utf8'));
  return out;
}

export async function readEntry(): Promise<string> {
  return readFile(path.join(projectRoot(), ENTRY_FILE), 'utf8');
}

/**
 * Writes the generated files and removes the folder's other files that `read` returns: every other file of
 * the dashboards folder (readCommitted), the other generated files of rules/recording (readCommittedRules).
 */
export async function writeDashboards(
  files: ReadonlyMap<string, string>,
  dir: string = DASHBOARDS_DIR,
  read: (dir: string) => Promise<Map<string, string>> = readCommitted,
): Promise<{ written: string[]; unchanged: string[]; removed: string[] }> {
  await mkdir(dir, { recursive: true });
  const committed = await read(dir);
  const result = { written: [] as string[], unchanged: [] as string[], removed: [] as string[] };
  for (const [name, content] of files) {
    if (committed.get(name) === content) result.unchanged.push(name);
    else {
      await writeFile(path.join(dir, name), content);
      result.written.push(name);
    }
  }
  for (const name of committed.keys())
    if (!files.has(name)) {
      await rm(path.join(dir, name));
      result.removed.push(name);
    }
  return result;
}

/** Files that differ between two sets: changed, missing on one side or the other. */
export function compareFiles(
  committed: ReadonlyMap<string, string>,
  generated: ReadonlyMap<string, string>,
): string[] {
  const out: string[] = [];
  for (const [name, content] of generated) {
    const have = committed.get(name);
    if (have === undefined) out.push(`${name}: not committed`);
    else if (have !== content) out.push(`${name}: differs from the generated file`);
  }
  for (const name of committed.keys())
    if (!generated.has(name)) out.push(`${name}: committed but not generated`);
  return out;
}
