/**
 * The contract between the controller and what it runs, after controller-runtime's: the controller
 * hands over one key (`namespace/name`) with the reasons it was queued for; the reconciler answers
 * when it wants to look again, or throws. The queue owns every retry: a thrown error is retried with
 * per-key backoff, a TerminalError (invalid input) waits for the object to change.
 */
import type { ClusterConfiguration } from '../api/cluster-configuration.js';

export interface ReconcileResult {
  /** Look at the key again after this long (e.g. a volume expansion still in progress). */
  requeueAfterMs?: number;
}

export interface Reconciler {
  reconcile(key: string, reasons: string[]): Promise<ReconcileResult>;
}

/** An error retrying cannot fix: the key is not retried until the object changes. */
export class TerminalError extends Error {
  override readonly name = 'TerminalError';
}

/** Every reason the queue adds a key with to retry a failed run starts with this. */
export const RETRY_REASON_PREFIX = 'retry after';

/** The reason the periodic resync queues a key with; a run queued for nothing else is a quiet drift check. */
export const RESYNC_REASON = 'periodic resync';

/**
 * The reason a successful run asked to be looked at again with (a volume still expanding, the Metrics
 * API not Available yet): like a resync, a quiet run that writes only what it finds changed.
 */
export const CHECK_AGAIN_REASON = 'check again';

/** The latest state of the watched object, with the hash of its jqFilter selection computed once. */
export interface CachedObject {
  object: ClusterConfiguration;
  /** specHash of the install binding's jqFilter selection (`.spec`): what decides whether a run is due. */
  hash: string;
}

/** What the watch saw last, by key; the reconciler reads it, never a copy of its own. */
export class ObjectCache {
  private readonly entries = new Map<string, CachedObject>();

  get(key: string): CachedObject | undefined {
    return this.entries.get(key);
  }

  set(key: string, entry: CachedObject): void {
    this.entries.set(key, entry);
  }

  delete(key: string): void {
    this.entries.delete(key);
  }
}
