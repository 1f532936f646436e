/** Paginated lists, including metadata-only ones (PartialObjectMetadataList) that skip spec and status. */
import { ACCEPT_METADATA_LIST, type KubeClient, type ObjectList } from './client.js';

export interface PartialObjectMetadata {
  apiVersion: string;
  kind: string;
  metadata: { name: string; namespace?: string; labels?: Record<string, string>; resourceVersion?: string };
}

interface ListOptions {
  /** Page size (the `limit` query parameter). */
  limit?: number;
  labelSelector?: string;
  fieldSelector?: string;
  metadataOnly?: boolean;
}

/** Lists every item of a collection path, following `continue` tokens; returns items and how many pages. */
export async function listAll<T = PartialObjectMetadata>(
  client: KubeClient,
  path: string,
  options: ListOptions = {},
): Promise<{ items: T[]; pages: number; resourceVersion?: string }> {
  const items: T[] = [];
  let pages = 0;
  let cont: string | undefined;
  let resourceVersion: string | undefined;
  do {
    const page: ObjectList<T> = await client.get<ObjectList<T>>(path, {
      query: {
        limit: options.limit ?? 500,
        continue: cont,
        labelSelector: options.labelSelector,
        fieldSelector: options.fieldSelector,
      },
      accept: options.metadataOnly ? ACCEPT_METADATA_LIST : undefined,
    });
    pages++;
    items.push(...(page.items ?? []));
    cont = page.metadata.continue || undefined;
    resourceVersion = page.metadata.resourceVersion;
  } while (cont);
  return { items, pages, resourceVersion };
}

interface CountOptions {
  labelSelector?: string;
  fieldSelector?: string;
  /** Page size of the fallback, when the server does not tell how many items remain. */
  pageLimit?: number;
}

/**
 * How many items a collection holds, in one metadata-only request of one item whatever their number:
 * the items of that page plus `metadata.remainingItemCount`. The API server leaves the count out when
 * the list carries a label or field selector (and servers before v1.15 never send it); then the rest
 * is paged through from the first page's `continue` token and counted. The API documents the count
 * as an estimate; read at one resource version from etcd it is the exact number then.
 */
export async function countItems(
  client: KubeClient,
  path: string,
  options: CountOptions = {},
): Promise<{ count: number; requests: number }> {
  const query = { labelSelector: options.labelSelector, fieldSelector: options.fieldSelector };
  const first: ObjectList<PartialObjectMetadata> = await client.get(path, {
    query: { ...query, limit: 1 },
    accept: ACCEPT_METADATA_LIST,
  });
  let count = first.items?.length ?? 0;
  let cont = first.metadata.continue || undefined;
  if (!cont) return { count, requests: 1 };
  const remaining = first.metadata.remainingItemCount;
  if (typeof remaining === 'number' && remaining >= 0) return { count: count + remaining, requests: 1 };
  let requests = 1;
  while (cont) {
    const page: ObjectList<PartialObjectMetadata> = await client.get(path, {
      query: { ...query, limit: options.pageLimit ?? 500, continue: cont },
      accept: ACCEPT_METADATA_LIST,
    });
    requests++;
    count += page.items?.length ?? 0;
    cont = page.metadata.continue || undefined;
  }
  return { count, requests };
}
