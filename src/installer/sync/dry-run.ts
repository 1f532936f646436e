/**
 * Server-side dry runs (`dryRun=All` server-side apply), before the first write of a run: an object the
 * API server would refuse fails the run with nothing written. Which objects a run checks is the
 * installer's choice (what it sends, see check.ts); dryRunObjects checks them:
 * - an object whose kind is not served (or listed in `unserved`) is counted, not sent: a run applies
 *   the CRDs of the custom resources it must check first, so this is what no CRD of ours defines;
 * - an object in a namespace that does not exist yet (the plan creates it) is dry-run in the
 *   namespace of `fallbackNamespace` instead, as the API server refuses any write into a missing
 *   namespace, dry run or not; names are the same, so a same-named object there is merged with, never
 *   written.
 * CRDs are left to the caller: a run sends none to the dry run (they hold no user value: crds/ as
 * generated plus the conversion webhook we compute, checked by the CRD tests, and the largest objects),
 * except a CRD with fields of the original installer's managers, whose takeover is dry-run too
 * (src/kube/takeover-dry-run.ts), as taking over e.g. a conversion stanza can leave it invalid.
 * Refusals (400, 413, 422: the object as sent) are returned; anything else (an
 * outage, 403, 429, 5xx) is thrown, as the real apply would have failed the same way.
 */
import { applyObject } from '../../kube/apply.js';
import { ApiError, type KubeClient, type KubeObject } from '../../kube/client.js';
import type { RestMapper } from '../../kube/discovery.js';
import { describeObject } from '../../kube/object-ref.js';
import { DEFAULT_CONCURRENCY, mapConcurrent } from '../../util/concurrency.js';

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

interface DryRunContext {
  client: KubeClient;
  mapper: RestMapper;
  fieldManager: string;
  /** An existing namespace to dry-run objects in whose own namespace does not exist yet. */
  fallbackNamespace: string;
  concurrency?: number;
}

interface DryRunResult {
  problems: DryRunProblem[];
  /** Objects dry-run on the API server. */
  checked: number;
  /** Custom resources whose kind is not served yet: validated by our models only. */
  unserved: string[];
}

/** HTTP answers that mean "this object, as sent, is refused" (not: the server or our access failed). */
const REFUSALS = new Set([400, 413, 422]);

async function served(mapper: RestMapper, o: KubeObject): Promise<boolean> {
  try {
    await mapper.resource(o.apiVersion, o.kind);
    return true;
  } catch (err) {
    if (err instanceof ApiError && err.notFound) return false;
    throw err;
  }
}

function fieldsOf(err: ApiError): string[] {
  const causes = (err.details as { causes?: { field?: string }[] } | undefined)?.causes ?? [];
  return [...new Set(causes.map((c) => c.field).filter((f): f is string => !!f))];
}

/** An object of a dry run: its role, and its live state when known (undefined: absent or not read). */
interface DryRunItem {
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
  await mapConcurrent(items, ctx.concurrency ?? DEFAULT_CONCURRENCY, async ({ role, object }) => {
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
