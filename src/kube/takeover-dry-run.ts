/**
 * What a takeover (client-side-apply.ts) followed by our apply would leave, computed from the answer of a
 * server-side dry-run apply, so the whole takeover can be checked before anything is written.
 *
 * A dry-run apply answers with the object as the apply would leave it while the original's managers still
 * own their fields, and with every managedFields entry: ours (Apply) is exactly the fields we render. The
 * takeover moves the original managers' fields to us first, so the real apply also removes every field they
 * own that we do not render and no other manager owns. `afterTakeover` removes those from the dry-run
 * answer; a dry-run update of the result (applyObject with dryRun, apply.ts) then asks the API server
 * whether it would accept the object the takeover leaves, e.g. a CRD whose conversion strategy went while
 * its caBundle stayed.
 */
import type { KubeObject } from './client.js';
import {
  LAST_APPLIED_ANNOTATION,
  takeoverManagers,
  unionFieldSets,
  type FieldSet,
  type ManagedFieldsEntry,
} from './client-side-apply.js';

type Json = unknown;

const isRecord = (v: Json): v is Record<string, Json> =>
  typeof v === 'object' && v !== null && !Array.isArray(v);

/** Indices of the list items a `k:`, `v:` or `i:` key names. */
function itemIndices(list: Json[], key: string): number[] {
  const body = key.slice(2);
  if (key.startsWith('i:')) return [Number(body)].filter((i) => i < list.length);
  const wanted = JSON.parse(body) as Json;
  const same = (a: Json, b: Json) => JSON.stringify(a) === JSON.stringify(b);
  if (key.startsWith('v:')) return list.flatMap((item, i) => (same(item, wanted) ? [i] : []));
  return list.flatMap((item, i) =>
    isRecord(item) && isRecord(wanted) && Object.entries(wanted).every(([k, v]) => same(item[k], v))
      ? [i]
      : [],
  );
}

const ownsItself = (set: FieldSet) => Object.keys(set).length === 0 || '.' in set;

/**
 * Removes from `value` (in place) every field `removed` owns that `kept` does not, with its subtree when
 * nothing under it is kept. Returns whether `value` itself is to be removed by its parent.
 */
function prune(value: Json, removed: FieldSet, kept: FieldSet | undefined): boolean {
  if (kept === undefined && ownsItself(removed)) return true;
  for (const [key, sub] of Object.entries(removed)) {
    if (key === '.') continue;
    const keptSub = kept?.[key];
    if (key.startsWith('f:') && isRecord(value)) {
      const name = key.slice(2);
      if (name in value && prune(value[name], sub, keptSub)) delete value[name];
    } else if (Array.isArray(value)) {
      const gone = itemIndices(value, key).filter((i) => prune(value[i], sub, keptSub));
      for (const i of gone.sort((a, b) => b - a)) value.splice(i, 1);
    }
  }
  return false;
}

/** Which managedFields entries of `o` a takeover hands over (client-side-apply.ts). */
function originalEntryTest(o: KubeObject): (e: ManagedFieldsEntry) => boolean {
  const managers = takeoverManagers(o);
  return (e) => managers.includes(e.manager ?? '') && e.operation === 'Update' && !e.subresource;
}

/** Whether a takeover has anything to do on `o`: fields of the original's managers or the last-applied annotation. */
export function hasOriginalFields(o: KubeObject): boolean {
  const entries = (o.metadata.managedFields ?? []) as ManagedFieldsEntry[];
  return (
    entries.some(originalEntryTest(o)) || o.metadata.annotations?.[LAST_APPLIED_ANNOTATION] !== undefined
  );
}

/**
 * The object a takeover and our apply would leave, from `dryRun` (the answer of a dry-run apply); undefined
 * when the object has nothing of the original's managers to take over.
 */
export function afterTakeover(dryRun: KubeObject): KubeObject | undefined {
  if (!hasOriginalFields(dryRun)) return undefined;
  const isOriginal = originalEntryTest(dryRun);
  const entries = (dryRun.metadata.managedFields ?? []) as ManagedFieldsEntry[];
  const original = entries.filter(isOriginal);
  const union = (list: ManagedFieldsEntry[]) =>
    list.reduce<FieldSet>((set, e) => unionFieldSets(set, e.fieldsV1 ?? {}), {});
  const removed = union(original);
  // Ours (the fields we render) and every other manager's, status included, stay.
  const kept = union(entries.filter((e) => !isOriginal(e)));
  const object = structuredClone(dryRun) as KubeObject & Record<string, Json>;
  prune(object, removed, kept);
  const annotations = object.metadata.annotations;
  if (annotations) delete annotations[LAST_APPLIED_ANNOTATION];
  delete object.metadata.managedFields;
  return object;
}
