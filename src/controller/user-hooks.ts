/**
 * Runs the user hooks found in the hooks directory when their bindings fire: onStartup once,
 * schedule bindings by their crontab, kubernetes bindings on events of the watched
 * ClusterConfiguration, afterInstall after each successful run. A failing hook is logged and
 * reported (the caller puts it on the status); it never stops the operator.
 */
import { nextRun } from '../hooks/cron.js';
import { selectByJqPath } from '../hooks/bindings.js';
import type { UserHook } from '../hooks/discover.js';
import { runHook, type BindingContext } from '../hooks/run.js';
import type { Logger } from '../observe/logger.js';

export interface HookFailure {
  hook: string;
  binding: string;
  message: string;
}

export class UserHooks {
  private readonly timers = new Set<NodeJS.Timeout>();
  private stopped = false;
  /** The last jqFilter result seen per hook and binding, so Modified fires only when it changes. */
  private readonly lastFilterResults = new Map<string, string>();
  /** Hooks fired by object events, chained so they run in the order the events arrived. */
  private eventRuns: Promise<void> = Promise.resolve();
  /** Failures since the last successful run of each hook, by hook name. */
  readonly failures = new Map<string, HookFailure>();

  /** Told whenever the set of failing hooks changes (to put it on the status). */
  onFailuresChanged?: (failures: HookFailure[]) => void;

  constructor(
    private readonly hooks: UserHook[],
    private readonly logger: Logger,
  ) {}

  get count(): number {
    return this.hooks.length;
  }

  private async fire(hook: UserHook, contexts: BindingContext[]): Promise<void> {
    const binding = contexts[0]?.binding ?? 'unknown';
    const log = this.logger.child({ hook: hook.name, binding });
    const result = await runHook(hook, contexts, { logger: (line) => log.info(line) });
    const before = JSON.stringify([...this.failures.values()]);
    if (result.ok) {
      this.failures.delete(hook.name);
      log.info(`hook ${hook.name} finished in ${(result.durationMs / 1000).toFixed(2)}s`);
    } else {
      const message = result.timedOut ? 'timed out' : `exited with code ${result.exitCode}`;
      this.failures.set(hook.name, { hook: hook.name, binding, message });
      log.warn(`hook ${hook.name} failed: ${message}`);
    }
    const after = [...this.failures.values()];
    if (JSON.stringify(after) !== before) this.onFailuresChanged?.(after);
  }

  /** onStartup hooks (ordered by their onStartup value), then the schedule timers. */
  async start(): Promise<void> {
    const startup = this.hooks
      .filter((h) => h.config.onStartup !== undefined)
      .sort((a, b) => a.config.onStartup! - b.config.onStartup!);
    for (const h of startup) await this.fire(h, [{ binding: 'onStartup', type: 'onStartup' }]);
    for (const h of this.hooks) for (const s of h.config.schedule) this.schedule(h, s.name, s.crontab);
  }

  private schedule(hook: UserHook, binding: string, crontab: string): void {
    if (this.stopped) return;
    const delay = Math.max(0, nextRun(crontab, new Date()).getTime() - Date.now());
    const timer = setTimeout(() => {
      this.timers.delete(timer);
      void this.fire(hook, [{ binding, type: 'Schedule' }]).finally(() =>
        this.schedule(hook, binding, crontab),
      );
    }, delay);
    timer.unref();
    this.timers.add(timer);
  }

  /**
   * Events of the watched ClusterConfiguration, for hooks with kubernetes bindings on it. What fires
   * is decided when the event arrives; the hooks run one event after another, in arrival order.
   */
  onObjectEvent(type: 'Synchronization' | 'Added' | 'Modified' | 'Deleted', object: unknown): Promise<void> {
    const due: [UserHook, BindingContext][] = [];
    for (const h of this.hooks) {
      for (const b of h.config.kubernetes) {
        const filterResult = b.jqFilter ? selectByJqPath(object, b.jqFilter) : undefined;
        if (b.jqFilter && !this.filterResultChanged(`${h.name}\0${b.name}`, type, filterResult)) continue;
        if (type === 'Synchronization') {
          if (b.executeHookOnSynchronization)
            due.push([h, { binding: b.name, type: 'Synchronization', objects: [{ object, filterResult }] }]);
        } else if (b.executeHookOnEvent.includes(type)) {
          due.push([h, { binding: b.name, type: 'Event', watchEvent: type, object, filterResult }]);
        }
      }
    }
    this.eventRuns = this.eventRuns.then(async () => {
      for (const [h, context] of due) {
        if (this.stopped) return;
        await this.fire(h, [context]).catch((e: unknown) =>
          this.logger.warn(`hook ${h.name} could not be run: ${e instanceof Error ? e.message : String(e)}`),
        );
      }
    });
    return this.eventRuns;
  }

  /**
   * As shell-operator does: a Modified event whose jqFilter result equals the previous one does not
   * fire (our own status writes modify the ClusterConfiguration too). Every other event records it.
   */
  private filterResultChanged(key: string, type: string, filterResult: unknown): boolean {
    const current = JSON.stringify(filterResult ?? null);
    const previous = this.lastFilterResults.get(key);
    if (type === 'Deleted') this.lastFilterResults.delete(key);
    else this.lastFilterResults.set(key, current);
    return type !== 'Modified' || previous !== current;
  }

  async afterInstall(object: unknown): Promise<void> {
    for (const h of this.hooks.filter((x) => x.config.afterInstall)) {
      await this.fire(h, [{ binding: 'afterInstall', type: 'AfterInstall', object }]);
    }
  }

  stop(): void {
    this.stopped = true;
    for (const t of this.timers) clearTimeout(t);
    this.timers.clear();
  }
}
