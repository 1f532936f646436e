/**
 * Container resources (docs/original-installer.md#keys-resources): each of limits/requests × cpu/memory is read from
 * `<base>.resources.<kind>.<resource>`, then the legacy `<base>.<kind>.<resource>`, then the default.
 */
import type { ContainerResources } from './defaults.js';
import type { FieldProblem } from './problems.js';
import { tryParseQuantity } from './quantity.js';
import type { Spec } from './spec-path.js';
import { firstSet } from './spec-path.js';
import type { Quantity, Resources } from './values.js';

const KINDS = ['limits', 'requests'] as const;
const RESOURCE_NAMES = ['cpu', 'memory'] as const;

type Kind = (typeof KINDS)[number];
type ResourceName = (typeof RESOURCE_NAMES)[number];

/** The two keys a resource is read from, new form first. */
export function resourceKeys(base: string, kind: Kind, resource: ResourceName): [string, string] {
  return [`${base}.resources.${kind}.${resource}`, `${base}.${kind}.${resource}`];
}

interface ResolvedResources {
  resources: Resources;
  /** A problem when an effective request is larger than its effective limit (the API server would refuse the pod). */
  problems: FieldProblem[];
}

// Correction: every container gets the new → legacy chain; the original gave prometheus-operator and the
// notification-manager containers no legacy fallback and kube-rbac-proxy-self ONLY the legacy keys.
// Correction: null and "" count as unset (they used to be printed into the manifest).
export function resolveResources(spec: Spec, container: ContainerResources): ResolvedResources {
  const resources: Resources = { limits: {}, requests: {} };
  const sources: Record<string, string | undefined> = {};
  for (const kind of KINDS) {
    for (const resource of RESOURCE_NAMES) {
      const found = firstSet(spec, resourceKeys(container.base, kind, resource));
      resources[kind][resource] = found ? (found.value as Quantity) : container.defaults[kind][resource];
      sources[`${kind}.${resource}`] = found?.path;
    }
  }
  // Addition: a request larger than its limit is a ConfigError here instead of a pod the API server refuses.
  const problems: FieldProblem[] = [];
  for (const resource of RESOURCE_NAMES) {
    const request = resources.requests[resource];
    const limit = resources.limits[resource];
    const requested = tryParseQuantity(request);
    const limited = tryParseQuantity(limit);
    if (requested === undefined || limited === undefined || requested <= limited) continue;
    const requestKey = sources[`requests.${resource}`];
    const limitKey = sources[`limits.${resource}`];
    const [newLimitKey] = resourceKeys(container.base, 'limits', resource);
    const [newRequestKey] = resourceKeys(container.base, 'requests', resource);
    const limitText = `${String(limit)}${limitKey ? ` (spec.${limitKey})` : ' (the default)'}`;
    const requestText = `${String(request)}${requestKey ? ` (spec.${requestKey})` : ' (the default)'}`;
    problems.push({
      field: `spec.${requestKey ?? limitKey ?? newRequestKey}`,
      message: `The ${container.container} container would request ${resource} ${requestText}, more than its limit ${limitText}; Kubernetes refuses such a pod.`,
      fix: `Set spec.${newLimitKey} to at least ${String(request)}, or lower spec.${newRequestKey}.`,
    });
  }
  return { resources, problems };
}
