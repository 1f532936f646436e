/**
 * The live state of a set of objects we are about to apply, read with as few requests as possible:
 * one GET per namespace they live in, then one LIST per kind and namespace, selected by the label
 * every object we apply carries (`app.kubernetes.io/managed-by=ks-installer`). No request at all for a
 * kind the server does not serve yet or a namespace that does not exist: nothing of it can exist.
 * An object a labelled list does not return (its label removed, or written by someone else: the
 * original installer's objects) is read by name, except on a fresh install (none of the namespaces
 * exists), where cluster-scoped objects count as absent: an apply that creates them says so (201),
 * which is what the run's rollback relies on, not this read. Secrets are always read by name (the
 * operator may not list Secrets), and so is a kind whose list the operator may not (403).
 */
import { ApiError, type KubeClient, type KubeObject } from './client.js';
import type { RestMapper, ResourceInfo } from './discovery.js';
import { listAll } from './list.js';
import { mapConcurrent } from '../util/concurrency.js';

export const MANAGED_BY_LABEL = 'app.kubernetes.io/managed-by';
export const MANAGED_BY_VALUE = 'ks-installer';
export const MANAGED_BY_SELECTOR = `${MANAGED_BY_LABEL}=${MANAGED_BY_VALUE}`;

/** Identity of an object across versions of its group: group, kind, namespace, name. */
export function identity(o: Pick<KubeObject, 'apiVersion' | 'kind' | 'metadata'>): string {
  const group = o.apiVersion.includes('/') ? o.apiVersion.split('/')[0] : '';
  return `${group}/${o.kind}/${o.metadata.namespace ?? ''}/${o.metadata.name}`;
}

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
  options: { labelSelector?: string; concurrency?: number } = {},
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
    ...new Set(desired.map((o) => o.metadata.namespace).filter((n): n is string => n !== undefined)),
  ];
  const nsObjects = await Promise.all(
    namespaces.map((n) => get(`/api/v1/namespaces/${encodeURIComponent(n)}`)),
  );
  for (const [i, n] of namespaces.entries()) {
    const ns = nsObjects[i];
    if (ns) objects.set(identity({ ...ns, apiVersion: 'v1', kind: 'Namespace' }), ns);
    else missingNamespaces.add(n);
  }
  const fresh = namespaces.length > 0 && missingNamespaces.size === namespaces.length;

  // Then one read per kind and namespace.
  const groups = new Map<string, KubeObject[]>();
  for (const o of desired) {
    if (o.apiVersion === 'v1' && o.kind === 'Namespace' && namespaces.includes(o.metadata.name)) continue;
    if (o.metadata.namespace && missingNamespaces.has(o.metadata.namespace)) continue;
    const key = `${o.apiVersion} ${o.kind} ${o.metadata.namespace ?? ''}`;
    groups.set(key, [...(groups.get(key) ?? []), o]);
  }
  await mapConcurrent([...groups.values()], options.concurrency ?? 8, async (items) => {
    const { apiVersion, kind } = items[0]!;
    const namespace = items[0]!.metadata.namespace;
    let info: ResourceInfo;
    try {
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
    let listed = false;
    if (!NEVER_LISTED.has(`${apiVersion}/${kind}`) && items.length > 1) {
      try {
        requests++;
        const list = await listAll<KubeObject>(client, collection, { labelSelector: selector });
        found = new Map(list.items.map((o) => [o.metadata.name, o]));
        listed = true;
      } catch (err) {
        if (!(err instanceof ApiError) || err.status !== 403) throw err;
      }
    }
    for (const o of items) {
      const hit = found.get(o.metadata.name);
      if (hit) objects.set(identity(o), { ...hit, apiVersion: o.apiVersion, kind: o.kind });
    }
    const unfound = items.filter((o) => !found.has(o.metadata.name));
    // A cluster-scoped object of a fresh install, not in our labelled list: absent (see the module comment).
    const toRead = listed && fresh && !info.namespaced ? [] : unfound;
    await mapConcurrent(toRead, 4, async (o) => {
      const live = await get(`${collection}/${encodeURIComponent(o.metadata.name)}`);
      if (live) objects.set(identity(o), { ...live, apiVersion: o.apiVersion, kind: o.kind });
    });
  });
  return { objects, missingNamespaces, unserved, requests };
}
