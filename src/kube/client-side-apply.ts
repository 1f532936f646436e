/**
 * Taking over objects written by the original installer: client-side `kubectl apply`, Helm, and the
 * kubectl commands its hooks and operators ran. Client-side `kubectl apply` Such an object carries the
 * last-applied annotation and a managedFields entry of manager `kubectl-client-side-apply` (operation
 * Update). A forced server-side apply takes the fields it sets, but every field only that manager owns
 * stays forever, because server-side apply prunes only fields the applier itself owned. Like kubectl's
 * own migration to `--server-side`, the client-side entries are merged into the applier's Apply
 * entry and the annotation is removed, before the apply: that apply then removes, in the same run,
 * every field the object had and the applier no longer sets.
 *
 * The same holds for the other managers the original left (ORIGINAL_MANAGERS: Helm's `helm` Update of
 * notification-manager's chart, `kubectl-patch` of its post-install hook, which sets the CRDs' conversion
 * caBundle, and `kubectl-edit` / `kubectl-annotate`), but only on an object that still carries the
 * original's marks: the last-applied annotation or Helm's release annotation. The takeover removes both
 * marks (the annotation here, Helm's with the apply, as we do not render it), so a later `kubectl edit`
 * or `kubectl patch` of a user stays the user's: server-side apply then only forces the fields we render.
 */
import type { KubeObject } from './client.js';

export const LAST_APPLIED_ANNOTATION = 'kubectl.kubernetes.io/last-applied-configuration';
/** `before-first-apply` holds what predates managedFields on objects that had the annotation. */
const CLIENT_SIDE_APPLY_MANAGERS: readonly string[] = ['kubectl-client-side-apply', 'before-first-apply'];
/** Helm 3 marks what a release owns with this annotation (and `meta.helm.sh/release-namespace`). */
export const HELM_RELEASE_ANNOTATION = 'meta.helm.sh/release-name';
/** Every manager (operation Update) the original installer writes with, taken over on marked objects. */
export const ORIGINAL_MANAGERS: readonly string[] = [
  ...CLIENT_SIDE_APPLY_MANAGERS,
  'helm',
  'kubectl-patch',
  'kubectl-edit',
  'kubectl-annotate',
];

/** A managedFields field set (FieldsV1): keys like `f:spec`, `k:{...}`, `v:...`, `i:0`, `.`; `{}` is a member. */
export type FieldSet = { [key: string]: FieldSet };

export interface ManagedFieldsEntry {
  manager?: string;
  operation?: string;
  apiVersion?: string;
  time?: string;
  fieldsType?: string;
  fieldsV1?: FieldSet;
  subresource?: string;
}

type JsonPatchOperation =
  | { op: 'test'; path: string; value: unknown }
  | { op: 'replace'; path: string; value: unknown }
  | { op: 'remove'; path: string };

/** The union of two field sets. A member leaf (`{}`) merged with a node that has children becomes `.`. */
export function unionFieldSets(a: FieldSet, b: FieldSet): FieldSet {
  const aLeaf = Object.keys(a).length === 0;
  const bLeaf = Object.keys(b).length === 0;
  if (aLeaf && bLeaf) return {};
  const out: FieldSet = {};
  if (aLeaf || bLeaf) out['.'] = {};
  for (const key of new Set([...Object.keys(a), ...Object.keys(b)])) {
    const x = a[key];
    const y = b[key];
    out[key] = x && y ? unionFieldSets(x, y) : structuredClone((x ?? y) as FieldSet);
  }
  return out;
}

/**
 * managedFields with the entries of `managers` (operation Update, not a subresource) merged into
 * `fieldManager`'s Apply entry; undefined when there are none.
 */
export function upgradeManagedFields(
  entries: readonly ManagedFieldsEntry[],
  fieldManager: string,
  managers: readonly string[] = CLIENT_SIDE_APPLY_MANAGERS,
): ManagedFieldsEntry[] | undefined {
  const isClientSide = (e: ManagedFieldsEntry) =>
    managers.includes(e.manager ?? '') && e.operation === 'Update' && !e.subresource;
  const clientSide = entries.filter(isClientSide);
  if (clientSide.length === 0) return undefined;
  const isOurs = (e: ManagedFieldsEntry) =>
    e.manager === fieldManager && e.operation === 'Apply' && !e.subresource;
  // Our Apply entry, or else the most recent client-side entry (managedFields lists the newest first) turned into it.
  const base = entries.find(isOurs) ?? { ...clientSide[0], manager: fieldManager, operation: 'Apply' };
  // A field set belongs to one apiVersion: only entries of the same version can be merged.
  const fields = clientSide
    .filter((e) => e.apiVersion === base.apiVersion)
    .reduce<FieldSet>((set, e) => unionFieldSets(set, e.fieldsV1 ?? {}), base.fieldsV1 ?? {});
  const merged: ManagedFieldsEntry = { ...base, fieldsType: 'FieldsV1', fieldsV1: fields };
  const rest = entries.filter((e) => !isClientSide(e) && !isOurs(e));
  return [merged, ...rest];
}

const pointer = (s: string) => s.replace(/~/g, '~0').replace(/\//g, '~1');

/** Whether `live` still carries a mark of the original installer: kubectl's last-applied or Helm's release annotation. */
function carriesOriginalMarks(live: KubeObject): boolean {
  const a = live.metadata.annotations ?? {};
  return a[LAST_APPLIED_ANNOTATION] !== undefined || a[HELM_RELEASE_ANNOTATION] !== undefined;
}

/** The managers whose fields a takeover of `live` hands over: all of the original's on a marked object. */
export function takeoverManagers(live: KubeObject): readonly string[] {
  return carriesOriginalMarks(live) ? ORIGINAL_MANAGERS : CLIENT_SIDE_APPLY_MANAGERS;
}

/**
 * The JSON patch that hands the original's ownership of `live` (takeoverManagers) to `fieldManager` and
 * removes the last-applied annotation, guarded by the live resourceVersion; undefined when there is
 * nothing to hand over.
 */
export function clientSideApplyUpgradePatch(
  live: KubeObject,
  fieldManager: string,
): JsonPatchOperation[] | undefined {
  const managedFields = upgradeManagedFields(
    (live.metadata.managedFields ?? []) as ManagedFieldsEntry[],
    fieldManager,
    takeoverManagers(live),
  );
  const annotated = live.metadata.annotations?.[LAST_APPLIED_ANNOTATION] !== undefined;
  if (!managedFields && !annotated) return undefined;
  const ops: JsonPatchOperation[] = [
    { op: 'test', path: '/metadata/resourceVersion', value: live.metadata.resourceVersion },
  ];
  if (managedFields) ops.push({ op: 'replace', path: '/metadata/managedFields', value: managedFields });
  if (annotated)
    ops.push({ op: 'remove', path: `/metadata/annotations/${pointer(LAST_APPLIED_ANNOTATION)}` });
  return ops;
}
