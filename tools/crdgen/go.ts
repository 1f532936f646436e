/** The Go tool as the CRD generator uses it: pinned modules only, local toolchain, no cgo, no workspace. */
import { execa } from 'execa';
import { readFile } from 'node:fs/promises';
import { goEnv } from '../envtest/go-build.js';

export { formatDuration, goEnv, goVersion } from '../envtest/go-build.js';

export function goMissingMessage(what: string): string {
  return [
    `${what} needs Go, which is not installed.`,
    'Install Go 1.24 or newer (e.g. `apt-get install golang-go`); tools are then built once from pinned modules',
    'into a cache outside the repository, and API modules are fetched through the Go module proxy.',
  ].join('\n');
}

export interface DownloadedModule {
  /** Read-only directory of the module in the Go module cache. */
  dir: string;
  goMod: string;
}

/** `go mod download -json module@version`, run in `workDir` (which must hold a go.mod). */
export async function downloadModule(
  module: string,
  version: string,
  workDir: string,
  env: NodeJS.ProcessEnv = process.env,
): Promise<DownloadedModule> {
  const ref = `${module}@${version}`;
  const result = await execa('go', ['mod', 'download', '-json', ref], {
    cwd: workDir,
    env: goEnv(env),
    reject: false,
  });
  let info: { Dir?: string; GoMod?: string; Error?: string } = {};
  try {
    info = JSON.parse(result.stdout) as typeof info;
  } catch {
    // fall through: the error below carries stderr
  }
  if (!info.Dir || !info.GoMod) {
    throw new Error(
      `go mod download ${ref} failed: ${info.Error ?? (result.stderr || result.stdout).trim()}`,
    );
  }
  return { dir: info.Dir, goMod: await readFile(info.GoMod, 'utf8') };
}

/** A go.mod for a scratch module whose only purpose is to run `go` commands in. */
export function scratchGoMod(name: string, requires: Record<string, string> = {}): string {
  const lines = [`module ks-installer.crdgen/${name}`, '', 'go 1.24.0', ''];
  for (const [mod, ver] of Object.entries(requires)) lines.push(`require ${mod} ${ver}`);
  return `${lines.join('\n')}\n`;
}
