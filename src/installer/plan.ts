/**
 * A run's plan, computed before anything is written: the values resolved from the spec and the
 * facts, and for each role either why it is skipped or every object it applies, rendered and
 * validated. A bad spec, a template that does not render or an object that does not validate fails
 * the plan, so nothing of any role is half-applied. `render` prints a plan; `run` applies it.
 */
import { ConfigError, type FieldProblem } from '../config/problems.js';
import type { ClusterFacts } from '../config/facts.js';
import { resolveValues } from '../config/resolve.js';
import type { MonitoringValues, ValueWarning } from '../config/values.js';
import { RenderError } from '../render/errors.js';
import type { Renderer } from '../render/renderer.js';
import { roleManifests, type ManifestSource } from './manifests.js';
import { ROLES, type Role } from './roles.js';
import { validateManifests } from './validate.js';

export interface RolePlan {
  role: Role;
  /** Set when the role's condition is false. */
  skip?: string;
  /** The role is turned off: the objects it applied before are removed (lifecycle.ts). */
  remove?: boolean;
  manifests: ManifestSource[];
}

export interface Plan {
  values: MonitoringValues;
  warnings: ValueWarning[];
  roles: RolePlan[];
}

export type PlanFailureReason = 'InvalidSpec' | 'RenderFailed' | 'ValidationFailed' | 'RefusedByApiServer';

/** Why a plan could not be made, said so that a user can act: the field or template, and the fix. */
export class PlanError extends Error {
  override readonly name = 'PlanError';
  constructor(
    readonly reason: PlanFailureReason,
    message: string,
    readonly problems: FieldProblem[] = [],
    readonly role?: string,
  ) {
    super(message);
  }
}

export interface PlanOptions {
  renderer: Renderer;
  crdsRoot: string;
  roles?: readonly Role[];
  /**
   * Validate every rendered object against its model (default true, for `render`). A run does not:
   * the API server checks what it sends (Installer.check).
   */
  validate?: boolean;
}

/** Validates objects of one role; a PlanError (ValidationFailed) naming each invalid object and why. */
async function validateRoleObjects(role: string, manifests: ManifestSource[]): Promise<void> {
  const problems = await validateManifests(manifests);
  if (problems.length === 0) return;
  const lines = problems.map((p) => `  - ${p.source}: ${p.object}: ${p.message}`).join('\n');
  throw new PlanError('ValidationFailed', `role ${role}: rendered objects are invalid:\n${lines}`, [], role);
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
    if (err instanceof ConfigError) throw new PlanError('InvalidSpec', err.message, err.problems);
    throw err;
  }
  const { values, warnings } = resolved;
  const roles: RolePlan[] = [];
  for (const role of options.roles ?? ROLES) {
    const cond = role.when(values);
    if (!cond.run) {
      const remove = cond.remove === true && role.removal !== undefined;
      roles.push({ role, skip: cond.reason, ...(remove ? { remove } : {}), manifests: [] });
      continue;
    }
    let manifests: ManifestSource[];
    try {
      manifests = roleManifests(role, values, options.renderer, options.crdsRoot);
    } catch (err) {
      if (err instanceof RenderError) {
        throw new PlanError('RenderFailed', `role ${role.name}: template ${err.message}`, [], role.name);
      }
      throw err;
    }
    if (options.validate !== false) await validateRoleObjects(role.name, manifests);
    roles.push({ role, manifests });
  }
  return { values, warnings, roles };
}
