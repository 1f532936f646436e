/**
 * The monitoring module's roles, in their default order (watches.yaml lists which run, in which
 * order). Each is data: a name, a condition on the resolved values, the template folder it renders
 * (templates/<folder>/), the generated CRD folders it applies first (crds/<folder>/) and which of
 * those CRDs its webhook converts. Nothing here talks to the cluster.
 */
import type { MonitoringValues } from '../config/values.js';
import { growPrometheusVolumes, switchBuiltinAlerts, type AfterApplyStep } from './after-apply.js';
import type { EnabledStatusKey } from './after-apply.js';
import type { ConversionWebhook } from './crd-conversion.js';
import { removeMetricsServerRelease, removeNotificationManagerRelease } from './helm-release.js';
import { checkMetricsApi } from './metrics-api.js';

export type RoleCondition = (values: MonitoringValues) => { run: true } | { run: false; reason: string };

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
  /**
   * Objects to remove before the others when the role is turned off (`Kind/name`), e.g. the APIService
   * that would otherwise route its API to a Service that is gone.
   */
  removeFirst?: string[];
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
      v.metricsServer.enabled ? { run: true } : { run: false, reason: 'metrics_server.enabled is not true' },
    templates: 'metrics-server',
    crds: [],
    // The original's Helm release of metrics-server goes once its objects are ours; then the APIService's
    // Available condition is reported.
    afterApply: [removeMetricsServerRelease, checkMetricsApi],
    removeFirst: ['APIService/v1beta1.metrics.k8s.io'],
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
