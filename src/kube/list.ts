/** Paginated lists, including metadata-only ones (PartialObjectMetadataList) that skip spec and status. */
import { ACCEPT_METADATA_LIST, type KubeClient, type ObjectList } from './client.js';

export interface PartialObjectMetadata {
  apiVersion: string;
  kind: string;
  metadata: { name: string; namespace?: string; labels?: Record<string, string>; resourceVersion?: string };
}

export interface ListOptions {
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
