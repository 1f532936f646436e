/**
 * A run's plan, computed before anything is written: the values resolved from the spec and the
 * facts, and for each role either why it is skipped or every object it applies, rendered and
 * validated. A bad spec, a template that does not render or an object that does not validate fails
 * the plan, so nothing of any role is half-applied. `render` prints a plan; `run` applies it.
 */
import { ConfigError } from '../../config/problems.js';
import type { ClusterFacts } from '../../config/facts.js';
import { resolveValues } from '../../config/resolve.js';
import { RenderError } from '../../render/errors.js';
import type { Renderer } from '../../render/renderer.js';
import { RunError } from '../../reconcile/contract.js';
import type { ManifestSource, Plan, Role, RolePlan } from '../model.js';
import { validateManifests } from './model-check.js';
import { roleManifests } from './role-objects.js';

export interface PlanOptions {
  renderer: Renderer;
  crdsRoot: string;
  /** The roles to plan, in order (watches.yaml, or the catalog's ROLES). */
  roles: readonly Role[];
  /**
   * Validate every rendered object against its model (default true, for `render`). A run does not:
   * the API server checks what it sends (sync/check.ts).
   */
  validate?: boolean;
}

/** Validates objects of one role; a RunError (ValidationFailed) naming each invalid object and why. */
async function validateRoleObjects(role: string, manifests: ManifestSource[]): Promise<void> {
  const problems = await validateManifests(manifests);
  if (problems.length === 0) return;
  const lines = problems.map((p) => `  - ${p.source}: ${p.object}: ${p.message}`).join('\n');
  throw new RunError('ValidationFailed', `role ${role}: rendered objects are invalid:\n${lines}`, { role });
}

export async function makePlan(
  spec: Record<string, unknown>,
  facts: ClusterFacts,
  options: PlanOptions,
): Promise<Plan> {
  let resolved;
  try {
    resolved = resolveValues(spec, facts);
  } catch (err) {
    if (err instanceof ConfigError)
      throw new RunError('InvalidSpec', err.message, { problems: err.problems });
    throw err;
  }
  const { values, warnings } = resolved;
  const roles: RolePlan[] = [];
  for (const role of options.roles) {
    const cond = role.when(values);
    if (!cond.run) {
      roles.push({ role, skip: cond.reason, manifests: [] });
      continue;
    }
    let manifests: ManifestSource[];
    try {
      manifests = roleManifests(role, values, options.renderer, options.crdsRoot);
    } catch (err) {
      if (err instanceof RenderError) {
        throw new RunError('RenderFailed', `role ${role.name}: template ${err.message}`, {
          role: role.name,
        });
      }
      throw err;
    }
    if (options.validate !== false) await validateRoleObjects(role.name, manifests);
    roles.push({ role, manifests });
  }
  return { values, warnings, roles };
}
