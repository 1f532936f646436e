/**
 * Placement chains (docs/original-installer.md#keys-placement): `<root>.X` → top-level `X` → the
 * workload's default, for X in nodeSelector / tolerations / affinity, with "defined and not null"
 * semantics: `{}` and `[]` are values and win (e.g. `monitoring.nodeSelector: {}` removes the
 * `kubernetes.io/os: linux` default). The root is `monitoring` for the monitoring stack,
 * `metrics_server` for metrics-server (docs/metrics-server.md).
 */
import type { PlacedWorkload } from './defaults.js';
import { defaultPlacement } from './defaults.js';
import type { Spec } from './spec-path.js';
import { firstSet, isDefinedNotNull } from './spec-path.js';
import type { Placement } from './values.js';

/** The roots of the placement chains: each `<root>.X` falls back to the top-level `X`. */
export const PLACEMENT_ROOTS = ['monitoring', 'metrics_server'] as const;
export type PlacementRoot = (typeof PLACEMENT_ROOTS)[number];

export function placementKeys(key: keyof Placement, root: PlacementRoot = 'monitoring'): [string, string] {
  return [`${root}.${key}`, key];
}

function explicit<T>(spec: Spec, key: keyof Placement, root: PlacementRoot): T | undefined {
  const found = firstSet(spec, placementKeys(key, root), isDefinedNotNull);
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
  const root: PlacementRoot = workload === 'metricsServer' ? 'metrics_server' : 'monitoring';
  return {
    nodeSelector:
      explicit<Record<string, string>>(spec, 'nodeSelector', root) ?? live ?? defaults.nodeSelector,
    tolerations: explicit<Record<string, unknown>[]>(spec, 'tolerations', root) ?? defaults.tolerations,
    affinity: explicit<Record<string, unknown>>(spec, 'affinity', root) ?? defaults.affinity,
  };
}
