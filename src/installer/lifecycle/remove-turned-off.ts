/**
 * The lifecycle stage, after the after-apply steps (docs/architecture.md): when a role that can be turned off is off (its condition says `remove`), the
 * objects it applied before and still owns are removed. They are found by our labels (managed-by and
 * the role's name, stamped on every object a role renders: plan/role-objects.ts), with one metadata-only list
 * per kind and namespace the role declares (`removal.owns`), and each is deleted only at the version
 * read (src/kube/delete.ts). Never removed: CustomResourceDefinitions (their custom resources would go
 * with them), PersistentVolumeClaims (data), Namespaces (everything in them), objects without our
 * managed-by label, and objects whose fields another field manager holds beyond metadata (labels,
 * annotations, finalizers, owner references) or the status subresource: someone else relies on them.
 *
 * Order: the role's `first` objects one by one (an APIService before the Service it points at), then
 * the reverse of the apply order: namespaced kinds before cluster-scoped ones, each in the reverse of
 * the order the role declares (which is the order it applies them).
 *
 * Cheap: a role found clean (nothing of it left, or only what is not ours to remove) is remembered for
 * the life of the process, so a settled resync sends no request for it; a role that runs again is
 * forgotten, so turning it off once more looks again.
 */
import { ApiError, type KubeClient, type KubeObject } from '../../kube/client.js';
import { deleteIfUnchanged } from '../../kube/delete.js';
import type { RestMapper } from '../../kube/discovery.js';
import { listAll } from '../../kube/list.js';
import { describeObject } from '../../kube/object-ref.js';
import type { Logger } from '../../observe/logger.js';
import { RunCancelled, RunError } from '../../reconcile/contract.js';
import type { OwnedKind, Plan, RemovalOutcome, Role } from '../model.js';

/** Kinds never removed, whatever their labels: `group/Kind`. */
export const NEVER_REMOVED: ReadonlySet<string> = new Set([
  'apiextensions.k8s.io/CustomResourceDefinition',
  '/PersistentVolumeClaim',
  '/Namespace',
]);

export interface Ownership {
  /** Our field manager. */
  fieldManager: string;
  /** Our managed-by label: key and value. */
  label: { key: string; value: string };
  /** The selector of one role's objects. */
  roleSelector: (role: string) => string;
}

interface ManagedFieldsEntry {
  manager?: string;
  subresource?: string;
  fieldsV1?: Record<string, unknown>;
}

/** Top-level fields of `metadata` another writer may hold on an object that stays ours. */
const BOOKKEEPING = new Set(['f:labels', 'f:annotations', 'f:finalizers', 'f:ownerReferences']);

/** Whether an entry of managedFields holds more than metadata bookkeeping. */
function holdsFields(e: ManagedFieldsEntry): boolean {
  const fields = e.fieldsV1 ?? {};
  return Object.entries(fields).some(
    ([key, value]) =>
      key !== 'f:metadata' ||
      Object.keys((value ?? {}) as Record<string, unknown>).some((k) => k !== '.' && !BOOKKEEPING.has(k)),
  );
}

/** Why an object found by our labels must stay, or undefined when it is ours to remove. */
export function whyKept(o: KubeObject, ownership: Ownership): string | undefined {
  const group = o.apiVersion.includes('/') ? o.apiVersion.split('/')[0] : '';
  if (NEVER_REMOVED.has(`${group}/${o.kind}`)) return `a ${o.kind} is never removed`;
  if (o.metadata.labels?.[ownership.label.key] !== ownership.label.value)
    return `not labelled ${ownership.label.key}=${ownership.label.value}`;
  const others = ((o.metadata.managedFields ?? []) as ManagedFieldsEntry[])
    .filter((e) => e.manager !== ownership.fieldManager && !e.subresource && holdsFields(e))
    .map((e) => e.manager ?? '(unnamed)');
  if (others.length > 0) return `fields held by ${[...new Set(others)].join(', ')}`;
  return undefined;
}

export interface LifecycleContext {
  client: KubeClient;
  mapper: RestMapper;
  logger: Logger;
  ownership: Ownership;
  /** Posts an Event about the ClusterConfiguration. */
  event: (type: 'Normal' | 'Warning', reason: string, message: string) => Promise<void>;
  /** Cancels the run (shutdown): no request is sent after it is aborted. */
  signal?: AbortSignal;
  /**
   * Namespaces that did not exist when this run read the live objects (a first install): nothing of a
   * turned-off role can be in them, so they are not listed.
   */
  absentNamespaces?: ReadonlySet<string>;
}

const CHANGED = 'changed since it was read';

/** The Event reason (and condition reason) of a removal. */
export const ROLE_REMOVED = 'RoleObjectsRemoved';

export class RoleLifecycle {
  /** Roles found with nothing left to remove, in this process. */
  private readonly clean = new Set<string>();

  /**
   * Removes what the plan's turned-off roles left; one outcome per role that had anything. A request
   * that fails (other than a 404 or a 409, which say the object is gone or changed) fails the run as a
   * RunError `RemoveFailed` naming the role, retried with backoff; what was removed stays removed.
   */
  async removeTurnedOff(plan: Plan, ctx: LifecycleContext): Promise<RemovalOutcome[]> {
    const outcomes: RemovalOutcome[] = [];
    for (const rp of plan.roles) {
      if (!rp.skip) this.clean.delete(rp.role.name);
      if (!rp.remove || !rp.role.removal || this.clean.has(rp.role.name)) continue;
      let outcome: RemovalOutcome;
      try {
        outcome = await this.removeRole(rp.role, rp.skip ?? 'turned off', ctx);
      } catch (err) {
        if (err instanceof RunCancelled || ctx.signal?.aborted) throw err;
        throw new RunError(
          'RemoveFailed',
          `removing the objects of turned-off role ${rp.role.name}: ${(err as Error).message}`,
          { role: rp.role.name, cause: err },
        );
      }
      // An object changed between the list and the delete is looked at again by the next run.
      if (!outcome.kept.some((k) => k.endsWith(CHANGED))) this.clean.add(rp.role.name);
      if (outcome.removed.length === 0 && outcome.kept.length === 0) {
        ctx.logger.debug(
          `role ${outcome.role} is off (${outcome.reason}): nothing of it left (${outcome.requests} requests)`,
        );
        continue;
      }
      outcomes.push(outcome);
      const message = `role ${outcome.role} is off (${outcome.reason}): ${outcome.removed.length} objects removed${outcome.removed.length ? ` (${outcome.removed.join(', ')})` : ''}, ${outcome.kept.length} kept${outcome.kept.length ? ` (${outcome.kept.join('; ')})` : ''}`;
      ctx.logger.info(message, {
        role: outcome.role,
        removed: outcome.removed.length,
        kept: outcome.kept.length,
        requests: outcome.requests,
      });
      await ctx.event('Normal', ROLE_REMOVED, message);
    }
    return outcomes;
  }

  private async removeRole(role: Role, reason: string, ctx: LifecycleContext): Promise<RemovalOutcome> {
    const { client, mapper, ownership } = ctx;
    const outcome: RemovalOutcome = { role: role.name, reason, removed: [], kept: [], requests: 0 };
    const owns = role.removal!.owns;
    const send = () => {
      if (ctx.signal?.aborted) throw new RunCancelled('remove');
      outcome.requests++;
    };
    // Each declared kind: its live objects of this role (a kind the server does not serve has none).
    const found: { kind: OwnedKind; namespaced: boolean; items: { object: KubeObject; path: string }[] }[] =
      [];
    for (const kind of owns) {
      if (kind.namespace && ctx.absentNamespaces?.has(kind.namespace)) continue;
      let info;
      try {
        info = await mapper.resource(kind.apiVersion, kind.kind);
      } catch (err) {
        if (err instanceof ApiError && err.notFound) continue;
        throw err;
      }
      const collection =
        info.namespaced && kind.namespace
          ? `${info.base}/namespaces/${encodeURIComponent(kind.namespace)}/${info.resource}`
          : `${info.base}/${info.resource}`;
      send();
      let items: KubeObject[];
      try {
        ({ items } = await listAll<KubeObject>(client, collection, {
          labelSelector: ownership.roleSelector(role.name),
          metadataOnly: true,
        }));
      } catch (err) {
        if (err instanceof ApiError && err.notFound) continue;
        throw err;
      }
      found.push({
        kind,
        namespaced: info.namespaced,
        items: items.map((o) => {
          const object = { ...o, apiVersion: kind.apiVersion, kind: kind.kind };
          const base = info.namespaced
            ? `${info.base}/namespaces/${encodeURIComponent(o.metadata.namespace ?? kind.namespace ?? '')}/${info.resource}`
            : `${info.base}/${info.resource}`;
          return { object, path: `${base}/${encodeURIComponent(o.metadata.name)}` };
        }),
      });
    }
    const all = found.flatMap((f) => f.items);
    const isFirst = (o: KubeObject) =>
      (role.removal!.first ?? []).findIndex(
        (f) => f.apiVersion === o.apiVersion && f.kind === o.kind && f.name === o.metadata.name,
      );
    const ordered = [
      ...all.filter((x) => isFirst(x.object) >= 0).sort((a, b) => isFirst(a.object) - isFirst(b.object)),
      ...[...found.filter((f) => f.namespaced)].reverse().flatMap((f) => f.items),
      ...[...found.filter((f) => !f.namespaced)].reverse().flatMap((f) => f.items),
    ].filter((x, i, list) => list.indexOf(x) === i);
    for (const { object, path } of ordered) {
      const why = whyKept(object, ownership);
      if (why) {
        outcome.kept.push(`${describeObject(object)}: ${why}`);
        continue;
      }
      send();
      const result = await deleteIfUnchanged(client, path, object.metadata);
      if (result === 'changed') outcome.kept.push(`${describeObject(object)}: ${CHANGED}`);
      else if (result === 'deleted') outcome.removed.push(describeObject(object));
    }
    return outcome;
  }
}
