/**
 * Placement chains (docs/original-installer.md#keys-placement): `monitoring.X` → top-level `X` → the workload's default, for X in
 * nodeSelector / tolerations / affinity, with "defined and not null" semantics: `{}` and `[]` are
 * values and win (e.g. `monitoring.nodeSelector: {}` removes the `kubernetes.io/os: linux` default).
 */
import type { PlacedWorkload } from './defaults.js';
import { defaultPlacement } from './defaults.js';
import type { Spec } from './spec-path.js';
import { firstSet, isDefinedNotNull } from './spec-path.js';
import type { Placement } from './values.js';

export function placementKeys(key: keyof Placement): [string, string] {
  return [`monitoring.${key}`, key];
}

function explicit<T>(spec: Spec, key: keyof Placement): T | undefined {
  const found = firstSet(spec, placementKeys(key), isDefinedNotNull);
  return found ? (structuredClone(found.value) as T) : undefined;
}

/**
 * `liveNodeSelector` sits between the chain and the default: a nodeSelector set on the live
 * Prometheus survives re-renders unless the spec names one.
 */
export function resolvePlacement(
  spec: Spec,
  workload: PlacedWorkload,
  liveNodeSelector?: Record<string, string>,
): Placement {
  const defaults = defaultPlacement(workload);
  const live = liveNodeSelector === undefined ? undefined : { ...liveNodeSelector };
  return {
    nodeSelector: explicit<Record<string, string>>(spec, 'nodeSelector') ?? live ?? defaults.nodeSelector,
    tolerations: explicit<Record<string, unknown>[]>(spec, 'tolerations') ?? defaults.tolerations,
    affinity: explicit<Record<string, unknown>>(spec, 'affinity') ?? defaults.affinity,
  };
}
