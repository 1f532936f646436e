/**
 * The catalog of the monitoring module's roles, in their default order (watches.yaml lists which run,
 * in which order). Each is data (model.ts `Role`): a name, a condition on the resolved values, the
 * template folder it renders (templates/<folder>/), the generated CRD folders it applies first
 * (crds/<folder>/), which of those CRDs its webhook converts, and its after-apply steps (steps/).
 * Nothing here talks to the cluster.
 */
import type { Role, RoleCondition } from './model.js';
import { legacyAlertingRules } from './steps/alerting-legacy.js';
import { growPrometheusVolumes } from './steps/grow-prometheus-volumes.js';
import { removeNotificationManagerRelease } from './steps/remove-helm-release.js';
import { switchBuiltinAlerts } from './steps/switch-builtin-alerts.js';

const inClusterStack: RoleCondition = (v) =>
  v.external
    ? { run: false, reason: 'common.monitoring.type is external: no in-cluster stack' }
    : { run: true };

export const ROLES: readonly Role[] = [
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
          : { run: false, reason: 'etcd.monitoring is not true' },
    templates: 'etcd-monitor',
    crds: [],
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
          : { run: false, reason: 'alerting.enabled is not true' },
    templates: 'alerting',
    crds: [],
    // The 3.1-3.3 custom alerting rules: relabelled and migrated to rule groups.
    afterApply: [legacyAlertingRules],
  },
];
