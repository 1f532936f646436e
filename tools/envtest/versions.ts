/**
 * The one place where the embedded control plane's versions are pinned.
 * Binaries built from these are cached under a directory named after all of them, so changing one
 * here builds a fresh set on the next run.
 */
export const ENVTEST_VERSIONS = {
  /** k8s.io/kubernetes: kube-apiserver and kubectl. Its staging modules are pinned to v0.<minor>.<patch>. */
  kubernetes: 'v1.34.4',
  /** go.etcd.io/etcd/server/v3 */
  etcd: 'v3.5.35',
  /** helm.sh/helm/v3 */
  helm: 'v3.19.5',
} as const;

/** k8s.io/api and the other staging modules follow the Kubernetes version as v0.<minor>.<patch>. */
export function stagingVersion(kubernetes: string): string {
  const m = /^v1\.(\d+)\.(\d+)$/.exec(kubernetes);
  if (!m) throw new Error(`Kubernetes version ${kubernetes} is not of the form v1.<minor>.<patch>`);
  return `v0.${m[1]}.${m[2]}`;
}

export type BinaryName = 'etcd' | 'kube-apiserver' | 'kubectl' | 'helm';

export const ALL_BINARIES: readonly BinaryName[] = ['etcd', 'kube-apiserver', 'kubectl', 'helm'];

/** Environment variable that names one binary directly (controller-runtime's envtest convention). */
export const ASSET_ENV: Record<BinaryName, string> = {
  etcd: 'TEST_ASSET_ETCD',
  'kube-apiserver': 'TEST_ASSET_KUBE_APISERVER',
  kubectl: 'TEST_ASSET_KUBECTL',
  helm: 'TEST_ASSET_HELM',
};
