/**
 * Building pinned Go tools into a cache outside the repository: the Go environment (module mode,
 * local toolchain, no cgo, no workspace), the cache location, and a directory lock so that two
 * processes never build into the same cache at once. Used for the control-plane binaries and for
 * controller-gen.
 */
import { execa } from 'execa';
import { constants as fsConstants } from 'node:fs';
import { access, mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import { homedir } from 'node:os';
import path from 'node:path';

export function goEnv(env: NodeJS.ProcessEnv = process.env): NodeJS.ProcessEnv {
  return {
    ...env,
    GOFLAGS: '-mod=mod -buildvcs=false',
    CGO_ENABLED: '0',
    GOTOOLCHAIN: 'local',
    GOWORK: 'off',
  };
}

/** `go version`, or undefined when Go is not installed. */
export async function goVersion(env: NodeJS.ProcessEnv = process.env): Promise<string | undefined> {
  try {
    return (await execa('go', ['version'], { env })).stdout.trim();
  } catch {
    return undefined;
  }
}

/** KS_INSTALLER_ENVTEST_CACHE, else $XDG_CACHE_HOME or ~/.cache, under ks-installer/envtest. */
export function toolCacheBase(env: NodeJS.ProcessEnv = process.env): string {
  return (
    env.KS_INSTALLER_ENVTEST_CACHE ??
    path.join(env.XDG_CACHE_HOME ?? path.join(homedir(), '.cache'), 'ks-installer', 'envtest')
  );
}

export function formatDuration(ms: number): string {
  const s = Math.round(ms / 1000);
  return s >= 60 ? `${Math.floor(s / 60)}m${String(s % 60).padStart(2, '0')}s` : `${s}s`;
}

export async function isExecutable(file: string): Promise<boolean> {
  try {
    await access(file, fsConstants.X_OK);
    return true;
  } catch {
    return false;
  }
}

export function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** Runs fn holding `<dir>/.build-lock`; a lock whose owner died is taken over. */
export async function withBuildLock<T>(
  dir: string,
  what: string,
  fn: () => Promise<T>,
  progress: (line: string) => void,
): Promise<T> {
  const lock = path.join(dir, '.build-lock');
  await mkdir(dir, { recursive: true });
  let announced = false;
  for (;;) {
    try {
      await mkdir(lock);
      await writeFile(path.join(lock, 'pid'), String(process.pid));
      break;
    } catch {
      const owner = Number(await readFile(path.join(lock, 'pid'), 'utf8').catch(() => '0'));
      if (owner && !processAlive(owner)) {
        await rm(lock, { recursive: true, force: true });
        continue;
      }
      if (!announced) progress(`another process (pid ${owner}) is building ${what}; waiting`);
      announced = true;
      await new Promise((r) => setTimeout(r, 2000));
    }
  }
  try {
    return await fn();
  } finally {
    await rm(lock, { recursive: true, force: true });
  }
}
