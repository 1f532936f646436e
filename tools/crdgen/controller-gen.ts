/**
 * Finds controller-gen at the pinned version, in this order:
 *   1. CONTROLLER_GEN (a binary path; its --version must match the pin),
 *   2. the cache directory outside the repository,
 *   3. a build from the pinned sigs.k8s.io/controller-tools module into that cache (once).
 * The cache shares its root with the embedded control plane's binaries (KS_INSTALLER_ENVTEST_CACHE).
 */
import { execa } from 'execa';
import { mkdir, rename, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { isExecutable, toolCacheBase, withBuildLock } from '../envtest/go-build.js';
import { formatDuration, goEnv, goMissingMessage, goVersion, scratchGoMod } from './go.js';
import { CRDGEN_VERSIONS } from './versions.js';

const CONTROLLER_TOOLS_MODULE = 'sigs.k8s.io/controller-tools';
const CONTROLLER_GEN_PACKAGE = `${CONTROLLER_TOOLS_MODULE}/cmd/controller-gen`;

export interface ControllerGenOptions {
  env?: NodeJS.ProcessEnv;
  /** Receives one line per build step. Default: stderr. */
  progress?: (line: string) => void;
}

export interface ResolvedControllerGen {
  path: string;
  source: 'env' | 'cache' | 'built';
  /** Wall time of the build, when it was built by this call. */
  buildMs?: number;
}

/** KS_INSTALLER_ENVTEST_CACHE, else $XDG_CACHE_HOME or ~/.cache under ks-installer/envtest; one folder per version. */
export function controllerGenCacheDir(env: NodeJS.ProcessEnv = process.env): string {
  return path.join(toolCacheBase(env), `controller-tools-${CRDGEN_VERSIONS.controllerTools}`);
}

/** The version a controller-gen binary reports (`Version: v0.19.0` → `v0.19.0`). */
export async function controllerGenVersion(binary: string): Promise<string> {
  const { stdout } = await execa(binary, ['--version']);
  return /Version:\s*(\S+)/.exec(stdout)?.[1] ?? stdout.trim();
}

async function build(root: string, env: NodeJS.ProcessEnv, progress: (l: string) => void): Promise<number> {
  const version = CRDGEN_VERSIONS.controllerTools;
  const work = path.join(root, 'src');
  const bin = path.join(root, 'bin');
  await mkdir(work, { recursive: true });
  await mkdir(bin, { recursive: true });
  const run = (args: string[]) => execa('go', args, { cwd: work, env: goEnv(env), all: true });

  const started = Date.now();
  progress(
    `crdgen: building controller-gen ${version} into ${root} (${await goVersion(env)}; minutes on a cold Go cache)`,
  );
  await writeFile(
    path.join(work, 'go.mod'),
    scratchGoMod('controller-tools', { [CONTROLLER_TOOLS_MODULE]: version }),
  );
  await run(['get', `${CONTROLLER_GEN_PACKAGE}@${version}`]);
  const tmp = path.join(bin, `.controller-gen.${process.pid}.tmp`);
  await run(['build', '-trimpath', '-ldflags=-s -w', '-o', tmp, CONTROLLER_GEN_PACKAGE]);
  await rename(tmp, path.join(bin, 'controller-gen'));
  const ms = Date.now() - started;
  progress(`crdgen: built controller-gen ${version} in ${formatDuration(ms)}`);
  return ms;
}

/** Steps 1–3: a controller-gen binary at the pinned version, building it if needed. */
export async function resolveControllerGen(
  options: ControllerGenOptions = {},
): Promise<ResolvedControllerGen> {
  const env = options.env ?? process.env;
  const progress = options.progress ?? ((l: string) => process.stderr.write(`${l}\n`));
  const pinned = CRDGEN_VERSIONS.controllerTools;

  const direct = env.CONTROLLER_GEN;
  if (direct) {
    if (!(await isExecutable(direct))) throw new Error(`CONTROLLER_GEN=${direct} is not an executable file`);
    const actual = await controllerGenVersion(direct);
    if (actual !== pinned)
      throw new Error(`CONTROLLER_GEN=${direct} is controller-gen ${actual}; ${pinned} is pinned`);
    return { path: direct, source: 'env' };
  }

  const root = controllerGenCacheDir(env);
  const cached = path.join(root, 'bin', 'controller-gen');
  if (await isExecutable(cached)) return { path: cached, source: 'cache' };
  if (!(await goVersion(env))) throw new Error(goMissingMessage(`Building controller-gen ${pinned}`));

  let buildMs: number | undefined;
  await withBuildLock(
    root,
    'controller-gen',
    async () => {
      // Another process may have finished the build while we waited for the lock.
      if (!(await isExecutable(cached))) buildMs = await build(root, env, progress);
    },
    progress,
  );
  return buildMs === undefined
    ? { path: cached, source: 'cache' }
    : { path: cached, source: 'built', buildMs };
}
