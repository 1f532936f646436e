/**
 * Defaults of the monitoring stack (docs/original-installer.md#keys): replica rules, per-container resources
 * with the ClusterConfiguration key each one is read from, and per-workload placement.
 * One set of defaults applies whether or not the spec has a `monitoring` key (the original switched
 * to a different, partly dead set of role defaults without it).
 */
import type { Placement, Quantity, Resources } from './values.js';
import { MONITORING_NAMESPACE } from './values.js';

function resources(limitCpu: Quantity, limitMemory: Quantity, requestCpu: Quantity, requestMemory: Quantity) {
  return {
    limits: { cpu: limitCpu, memory: limitMemory },
    requests: { cpu: requestCpu, memory: requestMemory },
  };
}

/** A container's resources: read from `<base>.resources.*`, then legacy `<base>.{limits,requests}.*`. */
export interface ContainerResources {
  /** Human name for messages. */
  container: string;
  /** Spec path of the key group, without `spec.`. */
  base: string;
  defaults: Resources;
}

// Correction: the same defaults apply with or without a `monitoring` key (the original's role defaults differed and were partly dead).
export const CONTAINER_RESOURCES = {
  prometheus: {
    container: 'prometheus',
    base: 'monitoring.prometheus',
    defaults: resources('4', '16Gi', '200m', '400Mi'),
  },
  prometheusOperator: {
    container: 'prometheus-operator',
    base: 'monitoring.prometheus.operator',
    defaults: resources('200m', '200Mi', '100m', '100Mi'),
  },
  kubeRbacProxy: {
    container: 'kube-rbac-proxy',
    base: 'monitoring.kube_rbac_proxy',
    defaults: resources(1, '100Mi', '10m', '20Mi'),
  },
  kubeStateMetrics: {
    container: 'kube-state-metrics',
    base: 'monitoring.kube_state_metrics',
    defaults: resources(1, '8Gi', '100m', '150Mi'),
  },
  nodeExporter: {
    container: 'node-exporter',
    base: 'monitoring.node_exporter',
    defaults: resources(1, '500Mi', '102m', '180Mi'),
  },
  alertmanager: {
    container: 'alertmanager',
    base: 'monitoring.alertmanager',
    defaults: resources('200m', '200Mi', '20m', '30Mi'),
  },
  notificationManager: {
    container: 'notification-manager',
    base: 'monitoring.notification_manager',
    defaults: resources('500m', '500Mi', '5m', '20Mi'),
  },
  notificationManagerOperator: {
    container: 'notification-manager-operator',
    base: 'monitoring.notification_manager.operator',
    defaults: resources('50m', '50Mi', '5m', '20Mi'),
  },
  notificationManagerProxy: {
    container: 'notification-manager-operator kube-rbac-proxy',
    base: 'monitoring.notification_manager.proxy',
    defaults: resources('50m', '50Mi', '5m', '10Mi'),
  },
  dcgmExporter: {
    container: 'dcgm-exporter',
    base: 'monitoring.gpu.nvidia_dcgm_exporter',
    defaults: resources('100m', '128Mi', '100m', '128Mi'),
  },
  thanosRuler: {
    container: 'thanos-ruler',
    base: 'alerting.thanosruler',
    defaults: resources('1', '1Gi', '100m', '100Mi'),
  },
  // Addition: Thanos (docs/install.md#outgrowing-one-prometheus).
  thanosSidecar: {
    container: 'thanos-sidecar',
    base: 'monitoring.thanos.sidecar',
    defaults: resources('1', '1Gi', '50m', '100Mi'),
  },
  thanosQuery: {
    container: 'thanos-query',
    base: 'monitoring.thanos.query',
    defaults: resources('2', '4Gi', '100m', '256Mi'),
  },
  thanosStore: {
    container: 'thanos-store',
    base: 'monitoring.thanos.store',
    defaults: resources('2', '4Gi', '100m', '256Mi'),
  },
  rulesRuler: {
    container: 'thanos-ruler (the rules of a sharded Prometheus)',
    base: 'monitoring.thanos.ruler',
    defaults: resources('1', '2Gi', '100m', '256Mi'),
  },
} satisfies Record<string, ContainerResources>;

export const DEFAULT_REPLICAS = {
  prometheus: { small: 1, large: 2 },
  alertmanager: { small: 1, large: 3 },
  notificationManager: { small: 1, large: 2 },
  thanosRuler: { small: 1, large: 2 },
  thanosQuery: { small: 1, large: 2 },
  thanosStore: { small: 1, large: 2 },
  rulesRuler: { small: 1, large: 2 },
} as const;

/** Clusters with fewer nodes than this get the small replica count. */
export const SMALL_CLUSTER_NODES = 3;

export const DEFAULT_PROMETHEUS_STORAGE = '20Gi';
export const DEFAULT_PROMETHEUS_RETENTION = '7d';
export const DEFAULT_NODE_EXPORTER_PORT = 9100;
export const DEFAULT_ETCD_PORT = 2379;

/** The ThanosRuler's labels: its pods carry them, the PDB, Service and default anti-affinity select them. */
export const THANOS_RULER_LABELS: Readonly<Record<string, string>> = {
  'app.kubernetes.io/component': 'thanos-ruler',
  'app.kubernetes.io/instance': 'kubesphere',
  'app.kubernetes.io/name': 'thanos-ruler',
  'app.kubernetes.io/part-of': 'kube-prometheus',
};

/** The pod labels of Thanos Query, Thanos Store and the ThanosRuler `k8s` (sharded rules). */
export function thanosLabels(
  component: 'query' | 'store' | 'rule',
  instance: string,
): Record<string, string> {
  return {
    'app.kubernetes.io/component': component === 'rule' ? 'thanos-ruler' : `thanos-${component}`,
    'app.kubernetes.io/instance': instance,
    'app.kubernetes.io/name': component === 'rule' ? 'thanos-ruler' : `thanos-${component}`,
    'app.kubernetes.io/part-of': 'kube-prometheus',
  };
}

/** The Prometheus pod labels the default anti-affinity spreads on; the Prometheus CR's podMetadata must carry them. */
const PROMETHEUS_POD_LABELS: Readonly<Record<string, string>> = {
  'app.kubernetes.io/component': 'prometheus',
  'app.kubernetes.io/instance': 'k8s',
  'app.kubernetes.io/name': 'prometheus',
  'app.kubernetes.io/part-of': 'kube-prometheus',
};

const LINUX = { 'kubernetes.io/os': 'linux' };

function preferredAntiAffinity(labelSelector: Record<string, unknown>): Record<string, unknown> {
  return {
    podAntiAffinity: {
      preferredDuringSchedulingIgnoredDuringExecution: [
        { weight: 100, podAffinityTerm: { topologyKey: 'kubernetes.io/hostname', labelSelector } },
      ],
    },
  };
}

export type PlacedWorkload =
  | 'prometheus'
  | 'prometheusOperator'
  | 'kubeStateMetrics'
  | 'alertmanager'
  | 'notificationManager'
  | 'metricsServer'
  | 'thanosRuler'
  | 'thanosQuery'
  | 'thanosStore'
  | 'rulesRuler';

/** A fresh copy each call, so no caller can change another's defaults. */
export function defaultPlacement(workload: PlacedWorkload): Placement {
  switch (workload) {
    case 'prometheus':
      return {
        nodeSelector: { ...LINUX },
        tolerations: [{ key: 'dedicated', operator: 'Equal', value: 'monitoring', effect: 'NoSchedule' }],
        affinity: {
          nodeAffinity: {
            preferredDuringSchedulingIgnoredDuringExecution: [
              {
                weight: 100,
                preference: {
                  matchExpressions: [{ key: 'node-role.kubernetes.io/monitoring', operator: 'Exists' }],
                },
              },
            ],
          },
          ...preferredAntiAffinity({ matchLabels: { ...PROMETHEUS_POD_LABELS } }),
        },
      };
    case 'alertmanager':
      return {
        nodeSelector: { ...LINUX },
        tolerations: [],
        affinity: preferredAntiAffinity({
          matchExpressions: [{ key: 'alertmanager', operator: 'In', values: ['main'] }],
        }),
      };
    case 'thanosRuler':
      return {
        nodeSelector: { ...LINUX },
        tolerations: [],
        affinity: {
          podAntiAffinity: {
            preferredDuringSchedulingIgnoredDuringExecution: [
              {
                weight: 100,
                podAffinityTerm: {
                  topologyKey: 'kubernetes.io/hostname',
                  labelSelector: { matchLabels: { ...THANOS_RULER_LABELS } },
                  namespaces: [MONITORING_NAMESPACE],
                },
              },
            ],
          },
        },
      };
    case 'thanosQuery':
    case 'thanosStore':
    case 'rulesRuler': {
      const labels =
        workload === 'thanosQuery'
          ? thanosLabels('query', 'kubesphere')
          : workload === 'thanosStore'
            ? thanosLabels('store', 'kubesphere')
            : thanosLabels('rule', 'k8s');
      return {
        nodeSelector: { ...LINUX },
        tolerations: [],
        affinity: preferredAntiAffinity({ matchLabels: labels }),
      };
    }
    case 'prometheusOperator':
    case 'kubeStateMetrics':
    case 'metricsServer':
      return { nodeSelector: { ...LINUX }, tolerations: [], affinity: {} };
    case 'notificationManager':
      return { nodeSelector: {}, tolerations: [], affinity: {} };
  }
}
