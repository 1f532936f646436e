/**
 * A plan is a pure function of the spec and the facts: a run with the same inputs as the last one
 * reuses its plan instead of rendering every template again (the process keeps the last plan only).
 */
import { createHash } from 'node:crypto';
import type { ClusterFacts } from '../../config/facts.js';
import type { Plan } from '../model.js';
import { makePlan, type PlanOptions } from './make-plan.js';

export class PlanCache {
  /** The last plan and the hash of the spec and facts it was made from. */
  private last: { key: string; plan: Plan } | undefined;

  /** The plan of this spec and these facts, and whether it is the last run's. Writes nothing. */
  async plan(
    spec: Record<string, unknown>,
    facts: ClusterFacts,
    options: PlanOptions,
  ): Promise<{ plan: Plan; reused: boolean }> {
    const key = createHash('sha256')
      .update(JSON.stringify([spec, facts]))
      .digest('hex');
    const reused = this.last?.key === key;
    const plan = reused ? this.last!.plan : await makePlan(spec, facts, options);
    this.last = { key, plan };
    return { plan, reused };
  }
}
