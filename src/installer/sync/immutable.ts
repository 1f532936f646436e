/**
 * Secrets and ConfigMaps marked `immutable: true` whose content a run must change. The API server
 * refuses any change to their data (and to the flag), so an apply can never repair them; the fix is to
 * delete the object and create it again. A run does that itself for an object that is ours to
 * recreate: it carries our managed-by label and holds no data key we do not render (deleting it loses
 * nothing anyone else put there). The deletion is conditional on the uid and resourceVersion the run
 * read, is logged and posts an Event; the apply then creates the object. Any other immutable object
 * is reported by name with the command that fixes it, and the run fails (retried: the cause is in the
 * cluster, not the spec). Done after the dry run of everything else, so a refused plan deletes nothing.
 */
import type { KubeClient, KubeObject } from '../../kube/client.js';
import { MANAGED_BY_LABEL, MANAGED_BY_VALUE } from '../../kube/live-objects.js';
import type { Logger } from '../../observe/logger.js';
import type { PlannedObject } from '../model.js';

const KINDS = new Set(['Secret', 'ConfigMap']);

/** Whether the apply of `o` would change an object the API server keeps immutable. */
export function isImmutableChange(o: PlannedObject): boolean {
  return (
    o.live !== undefined &&
    o.change !== undefined &&
    o.object.apiVersion === 'v1' &&
    KINDS.has(o.object.kind) &&
    (o.live as { immutable?: boolean }).immutable === true
  );
}

/** The data keys of a Secret or ConfigMap (data, stringData, binaryData). */
function dataKeys(o: KubeObject): string[] {
  return ['data', 'stringData', 'binaryData'].flatMap((f) => Object.keys((o[f] as object | undefined) ?? {}));
}

/** Why the run may not delete and recreate `o`, or undefined when it may. */
export function notOursToRecreate(o: PlannedObject): string | undefined {
  const live = o.live!;
  if (live.metadata.labels?.[MANAGED_BY_LABEL] !== MANAGED_BY_VALUE)
    return `it does not carry our label ${MANAGED_BY_LABEL}=${MANAGED_BY_VALUE}`;
  const ours = new Set(dataKeys(o.object));
  const foreign = dataKeys(live).filter((k) => !ours.has(k));
  if (foreign.length > 0) return `it holds keys we do not render (${foreign.sort().join(', ')})`;
  return undefined;
}

const describe = (o: KubeObject) => `${o.kind} ${o.metadata.namespace}/${o.metadata.name}`;
const kubectlDelete = (o: KubeObject) =>
  `kubectl delete ${o.kind.toLowerCase()} -n ${o.metadata.namespace} ${o.metadata.name}`;

/**
 * The immutable objects among `objects` the run would change: those we may recreate are deleted and
 * become absent (the apply creates them); the others are answered as one message naming each object
 * and its fix (undefined when there are none).
 */
export async function replaceImmutableObjects(
  objects: readonly PlannedObject[],
  ctx: {
    client: KubeClient;
    logger: Logger;
    event: (type: 'Normal' | 'Warning', reason: string, message: string) => Promise<void>;
  },
): Promise<string | undefined> {
  const refused: string[] = [];
  for (const o of objects.filter(isImmutableChange)) {
    const live = o.live!;
    const why = notOursToRecreate(o);
    if (why) {
      refused.push(
        `  - ${describe(live)} is immutable and its content must change, but ${why}: delete it (${kubectlDelete(live)}) and the next run creates it`,
      );
      continue;
    }
    const path = `/api/v1/namespaces/${live.metadata.namespace}/${o.object.kind === 'Secret' ? 'secrets' : 'configmaps'}/${live.metadata.name}`;
    await ctx.client.request('DELETE', path, {
      body: {
        apiVersion: 'v1',
        kind: 'DeleteOptions',
        preconditions: { uid: live.metadata.uid, resourceVersion: live.metadata.resourceVersion },
      },
    });
    const message = `${describe(live)} is immutable and its content had to change: deleted, to be created again by this run`;
    ctx.logger.info(message, { role: o.role });
    await ctx.event('Normal', 'ImmutableObjectReplaced', message);
    o.live = undefined;
    o.change = 'absent';
  }
  if (refused.length === 0) return undefined;
  return `${refused.length} immutable object(s) cannot be changed by an apply:\n${refused.join('\n')}`;
}
