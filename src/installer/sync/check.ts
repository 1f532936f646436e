/**
 * The check stage: what a run sends is checked on the API server before its first write (a
 * server-side dry run, dry-run.ts); a refused object fails the run with nothing written, naming the
 * object and field.
 * - A run that changes objects that exist dry-runs everything it sends.
 * - A run that only creates objects (a first install, deleted objects put back) dry-runs those that
 *   carry a value of the ClusterConfiguration or of the live cluster: the ones that differ from the
 *   plan of an empty spec without live carry-over, with the same facts. The others are the defaults
 *   rendering, which the tests apply on a real API server. So a first install costs one request per
 *   object, not two.
 * - A custom resource to check whose CRD is not served yet gets its CRD applied first (CRDs hold no
 *   user value), then is dry-run like the rest.
 * - CRDs are not dry-run (see dry-run.ts), except those with the original installer's fields.
 * The API server is the one validator of a run: the client-side models (plan/model-check.ts) serve
 * `render`, which has no server, and would cost the process 35 MiB for good once loaded.
 */
import type { ClusterFacts } from '../../config/facts.js';
import type { LiveObjects } from '../../kube/live-objects.js';
import { identity, isCrd } from '../../kube/object-ref.js';
import { hasOriginalFields } from '../../kube/takeover-dry-run.js';
import { JSON_ONLY } from '../../observe/logger.js';
import type { Renderer } from '../../render/renderer.js';
import { RunError } from '../../reconcile/contract.js';
import { isImmutableChange } from './immutable.js';
import type { PlannedObject, Role } from '../model.js';
import { makePlan } from '../plan/make-plan.js';
import { applyCrdsFirst, type ApplyPlanContext } from './apply-plan.js';
import { describeDryRunProblems, dryRunObjects } from './dry-run.js';

interface CheckDeps extends ApplyPlanContext {
  renderer: Renderer;
  crdsRoot: string;
  roles: readonly Role[];
}

const seconds = (ms: number) => (ms / 1000).toFixed(2);

/** Dry-runs what the run sends (see the module comment); a RunError (RefusedByApiServer) on a refusal. */
export async function checkBeforeApply(
  objects: PlannedObject[],
  live: LiveObjects,
  fallbackNamespace: string,
  facts: ClusterFacts,
  deps: CheckDeps,
): Promise<void> {
  const started = performance.now();
  // An immutable Secret or ConfigMap to change is refused by any apply: replaced after the check (immutable.ts).
  const sent = objects.filter(
    (o) => o.change && !isImmutableChange(o) && (!isCrd(o.object) || (o.live && hasOriginalFields(o.live))),
  );
  const updates = sent.some((o) => o.live);
  const defaults = updates || sent.length === 0 ? undefined : await defaultsRendering(facts, deps);
  const items = defaults
    ? sent.filter((o) => defaults.get(identity(o.object)) !== JSON.stringify(o.object))
    : sent;
  if (items.length === 0) return;
  const unservedKind = (o: PlannedObject) => live.unserved.has(`${o.object.apiVersion} ${o.object.kind}`);
  const waiting = items.filter(unservedKind);
  if (waiting.length > 0) {
    const crds = await applyCrdsFirst(objects, waiting, deps);
    deps.logger.info(
      `dry run: ${crds} CRDs applied first, for ${waiting.length} custom resources to check that carry values of the spec`,
    );
    for (const o of waiting) live.unserved.delete(`${o.object.apiVersion} ${o.object.kind}`);
  }
  const result = await dryRunObjects(items, {
    client: deps.client,
    mapper: deps.mapper,
    fieldManager: deps.fieldManager,
    fallbackNamespace,
    concurrency: deps.concurrency,
    missingNamespaces: live.missingNamespaces,
    unserved: live.unserved,
  });
  const unserved = result.unserved.length
    ? `; ${result.unserved.length} custom resources not checked (their kind is not served)`
    : '';
  deps.logger.info(
    `dry run: ${result.checked} objects checked by the API server in ${seconds(performance.now() - started)}s${unserved}`,
    {
      [JSON_ONLY]: {
        checked: result.checked,
        unserved: result.unserved.length,
        refused: result.problems.length,
      },
    },
  );
  if (result.problems.length > 0) {
    throw new RunError('RefusedByApiServer', describeDryRunProblems(result.problems));
  }
}

/** The objects of an empty spec's plan with these facts, less live carry-over: identity → JSON. */
async function defaultsRendering(facts: ClusterFacts, deps: CheckDeps): Promise<Map<string, string>> {
  const plan = await makePlan(
    {},
    { ...facts, live: { etcdClientCertsSecret: facts.live.etcdClientCertsSecret } },
    { renderer: deps.renderer, crdsRoot: deps.crdsRoot, roles: deps.roles, validate: false },
  ).catch(() => undefined);
  if (!plan) return new Map();
  return new Map(
    plan.roles.flatMap((rp) => rp.manifests).map((m) => [identity(m.object), JSON.stringify(m.object)]),
  );
}
