/**
 * What the config layer needs to know about the cluster, gathered elsewhere (the installer reads it
 * from the API server; `render` takes it from flags and a file of live objects).
 */
export interface LiveFacts {
  /** `spec.resources.requests.storage` of PVC prometheus-k8s-db-prometheus-k8s-0. */
  prometheusPvcSize?: string;
  /** The storage request in the live Prometheus k8s's volumeClaimTemplate. */
  prometheusStorageRequest?: string;
  /** `spec.retention` of the live Prometheus k8s. */
  prometheusRetention?: string;
  /** `spec.nodeSelector` of the live Prometheus k8s. */
  prometheusNodeSelector?: Record<string, string>;
  /**
   * `spec.securityContext` of the live Prometheus k8s, `{}` when it has none; undefined when there is no
   * live Prometheus. Carried over: see prometheus-security.ts.
   */
  prometheusSecurityContext?: Record<string, unknown>;
  /** Whether Secret kube-etcd-client-certs exists in the monitoring namespace. */
  etcdClientCertsSecret: boolean;
  /**
   * Where the built-in alerts are GlobalRuleGroups: per group that exists, what KubeSphere's console
   * toggles on it, which the next run keeps (src/rules/package.ts).
   */
  builtinAlertToggles?: Record<string, BuiltinAlertToggles>;
  /** Whether the namespace istio-system exists; read only while servicemesh.enabled is true. */
  istioNamespaceExists?: boolean;
}

export interface BuiltinAlertToggles {
  /** The live value of the label alerting.kubesphere.io/enable, when set. */
  enable?: string;
  /** Rules with `disable: true`, each as `<alert>/<severity>/<for>`. */
  disabledRules: string[];
}

export interface ClusterFacts {
  /** Every Node object (masters, edge and NotReady nodes included). */
  nodeCount: number;
  /** The API server's gitVersion, e.g. `v1.34.4` (vendor suffixes allowed). */
  kubernetesVersion: string;
  /** Served group versions, e.g. `v1`, `apps/v1`, `policy/v1`; empty when unknown (offline render). */
  servedApiVersions: string[];
  live: LiveFacts;
  /** The notification-manager webhook serving certificate, produced elsewhere and passed through. */
  webhookTls: { caCert: string; tlsCert: string; tlsKey: string };
  /**
   * Grafana's admin password while monitoring.grafana.enabled is true: the live Secret grafana-admin's, else
   * one generated once per process (src/facts/grafana-password.ts).
   */
  grafanaAdminPassword?: string;
}
