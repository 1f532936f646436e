/**
 * Kubernetes git versions such as `v1.34.4-eks.1` or `v1.25.0+k3s1`, compared by their first
 * major.minor.patch (semver's `coerce`): vendor suffixes and pre-release tags are ignored, as the
 * cluster's own components ignore them.
 */
import semver from 'semver';

type VersionTriple = [number, number, number];

export function parseLooseVersion(version: string): VersionTriple | undefined {
  const v = semver.coerce(version);
  return v ? [v.major, v.minor, v.patch] : undefined;
}

/** Negative, zero or positive like a sort comparator; throws when either side has no version number. */
export function compareVersions(a: string, b: string): number {
  const left = semver.coerce(a);
  const right = semver.coerce(b);
  if (!left) throw new Error(`not a version: ${JSON.stringify(a)}`);
  if (!right) throw new Error(`not a version: ${JSON.stringify(b)}`);
  return semver.compare(left, right);
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
