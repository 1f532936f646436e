/** Applies a plan role by role, in order, reporting one line per role with counts and duration. */
import { applyObjects } from '../kube/apply.js';
import type { KubeClient } from '../kube/client.js';
import type { EstablishOptions } from '../kube/crd.js';
import type { RestMapper } from '../kube/discovery.js';
import { JSON_ONLY, type Logger } from '../observe/logger.js';
import type { Plan, RolePlan } from './plan.js';

export interface RoleOutcome {
  name: string;
  skipped?: string;
  objects: number;
  created: number;
  changed: number;
  unchanged: number;
  durationMs: number;
}

export interface ApplyPlanContext {
  client: KubeClient;
  mapper: RestMapper;
  logger: Logger;
  fieldManager: string;
  concurrency?: number;
  /** Timeout and nudge delay of the CRD wait (the nudge itself is logged as a warning). */
  establish?: Omit<EstablishOptions, 'onNudge'>;
  /** Called before each role (for the progress field). */
  onRoleStart?: (index: number, total: number, role: RolePlan) => Promise<void> | void;
  onRoleDone?: (outcome: RoleOutcome) => void;
}

export function describeOutcome(o: RoleOutcome): string {
  if (o.skipped) return `skipped: ${o.skipped}`;
  const changed = o.created + o.changed;
  return `${o.objects} objects (${changed} changed, ${o.unchanged} unchanged) in ${(o.durationMs / 1000).toFixed(2)}s`;
}

export async function applyPlan(plan: Plan, ctx: ApplyPlanContext): Promise<RoleOutcome[]> {
  const outcomes: RoleOutcome[] = [];
  const total = plan.roles.length;
  for (const [i, rolePlan] of plan.roles.entries()) {
    await ctx.onRoleStart?.(i, total, rolePlan);
    const started = performance.now();
    const outcome: RoleOutcome = {
      name: rolePlan.role.name,
      objects: 0,
      created: 0,
      changed: 0,
      unchanged: 0,
      durationMs: 0,
    };
    if (rolePlan.skip) {
      outcome.skipped = rolePlan.skip;
    } else {
      const results = await applyObjects(
        ctx.client,
        ctx.mapper,
        rolePlan.manifests.map((m) => m.object),
        {
          fieldManager: ctx.fieldManager,
          force: true,
          concurrency: ctx.concurrency,
          establish: {
            ...ctx.establish,
            onNudge: (name, stuckMs) =>
              ctx.logger.warn(
                `CRD ${name} still not Established after ${(stuckMs / 1000).toFixed(1)}s (names accepted): nudged with an annotation update`,
                { crd: name },
              ),
          },
        },
      );
      outcome.objects = results.length;
      for (const r of results) outcome[r.result]++;
    }
    outcome.durationMs = performance.now() - started;
    ctx.logger.info(`[${i + 1}/${total}] ${outcome.name}: ${describeOutcome(outcome)}`, {
      [JSON_ONLY]: {
        role: outcome.name,
        objects: outcome.objects,
        changed: outcome.created + outcome.changed,
        unchanged: outcome.unchanged,
        durationSeconds: Number((outcome.durationMs / 1000).toFixed(3)),
      },
    });
    ctx.onRoleDone?.(outcome);
    outcomes.push(outcome);
  }
  return outcomes;
}
