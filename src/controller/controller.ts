/**
 * The controller: watch → decide → queue → reconcile. It watches the one ClusterConfiguration the
 * watches file names, decides from each event whether a run is due (first sight, a change of the
 * jqFilter selection — `.spec` —, status.monitoring removed), and feeds a coalescing work queue
 * keyed by `namespace/name` whose single worker calls the reconciler. The queue owns retries and the
 * periodic resync (a requeue after each successful run). Status writes change neither the spec hash
 * nor (while a run is pending) the monitoring status seen, so they never trigger a run.
 */
import { collectionPath, keyOf, specHash, type ClusterConfiguration } from '../api/cluster-configuration.js';
import { nextRun } from '../hooks/cron.js';
import { selectByJqPath } from '../hooks/bindings.js';
import { ApiError, type KubeClient } from '../kube/client.js';
import type { Logger } from '../observe/logger.js';
import type { OperatorMetrics } from '../observe/metrics.js';
import { DriftWatcher } from './drift.js';
import { WorkQueue } from './queue.js';
import {
  CONFLICT_RETRY,
  DRIFT_COALESCE_MS,
  REFUSAL_RETRY,
  RESYNC_MIN_DELAY_MS,
} from '../reconcile/backoff.js';
import type { ObjectCache } from '../reconcile/cache.js';
import {
  describeTrigger,
  isRefusal,
  isTerminal,
  RunCancelled,
  trigger,
  triggerKey,
  type Reconciler,
  type Trigger,
} from '../reconcile/contract.js';
import type { UserHooks } from './user-hooks.js';
import { ObjectWatcher, type ObjectEvent } from './watch.js';

/** Whether the error, or one it was caused by, is the API server's 409 Conflict. */
export function isConflict(err: unknown): boolean {
  for (let e = err; e instanceof Error; e = e.cause) if (e instanceof ApiError && e.conflict) return true;
  return false;
}

interface ControllerOptions {
  client: KubeClient;
  reconciler: Reconciler;
  /** Shared with the reconciler: the watch writes it, the reconciler reads it. */
  cache: ObjectCache;
  logger: Logger;
  metrics?: OperatorMetrics;
  namespace: string;
  name: string;
  /** The install binding's jqFilter: a run is due when this selection of the object changes. */
  jqFilter: string;
  /** Periodic drift check after each successful run: a fixed interval, or a crontab. */
  resync: { everyMs: number } | { crontab: string };
  userHooks?: UserHooks;
  watchdogMs?: number;
  /**
   * Cancels the run in progress (shutdown): handed to every reconcile. Its owner decides when (at
   * once, or after a grace period); stop() then waits for the run to end.
   */
  signal?: AbortSignal;
  /** Watch the objects we own for deletions and foreign changes (drift.ts): where, and our field manager. */
  drift?: { namespace: string; fieldManager: string };
}

export class Controller {
  private readonly queue = new WorkQueue<Trigger>(undefined, triggerKey);
  /** Handed to each run: the owner's (options.signal), else one that is never aborted. */
  private readonly signal: AbortSignal;
  private readonly watcher: ObjectWatcher<ClusterConfiguration>;
  private readonly drift: DriftWatcher | undefined;
  private seenHash: string | undefined;
  private seenEnabled = false;
  private synced = false;
  private worker: Promise<void> | undefined;
  private running = false;
  private readonly key: string;
  /** Conflicts retried at once in a row; beyond the bound, a conflict backs off as any error. */
  private conflicts = 0;

  constructor(private readonly options: ControllerOptions) {
    this.key = keyOf(options);
    this.signal = options.signal ?? new AbortController().signal;
    this.watcher = new ObjectWatcher<ClusterConfiguration>(
      options.client,
      {
        collectionPath: collectionPath(options.namespace),
        name: options.name,
        logger: options.logger.child({ component: 'watch' }),
        watchdogMs: options.watchdogMs,
        onRestart: (reason) => options.metrics?.watchRestarts.inc({ reason }),
      },
      (e) => this.onEvent(e),
    );
    this.drift =
      options.drift &&
      new DriftWatcher(options.client, {
        ...options.drift,
        logger: options.logger.child({ component: 'drift' }),
        onDrift: (reason) => this.onDrift(reason),
      });
  }

  /** A drift watch saw one of our objects deleted or changed by someone else: a quiet run, coalesced. */
  private onDrift(detail: string): void {
    if (!this.options.cache.get(this.key)) return;
    const t = trigger('drift', detail);
    this.options.logger.info(`${describeTrigger(t)}; a drift check runs in ${DRIFT_COALESCE_MS / 1000}s`);
    this.queue.addAfter(this.key, t, DRIFT_COALESCE_MS);
  }

  /** True once the first list answered: the controller knows the object's state. */
  get isSynced(): boolean {
    return this.synced;
  }

  /** True while a run is in progress. */
  get isRunning(): boolean {
    return this.running;
  }

  start(): void {
    this.watcher.start();
    this.drift?.start();
    this.worker ??= this.work();
  }

  /**
   * Stops watching and queueing; resolves once the run in progress has ended (cancelled through
   * options.signal when its owner aborts it, else finished).
   */
  async stop(): Promise<void> {
    this.queue.shutDown();
    await this.watcher.stop();
    await this.drift?.stop();
    await this.worker;
    this.options.userHooks?.stop();
  }

  private enqueue(t: Trigger): void {
    this.queue.add(this.key, t);
    this.options.metrics?.queueDepth.set(this.queue.length);
  }

  private onEvent(e: ObjectEvent<ClusterConfiguration>): void {
    const { logger } = this.options;
    if (!this.synced) this.synced = true;
    if (e.type === 'DELETED' || !e.object) {
      if (this.options.cache.get(this.key) || e.type === 'SYNC')
        logger.info(`ClusterConfiguration ${this.key} not found; waiting for it`);
      this.options.cache.delete(this.key);
      this.seenHash = undefined;
      this.seenEnabled = false;
      if (e.type === 'DELETED') void this.options.userHooks?.onObjectEvent('Deleted', e.object);
      return;
    }
    const cc = e.object;
    const hash = specHash(selectByJqPath(cc, this.options.jqFilter));
    this.options.cache.set(this.key, { object: cc, hash });
    const enabled = cc.status?.monitoring?.status === 'enabled';
    const generation = cc.metadata.generation;
    if (this.seenHash === undefined) {
      this.enqueue(trigger('first-sight', `${this.key} (generation ${generation})`));
    } else if (hash !== this.seenHash) {
      this.enqueue(trigger('spec-changed', `generation ${generation}`));
    } else if (this.seenEnabled && !enabled) {
      this.enqueue(trigger('monitoring-removed'));
    }
    this.seenHash = hash;
    this.seenEnabled = enabled;
    const hookEvent = e.type === 'SYNC' ? 'Synchronization' : e.type === 'ADDED' ? 'Added' : 'Modified';
    void this.options.userHooks?.onObjectEvent(hookEvent, cc);
  }

  /** Milliseconds to the next periodic drift check. */
  private resyncDelay(): number {
    const { resync } = this.options;
    return 'everyMs' in resync
      ? resync.everyMs
      : Math.max(RESYNC_MIN_DELAY_MS, nextRun(resync.crontab, new Date()).getTime() - Date.now());
  }

  private async work(): Promise<void> {
    const { logger, metrics, reconciler } = this.options;
    for (;;) {
      const item = await this.queue.get();
      if (!item) return;
      metrics?.queueDepth.set(this.queue.length);
      const entry = this.options.cache.get(item.key);
      if (!entry) {
        this.queue.done(item.key);
        continue;
      }
      this.running = true;
      const started = performance.now();
      try {
        const result = await reconciler.reconcile(item.key, item.reasons, this.signal);
        metrics?.reconcileFinished('success', (performance.now() - started) / 1000);
        this.queue.forget(item.key);
        this.conflicts = 0;
        this.seenEnabled = true;
        const resync = this.resyncDelay();
        if (result.requeueAfterMs !== undefined && result.requeueAfterMs < resync) {
          this.queue.addAfter(item.key, trigger('requeue'), result.requeueAfterMs);
        } else if (Number.isFinite(resync) && resync > 0) {
          this.queue.addAfter(item.key, trigger('resync'), resync);
        }
        await this.options.userHooks?.afterInstall(entry.object);
      } catch (err) {
        metrics?.reconcileFinished('error', (performance.now() - started) / 1000);
        if (err instanceof RunCancelled) {
          logger.info(`${err.message}: shutting down`);
        } else if (isTerminal(err)) {
          this.queue.forget(item.key);
          this.conflicts = 0;
          logger.info(
            'waiting for the ClusterConfiguration to be edited (kubectl edit cc -n ' +
              `${this.options.namespace} ${this.options.name})`,
          );
        } else if (isConflict(err) && this.conflicts < CONFLICT_RETRY.immediate) {
          // Someone wrote the object between our read and our write: retrying at once sees their write.
          this.conflicts++;
          this.queue.addAfter(item.key, trigger('retry', 'a conflict'), 0);
          logger.info('retrying at once after a conflict', { conflicts: this.conflicts });
        } else {
          // A refusal starts slow; any failure is looked at again no later than the periodic resync.
          const delay = this.queue.addRateLimited(item.key, trigger('retry', 'a failed run'), {
            floorMs: isRefusal(err) ? REFUSAL_RETRY.firstMs : 0,
            capMs: Math.max(RESYNC_MIN_DELAY_MS, this.resyncDelay()),
          });
          logger.info(`retrying in ${(delay / 1000).toFixed(1)}s`, {
            failures: this.queue.limiter.failuresOf(item.key),
          });
        }
      } finally {
        this.running = false;
        this.queue.done(item.key);
        metrics?.queueDepth.set(this.queue.length);
      }
    }
  }
}
