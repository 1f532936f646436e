/**
 * The values every role template renders from: the ClusterConfiguration spec with every fallback
 * chain, default and carry-over already resolved (docs/original-installer.md).
 * Templates never read the raw spec; they read these, so precedence lives in one tested place.
 *
 * This file is the contract between the config layer (which computes MonitoringValues from the spec
 * and the cluster facts) and the templates (which only print them).
 */

import type { BuiltinAlertToggles } from './facts.js';
import type { SecretKeyRef } from './scale.js';

export const MONITORING_NAMESPACE = 'kubesphere-monitoring-system';
export const FEDERATED_NAMESPACE = 'kubesphere-monitoring-federated';
/** Where metrics-server runs, as in Kubernetes' own add-on. */
export const METRICS_SERVER_NAMESPACE = 'kube-system';

/** A container image: repository (registry and path, no tag), tag, and `repository:tag`. */
export interface ImageRef {
  repository: string;
  tag: string;
  image: string;
}

export type ImageName =
  | 'prometheus'
  | 'prometheus_config_reloader'
  | 'prometheus_operator'
  | 'kube_rbac_proxy'
  | 'kube_state_metrics'
  | 'node_exporter'
  | 'alertmanager'
  | 'notification_manager_operator_proxy'
  | 'notification_manager_operator'
  | 'notification_manager'
  | 'notification_tenant_sidecar'
  | 'metrics_server'
  | 'thanos'
  | 'dcgm_exporter'
  | 'grafana';

/** A Kubernetes quantity as the user wrote it (numbers stay numbers). */
export type Quantity = string | number;

interface ResourceList {
  cpu?: Quantity;
  memory?: Quantity;
}

export interface Resources {
  limits: ResourceList;
  requests: ResourceList;
}

export interface Placement {
  nodeSelector: Record<string, string>;
  tolerations: Record<string, unknown>[];
  affinity: Record<string, unknown>;
}

/** A non-fatal finding, surfaced as its own status condition (type) and in the log. */
export interface ValueWarning {
  /** Condition type, e.g. `PrometheusStorageShrinkRefused`. */
  type: string;
  reason: string;
  message: string;
}

export interface MonitoringValues {
  namespace: typeof MONITORING_NAMESPACE;
  federatedNamespace: typeof FEDERATED_NAMESPACE;
  /** common.monitoring.type == "external": no stack objects at all. */
  external: boolean;
  nodeCount: number;
  /** The API server's gitVersion, e.g. v1.34.4. */
  kubernetesVersion: string;
  apiVersions: {
    /** policy/v1 whenever the server serves it, else policy/v1beta1. */
    podDisruptionBudget: 'policy/v1' | 'policy/v1beta1';
  };
  images: Record<ImageName, ImageRef>;
  /** Tag without its leading `v`, for app.kubernetes.io/version labels. */
  versions: Record<ImageName, string>;

  prometheus: {
    replicas: number;
    retention: string;
    storage: {
      size: string;
      /** Omitted (cluster default StorageClass) when unset, null or "". */
      storageClassName?: string;
    };
    resources: Resources;
    placement: Placement;
    /** Secrets mounted into Prometheus, e.g. kube-etcd-client-certs for etcd TLS. */
    secrets: string[];
    /** The pod security context, kept per volume (prometheus-security.ts). */
    securityContext: Record<string, unknown>;
    securityContextSource: 'live' | 'existing-volume' | 'default';
    /** monitoring.prometheus.shards: 1 unless set; more than 1 needs Thanos (rules on the ThanosRuler k8s). */
    shards: number;
    /** monitoring.prometheus.remoteWrite as prometheus-operator takes it; [] when unset. */
    remoteWrite: Record<string, unknown>[];
    /** monitoring.prometheus.additionalScrapeConfigs: a key of a Secret in the monitoring namespace. */
    additionalScrapeConfigs?: SecretKeyRef;
    /** Prometheus evaluates the recording rules and fallback alerts itself (one shard), else the ThanosRuler k8s. */
    evaluatesRules: boolean;
  };
  /**
   * monitoring.thanos (docs/install.md#outgrowing-one-prometheus): the sidecar on Prometheus, Thanos
   * Store on the object storage and Thanos Query in front; with shards, the ThanosRuler k8s.
   */
  thanos: {
    enabled: boolean;
    /** The Secret key holding the object-storage configuration (set whenever enabled). */
    objectStorageConfig?: SecretKeyRef;
    sidecarResources: Resources;
    query: { replicas: number; resources: Resources; placement: Placement };
    store: { replicas: number; resources: Resources; placement: Placement };
    /** The ThanosRuler k8s that evaluates our rules when Prometheus is sharded. */
    ruler: { enabled: boolean; replicas: number; resources: Resources; placement: Placement };
    /** Thanos Query's Service URL: what KubeSphere should read (common.monitoring.endpoint). */
    queryUrl: string;
  };
  prometheusOperator: {
    resources: Resources;
    proxyResources: Resources;
    placement: Placement;
  };
  nodeExporter: {
    port: number;
    resources: Resources;
    proxyResources: Resources;
  };
  kubeStateMetrics: {
    resources: Resources;
    proxyMainResources: Resources;
    proxySelfResources: Resources;
    placement: Placement;
  };
  alertmanager: {
    replicas: number;
    resources: Resources;
    placement: Placement;
  };
  notificationManager: {
    replicas: number;
    resources: Resources;
    operatorResources: Resources;
    proxyResources: Resources;
    placement: Placement;
    /** Webhook serving certificate; its CA is every caBundle the templates write. PEM. */
    webhookTls: { caCert: string; tlsCert: string; tlsKey: string };
  };
  /** The built-in alerts (rules/alerts, src/rules): GlobalRuleGroups where their API is served, else PrometheusRules. */
  alerts: {
    form: 'GlobalRuleGroup' | 'PrometheusRule';
    /** The console's toggles on existing GlobalRuleGroups, kept (facts: live.builtinAlertToggles). */
    toggles: Record<string, BuiltinAlertToggles>;
  };
  /** metrics-server and the Metrics API (metrics_server.enabled); independent of the monitoring stack. */
  metricsServer: {
    enabled: boolean;
    namespace: typeof METRICS_SERVER_NAMESPACE;
    /** The chain rooted at metrics_server: one nodeSelector. */
    placement: Placement;
  };
  /**
   * KubeSphere's alerting module (docs/alerting.md): the ThanosRuler `kubesphere` that evaluates the
   * rule groups KubeSphere core turns into PrometheusRules `alertrules-*`.
   */
  alerting: {
    /** alerting.enabled is true (exactly the boolean). */
    enabled: boolean;
    replicas: number;
    resources: Resources;
    placement: Placement;
    /** The one query endpoint: common.monitoring.endpoint, else our Prometheus. */
    queryEndpoint: string;
    /** Where the ruler sends alerts: our Alertmanager pods, found by DNS SRV. */
    alertmanagersUrl: string;
  };
  etcd: {
    enabled: boolean;
    /** One Endpoints address per item of etcd.endpointIps. */
    endpointIps: string[];
    port: number;
    tls: boolean;
  };
  /** Whether the cluster serves monitoring.coreos.com/v1 or our prometheus-stack role installs it. */
  monitorsServed: boolean;
  /** monitoring.gpu.nvidia_dcgm_exporter (docs/install.md#the-consoles-parts). */
  gpu: {
    enabled: boolean;
    resources: Resources;
  };
  /** servicemesh.enabled: the istio-proxy PodMonitor and istiod ServiceMonitor in istio-system. */
  servicemesh: {
    enabled: boolean;
    /** Whether the namespace istio-system exists (read only when servicemesh is enabled). */
    istioNamespaceExists: boolean;
  };
  /** monitoring.grafana. */
  grafana: {
    enabled: boolean;
    /** The admin password: the live Secret's, else a generated one (never the image's admin/admin). */
    adminPassword: string;
  };
}
