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
  CHECK_AGAIN_REASON,
  RESYNC_REASON,
  RETRY_REASON_PREFIX,
  TerminalError,
  type ObjectCache,
  type Reconciler,
} from './reconciler.js';
import type { UserHooks } from './user-hooks.js';
import { ObjectWatcher, type ObjectEvent } from './watch.js';

/** Conflicts (409) in a row retried at once before backing off. */
const MAX_IMMEDIATE_CONFLICT_RETRIES = 3;

/** Whether the error, or one it was caused by, is the API server's 409 Conflict. */
export function isConflict(err: unknown): boolean {
  for (let e = err; e instanceof Error; e = e.cause) if (e instanceof ApiError && e.conflict) return true;
  return false;
}

export interface ControllerOptions {
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
  /** Watch the objects we own for deletions and foreign changes (drift.ts): where, and our field manager. */
  drift?: { namespace: string; fieldManager: string };
}

/** Drift events within this long of each other make one run. */
const DRIFT_COALESCE_MS = 500;

export class Controller {
  private readonly queue = new WorkQueue<string>();
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
  private onDrift(reason: string): void {
    if (!this.options.cache.get(this.key)) return;
    this.options.logger.info(`${reason}; a drift check runs in ${DRIFT_COALESCE_MS / 1000}s`);
    this.queue.addAfter(this.key, reason, DRIFT_COALESCE_MS);
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

  async stop(): Promise<void> {
    this.queue.shutDown();
    await this.watcher.stop();
    await this.drift?.stop();
    await this.worker;
    this.options.userHooks?.stop();
  }

  private enqueue(reason: string): void {
    this.queue.add(this.key, reason);
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
      this.enqueue(`first sight of ${this.key} (generation ${generation})`);
    } else if (hash !== this.seenHash) {
      this.enqueue(`spec changed (generation ${generation})`);
    } else if (this.seenEnabled && !enabled) {
      this.enqueue('status.monitoring removed: full run');
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
      : Math.max(1000, nextRun(resync.crontab, new Date()).getTime() - Date.now());
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
        const result = await reconciler.reconcile(item.key, item.reasons);
        metrics?.reconcileFinished('success', (performance.now() - started) / 1000);
        this.queue.forget(item.key);
        this.conflicts = 0;
        this.seenEnabled = true;
        const resync = this.resyncDelay();
        if (result.requeueAfterMs !== undefined && result.requeueAfterMs < resync) {
          this.queue.addAfter(item.key, CHECK_AGAIN_REASON, result.requeueAfterMs);
        } else if (Number.isFinite(resync) && resync > 0) {
          this.queue.addAfter(item.key, RESYNC_REASON, resync);
        }
        await this.options.userHooks?.afterInstall(entry.object);
      } catch (err) {
        metrics?.reconcileFinished('error', (performance.now() - started) / 1000);
        if (err instanceof TerminalError) {
          this.queue.forget(item.key);
          this.conflicts = 0;
          logger.info(
            'waiting for the ClusterConfiguration to be edited (kubectl edit cc -n ' +
              `${this.options.namespace} ${this.options.name})`,
          );
        } else if (isConflict(err) && this.conflicts < MAX_IMMEDIATE_CONFLICT_RETRIES) {
          // Someone wrote the object between our read and our write: retrying at once sees their write.
          this.conflicts++;
          this.queue.addAfter(item.key, `${RETRY_REASON_PREFIX} a conflict`, 0);
          logger.info('retrying at once after a conflict', { conflicts: this.conflicts });
        } else {
          const delay = this.queue.addRateLimited(item.key, `${RETRY_REASON_PREFIX} a failed run`);
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
