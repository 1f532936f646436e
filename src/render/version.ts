/**
 * Loose version comparison for Kubernetes git versions such as `v1.34.4-eks.1` or `v1.25.0+k3s1`:
 * an optional leading `v`, then up to three dot-separated numbers; anything after the first
 * non-numeric part (vendor suffixes, pre-release tags) is ignored.
 */

export type VersionTriple = [number, number, number];

export function parseLooseVersion(version: string): VersionTriple | undefined {
  const match = /^\s*v?(\d+)(?:\.(\d+))?(?:\.(\d+))?/i.exec(version);
  if (!match) return undefined;
  return [Number(match[1]), Number(match[2] ?? 0), Number(match[3] ?? 0)];
}

/** Negative, zero or positive like a sort comparator; throws when either side has no version number. */
export function compareVersions(a: string, b: string): number {
  const left = parseLooseVersion(a);
  const right = parseLooseVersion(b);
  if (!left) throw new Error(`not a version: ${JSON.stringify(a)}`);
  if (!right) throw new Error(`not a version: ${JSON.stringify(b)}`);
  for (let i = 0; i < 3; i += 1) {
    const diff = (left[i] as number) - (right[i] as number);
    if (diff !== 0) return diff;
  }
  return 0;
}

const OPERATORS: Record<string, (cmp: number) => boolean> = {
  '<': (c) => c < 0,
  lt: (c) => c < 0,
  '<=': (c) => c <= 0,
  le: (c) => c <= 0,
  '>': (c) => c > 0,
  gt: (c) => c > 0,
  '>=': (c) => c >= 0,
  ge: (c) => c >= 0,
  '==': (c) => c === 0,
  '=': (c) => c === 0,
  eq: (c) => c === 0,
  '!=': (c) => c !== 0,
  '<>': (c) => c !== 0,
  ne: (c) => c !== 0,
};

/** Ansible's `version` test: `version is version(other, operator)`; operator defaults to `eq`. */
export function versionSatisfies(version: string, other: string, operator = 'eq'): boolean {
  const check = OPERATORS[operator];
  if (!check) throw new Error(`unknown version operator ${JSON.stringify(operator)}`);
  return check(compareVersions(version, other));
}
