/**
 * Applies a set of objects in the operator's apply order (src/kube/object-ref.ts `applyStage`:
 * namespaces, then CRDs, waited for until Established, then the rest), each stage with a bound on the
 * requests in flight. For the demo, the bench and tests that set up a cluster: the operator itself
 * applies through its pipelined plan (src/installer/sync/apply-plan.ts), never through this.
 */
import { applyObject, type AppliedObject, type ApplyOptions } from '../src/kube/apply.js';
import type { KubeClient, KubeObject } from '../src/kube/client.js';
import { CrdEstablishment, type EstablishOptions } from '../src/kube/crd.js';
import type { RestMapper } from '../src/kube/discovery.js';
import { applyStage, isCrd } from '../src/kube/object-ref.js';
import { DEFAULT_CONCURRENCY, mapConcurrent } from '../src/util/concurrency.js';

export interface ApplyObjectsOptions extends ApplyOptions {
  concurrency?: number;
  /** Waiting for the CRDs applied: timeout, nudges of CRDs stuck un-Established (crd.ts). */
  establish?: EstablishOptions;
}

/** Applies a set in the apply order; returns results in the input order. */
export async function applyObjects(
  client: KubeClient,
  mapper: RestMapper,
  objects: KubeObject[],
  options: ApplyObjectsOptions,
): Promise<AppliedObject[]> {
  const { concurrency = DEFAULT_CONCURRENCY, establish, ...apply } = options;
  const results = new Array<AppliedObject>(objects.length);
  const indexed = objects.map((object, i) => ({ object, i }));
  for (const stage of [0, 1, 2]) {
    const items = indexed.filter((x) => applyStage(x.object) === stage);
    await mapConcurrent(items, concurrency, async ({ object, i }) => {
      results[i] = await applyObject(client, mapper, object, apply);
    });
    const crds = items.filter((x) => isCrd(x.object));
    // Custom resources of these CRDs map from the CRDs themselves, not from discovery, which
    // publishes their kinds only a moment after they are Established.
    for (const x of crds) mapper.learn(x.object);
    if (crds.length > 0 && !apply.dryRun) {
      const establishment = new CrdEstablishment(client, undefined, establish);
      try {
        await Promise.all(crds.map((x) => establishment.wait(x.object.metadata.name)));
      } finally {
        await establishment.stop();
      }
    }
  }
  return results;
}
