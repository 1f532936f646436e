/**
 * Reading the ClusterConfiguration spec by dotted path (`monitoring.prometheus.replicas`).
 * No key we read contains a dot, so a dotted path is unambiguous.
 */

export type Spec = Record<string, unknown>;

export function isMapping(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

interface Lookup {
  value: unknown;
  /** The first parent path that is set but is not a mapping (so the path cannot exist). */
  blockedAt?: string;
}

export function lookup(spec: unknown, path: string): Lookup {
  const segments = path.split('.');
  let current: unknown = spec;
  for (let i = 0; i < segments.length; i += 1) {
    if (current === undefined || current === null) return { value: undefined };
    if (!isMapping(current)) return { value: undefined, blockedAt: segments.slice(0, i).join('.') };
    current = current[segments[i] as string];
  }
  return { value: current };
}

export function get(spec: unknown, path: string): unknown {
  return lookup(spec, path).value;
}

/** "Defined and not none": the placement chains' notion of set (`{}` and `[]` count as set). */
export function isDefinedNotNull(value: unknown): boolean {
  return value !== undefined && value !== null;
}

/** Set for scalar chains: neither undefined, null nor "" (null and "" used to leak into manifests). */
export function isSetScalar(value: unknown): boolean {
  return value !== undefined && value !== null && value !== '';
}

/** The first path of the chain whose value passes `isSet`. */
export function firstSet(
  spec: unknown,
  paths: readonly string[],
  isSet: (value: unknown) => boolean = isSetScalar,
): { path: string; value: unknown } | undefined {
  for (const path of paths) {
    const value = get(spec, path);
    if (isSet(value)) return { path, value };
  }
  return undefined;
}
