/**
 * The group versions a Kubernetes release serves among those the roles choose between, known from its
 * version alone (offline render, or a cluster whose discovery gave nothing). The one place of the rule
 * "policy/v1 since 1.21, policy/v1beta1 until 1.24".
 */
import { parseLooseVersion } from '../render/version.js';

export function builtinApiVersions(kubernetesVersion: string): string[] | undefined {
  const v = parseLooseVersion(kubernetesVersion);
  if (!v) return undefined;
  const minor = v[0] > 1 ? Infinity : v[1];
  return [
    'v1',
    'apps/v1',
    'rbac.authorization.k8s.io/v1',
    ...(minor >= 21 ? ['policy/v1'] : []),
    ...(minor < 25 ? ['policy/v1beta1'] : []),
  ];
}
