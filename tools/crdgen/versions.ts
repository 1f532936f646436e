/**
 * The one place where the CRD generator's inputs are pinned: the controller-gen release that turns Go API
 * types into CRDs, and the upstream API modules at the versions we deploy. controller-gen is cached under a
 * directory named after its version, so changing it here builds a fresh one on the next run.
 */
export const CRDGEN_VERSIONS = {
  /** sigs.k8s.io/controller-tools (cmd/controller-gen); builds with Go 1.24 or newer. */
  controllerTools: 'v0.19.0',
  /** API types of prometheus-operator, deployed as kubesphere/prometheus-operator:v0.55.1. */
  prometheusOperator: {
    module: 'github.com/prometheus-operator/prometheus-operator/pkg/apis/monitoring',
    version: 'v0.55.1',
  },
  /**
   * notification-manager, deployed as kubesphere/notification-manager(-operator):v2.3.0. Not on the Go module
   * proxy (neither v2.3.0, v2.3.0+incompatible nor any commit), so its API types are read from a local git
   * repository given to tools/generate-crds.ts; the tag must resolve to this commit.
   */
  notificationManager: {
    module: 'github.com/kubesphere/notification-manager',
    repository: 'https://github.com/kubesphere/notification-manager',
    version: 'v2.3.0',
    commit: '1062a20f93fc2e79904753844480bfd9f6b182f9',
  },
  /**
   * monitoring-dashboard, whose ClusterDashboard and Dashboard kinds KubeSphere's console reads and writes
   * (Custom Monitoring). KubeSphere 3.4 pins v0.2.2. Its module path (kubesphere.io/monitoring-dashboard) is
   * not served by the Go module proxy either, so its API types are read from a local git repository too.
   */
  monitoringDashboard: {
    module: 'kubesphere.io/monitoring-dashboard',
    repository: 'https://github.com/kubesphere/monitoring-dashboard',
    version: 'v0.2.2',
    commit: 'c0da774d98a35e1f51561f6d0893856622b0f232',
  },
} as const;

/** The controller-gen generator options; `maxDescLen=0` strips every schema description. */
export const CONTROLLER_GEN_CRD_OPTIONS = 'crd:crdVersions=v1,maxDescLen=0';
