/**
 * What the process learnt of live objects found equal to what it applies: uid, generation and a hash
 * of our object. The API server moves an object's generation with every change of its spec (of
 * anything but metadata and status, for custom resources without a status subresource), so while uid
 * and generation are as remembered and our object is the same, the live body is still the one found
 * equal: a run then lists those objects metadata only (labels, annotations and managed fields still
 * compared, compare.ts) instead of reading them whole — the CRDs' schemas alone are about 2.5 MB, the
 * recording and alerting rules most of the rest. Kinds without a generation (Services, ConfigMaps,
 * RBAC, Secrets) are always read whole.
 */
import { createHash } from 'node:crypto';
import type { KubeObject } from './client.js';
import { identity, isCrd, isEstablished } from './object-ref.js';

interface Seen {
  uid: string;
  generation: number;
  hash: string;
}

export class Fingerprints {
  private readonly seen = new Map<string, Seen>();
  /** Hashes of our objects' bodies, by spec object: a CRD file is parsed once and its spec reused. */
  private readonly hashes = new WeakMap<object, string>();

  /** A hash of everything but metadata (compare.ts compares metadata from the partial object itself). */
  private hash(desired: KubeObject): string {
    const { metadata: _metadata, ...body } = desired as unknown as Record<string, unknown>;
    const key = typeof body['spec'] === 'object' && body['spec'] !== null ? body['spec'] : undefined;
    let h = key && this.hashes.get(key);
    if (!h) {
      h = createHash('sha256').update(JSON.stringify(body)).digest('hex');
      if (key) this.hashes.set(key, h);
    }
    return h;
  }

  /**
   * Records a live object found equal to ours (a CRD only once Established: its status says so, or the
   * caller saw it); forgets it otherwise.
   */
  remember(desired: KubeObject, live: KubeObject, seenEstablished = false): void {
    const { uid, generation } = live.metadata;
    const established = !isCrd(desired) || seenEstablished || isEstablished(live);
    if (uid && typeof generation === 'number' && generation > 0 && established)
      this.seen.set(identity(desired), { uid, generation, hash: this.hash(desired) });
    else this.forget(desired);
  }

  forget(desired: KubeObject): void {
    this.seen.delete(identity(desired));
  }

  knows(desired: KubeObject): boolean {
    return this.seen.has(identity(desired));
  }

  /**
   * The live object as the last full read found it, with its metadata as it is now (a CRD Established);
   * undefined when it may have changed since.
   */
  restore(desired: KubeObject, metadata: KubeObject['metadata']): KubeObject | undefined {
    const s = this.seen.get(identity(desired));
    if (!s || s.uid !== metadata.uid || s.generation !== metadata.generation || s.hash !== this.hash(desired))
      return undefined;
    const status = isCrd(desired)
      ? { status: { conditions: [{ type: 'Established', status: 'True' }] } }
      : {};
    return { ...desired, metadata, ...status } as KubeObject;
  }
}
