/**
 * Runs a user hook the way shell-operator does: the binding contexts go, as a JSON array, into a
 * temporary file named by $BINDING_CONTEXT_PATH; the hook runs in its own directory; its output is
 * logged line by line with the hook name in front. A failing hook never throws.
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { basename, dirname, join, resolve } from 'node:path';
import type { WatchEvent } from './bindings.js';
import { runProcess } from './process.js';

type BindingContextType = 'Event' | 'Schedule' | 'Synchronization' | 'onStartup' | 'AfterInstall';

/** One element of the array a hook reads from $BINDING_CONTEXT_PATH (shell-operator's shape). */
export interface BindingContext {
  /** The binding name (for onStartup: "onStartup"). */
  binding: string;
  type: BindingContextType;
  /** For type Event. */
  watchEvent?: WatchEvent;
  /** The object the event is about (Event), or the ClusterConfiguration (AfterInstall). */
  object?: unknown;
  /** The binding's jqFilter applied to `object`. */
  filterResult?: unknown;
  /** For type Synchronization: every matching object. */
  objects?: { object: unknown; filterResult?: unknown }[];
}

interface RunnableHook {
  /** Shown in front of every output line; defaults to the file name. */
  name?: string;
  path: string;
}

interface RunHookOptions {
  logger?: (line: string) => void;
  timeoutMs?: number;
  /** Added to the operator's environment (BINDING_CONTEXT_PATH always wins). */
  env?: Record<string, string>;
}

interface HookRunResult {
  /** Exit code 0 within the time limit. */
  ok: boolean;
  /** null when the hook was killed (e.g. timeout) or could not start. */
  exitCode: number | null;
  durationMs: number;
  /** stdout and stderr, interleaved, plus a line explaining a timeout or start failure. */
  output: string;
  timedOut: boolean;
}

const DEFAULT_HOOK_TIMEOUT_MS = 5 * 60_000;

export async function runHook(
  hook: RunnableHook,
  contexts: BindingContext[],
  opts: RunHookOptions = {},
): Promise<HookRunResult> {
  const name = hook.name ?? basename(hook.path);
  const log = (line: string): void => opts.logger?.(`[${name}] ${line}`);
  const timeoutMs = opts.timeoutMs ?? DEFAULT_HOOK_TIMEOUT_MS;
  const started = performance.now();
  let dir: string | undefined;
  try {
    dir = await mkdtemp(join(tmpdir(), 'ks-installer-hook-'));
    const contextPath = join(dir, 'binding-context.json');
    await writeFile(contextPath, `${JSON.stringify(contexts, null, 2)}\n`);

    const path = resolve(hook.path);
    const result = await runProcess(path, {
      cwd: dirname(path),
      env: { ...opts.env, BINDING_CONTEXT_PATH: contextPath },
      timeoutMs,
      onLine: (line) => log(line),
    });

    let output = result.output;
    if (result.timedOut) {
      const note = `timed out after ${timeoutMs} ms and was stopped`;
      log(note);
      output += `${note}\n`;
    } else if (result.startError !== undefined) {
      const note = `could not start: ${result.startError}`;
      log(note);
      output += `${note}\n`;
    }
    return {
      ok: !result.timedOut && result.exitCode === 0,
      exitCode: result.exitCode,
      durationMs: result.durationMs,
      output,
      timedOut: result.timedOut,
    };
  } catch (err) {
    const note = `could not run: ${(err as Error).message}`;
    log(note);
    return {
      ok: false,
      exitCode: null,
      durationMs: Math.round(performance.now() - started),
      output: `${note}\n`,
      timedOut: false,
    };
  } finally {
    if (dir !== undefined) await rm(dir, { recursive: true, force: true }).catch(() => undefined);
  }
}
