/**
 * The controller: watch → decide → queue → run. It watches the one ClusterConfiguration the install
 * binding names, decides from each event whether a run is due (first sight, a change of the
 * binding's jqFilter selection — `.spec` —, status.monitoring removed, periodic resync), and feeds a
 * coalescing work queue whose single worker runs the installer. Status writes change neither the
 * spec hash nor (while a run is pending) the monitoring status seen, so they never trigger a run.
 */
import { nextRun } from '../hooks/cron.js';
import { selectByJqPath } from '../hooks/bindings.js';
import type { KubeClient } from '../kube/client.js';
import type { Logger } from '../observe/logger.js';
import type { OperatorMetrics } from '../observe/metrics.js';
import type { Installer } from '../installer/installer.js';
import { specHash, type ClusterConfiguration } from '../installer/status.js';
import { WorkQueue } from './queue.js';
import type { UserHooks } from './user-hooks.js';
import { ObjectWatcher, type ObjectEvent } from './watch.js';

export interface ControllerOptions {
  client: KubeClient;
  installer: Installer;
  logger: Logger;
  metrics?: OperatorMetrics;
  namespace: string;
  name: string;
  /** The install binding's jqFilter: a run is due when this selection of the object changes. */
  jqFilter: string;
  /** Periodic re-apply: a fixed interval, or a crontab. */
  resync: { everyMs: number } | { crontab: string };
  userHooks?: UserHooks;
  watchdogMs?: number;
}

const KEY = 'cc';
/** The reason of a periodic resync; a run queued for no other reason is quiet (see RunOptions). */
const RESYNC_REASON = 'periodic resync';

export class Controller {
  private readonly queue = new WorkQueue<string>();
  private readonly watcher: ObjectWatcher<ClusterConfiguration>;
  private latest: ClusterConfiguration | undefined;
  private seenHash: string | undefined;
  private seenEnabled = false;
  private synced = false;
  private resyncTimer: NodeJS.Timeout | undefined;
  private worker: Promise<void> | undefined;
  private running = false;
  private readonly key: string;

  constructor(private readonly options: ControllerOptions) {
    this.key = `${options.namespace}/${options.name}`;
    this.watcher = new ObjectWatcher<ClusterConfiguration>(
      options.client,
      {
        collectionPath: `/apis/installer.kubesphere.io/v1alpha1/namespaces/${options.namespace}/clusterconfigurations`,
        name: options.name,
        logger: options.logger.child({ component: 'watch' }),
        watchdogMs: options.watchdogMs,
        onRestart: (reason) => options.metrics?.watchRestarts.inc({ reason }),
      },
      (e) => this.onEvent(e),
    );
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
    this.scheduleResync();
    this.worker ??= this.work();
  }

  async stop(): Promise<void> {
    clearTimeout(this.resyncTimer);
    this.queue.shutDown();
    await this.watcher.stop();
    await this.worker;
    this.options.userHooks?.stop();
  }

  private enqueue(reason: string): void {
    this.queue.add(KEY, reason);
    this.options.metrics?.queueDepth.set(this.queue.length);
  }

  private onEvent(e: ObjectEvent<ClusterConfiguration>): void {
    const { logger } = this.options;
    if (!this.synced) this.synced = true;
    if (e.type === 'DELETED' || !e.object) {
      if (this.latest || e.type === 'SYNC')
        logger.info(`ClusterConfiguration ${this.key} not found; waiting for it`);
      this.latest = undefined;
      this.seenHash = undefined;
      this.seenEnabled = false;
      if (e.type === 'DELETED') void this.options.userHooks?.onObjectEvent('Deleted', e.object);
      return;
    }
    const cc = e.object;
    this.latest = cc;
    const hash = specHash(selectByJqPath(cc, this.options.jqFilter));
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

  private scheduleResync(): void {
    const { resync } = this.options;
    const delay =
      'everyMs' in resync
        ? resync.everyMs
        : Math.max(1000, nextRun(resync.crontab, new Date()).getTime() - Date.now());
    if (!Number.isFinite(delay) || delay <= 0) return;
    this.resyncTimer = setTimeout(() => {
      if (this.latest) this.enqueue(RESYNC_REASON);
      this.scheduleResync();
    }, delay);
    this.resyncTimer.unref();
  }

  private async work(): Promise<void> {
    const { logger, metrics, installer } = this.options;
    for (;;) {
      const item = await this.queue.get();
      if (!item) return;
      metrics?.queueDepth.set(this.queue.length);
      const cc = this.latest;
      if (!cc) {
        this.queue.done(item.key);
        continue;
      }
      this.running = true;
      const started = performance.now();
      try {
        const outcome = await installer.run(cc, item.reasons.join('; '), {
          quiet: item.reasons.every((r) => r === RESYNC_REASON),
        });
        metrics?.reconcileFinished(outcome.ok ? 'success' : 'error', (performance.now() - started) / 1000);
        if (outcome.ok) {
          this.queue.forget(item.key);
          this.seenEnabled = true;
          await this.options.userHooks?.afterInstall(cc);
        } else if (outcome.retry) {
          const delay = this.queue.addRateLimited(item.key, 'retry after a failed run');
          logger.info(`retrying in ${(delay / 1000).toFixed(1)}s`, {
            failures: this.queue.limiter.failuresOf(item.key),
          });
        } else {
          this.queue.forget(item.key);
          logger.info(
            'waiting for the ClusterConfiguration to be edited (kubectl edit cc -n ' +
              `${this.options.namespace} ${this.options.name})`,
          );
        }
      } catch (err) {
        // The installer reports its own failures; this is a bug guard so the worker never dies.
        metrics?.reconcileFinished('error', (performance.now() - started) / 1000);
        logger.error('run crashed', { err });
        this.queue.addRateLimited(item.key, 'retry after a crashed run');
      } finally {
        this.running = false;
        this.queue.done(item.key);
        metrics?.queueDepth.set(this.queue.length);
      }
    }
  }
}
