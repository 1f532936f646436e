/**
 * The catalog of the monitoring module's roles, in their default order (watches.yaml lists which run,
 * in which order). Each is data (model.ts `Role`): a name, a condition on the resolved values, the
 * template folder it renders (templates/<folder>/), the generated CRD folders it applies first
 * (crds/<folder>/), which of those CRDs its webhook converts, its after-apply steps (steps/), and,
 * for a role that can be turned off, where its objects live so that the lifecycle stage removes them
 * then (`removal`, lifecycle/). Nothing here talks to the cluster.
 */
import { ISTIO_NAMESPACE } from '../config/console-parts.js';
import { METRICS_SERVER_NAMESPACE, MONITORING_NAMESPACE, type MonitoringValues } from '../config/values.js';
import type { Role, RoleCondition } from './model.js';
import { legacyAlertingRules } from './steps/alerting-legacy.js';
import { checkMetricsApi } from './steps/check-metrics-api.js';
import { growPrometheusVolumes } from './steps/grow-prometheus-volumes.js';
import { labelGpuNodesStep } from './steps/label-gpu-nodes.js';
import { removeMetricsServerRelease, removeNotificationManagerRelease } from './steps/remove-helm-release.js';
import { switchBuiltinAlerts } from './steps/switch-builtin-alerts.js';

const MONITORS_NOT_SERVED = 'common.monitoring.type is external and monitoring.coreos.com/v1 is not served';

const inClusterStack: RoleCondition = (v) =>
  v.external
    ? { run: false, reason: 'common.monitoring.type is external: no in-cluster stack' }
    : { run: true };

/** A part of the in-cluster stack switched by one key: removed when `key` is turned off. */
const inClusterPart =
  (isOn: (v: MonitoringValues) => boolean, key: string): RoleCondition =>
  (v) =>
    v.external
      ? inClusterStack(v)
      : isOn(v)
        ? { run: true }
        : { run: false, reason: `${key} is not true`, remove: true };

export const ROLES: readonly Role[] = [
  // metrics-server and the Metrics API (APIService v1beta1.metrics.k8s.io) for kubectl top, autoscaling
  // and edge nodes. Not part of the monitoring stack: installed with an external Prometheus too, and
  // first, so that KubeSphere's API server finds the Metrics API when it starts (docs/metrics-server.md).
  {
    name: 'metrics-server',
    when: (v) =>
      v.metricsServer.enabled
        ? { run: true }
        : { run: false, reason: 'metrics_server.enabled is not true', remove: true },
    templates: 'metrics-server',
    crds: [],
    // The original's Helm release of metrics-server goes once its objects are ours; then the APIService's
    // Available condition is reported.
    afterApply: [removeMetricsServerRelease, checkMetricsApi],
    // Turned off: the APIService goes first, so the aggregated API never points at a Service that is
    // gone (discovery of its group would fail, and with it namespace deletion).
    removal: {
      owns: [
        { apiVersion: 'v1', kind: 'ServiceAccount', namespace: METRICS_SERVER_NAMESPACE },
        { apiVersion: 'rbac.authorization.k8s.io/v1', kind: 'ClusterRole' },
        {
          apiVersion: 'rbac.authorization.k8s.io/v1',
          kind: 'RoleBinding',
          namespace: METRICS_SERVER_NAMESPACE,
        },
        { apiVersion: 'rbac.authorization.k8s.io/v1', kind: 'ClusterRoleBinding' },
        { apiVersion: 'v1', kind: 'Service', namespace: METRICS_SERVER_NAMESPACE },
        { apiVersion: 'apps/v1', kind: 'Deployment', namespace: METRICS_SERVER_NAMESPACE },
        { apiVersion: 'apiregistration.k8s.io/v1', kind: 'APIService' },
      ],
      first: [
        { apiVersion: 'apiregistration.k8s.io/v1', kind: 'APIService', name: 'v1beta1.metrics.k8s.io' },
      ],
    },
    statusKey: 'metricsServer',
  },
  // monitoring namespaces.
  {
    name: 'defaults',
    when: inClusterStack,
    templates: 'defaults',
    crds: [],
  },
  // prometheus-operator and its CRDs, Prometheus k8s, Kubernetes and KubeSphere component monitors.
  {
    name: 'prometheus-stack',
    when: inClusterStack,
    templates: 'prometheus-stack',
    crds: ['monitoring.coreos.com'],
    afterApply: [growPrometheusVolumes, switchBuiltinAlerts],
  },
  // node-exporter DaemonSet behind kube-rbac-proxy.
  {
    name: 'node-exporter',
    when: inClusterStack,
    templates: 'node-exporter',
    crds: [],
  },
  // kube-state-metrics Deployment behind kube-rbac-proxy.
  {
    name: 'kube-state-metrics',
    when: inClusterStack,
    templates: 'kube-state-metrics',
    crds: [],
  },
  // Alertmanager main, routed to notification-manager.
  {
    name: 'alertmanager',
    when: inClusterStack,
    templates: 'alertmanager',
    crds: [],
  },
  // notification-manager operator, webhook and NotificationManager.
  {
    name: 'notification-manager',
    when: inClusterStack,
    templates: 'notification-manager',
    crds: ['notification.kubesphere.io'],
    // v2beta1 <-> v2beta2 of configs and receivers, served by the operator on its webhook Service.
    conversionWebhook: {
      crds: ['configs.notification.kubesphere.io', 'receivers.notification.kubesphere.io'],
      service: 'notification-manager-webhook',
      path: '/convert',
    },
    // The original installed these objects with Helm: its release goes once they are ours.
    afterApply: [removeNotificationManagerRelease],
  },
  // etcd Service, Endpoints, ServiceMonitor and rules.
  {
    name: 'etcd-monitor',
    when: (v) =>
      v.external
        ? { run: false, reason: 'common.monitoring.type is external' }
        : v.etcd.enabled
          ? { run: true }
          : { run: false, reason: 'etcd.monitoring is not true', remove: true },
    templates: 'etcd-monitor',
    crds: [],
    removal: {
      owns: [
        { apiVersion: 'v1', kind: 'Service', namespace: 'kube-system' },
        { apiVersion: 'v1', kind: 'Endpoints', namespace: 'kube-system' },
        { apiVersion: 'monitoring.coreos.com/v1', kind: 'ServiceMonitor', namespace: MONITORING_NAMESPACE },
        { apiVersion: 'monitoring.coreos.com/v1', kind: 'PrometheusRule', namespace: MONITORING_NAMESPACE },
        { apiVersion: 'alerting.kubesphere.io/v2beta1', kind: 'GlobalRuleGroup' },
      ],
    },
  },
  // ThanosRuler kubesphere, evaluating KubeSphere's alerting rules, with its Service and monitor
  // (docs/alerting.md). External monitoring has no prometheus-operator here to run a ThanosRuler (the
  // original failed there): the role is skipped and the Alerting condition says so.
  {
    name: 'alerting',
    when: (v) =>
      v.external
        ? {
            run: false,
            reason: 'common.monitoring.type is external: no prometheus-operator to run a ThanosRuler',
          }
        : v.alerting.enabled
          ? { run: true }
          : { run: false, reason: 'alerting.enabled is not true', remove: true },
    templates: 'alerting',
    crds: [],
    // The 3.1-3.3 custom alerting rules: relabelled and migrated to rule groups.
    afterApply: [legacyAlertingRules],
    // Turned off: the ruler, its Service, monitor and disruption budget, and its own alert group go.
    // The alertrules-* PrometheusRules KubeSphere core writes do not carry our label: they stay.
    removal: {
      owns: [
        { apiVersion: 'monitoring.coreos.com/v1', kind: 'ThanosRuler', namespace: MONITORING_NAMESPACE },
        { apiVersion: 'policy/v1', kind: 'PodDisruptionBudget', namespace: MONITORING_NAMESPACE },
        { apiVersion: 'v1', kind: 'Service', namespace: MONITORING_NAMESPACE },
        { apiVersion: 'monitoring.coreos.com/v1', kind: 'ServiceMonitor', namespace: MONITORING_NAMESPACE },
        { apiVersion: 'monitoring.coreos.com/v1', kind: 'PrometheusRule', namespace: MONITORING_NAMESPACE },
        { apiVersion: 'alerting.kubesphere.io/v2beta1', kind: 'GlobalRuleGroup' },
      ],
    },
  },
  // Thanos Store and Thanos Query in front of Prometheus k8s's sidecars (monitoring.thanos.enabled;
  // the sidecar itself is on the Prometheus object, role prometheus-stack). docs/install.md#outgrowing-one-prometheus.
  {
    name: 'thanos',
    when: inClusterPart((v) => v.thanos.enabled, 'monitoring.thanos.enabled'),
    templates: 'thanos',
    crds: [],
    // Turned off: Store, Query, their Services, budgets and monitors go. The bucket and the Secret
    // naming it are the user's: never touched.
    removal: {
      owns: [
        { apiVersion: 'apps/v1', kind: 'Deployment', namespace: MONITORING_NAMESPACE },
        { apiVersion: 'v1', kind: 'Service', namespace: MONITORING_NAMESPACE },
        { apiVersion: 'policy/v1', kind: 'PodDisruptionBudget', namespace: MONITORING_NAMESPACE },
        { apiVersion: 'monitoring.coreos.com/v1', kind: 'ServiceMonitor', namespace: MONITORING_NAMESPACE },
      ],
    },
  },
  // The ThanosRuler k8s: Prometheus k8s's rules, evaluated over Thanos Query while Prometheus is sharded
  // (monitoring.prometheus.shards > 1, which needs Thanos; docs/architecture.md#rules-when-sharded).
  {
    name: 'sharded-rules',
    when: (v) =>
      v.external
        ? { run: false, reason: 'common.monitoring.type is external: no in-cluster stack' }
        : v.thanos.ruler.enabled
          ? { run: true }
          : {
              run: false,
              reason: 'monitoring.prometheus.shards is 1: Prometheus evaluates its rules',
              remove: true,
            },
    templates: 'sharded-rules',
    crds: [],
    removal: {
      owns: [
        { apiVersion: 'monitoring.coreos.com/v1', kind: 'ThanosRuler', namespace: MONITORING_NAMESPACE },
        { apiVersion: 'policy/v1', kind: 'PodDisruptionBudget', namespace: MONITORING_NAMESPACE },
        { apiVersion: 'v1', kind: 'Service', namespace: MONITORING_NAMESPACE },
        { apiVersion: 'monitoring.coreos.com/v1', kind: 'ServiceMonitor', namespace: MONITORING_NAMESPACE },
      ],
    },
  },
  // ClusterDashboard and Dashboard CRDs of KubeSphere's Custom Monitoring. Always, also with external
  // monitoring: the console reads and writes these kinds whatever else is installed.
  {
    name: 'monitoring-dashboard',
    when: () => ({ run: true }),
    crds: ['monitoring.kubesphere.io'],
  },
  // NVIDIA's DCGM exporter on GPU nodes, its ServiceMonitor and the GPU ClusterDashboard; GPU nodes labelled.
  {
    name: 'gpu-monitoring',
    when: (v) =>
      !v.gpu.enabled
        ? { run: false, reason: 'monitoring.gpu.nvidia_dcgm_exporter.enabled is not true', remove: true }
        : v.monitorsServed
          ? { run: true }
          : { run: false, reason: MONITORS_NOT_SERVED },
    templates: 'gpu-monitoring',
    crds: [],
    afterApply: [labelGpuNodesStep],
    // Turned off: the exporter and its monitor and dashboard go (the GPU node labels stay).
    removal: {
      owns: [
        { apiVersion: 'v1', kind: 'ServiceAccount', namespace: MONITORING_NAMESPACE },
        { apiVersion: 'apps/v1', kind: 'DaemonSet', namespace: MONITORING_NAMESPACE },
        { apiVersion: 'v1', kind: 'Service', namespace: MONITORING_NAMESPACE },
        { apiVersion: 'monitoring.coreos.com/v1', kind: 'ServiceMonitor', namespace: MONITORING_NAMESPACE },
        { apiVersion: 'monitoring.kubesphere.io/v1alpha2', kind: 'ClusterDashboard' },
      ],
    },
  },
  // PodMonitor of istio-proxy sidecars and ServiceMonitor of istiod in istio-system.
  {
    name: 'istio-monitoring',
    when: (v) =>
      !v.servicemesh.enabled
        ? { run: false, reason: 'servicemesh.enabled is not true', remove: true }
        : !v.monitorsServed
          ? { run: false, reason: MONITORS_NOT_SERVED }
          : v.servicemesh.istioNamespaceExists
            ? { run: true }
            : { run: false, reason: 'the namespace istio-system does not exist yet' },
    templates: 'istio-monitoring',
    crds: [],
    // Turned off (servicemesh.enabled false), not while istio-system is awaited: both monitors go.
    removal: {
      owns: [
        { apiVersion: 'monitoring.coreos.com/v1', kind: 'PodMonitor', namespace: ISTIO_NAMESPACE },
        { apiVersion: 'monitoring.coreos.com/v1', kind: 'ServiceMonitor', namespace: ISTIO_NAMESPACE },
      ],
    },
  },
  // Grafana with its Prometheus datasource, admin password Secret, volume and ServiceMonitor.
  {
    name: 'grafana',
    when: inClusterPart((v) => v.grafana.enabled, 'monitoring.grafana.enabled'),
    templates: 'grafana',
    crds: [],
    // Turned off: Grafana's workload, config, Service, monitor and the recording rules of its dashboards
    // (rules/catalog.yaml) go. Its volume stays (data), and so do its Secrets: the operator never lists
    // Secrets, and the admin password survives off and on again.
    removal: {
      owns: [
        { apiVersion: 'v1', kind: 'ServiceAccount', namespace: MONITORING_NAMESPACE },
        { apiVersion: 'v1', kind: 'ConfigMap', namespace: MONITORING_NAMESPACE },
        { apiVersion: 'apps/v1', kind: 'Deployment', namespace: MONITORING_NAMESPACE },
        { apiVersion: 'v1', kind: 'Service', namespace: MONITORING_NAMESPACE },
        { apiVersion: 'monitoring.coreos.com/v1', kind: 'ServiceMonitor', namespace: MONITORING_NAMESPACE },
        { apiVersion: 'monitoring.coreos.com/v1', kind: 'PrometheusRule', namespace: MONITORING_NAMESPACE },
      ],
      keeps: [
        { apiVersion: 'v1', kind: 'Secret' },
        { apiVersion: 'v1', kind: 'PersistentVolumeClaim' },
      ],
    },
  },
];
