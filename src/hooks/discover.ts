/**
 * Finds the user hooks of a hooks directory: every executable regular file directly in it (what the
 * operator itself watches is declared in watches.yaml). Each user hook is asked for its bindings with `<hook> --config`, as in
 * shell-operator. A user hook that cannot say its bindings, or asks for bindings this operator
 * cannot serve, is reported in `errors` and left out; it never stops the operator.
 */
import { readdir, stat } from 'node:fs/promises';
import { extname, join, resolve } from 'node:path';
import type { HookConfig, KubernetesBinding } from './bindings.js';
import { BindingConfigError, parseHookConfig } from './bindings.js';
import { runProcess } from './process.js';
import { API_VERSION, isClusterConfigurationKind } from '../api/cluster-configuration.js';

const CONFIG_TIMEOUT_MS = 10_000;

/** Files that are never hooks, whatever their mode. */
const NOT_HOOK_EXTENSIONS = new Set(['.yaml', '.yml', '.json', '.md', '.txt']);

export interface UserHook {
  /** File name, shown in logs. */
  name: string;
  /** Absolute path of the executable. */
  path: string;
  config: HookConfig;
}

interface HookLoadError {
  file: string;
  reason: string;
}

interface LoadedHooks {
  /** Sorted by file name. */
  userHooks: UserHook[];
  errors: HookLoadError[];
}

interface LoadHooksOptions {
  /** The ClusterConfiguration the operator watches (watches.yaml); user kubernetes bindings must refer to it. */
  target: { namespace: string; name: string };
  /** Time limit of each `--config` call. */
  configTimeoutMs?: number;
}

/** Why a kubernetes binding of a user hook cannot be served, or undefined when it can. */
function unservableReason(
  binding: KubernetesBinding,
  target: { namespace: string; name: string },
): string | undefined {
  const where = `binding "${binding.name}"`;
  if (!isClusterConfigurationKind(binding.kind)) {
    return `${where}: kind ${binding.kind} is not watched (only ClusterConfiguration ${target.namespace}/${target.name})`;
  }
  if (binding.apiVersion !== undefined && binding.apiVersion !== API_VERSION) {
    return `${where}: apiVersion ${binding.apiVersion} is not watched (only ${API_VERSION})`;
  }
  const others = binding.nameSelector?.matchNames.filter((n) => n !== target.name) ?? [];
  if (others.length > 0) {
    return `${where}: ClusterConfiguration ${others.join(', ')} is not watched (only ${target.name})`;
  }
  const otherNs = binding.namespace?.nameSelector.matchNames.filter((n) => n !== target.namespace) ?? [];
  if (otherNs.length > 0) {
    return `${where}: namespace ${otherNs.join(', ')} is not watched (only ${target.namespace})`;
  }
  return undefined;
}

/** Candidate user hooks: executable regular files directly in `dir` (symlinks followed). */
async function candidates(dir: string): Promise<string[]> {
  const names = (await readdir(dir)).sort();
  const found: string[] = [];
  for (const name of names) {
    if (name.startsWith('.') || NOT_HOOK_EXTENSIONS.has(extname(name).toLowerCase())) continue;
    const info = await stat(join(dir, name)).catch(() => undefined);
    if (!info?.isFile() || (info.mode & 0o111) === 0) continue;
    found.push(name);
  }
  return found;
}

async function loadUserHook(
  dir: string,
  name: string,
  target: { namespace: string; name: string },
  timeoutMs: number,
): Promise<UserHook | HookLoadError> {
  const path = join(dir, name);
  const result = await runProcess(path, { args: ['--config'], cwd: dir, timeoutMs });
  if (result.startError !== undefined)
    return { file: path, reason: `--config could not start: ${result.startError}` };
  if (result.timedOut) return { file: path, reason: `--config did not finish within ${timeoutMs} ms` };
  if (result.exitCode !== 0) {
    const last = result.output.trim().split('\n').at(-1) ?? '';
    const how =
      result.exitCode === null ? `was killed by ${result.signal}` : `exited with code ${result.exitCode}`;
    return { file: path, reason: `--config ${how}${last ? `: ${last}` : ''}` };
  }
  let config: HookConfig;
  try {
    config = parseHookConfig(result.stdout, path);
  } catch (err) {
    const reason = err instanceof BindingConfigError ? `${err.field}: ${err.reason}` : (err as Error).message;
    return { file: path, reason };
  }
  for (const binding of config.kubernetes) {
    const reason = unservableReason(binding, target);
    if (reason !== undefined) return { file: path, reason };
  }
  if (
    config.kubernetes.length + config.schedule.length === 0 &&
    config.onStartup === undefined &&
    !config.afterInstall
  ) {
    return { file: path, reason: 'declares no binding (kubernetes, schedule, onStartup or afterInstall)' };
  }
  return { name, path, config };
}

export async function loadHooks(hooksDir: string, opts: LoadHooksOptions): Promise<LoadedHooks> {
  const dir = resolve(hooksDir);
  const { target } = opts;

  let names: string[];
  try {
    names = await candidates(dir);
  } catch (err) {
    throw new Error(`hooks directory ${dir} cannot be read: ${(err as Error).message}`);
  }
  const timeoutMs = opts.configTimeoutMs ?? CONFIG_TIMEOUT_MS;
  const loaded = await Promise.all(names.map((name) => loadUserHook(dir, name, target, timeoutMs)));

  const userHooks: UserHook[] = [];
  const errors: HookLoadError[] = [];
  for (const item of loaded) {
    if ('config' in item) userHooks.push(item);
    else errors.push(item);
  }
  return { userHooks, errors };
}
