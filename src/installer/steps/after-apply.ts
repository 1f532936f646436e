/**
 * The after-apply stage: once every role has applied its objects, each applied role's steps (the
 * catalog's `afterApply`: volume growth, the built-in alerts' switch-over, Helm's release removal) run
 * in role order. Each returns what it did — warnings (each its own condition), objects it changed, and
 * when the run should be looked at again — and never throws for a state the user can fix; their
 * results are merged here.
 */
import type { KubeClient } from '../../kube/client.js';
import type { Logger } from '../../observe/logger.js';
import type { AfterApplyContext, AfterApplyResult, Plan, PlannedObject, RoleOutcome } from '../model.js';

interface AfterApplyDeps {
  client: KubeClient;
  logger: Logger;
  /** Whether this is the process's first run to get this far. */
  firstRun: boolean;
  event: NonNullable<AfterApplyContext['event']>;
}

/** Each applied role's after-apply steps, in role order; their results merged. */
export async function runAfterApply(
  plan: Plan,
  roles: readonly RoleOutcome[],
  objects: readonly PlannedObject[],
  deps: AfterApplyDeps,
): Promise<AfterApplyResult> {
  const merged: AfterApplyResult = { warnings: [], changed: 0 };
  for (const rp of plan.roles) {
    if (rp.skip || !roles.some((r) => r.name === rp.role.name && !r.skipped)) continue;
    for (const step of rp.role.afterApply ?? []) {
      const r = await step({
        client: deps.client,
        plan,
        logger: deps.logger,
        objects: objects.filter((o) => o.role === rp.role.name),
        firstRun: deps.firstRun,
        event: deps.event,
      });
      merged.warnings.push(...r.warnings);
      merged.changed += r.changed;
      if (r.enabled) merged.enabled = [...(merged.enabled ?? []), ...r.enabled];
      if (r.requeueAfterMs !== undefined)
        merged.requeueAfterMs = Math.min(merged.requeueAfterMs ?? Infinity, r.requeueAfterMs);
    }
  }
  return merged;
}
