/**
 * Finds the control-plane binaries, in this order:
 *   1. TEST_ASSET_<NAME> (one binary each),
 *   2. KUBEBUILDER_ASSETS (the directory setup-envtest fills),
 *   3. the cache directory outside the repository,
 *   4. a build from the pinned Go modules into that cache (once; later runs find it in step 3).
 */
import { execa } from 'execa';
import { mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { formatDuration, goEnv, goVersion, isExecutable, toolCacheBase, withBuildLock } from './go-build.js';
import { ALL_BINARIES, ASSET_ENV, ENVTEST_VERSIONS, stagingVersion, type BinaryName } from './versions.js';

export type BinarySource = 'env' | 'kubebuilder-assets' | 'cache' | 'built';

export interface ResolvedBinary {
  path: string;
  source: BinarySource;
}

export type ResolvedBinaries = Partial<Record<BinaryName, ResolvedBinary>>;

export interface ResolveOptions {
  /** Which binaries are needed; default all four. */
  needed?: readonly BinaryName[];
  env?: NodeJS.ProcessEnv;
  /** Receives one line per build step. Default: stderr. */
  progress?: (line: string) => void;
}

/** Where built binaries live: KS_INSTALLER_ENVTEST_CACHE, else $XDG_CACHE_HOME or ~/.cache, per version set. */
export function cacheDir(env: NodeJS.ProcessEnv = process.env): string {
  const v = ENVTEST_VERSIONS;
  return path.join(toolCacheBase(env), `k8s-${v.kubernetes}_etcd-${v.etcd}_helm-${v.helm}`);
}

/** Steps 1–3: no building. Returns what was found; missing names are absent. */
export async function findBinaries(options: ResolveOptions = {}): Promise<ResolvedBinaries> {
  const env = options.env ?? process.env;
  const found: ResolvedBinaries = {};
  for (const name of options.needed ?? ALL_BINARIES) {
    const direct = env[ASSET_ENV[name]];
    if (direct) {
      if (!(await isExecutable(direct))) {
        throw new Error(`${ASSET_ENV[name]}=${direct} is not an executable file; fix or unset it`);
      }
      found[name] = { path: direct, source: 'env' };
      continue;
    }
    const assets = env.KUBEBUILDER_ASSETS;
    if (assets && (await isExecutable(path.join(assets, name)))) {
      found[name] = { path: path.join(assets, name), source: 'kubebuilder-assets' };
      continue;
    }
    const cached = path.join(cacheDir(env), 'bin', name);
    if (await isExecutable(cached)) found[name] = { path: cached, source: 'cache' };
  }
  return found;
}

/** A set of binaries built from one Go module. */
interface BuildGroup {
  id: string;
  module: string;
  version: string;
  binaries: Partial<Record<BinaryName, string>>;
  goMod: (goModOfUpstream: string) => string;
  ldflags: string;
}

function kubernetesLdflags(version: string): string {
  const m = /^v(\d+)\.(\d+)\./.exec(version);
  const [major, minor] = m ? [m[1], m[2]] : ['1', '0'];
  const vars: Record<string, string> = {
    gitVersion: version,
    gitMajor: major!,
    gitMinor: minor!,
    gitTreeState: 'clean',
  };
  const pkgs = ['k8s.io/component-base/version', 'k8s.io/client-go/pkg/version'];
  return pkgs.flatMap((p) => Object.entries(vars).map(([k, val]) => `-X ${p}.${k}=${val}`)).join(' ');
}

function buildGroups(): BuildGroup[] {
  const v = ENVTEST_VERSIONS;
  return [
    {
      id: 'etcd',
      module: 'go.etcd.io/etcd/server/v3',
      version: v.etcd,
      binaries: { etcd: 'go.etcd.io/etcd/server/v3' },
      goMod: () => simpleGoMod('etcd', 'go.etcd.io/etcd/server/v3', v.etcd),
      ldflags: '',
    },
    {
      id: 'kubernetes',
      module: 'k8s.io/kubernetes',
      version: v.kubernetes,
      binaries: {
        'kube-apiserver': 'k8s.io/kubernetes/cmd/kube-apiserver',
        kubectl: 'k8s.io/kubernetes/cmd/kubectl',
      },
      goMod: (upstream) => kubernetesGoMod(upstream, v.kubernetes),
      ldflags: kubernetesLdflags(v.kubernetes),
    },
    {
      id: 'helm',
      module: 'helm.sh/helm/v3',
      version: v.helm,
      binaries: { helm: 'helm.sh/helm/v3/cmd/helm' },
      goMod: () => simpleGoMod('helm', 'helm.sh/helm/v3', v.helm),
      ldflags: `-X helm.sh/helm/v3/internal/version.version=${v.helm}`,
    },
  ];
}

function simpleGoMod(id: string, module: string, version: string): string {
  return `module ks-installer.envtest/${id}\n\ngo 1.24.0\n\nrequire ${module} ${version}\n`;
}

/**
 * k8s.io/kubernetes replaces its staging modules with ./staging/... paths, which a dependent module
 * cannot use; pin each of them to the matching published v0.x version instead. The list of staging
 * modules is read from upstream's own go.mod, so it follows the pinned version.
 */
export function kubernetesGoMod(upstreamGoMod: string, version: string): string {
  const staging = stagingVersion(version);
  const names = [...upstreamGoMod.matchAll(/^\s*(k8s\.io\/[\w.-]+)\s+=>\s+\.\/staging\//gm)].map(
    (m) => m[1]!,
  );
  if (names.length === 0)
    throw new Error(`no staging replace directives found in k8s.io/kubernetes ${version} go.mod`);
  const godebug = /^godebug\s+.+$/m.exec(upstreamGoMod)?.[0] ?? '';
  const goLine = /^go\s+\S+$/m.exec(upstreamGoMod)?.[0] ?? 'go 1.24.0';
  return [
    'module ks-installer.envtest/kubernetes',
    '',
    goLine,
    '',
    godebug,
    '',
    `require k8s.io/kubernetes ${version}`,
    '',
    'replace (',
    ...names.map((n) => `\t${n} => ${n} ${staging}`),
    ')',
    '',
  ].join('\n');
}

function missingMessage(missing: BinaryName[]): string {
  const lines = [
    `The embedded control plane needs ${missing.join(', ')}, which were not found, and Go is not installed to build them.`,
    'Do one of:',
    ...missing.map((n) => `  - set ${ASSET_ENV[n]} to the path of ${n};`),
    '  - set KUBEBUILDER_ASSETS to a directory holding etcd, kube-apiserver and kubectl',
    `    (e.g. the one printed by \`setup-envtest use ${ENVTEST_VERSIONS.kubernetes.slice(1)} -p path\`);`,
    `  - install Go 1.24 or newer (e.g. \`apt-get install golang-go\`), and they are built once from pinned modules into ${cacheDir()}.`,
  ];
  return lines.join('\n');
}

async function buildGroup(
  group: BuildGroup,
  names: BinaryName[],
  root: string,
  env: NodeJS.ProcessEnv,
  step: () => string,
  progress: (l: string) => void,
): Promise<void> {
  const work = path.join(root, 'src', group.id);
  await mkdir(work, { recursive: true });
  const run = (args: string[]) => execa('go', args, { cwd: work, env: goEnv(env), all: true });

  let started = Date.now();
  progress(`envtest: ${step()} resolving ${group.module} ${group.version}`);
  let upstream = '';
  if (group.id === 'kubernetes') {
    const dl = await run(['mod', 'download', '-json', `${group.module}@${group.version}`]);
    const info = JSON.parse(dl.stdout) as { GoMod?: string; Error?: string };
    if (!info.GoMod)
      throw new Error(`go mod download ${group.module}@${group.version}: ${info.Error ?? dl.stdout}`);
    upstream = await readFile(info.GoMod, 'utf8');
  }
  await writeFile(path.join(work, 'go.mod'), group.goMod(upstream));
  const pkgs = names.map((n) => group.binaries[n]!);
  await run(['get', ...pkgs.map((p) => `${p}@${group.version}`)]);
  progress(`envtest: resolved ${group.module} ${group.version} in ${formatDuration(Date.now() - started)}`);

  for (const name of names) {
    started = Date.now();
    progress(
      `envtest: ${step()} building ${name} from ${group.binaries[name]}@${group.version} (minutes on a cold Go cache)`,
    );
    const tmp = path.join(root, 'bin', `.${name}.${process.pid}.tmp`);
    const flags = [
      'build',
      '-trimpath',
      `-ldflags=-s -w ${group.ldflags}`.trim(),
      '-o',
      tmp,
      group.binaries[name]!,
    ];
    await run(flags);
    await rename(tmp, path.join(root, 'bin', name));
    progress(`envtest: built ${name} in ${formatDuration(Date.now() - started)}`);
  }
}

/** Steps 1–4: finds every needed binary, building the missing ones from pinned Go modules. */
export async function resolveBinaries(options: ResolveOptions = {}): Promise<Record<BinaryName, string>> {
  const env = options.env ?? process.env;
  const needed = options.needed ?? ALL_BINARIES;
  const progress = options.progress ?? ((l: string) => process.stderr.write(`${l}\n`));
  let found = await findBinaries({ ...options, needed });
  let missing = needed.filter((n) => !found[n]);
  if (missing.length > 0) {
    const go = await goVersion(env);
    if (!go) throw new Error(missingMessage(missing));
    const root = cacheDir(env);
    await withBuildLock(
      root,
      'the control-plane binaries',
      async () => {
        // Another process may have finished the build while we waited for the lock.
        found = await findBinaries({ ...options, needed });
        missing = needed.filter((n) => !found[n]);
        if (missing.length === 0) return;
        await mkdir(path.join(root, 'bin'), { recursive: true });
        const groups = buildGroups()
          .map((g) => ({ g, names: missing.filter((n) => n in g.binaries) }))
          .filter((x) => x.names.length > 0);
        const total = groups.reduce((sum, x) => sum + 1 + x.names.length, 0);
        let n = 0;
        const step = () => `[${++n}/${total}]`;
        const started = Date.now();
        progress(`envtest: building ${missing.join(', ')} into ${root} (${go})`);
        for (const { g, names } of groups) await buildGroup(g, names, root, env, step, progress);
        progress(`envtest: all binaries built in ${formatDuration(Date.now() - started)}`);
      },
      progress,
    );
    found = await findBinaries({ ...options, needed });
  }
  const result = {} as Record<BinaryName, string>;
  for (const name of needed) {
    const b = found[name];
    if (!b) throw new Error(missingMessage([name]));
    result[name] = b.path;
  }
  return result;
}
