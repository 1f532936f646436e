/**
 * The live state of a set of objects we are about to apply, read with as few requests as possible:
 * one GET per namespace they live in, then one LIST per kind and namespace, selected by the label
 * every object we apply carries (`app.kubernetes.io/managed-by=ks-installer`). No request at all for a
 * kind the server does not serve yet or a namespace that does not exist: nothing of it can exist.
 * An object a labelled list does not return (its label removed, or written by someone else: the
 * original installer's objects, which a run takes over) is read by name, except on a fresh install
 * (none of the namespaces the set creates exists, so neither did the original installer's stack): there
 * it counts as absent, and the apply says whether it created it (201). A custom resource of one of the
 * set's CRDs is not read while that CRD is missing or not Established: its kind is not served. Secrets are always read by name (the
 * operator may not list Secrets), and so is a kind whose list the operator may not (403).
 */
import { ACCEPT_METADATA, ApiError, type KubeClient, type KubeObject } from './client.js';
import type { RestMapper, ResourceInfo } from './discovery.js';
import type { Fingerprints } from './fingerprints.js';
import { listAll } from './list.js';
import { crdKind, groupKind, identity, isCrd, isEstablished, isNamespace } from './object-ref.js';
import { DEFAULT_CONCURRENCY, mapConcurrent } from '../util/concurrency.js';

export const MANAGED_BY_LABEL = 'app.kubernetes.io/managed-by';
export const MANAGED_BY_VALUE = 'ks-installer';
export const MANAGED_BY_SELECTOR = `${MANAGED_BY_LABEL}=${MANAGED_BY_VALUE}`;

export interface LiveObjects {
  /** The live object for each identity read; absent when it does not exist. */
  objects: Map<string, KubeObject>;
  /** Namespaces of the set that do not exist. */
  missingNamespaces: Set<string>;
  /** Kinds (`apiVersion kind`) the server does not serve. */
  unserved: Set<string>;
  /** Requests sent. */
  requests: number;
}

/** Kinds (`apiVersion/kind`) always read by name: the operator may not list Secrets. */
export const NEVER_LISTED: ReadonlySet<string> = new Set(['v1/Secret']);

export async function readLiveObjects(
  client: KubeClient,
  mapper: RestMapper,
  desired: readonly KubeObject[],
  options: { labelSelector?: string; concurrency?: number; fingerprints?: Fingerprints } = {},
): Promise<LiveObjects> {
  const selector = options.labelSelector ?? MANAGED_BY_SELECTOR;
  const objects = new Map<string, KubeObject>();
  const missingNamespaces = new Set<string>();
  const unserved = new Set<string>();
  let requests = 0;
  const get = async (path: string) => {
    requests++;
    return client.getOrUndefined<KubeObject>(path);
  };

  // Namespaces first: nothing exists in one that does not.
  const namespaces = [
    ...new Set([
      ...desired.filter(isNamespace).map((o) => o.metadata.name),
      ...desired.map((o) => o.metadata.namespace).filter((n): n is string => n !== undefined),
    ]),
  ];
  // A fresh install: none of the namespaces the set itself creates exists (kube-system always does).
  const created = desired.filter(isNamespace);
  const namespacesRead = Promise.all(
    namespaces.map((n) => get(`/api/v1/namespaces/${encodeURIComponent(n)}`)),
  ).then((nsObjects) => {
    for (const [i, n] of namespaces.entries()) {
      const ns = nsObjects[i];
      if (ns) objects.set(identity({ ...ns, apiVersion: 'v1', kind: 'Namespace' }), ns);
      else missingNamespaces.add(n);
    }
    return created.length > 0 && created.every((o) => missingNamespaces.has(o.metadata.name));
  });

  // Then one read per kind and namespace: CRDs (cluster-scoped) beside the namespaces, as they tell
  // whether their kinds are served; the rest once both are known.
  const groupsOf = (objs: KubeObject[]) => {
    const groups = new Map<string, KubeObject[]>();
    for (const o of objs) {
      const key = `${o.apiVersion} ${o.kind} ${o.metadata.namespace ?? ''}`;
      groups.set(key, [...(groups.get(key) ?? []), o]);
    }
    return [...groups.values()];
  };
  const crdOfKind = new Map(desired.filter(isCrd).map((o) => [crdKind(o), o]));
  /** A kind of one of the set's CRDs is served once that CRD exists and is Established. */
  const servedByCrd = (o: KubeObject): boolean | undefined => {
    const crd = crdOfKind.get(groupKind(o));
    if (!crd) return undefined;
    return isEstablished(objects.get(identity(crd)));
  };
  const read = async (items: KubeObject[]) => {
    const { apiVersion, kind } = items[0]!;
    const namespace = items[0]!.metadata.namespace;
    let info: ResourceInfo;
    try {
      if (servedByCrd(items[0]!) === false) throw new ApiError(404, 'NotFound', `${kind} not served yet`);
      info = await mapper.resource(apiVersion, kind, { refresh: false });
    } catch (err) {
      if (err instanceof ApiError && err.notFound) {
        unserved.add(`${apiVersion} ${kind}`);
        return;
      }
      throw err;
    }
    const collection =
      info.namespaced && namespace
        ? `${info.base}/namespaces/${encodeURIComponent(namespace)}/${info.resource}`
        : `${info.base}/${info.resource}`;
    let found = new Map<string, KubeObject>();
    // Objects the process knows unchanged: their metadata is enough (fingerprints.ts).
    const fingerprints = items.every((o) => options.fingerprints?.knows(o))
      ? options.fingerprints
      : undefined;
    if (!NEVER_LISTED.has(`${apiVersion}/${kind}`) && items.length > 1) {
      try {
        requests++;
        const list = await listAll<KubeObject>(client, collection, {
          labelSelector: selector,
          metadataOnly: fingerprints !== undefined,
        });
        found = new Map(list.items.map((o) => [o.metadata.name, o]));
      } catch (err) {
        if (!(err instanceof ApiError) || err.status !== 403) throw err;
      }
    } else if (fingerprints) {
      // One object (or a kind never listed): its metadata by name.
      await mapConcurrent(items, 4, async (o) => {
        requests++;
        const partial = await client.getOrUndefined<KubeObject>(
          `${collection}/${encodeURIComponent(o.metadata.name)}`,
          { accept: ACCEPT_METADATA },
        );
        if (partial) found.set(o.metadata.name, partial);
      });
    }
    if (fingerprints) {
      const restored = new Map<string, KubeObject>();
      for (const o of items) {
        const partial = found.get(o.metadata.name);
        const full = partial && fingerprints.restore(o, partial.metadata);
        if (full) restored.set(o.metadata.name, full);
        else if (partial) {
          // Changed since, or ours changed: read in full.
          requests++;
          const live = await client.getOrUndefined<KubeObject>(
            `${collection}/${encodeURIComponent(o.metadata.name)}`,
          );
          if (live) restored.set(o.metadata.name, live);
        }
      }
      found = restored;
    }
    for (const o of items) {
      const hit = found.get(o.metadata.name);
      if (hit) objects.set(identity(o), { ...hit, apiVersion: o.apiVersion, kind: o.kind });
    }
    // On a fresh install what our list does not return is absent (see the module comment).
    const toRead = (await namespacesRead) ? [] : items.filter((o) => !found.has(o.metadata.name));
    await mapConcurrent(toRead, 4, async (o) => {
      const live = await get(`${collection}/${encodeURIComponent(o.metadata.name)}`);
      if (live) objects.set(identity(o), { ...live, apiVersion: o.apiVersion, kind: o.kind });
    });
  };
  await Promise.all([namespacesRead, mapConcurrent(groupsOf(desired.filter(isCrd)), 1, read)]);
  // Kinds of the set's CRDs not served yet, also those whose objects live in a missing namespace.
  for (const o of desired) if (servedByCrd(o) === false) unserved.add(`${o.apiVersion} ${o.kind}`);
  const rest = desired.filter(
    (o) =>
      !isCrd(o) && !isNamespace(o) && !(o.metadata.namespace && missingNamespaces.has(o.metadata.namespace)),
  );
  await mapConcurrent(groupsOf(rest), options.concurrency ?? DEFAULT_CONCURRENCY, read);
  return { objects, missingNamespaces, unserved, requests };
}
