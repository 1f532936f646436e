/**
 * The latest state of the watched object, as the controller's watch saw it last: the watch writes it,
 * the reconciler reads it (never a copy of its own), so a run always starts from the newest object.
 */
import type { ClusterConfiguration } from '../api/cluster-configuration.js';

/** The latest state of the watched object, with the hash of its jqFilter selection computed once. */
interface CachedObject {
  object: ClusterConfiguration;
  /** specHash of the install binding's jqFilter selection (`.spec`): what decides whether a run is due. */
  hash: string;
}

/** What the watch saw last, by key. */
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
