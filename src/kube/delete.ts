/**
 * Deleting one object safely: only the version that was read (preconditions on uid and
 * resourceVersion), so that an object someone changed or recreated since is left alone; dependants
 * (ReplicaSets of a Deployment, Pods) go in the background through the garbage collector.
 */
import { ApiError, type KubeClient } from './client.js';

export type DeleteResult = 'deleted' | 'gone' | 'changed';

/**
 * DELETE `path` if the object is still at `resourceVersion` (and `uid`): 'deleted'; 'gone' when it no
 * longer exists; 'changed' when it changed or was recreated since it was read (409, nothing deleted).
 */
export async function deleteIfUnchanged(
  client: KubeClient,
  path: string,
  read: { uid?: string; resourceVersion?: string },
): Promise<DeleteResult> {
  try {
    await client.request('DELETE', path, {
      body: {
        apiVersion: 'v1',
        kind: 'DeleteOptions',
        propagationPolicy: 'Background',
        preconditions: {
          ...(read.uid ? { uid: read.uid } : {}),
          ...(read.resourceVersion ? { resourceVersion: read.resourceVersion } : {}),
        },
      },
    });
    return 'deleted';
  } catch (err) {
    if (err instanceof ApiError && err.notFound) return 'gone';
    if (err instanceof ApiError && err.conflict) return 'changed';
    throw err;
  }
}
