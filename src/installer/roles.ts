/**
 * The monitoring module's roles, in their default order (watches.yaml lists which run, in which
 * order). Each is data: a name, a condition on the resolved values, the template folder it renders
 * (templates/<folder>/), the generated CRD folders it applies first (crds/<folder>/) and which of
 * those CRDs its webhook converts. Nothing here talks to the cluster.
 */
import { METRICS_SERVER_NAMESPACE, type MonitoringValues } from '../config/values.js';
import { growPrometheusVolumes, switchBuiltinAlerts, type AfterApplyStep } from './after-apply.js';
import type { EnabledStatusKey } from './after-apply.js';
import type { ConversionWebhook } from './crd-conversion.js';
import { removeMetricsServerRelease, removeNotificationManagerRelease } from './helm-release.js';
import { checkMetricsApi } from './metrics-api.js';

/**
 * Whether a role runs. `remove: true` says the role is turned off, so the objects it applied before go
 * (lifecycle.ts; the role must declare `removal`); without it a role that does not run leaves its
 * objects as they are (e.g. external monitoring: nothing in the cluster is touched).
 */
export type RoleCondition = (
  values: MonitoringValues,
) => { run: true } | { run: false; reason: string; remove?: boolean };

/** A kind of object a role renders, and where: `namespace` unset for cluster-scoped kinds. */
export interface OwnedKind {
  apiVersion: string;
  kind: string;
  namespace?: string;
}

/** What removing a turned-off role's objects needs to know (lifecycle.ts). */
export interface RoleRemoval {
  /**
   * Every kind and namespace the role's objects live in, in the order the role applies them (a unit
   * test checks this against its templates). Its objects are found there by our labels.
   */
  owns: OwnedKind[];
  /** Objects removed before all others, in this order (e.g. an APIService before its Service). */
  first?: { apiVersion: string; kind: string; name: string }[];
}

export interface Role {
  name: string;
  /** One line for logs and docs. */
  summary: string;
  when: RoleCondition;
  /** Folder under templates/. */
  templates: string;
  /** Folders under crds/ whose CustomResourceDefinitions this role applies before its templates. */
  crds: string[];
  /** CRDs of `crds` whose versions the role's own webhook converts (stanza set at plan time). */
  conversionWebhook?: ConversionWebhook;
  /** Steps run after every role applied its objects, in role order (see after-apply.ts). */
  afterApply?: AfterApplyStep[];
  /** Set on a role that can be turned off: how its objects are found and removed then. */
  removal?: RoleRemoval;
  /** The status key its after-apply steps mark enabled; removed from the status while the role is off. */
  statusKey?: EnabledStatusKey;
}

const inClusterStack: RoleCondition = (v) =>
  v.external
    ? { run: false, reason: 'common.monitoring.type is external: no in-cluster stack' }
    : { run: true };

export const ROLES: readonly Role[] = [
  {
    // Not part of the monitoring stack: installed with an external Prometheus too, and first, so that
    // KubeSphere's API server finds the Metrics API when it starts (docs/metrics-server.md).
    name: 'metrics-server',
    summary:
      'metrics-server and the Metrics API (APIService v1beta1.metrics.k8s.io) for kubectl top, autoscaling and edge nodes',
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
  {
    name: 'defaults',
    summary: 'monitoring namespaces',
    when: inClusterStack,
    templates: 'defaults',
    crds: [],
  },
  {
    name: 'prometheus-stack',
    summary: 'prometheus-operator and its CRDs, Prometheus k8s, Kubernetes and KubeSphere component monitors',
    when: inClusterStack,
    templates: 'prometheus-stack',
    crds: ['monitoring.coreos.com'],
    afterApply: [growPrometheusVolumes, switchBuiltinAlerts],
  },
  {
    name: 'node-exporter',
    summary: 'node-exporter DaemonSet behind kube-rbac-proxy',
    when: inClusterStack,
    templates: 'node-exporter',
    crds: [],
  },
  {
    name: 'kube-state-metrics',
    summary: 'kube-state-metrics Deployment behind kube-rbac-proxy',
    when: inClusterStack,
    templates: 'kube-state-metrics',
    crds: [],
  },
  {
    name: 'alertmanager',
    summary: 'Alertmanager main, routed to notification-manager',
    when: inClusterStack,
    templates: 'alertmanager',
    crds: [],
  },
  {
    name: 'notification-manager',
    summary: 'notification-manager operator, webhook and NotificationManager',
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
  {
    name: 'etcd-monitor',
    summary: 'etcd Service, Endpoints, ServiceMonitor and rules',
    when: (v) =>
      v.external
        ? { run: false, reason: 'common.monitoring.type is external' }
        : v.etcd.enabled
          ? { run: true }
          : { run: false, reason: 'etcd.monitoring is not true' },
    templates: 'etcd-monitor',
    crds: [],
  },
];
