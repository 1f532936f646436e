/**
 * Server-side apply of one object: the original installer's fields taken over first when it has any,
 * then the apply (or its dry run), with what the API server did (created, changed, unchanged). Which
 * objects a run sends, and in which order, is the installer's (src/installer/sync/apply-plan.ts).
 */
import { ApiError, CONTENT_TYPE, type KubeClient, type KubeObject } from './client.js';
import { clientSideApplyUpgradePatch } from './client-side-apply.js';
import { describeObject } from './object-ref.js';
import { afterTakeover } from './takeover-dry-run.js';
import type { RestMapper } from './discovery.js';

export type ApplyResult = 'created' | 'changed' | 'unchanged';

export interface AppliedObject {
  object: KubeObject;
  result: ApplyResult;
}

export interface ApplyOptions {
  fieldManager: string;
  force?: boolean;
  /** Server-side dry run: validates against the API server without persisting. */
  dryRun?: boolean;
}

/** Applies one object; `changed` means the API server stored a new resourceVersion. */
export async function applyObject(
  client: KubeClient,
  mapper: RestMapper,
  obj: KubeObject,
  options: ApplyOptions,
): Promise<AppliedObject> {
  const path = await mapper.objectPath(obj);
  const before = options.dryRun ? undefined : await client.getOrUndefined<KubeObject>(path);
  return applyAt(client, path, obj, before, options);
}

/**
 * Applies one object at `path` whose live state the caller knows (`live`, undefined when absent):
 * takes over the original installer's fields first when it has any, then applies. `created` is the API
 * server's own answer (201), so it holds even when `live` was out of date; `changed` means it stored a
 * resourceVersion other than `live`'s.
 */
export async function applyAt(
  client: KubeClient,
  path: string,
  obj: KubeObject,
  live: KubeObject | undefined,
  options: ApplyOptions,
): Promise<AppliedObject> {
  if (live && !options.dryRun) await takeOverClientSideApply(client, path, live, options.fieldManager);
  let object: KubeObject;
  let created = false;
  let step = 'apply';
  try {
    const res = await client.requestWithStatus<KubeObject>('PATCH', path, {
      query: {
        fieldManager: options.fieldManager,
        force: options.force ?? true,
        dryRun: options.dryRun ? 'All' : undefined,
      },
      body: obj,
      contentType: CONTENT_TYPE.apply,
    });
    object = res.body;
    created = res.status === 201;
    // A dry run checks the takeover too: the object as the takeover and this apply would leave it.
    const taken = options.dryRun ? afterTakeover(object) : undefined;
    if (taken) {
      step = "takeover not completed: apply after taking over the original installer's fields of";
      object = await client.request<KubeObject>('PUT', path, {
        query: { fieldManager: options.fieldManager, dryRun: 'All' },
        body: taken,
      });
    }
  } catch (err) {
    if (err instanceof ApiError) {
      throw new ApiError(
        err.status,
        err.reason,
        `${step} ${describeObject(obj)}: ${err.message}`,
        err.details,
      );
    }
    throw err;
  }
  const result: ApplyResult = created
    ? 'created'
    : object.metadata.resourceVersion === live?.metadata.resourceVersion
      ? 'unchanged'
      : 'changed';
  return { object, result };
}

/**
 * Hands fields the original installer's managers own (client-side `kubectl apply`, and on objects still
 * carrying its marks Helm and kubectl patch/edit/annotate: client-side-apply.ts) over to the field manager,
 * so the apply that follows removes those it no longer sets. Best effort: if the object changed meanwhile, the next run does it.
 */
async function takeOverClientSideApply(
  client: KubeClient,
  path: string,
  live: KubeObject,
  fieldManager: string,
): Promise<void> {
  const patch = clientSideApplyUpgradePatch(live, fieldManager);
  if (!patch) return;
  try {
    await client.request('PATCH', path, { body: patch, contentType: CONTENT_TYPE.jsonPatch });
  } catch (err) {
    if (!(err instanceof ApiError) || (err.status !== 409 && err.status !== 422)) throw err;
  }
}
