/**
 * Test tools built from pinned Go modules, the same way as the control-plane binaries: a
 * `TEST_ASSET_<NAME>` variable wins, then the cache outside the repository, then a build from the
 * module proxy into that cache (once, under a build lock). Used for promtool, prometheus-operator
 * and our own Prometheus rules evaluator (a Go program in `test/tools/`, built against the
 * Prometheus release we install).
 */
import { execa } from 'execa';
import { createHash } from 'node:crypto';
import { cp, mkdir, readFile, readdir, rename, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { formatDuration, goEnv, goVersion, isExecutable, toolCacheBase, withBuildLock } from './go-build.js';

const REPO_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');

export interface GoToolSpec {
  /** Binary name, e.g. `promtool`. */
  name: string;
  /** Environment variable naming a prebuilt binary, e.g. `TEST_ASSET_PROMTOOL`. */
  assetEnv: string;
  /** Go module and version for an upstream tool. */
  module?: string;
  version?: string;
  /** Package to build (`<module>/cmd/...`, or `.` for a local tool). */
  pkg: string;
  /** A directory of this repository holding a Go module (go.mod, go.sum, sources) to build instead. */
  localDir?: string;
  /** -X flags and the like. */
  ldflags?: string;
  /** Go build tags. */
  tags?: string[];
  /**
   * Dependencies raised above what the module pins (`module@version`), each with the reason in the
   * spec: only where the pinned one cannot run on the Go toolchain that builds it.
   */
  upgrades?: string[];
}

export interface ResolvedTool {
  path: string;
  source: 'env' | 'cache' | 'built';
}

/** Keeps the upstream module's non-local replace directives: its dependencies resolve as upstream pinned them. */
export function wrapperGoMod(name: string, module: string, version: string, upstreamGoMod: string): string {
  const replaces: string[] = [];
  const block = /^replace\s*\(([\s\S]*?)^\)/gm;
  for (const m of upstreamGoMod.matchAll(block)) replaces.push(...m[1]!.split('\n'));
  for (const m of upstreamGoMod.matchAll(/^replace\s+([^(\s].*)$/gm)) replaces.push(m[1]!);
  const kept = replaces
    .map((l) => l.replace(/\/\/.*$/, '').trim())
    .filter((l) => l.includes('=>') && !/=>\s*\.{1,2}\//.test(l));
  const lines = [
    `module ks-installer.tools/${name}`,
    '',
    'go 1.24.0',
    '',
    `require ${module} ${version}`,
    '',
  ];
  if (kept.length > 0) lines.push('replace (', ...kept.map((l) => `\t${l}`), ')', '');
  return lines.join('\n');
}

async function localDigest(dir: string): Promise<string> {
  const hash = createHash('sha256');
  const files = (await readdir(dir, { recursive: true, withFileTypes: true }))
    .filter((e) => e.isFile())
    .map((e) => path.join(e.parentPath, e.name))
    .sort();
  for (const f of files) {
    hash.update(path.relative(dir, f));
    hash.update(await readFile(f));
  }
  return hash.digest('hex').slice(0, 12);
}

async function cacheRoot(spec: GoToolSpec, env: NodeJS.ProcessEnv): Promise<string> {
  const upgraded = spec.upgrades?.length
    ? `-u${createHash('sha256').update(spec.upgrades.join('\n')).digest('hex').slice(0, 8)}`
    : '';
  const tag = spec.localDir
    ? `src-${await localDigest(path.join(REPO_ROOT, spec.localDir))}`
    : `${spec.version!}${upgraded}`;
  return path.join(toolCacheBase(env), `${spec.name}-${tag}`);
}

async function build(
  spec: GoToolSpec,
  root: string,
  env: NodeJS.ProcessEnv,
  progress: (l: string) => void,
): Promise<void> {
  const work = path.join(root, 'src');
  const bin = path.join(root, 'bin');
  await rm(work, { recursive: true, force: true });
  await mkdir(work, { recursive: true });
  await mkdir(bin, { recursive: true });
  const run = (args: string[]) => execa('go', args, { cwd: work, env: goEnv(env), all: true });
  const started = Date.now();
  const what = spec.localDir ? `${spec.localDir} (this repository)` : `${spec.pkg}@${spec.version}`;
  progress(`tools: building ${spec.name} from ${what} into ${root} (minutes on a cold Go cache)`);
  if (spec.localDir) {
    await cp(path.join(REPO_ROOT, spec.localDir), work, { recursive: true });
    await run(['mod', 'download']);
  } else {
    await writeFile(path.join(work, 'go.mod'), `module ks-installer.tools/${spec.name}\n\ngo 1.24.0\n`);
    const dl = await run(['mod', 'download', '-json', `${spec.module}@${spec.version}`]);
    const info = JSON.parse(dl.stdout) as { GoMod?: string; Dir?: string; Error?: string };
    if (!info.GoMod)
      throw new Error(`go mod download ${spec.module}@${spec.version}: ${info.Error ?? dl.stdout}`);
    const upstream = await readFile(info.GoMod, 'utf8');
    await writeFile(
      path.join(work, 'go.mod'),
      wrapperGoMod(spec.name, spec.module!, spec.version!, upstream),
    );
    // The upstream go.sum holds the hashes of the versions it pinned. Starting from it, `go` checks
    // downloads against those instead of asking the checksum database, which does not answer for
    // every old version (sum.golang.org: 404 for github.com/thanos-io/thanos v0.25.0).
    if (info.Dir) {
      const sums = await readFile(path.join(info.Dir, 'go.sum'), 'utf8').catch(() => undefined);
      if (sums) await writeFile(path.join(work, 'go.sum'), sums);
    }
    await run(['get', `${spec.pkg}@${spec.version}`]);
    if (spec.upgrades?.length) await run(['get', ...spec.upgrades]);
  }
  const tmp = path.join(bin, `.${spec.name}.${process.pid}.tmp`);
  const args = ['build', '-trimpath', `-ldflags=-s -w ${spec.ldflags ?? ''}`.trim()];
  if (spec.tags?.length) args.push(`-tags=${spec.tags.join(',')}`);
  await run([...args, '-o', tmp, spec.pkg]);
  await rename(tmp, path.join(bin, spec.name));
  progress(`tools: built ${spec.name} in ${formatDuration(Date.now() - started)}`);
}

/** The env variable, else the cache, else builds it. */
export async function resolveGoTool(
  spec: GoToolSpec,
  options: { env?: NodeJS.ProcessEnv; progress?: (line: string) => void } = {},
): Promise<ResolvedTool> {
  const env = options.env ?? process.env;
  const progress = options.progress ?? ((l: string) => process.stderr.write(`${l}\n`));
  const direct = env[spec.assetEnv];
  if (direct) {
    if (!(await isExecutable(direct)))
      throw new Error(`${spec.assetEnv}=${direct} is not an executable file; fix or unset it`);
    return { path: direct, source: 'env' };
  }
  const root = await cacheRoot(spec, env);
  const cached = path.join(root, 'bin', spec.name);
  if (await isExecutable(cached)) return { path: cached, source: 'cache' };
  if (!(await goVersion(env))) {
    throw new Error(
      `${spec.name} was not found and Go is not installed to build it: set ${spec.assetEnv} to its path, or install Go 1.24 or newer.`,
    );
  }
  let built = false;
  await withBuildLock(
    root,
    spec.name,
    async () => {
      if (await isExecutable(cached)) return;
      await build(spec, root, env, progress);
      built = true;
    },
    progress,
  );
  return { path: cached, source: built ? 'built' : 'cache' };
}
