/**
 * List+watch of a selection of a collection (ListWatcher), and of one named object on top of it
 * (ObjectWatcher). Lists (with the field and label selectors) to learn the current state and
 * resourceVersion, then watches from there. A 410 Gone relists; any other failure restarts with
 * backoff; a stream silent for longer than the watchdog allows (bookmarks arrive about once a minute)
 * is dropped and reopened from the last resourceVersion (the numbers: WATCH_BACKOFF in
 * src/reconcile/backoff.ts).
 * Kept in-house: client-node's informer caches whole lists of a kind; these watch one object by name
 * or a few by label, with a watchdog the informer lacks.
 */
import { ApiError, type KubeClient, type KubeObject, type ObjectList } from '../kube/client.js';
import type { Logger } from '../observe/logger.js';
import { WATCH_BACKOFF } from '../reconcile/backoff.js';
import { sleep } from '../util/sleep.js';

/** What a ListWatcher reports: every item a (re)list found, then each change. */
type ListEvent<T> = { type: 'SYNC'; items: T[] } | { type: 'ADDED' | 'MODIFIED' | 'DELETED'; object: T };

export type ObjectEvent<T> =
  /** The state found by a (re)list: the object, or undefined when it does not exist. */
  | { type: 'SYNC'; object: T | undefined }
  | { type: 'ADDED' | 'MODIFIED'; object: T }
  | { type: 'DELETED'; object: T };

interface ListWatcherOptions {
  /** Collection path, e.g. /apis/installer.kubesphere.io/v1alpha1/namespaces/kubesphere-system/clusterconfigurations */
  collectionPath: string;
  fieldSelector?: string;
  labelSelector?: string;
  logger: Logger;
  /** Reconnect when nothing (not even a bookmark) arrived for this long. Default WATCH_BACKOFF's. */
  watchdogMs?: number;
  /** Asks the server to end each watch after this many seconds. Default WATCH_BACKOFF's. */
  serverTimeoutSeconds?: number;
  backoff?: { initialMs: number; maxMs: number };
  onRestart?: (reason: 'gone' | 'error' | 'watchdog') => void;
}

interface ObjectWatcherOptions extends Omit<ListWatcherOptions, 'fieldSelector' | 'labelSelector'> {
  name: string;
}

/** List+watch of the objects of a collection that its selectors pick. */
export class ListWatcher<T extends KubeObject = KubeObject> {
  private resourceVersion: string | undefined;
  private readonly abort = new AbortController();
  private loop: Promise<void> | undefined;
  private failures = 0;

  constructor(
    private readonly client: KubeClient,
    private readonly options: ListWatcherOptions,
    private readonly handler: (event: ListEvent<T>) => void,
  ) {}

  start(): void {
    this.loop ??= this.run();
  }

  async stop(): Promise<void> {
    this.abort.abort();
    await this.loop;
  }

  private get selectors(): { fieldSelector?: string; labelSelector?: string } {
    return { fieldSelector: this.options.fieldSelector, labelSelector: this.options.labelSelector };
  }

  private async relist(): Promise<void> {
    const list = await this.client.get<ObjectList<T>>(this.options.collectionPath, {
      query: this.selectors,
      signal: this.abort.signal,
    });
    this.resourceVersion = list.metadata.resourceVersion;
    this.handler({ type: 'SYNC', items: list.items ?? [] });
  }

  private async run(): Promise<void> {
    const { logger } = this.options;
    const backoff = this.options.backoff ?? WATCH_BACKOFF;
    const watchdogMs = this.options.watchdogMs ?? WATCH_BACKOFF.watchdogMs;
    while (!this.abort.signal.aborted) {
      try {
        if (!this.resourceVersion) await this.relist();
        const ended = await this.client.watch<T>(
          this.options.collectionPath,
          (e) => {
            this.resourceVersion = e.object.metadata.resourceVersion ?? this.resourceVersion;
            if (e.type === 'ADDED' || e.type === 'MODIFIED' || e.type === 'DELETED') {
              this.handler({ type: e.type, object: e.object });
            }
          },
          {
            query: {
              ...this.selectors,
              resourceVersion: this.resourceVersion,
              timeoutSeconds: this.options.serverTimeoutSeconds ?? WATCH_BACKOFF.serverTimeoutSeconds,
            },
            inactivityTimeoutMs: watchdogMs,
            signal: this.abort.signal,
          },
        );
        this.failures = 0;
        if (ended === 'inactive') {
          logger.warn('watch stream silent past the watchdog; reconnecting', {
            watchdogSeconds: watchdogMs / 1000,
          });
          this.options.onRestart?.('watchdog');
        }
      } catch (err) {
        if (this.abort.signal.aborted) break;
        if (err instanceof ApiError && err.gone) {
          logger.info('watch resourceVersion expired (410 Gone); relisting');
          this.resourceVersion = undefined;
          this.options.onRestart?.('gone');
          continue;
        }
        const delay = Math.min(backoff.initialMs * 2 ** this.failures, backoff.maxMs);
        this.failures++;
        logger.warn('watch failed; retrying', { err: (err as Error).message, retryInSeconds: delay / 1000 });
        this.options.onRestart?.('error');
        await sleep(delay, this.abort.signal);
      }
    }
  }
}

/** List+watch of one named object (a field selector on its name). */
export class ObjectWatcher<T extends KubeObject = KubeObject> {
  private readonly list: ListWatcher<T>;

  constructor(
    client: KubeClient,
    { name, ...options }: ObjectWatcherOptions,
    handler: (event: ObjectEvent<T>) => void,
  ) {
    this.list = new ListWatcher<T>(client, { ...options, fieldSelector: `metadata.name=${name}` }, (e) =>
      handler(e.type === 'SYNC' ? { type: 'SYNC', object: e.items[0] } : e),
    );
  }

  start(): void {
    this.list.start();
  }

  stop(): Promise<void> {
    return this.list.stop();
  }
}
