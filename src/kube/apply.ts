/**
 * Server-side apply: one object, or a set in dependency order — CRDs first (then wait until they are
 * established), namespaces next, then everything else concurrently with a bound.
 */
import { mapConcurrent } from '../util/concurrency.js';
import { ApiError, CONTENT_TYPE, type KubeClient, type KubeObject } from './client.js';
import { clientSideApplyUpgradePatch } from './client-side-apply.js';
import { afterTakeover } from './takeover-dry-run.js';
import { CrdEstablishment, type EstablishOptions } from './crd.js';
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
  concurrency?: number;
  /** Waiting for the CRDs applied: timeout, nudges of CRDs stuck un-Established (crd.ts). */
  establish?: EstablishOptions;
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
        `${step} ${obj.kind} ${nameOf(obj)}: ${err.message}`,
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

function nameOf(obj: KubeObject): string {
  return obj.metadata.namespace ? `${obj.metadata.namespace}/${obj.metadata.name}` : obj.metadata.name;
}

export const isCrd = (o: Pick<KubeObject, 'apiVersion' | 'kind'>): boolean =>
  o.kind === 'CustomResourceDefinition' && o.apiVersion.startsWith('apiextensions.k8s.io/');

export const isNamespace = (o: Pick<KubeObject, 'apiVersion' | 'kind'>): boolean =>
  o.kind === 'Namespace' && o.apiVersion === 'v1';

/** `group/Kind` of an object (`/Kind` in the core group). */
export const groupKind = (o: Pick<KubeObject, 'apiVersion' | 'kind'>): string =>
  `${o.apiVersion.includes('/') ? o.apiVersion.split('/')[0] : ''}/${o.kind}`;

/** `group/Kind` of the custom resources a CustomResourceDefinition defines. */
export function crdKind(crd: KubeObject): string {
  const spec = (crd as unknown as { spec: { group: string; names: { kind: string } } }).spec;
  return `${spec.group}/${spec.names.kind}`;
}

/** Applies a set in dependency order; returns results in the input order. */
export async function applyObjects(
  client: KubeClient,
  mapper: RestMapper,
  objects: KubeObject[],
  options: ApplyOptions,
): Promise<AppliedObject[]> {
  const results = new Array<AppliedObject>(objects.length);
  const indexed = objects.map((object, i) => ({ object, i }));
  const stages = [
    indexed.filter((x) => isCrd(x.object)),
    indexed.filter((x) => isNamespace(x.object)),
    indexed.filter((x) => !isCrd(x.object) && !isNamespace(x.object)),
  ];
  const limit = options.concurrency ?? 8;
  for (const [n, stage] of stages.entries()) {
    await mapConcurrent(stage, limit, async ({ object, i }) => {
      results[i] = await applyObject(client, mapper, object, options);
    });
    // Custom resources of these CRDs map from the CRDs themselves, not from discovery, which
    // publishes their kinds only a moment after they are Established.
    if (n === 0) for (const x of stage) mapper.learn(x.object);
    if (n === 0 && stage.length > 0 && !options.dryRun) {
      const establishment = new CrdEstablishment(client, undefined, options.establish);
      try {
        await Promise.all(stage.map((x) => establishment.wait(x.object.metadata.name)));
      } finally {
        await establishment.stop();
      }
    }
  }
  return results;
}
