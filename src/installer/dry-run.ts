/**
 * A server-side dry run of a whole plan (`dryRun=All` server-side apply), before the first write of a
 * run: an object the API server would refuse fails the run with nothing written. What it covers:
 * - every object whose kind the server serves now (native kinds, and custom resources of CRDs
 *   already established) is dry-run as it would be applied, except CRDs: they hold no user value
 *   (they are crds/ as generated, plus the conversion webhook we compute), are checked by the CRD
 *   tests, and are the largest objects of a plan (dry-running them took 1.2 of 1.3 s of a dry run) —
 *   but a CRD with fields of the original installer's managers is dry-run, its takeover included
 *   (src/kube/takeover-dry-run.ts), as taking over e.g. a conversion stanza can leave it invalid;
 * - custom resources whose CRD is not served yet (a first install) cannot be dry-run before their CRD
 *   exists: they are validated by our models only (plan.ts) and counted in `unserved`;
 * - an object in a namespace that does not exist yet (the plan creates it) is dry-run in the
 *   namespace of `fallbackNamespace` instead, as the API server refuses any write into a missing
 *   namespace, dry run or not; names are the same, so a same-named object there is merged with, never
 *   written.
 * Refusals (400, 413, 422: the object as sent) are returned; anything else (an
 * outage, 403, 429, 5xx) is thrown, as the real apply would have failed the same way.
 */
import { applyObject, isCrd } from '../kube/apply.js';
import { ApiError, type KubeClient, type KubeObject } from '../kube/client.js';
import { liveHasOriginalFields } from '../kube/takeover-dry-run.js';
import type { RestMapper } from '../kube/discovery.js';
import { mapConcurrent } from '../util/concurrency.js';
import type { Plan } from './plan.js';

export interface DryRunProblem {
  /** The role whose object was refused. */
  role: string;
  /** `Kind namespace/name` of the object. */
  object: string;
  /** The API server's reason (Invalid, BadRequest, RequestEntityTooLarge, …). */
  reason: string;
  /** The fields the API server names (details.causes[].field), when it names any. */
  fields: string[];
  message: string;
}

export interface DryRunContext {
  client: KubeClient;
  mapper: RestMapper;
  fieldManager: string;
  /** An existing namespace to dry-run objects in whose own namespace does not exist yet. */
  fallbackNamespace: string;
  concurrency?: number;
}

export interface DryRunResult {
  problems: DryRunProblem[];
  /** Objects dry-run on the API server. */
  checked: number;
  /** Custom resources whose kind is not served yet: validated by our models only. */
  unserved: string[];
}

/** HTTP answers that mean "this object, as sent, is refused" (not: the server or our access failed). */
export const REFUSALS = new Set([400, 413, 422]);

export function describeObject(o: KubeObject): string {
  const name = o.metadata.namespace ? `${o.metadata.namespace}/${o.metadata.name}` : o.metadata.name;
  return `${o.kind} ${name}`;
}

async function served(mapper: RestMapper, o: KubeObject): Promise<boolean> {
  try {
    await mapper.resource(o.apiVersion, o.kind);
    return true;
  } catch (err) {
    if (err instanceof ApiError && err.notFound) return false;
    throw err;
  }
}

async function namespaceExists(client: KubeClient, name: string): Promise<boolean> {
  return (await client.getOrUndefined(`/api/v1/namespaces/${encodeURIComponent(name)}`)) !== undefined;
}

function fieldsOf(err: ApiError): string[] {
  const causes = (err.details as { causes?: { field?: string }[] } | undefined)?.causes ?? [];
  return [...new Set(causes.map((c) => c.field).filter((f): f is string => !!f))];
}

/** An object of a dry run: its role, and its live state when known (undefined: absent or not read). */
export interface DryRunItem {
  role: string;
  object: KubeObject;
}

/** What a refusal of the API server says: reason, fields, message; undefined for any other failure. */
export function refusalOf(err: unknown): Pick<DryRunProblem, 'reason' | 'fields' | 'message'> | undefined {
  if (!(err instanceof ApiError) || !REFUSALS.has(err.status)) return undefined;
  return { reason: err.reason, fields: fieldsOf(err), message: err.message };
}

/**
 * Dry-runs the given objects (the caller chose which: see the module comment), each in the fallback
 * namespace when its own is one of `missingNamespaces`; kinds not served (or in `unserved`, as
 * `apiVersion kind`) are counted as unserved instead.
 */
export async function dryRunObjects(
  items: readonly DryRunItem[],
  ctx: DryRunContext & { missingNamespaces: ReadonlySet<string>; unserved?: ReadonlySet<string> },
): Promise<DryRunResult> {
  const unserved: string[] = [];
  const problems: DryRunProblem[] = [];
  let checked = 0;
  await mapConcurrent(items, ctx.concurrency ?? 8, async ({ role, object }) => {
    if (ctx.unserved?.has(`${object.apiVersion} ${object.kind}`) || !(await served(ctx.mapper, object))) {
      unserved.push(describeObject(object));
      return;
    }
    const ns = object.metadata.namespace;
    const sent =
      ns !== undefined && ctx.missingNamespaces.has(ns)
        ? { ...object, metadata: { ...object.metadata, namespace: ctx.fallbackNamespace } }
        : object;
    try {
      await applyObject(ctx.client, ctx.mapper, sent, {
        fieldManager: ctx.fieldManager,
        force: true,
        dryRun: true,
      });
      checked++;
    } catch (err) {
      // A kind learnt from a CRD not established yet: like one not served.
      if (err instanceof ApiError && err.notFound && ctx.mapper.isLearnt(object.apiVersion, object.kind)) {
        unserved.push(describeObject(object));
        return;
      }
      const refusal = refusalOf(err);
      if (!refusal) throw err;
      checked++;
      problems.push({ role, object: describeObject(object), ...refusal });
    }
  });
  const order = new Map(items.map((x, i) => [describeObject(x.object), i]));
  problems.sort((a, b) => order.get(a.object)! - order.get(b.object)!);
  return { problems, checked, unserved: unserved.sort() };
}

/** Dry-runs every object of the plan's roles that run; see the module comment for what is covered. */
export async function dryRunPlanDetailed(plan: Plan, ctx: DryRunContext): Promise<DryRunResult> {
  const all = plan.roles
    .filter((rp) => !rp.skip)
    .flatMap((rp) => rp.manifests.map((m) => ({ role: rp.role.name, object: m.object })));
  // CRDs aside, except those the original installer left: their takeover (e.g. the conversion webhook
  // of notification-manager's configs and receivers) is checked too. A metadata-only read each.
  const crdsToTakeOver = new Set<KubeObject>();
  for (const { object } of all.filter((x) => isCrd(x.object)))
    if (await liveHasOriginalFields(ctx.client, await ctx.mapper.objectPath(object)))
      crdsToTakeOver.add(object);
  const objects = all.filter((x) => !isCrd(x.object) || crdsToTakeOver.has(x.object));
  const namespaces = new Set(
    objects.map((x) => x.object.metadata.namespace).filter((n): n is string => n !== undefined),
  );
  const missing = new Set<string>();
  for (const ns of namespaces) if (!(await namespaceExists(ctx.client, ns))) missing.add(ns);
  return dryRunObjects(objects, { ...ctx, missingNamespaces: missing });
}

/** The problems the API server finds with the plan; empty when it accepts every object it can check. */
export async function dryRunPlan(plan: Plan, ctx: DryRunContext): Promise<DryRunProblem[]> {
  return (await dryRunPlanDetailed(plan, ctx)).problems;
}

/** One message for the conditions and the log, naming each refused object and field. */
export function describeDryRunProblems(
  problems: DryRunProblem[],
  by: 'dry run' | 'apply' = 'dry run',
): string {
  const lines = problems.map(
    (p) =>
      `  - role ${p.role}: ${p.object}${p.fields.length ? ` (${p.fields.join(', ')})` : ''}: ${p.reason}: ${p.message}`,
  );
  const how =
    by === 'dry run' ? 'server-side dry run; nothing was written' : 'on apply; nothing more was sent';
  return `the API server refuses ${problems.length} object(s) of the plan (${how}):\n${lines.join('\n')}`;
}
