/**
 * The Kubernetes groups (the original ships them with the component monitors of prometheus-stack):
 * kubernetes-apps, kubernetes-resources, kubernetes-storage, kubernetes-system, kube-apiserver-slos,
 * kubernetes-system-apiserver, kubernetes-system-kubelet, kubernetes-system-scheduler and
 * kubernetes-system-controller-manager.
 *
 * Written from the meanings in docs/rules.md. Looked up in kubernetes-mixin (apps_alerts,
 * resource_alerts, storage_alerts, system_alerts, kube_apiserver, kubelet alerts) for the exact
 * facts a meaning leaves open: the waiting-reason and phase selections, the 10m/5m `changes`
 * windows that tell a stuck rollout from a running one, the quota and throttling thresholds
 * (150 %, 90 %, 25 %), the 3 %/15 % volume thresholds with a 6h-window 4-day prediction, the
 * burn-rate factors 14.4/6/3/1 over a 99 % objective, and the certificate windows (7 days, 1 day).
 * The expressions and texts are ours.
 */
import { promql, type AlertGroupSpec } from '../model.js';

const KSM = 'job="kube-state-metrics"';
const KUBELET = 'job="kubelet", metrics_path="/metrics"';
const APISERVER = 'job="apiserver"';

/** Two windows of one burn-rate pair above `factor` times the 1 % error budget of a 99 % objective. */
function burn(long: string, short: string, factor: string) {
  return promql`
    sum(apiserver_request:burnrate${long}) > (${factor} * 0.01)
    and
    sum(apiserver_request:burnrate${short}) > (${factor} * 0.01)
  `;
}

const burnText = {
  summary: 'The Kubernetes API server is burning its error budget too fast.',
  description:
    'Over the last {{ $labels.long }} and the last {{ $labels.short }} the API server answered too many requests with an error or too slowly: at this pace the 30-day error budget runs out early.',
};

/**
 * Requests of a resource (the contract's namespace_<resource>:kube_pod_container_resource_requests:sum
 * records) beyond what the nodes but the largest one can allocate; only when that remainder is positive.
 */
function overcommit(resource: 'cpu' | 'memory') {
  const allocatable = `kube_node_status_allocatable{${KSM}, resource="${resource}"}`;
  const withoutLargest = `(sum(${allocatable}) - max(${allocatable}))`;
  return promql`
    sum(namespace_${resource}:kube_pod_container_resource_requests:sum) - ${withoutLargest} > 0
    and
    ${withoutLargest} > 0
  `;
}

/** ResourceQuota hard limits of a resource over 150 % of what the nodes can allocate. */
function quotaOvercommit(resource: 'cpu' | 'memory') {
  return promql`
    sum(min without (resource) (kube_resourcequota{${KSM}, type="hard", resource=~"${resource}|requests.${resource}"}))
      /
    sum(kube_node_status_allocatable{${KSM}, resource="${resource}"})
      > 1.5
  `;
}

/** Used / hard ratio of every ResourceQuota item that has a positive hard limit. */
const QUOTA_RATIO = promql`
  kube_resourcequota{${KSM}, type="used"}
    / ignoring (instance, job, type)
  (kube_resourcequota{${KSM}, type="hard"} > 0)
`;

/** Free share of a PersistentVolumeClaim's volume, as the kubelet measures it. */
const PVC_FREE = `kubelet_volume_stats_available_bytes{${KUBELET}} / kubelet_volume_stats_capacity_bytes{${KUBELET}}`;
const PVC_NOT_READ_ONLY = promql`
  unless on (namespace, persistentvolumeclaim)
    kube_persistentvolumeclaim_access_mode{${KSM}, access_mode="ReadOnlyMany"} == 1
`;

export const KUBERNETES_GROUPS: AlertGroupSpec[] = [
  {
    name: 'kubernetes-apps',
    runbooks: 'kubernetes',
    rules: [
      {
        alert: 'KubePodCrashLooping',
        severity: 'warning',
        for: '15m',
        expr: promql`
          max_over_time(kube_pod_container_status_waiting_reason{${KSM}, reason="CrashLoopBackOff"}[5m]) >= 1
        `,
        summary: 'A container keeps crashing.',
        description:
          'Container {{ $labels.container }} of pod {{ $labels.namespace }}/{{ $labels.pod }} is waiting in CrashLoopBackOff.',
      },
      {
        alert: 'KubePodNotReady',
        severity: 'warning',
        for: '15m',
        expr: promql`
          sum by (namespace, pod) (
            max by (namespace, pod) (kube_pod_status_phase{${KSM}, phase=~"Pending|Unknown"})
            * on (namespace, pod) group_left (owner_kind)
            topk by (namespace, pod) (1, max by (namespace, pod, owner_kind) (kube_pod_owner{owner_kind!="Job"}))
          ) > 0
        `,
        summary: 'A pod has not been ready for 15 minutes.',
        description: 'Pod {{ $labels.namespace }}/{{ $labels.pod }} stays Pending or Unknown.',
      },
      {
        alert: 'KubeDeploymentGenerationMismatch',
        severity: 'warning',
        for: '15m',
        expr: promql`
          kube_deployment_status_observed_generation{${KSM}}
            !=
          kube_deployment_metadata_generation{${KSM}}
        `,
        summary: 'A Deployment change has not been picked up.',
        description:
          'Deployment {{ $labels.namespace }}/{{ $labels.deployment }} has an observed generation behind its metadata generation: its rollout may have failed and not been rolled back.',
      },
      {
        alert: 'KubeDeploymentReplicasMismatch',
        severity: 'warning',
        for: '15m',
        expr: promql`
          (
            kube_deployment_spec_replicas{${KSM}}
              >
            kube_deployment_status_replicas_available{${KSM}}
          ) and (
            changes(kube_deployment_status_replicas_updated{${KSM}}[10m]) == 0
          )
        `,
        summary: 'A Deployment lacks available replicas.',
        description:
          'Deployment {{ $labels.namespace }}/{{ $labels.deployment }} has fewer available replicas than desired, and nothing has changed for 10 minutes.',
      },
      {
        alert: 'KubeStatefulSetReplicasMismatch',
        severity: 'warning',
        for: '15m',
        expr: promql`
          (
            kube_statefulset_status_replicas_ready{${KSM}}
              !=
            kube_statefulset_status_replicas{${KSM}}
          ) and (
            changes(kube_statefulset_status_replicas_updated{${KSM}}[10m]) == 0
          )
        `,
        summary: 'A StatefulSet lacks ready replicas.',
        description:
          'StatefulSet {{ $labels.namespace }}/{{ $labels.statefulset }} has not matched its expected number of ready replicas, and nothing has changed for 10 minutes.',
      },
      {
        alert: 'KubeStatefulSetGenerationMismatch',
        severity: 'warning',
        for: '15m',
        expr: promql`
          kube_statefulset_status_observed_generation{${KSM}}
            !=
          kube_statefulset_metadata_generation{${KSM}}
        `,
        summary: 'A StatefulSet change has not been picked up.',
        description:
          'StatefulSet {{ $labels.namespace }}/{{ $labels.statefulset }} has an observed generation behind its metadata generation.',
      },
      {
        alert: 'KubeStatefulSetUpdateNotRolledOut',
        severity: 'warning',
        for: '15m',
        expr: promql`
          (
            max without (revision) (
              kube_statefulset_status_current_revision{${KSM}}
                unless
              kube_statefulset_status_update_revision{${KSM}}
            )
              *
            (
              kube_statefulset_replicas{${KSM}}
                !=
              kube_statefulset_status_replicas_updated{${KSM}}
            )
          ) and (
            changes(kube_statefulset_status_replicas_updated{${KSM}}[5m]) == 0
          )
        `,
        summary: 'A StatefulSet update is stuck.',
        description:
          'StatefulSet {{ $labels.namespace }}/{{ $labels.statefulset }} runs an old revision on some replicas and its update makes no progress.',
      },
      {
        alert: 'KubeDaemonSetRolloutStuck',
        severity: 'warning',
        for: '15m',
        expr: promql`
          (
            (
              kube_daemonset_status_current_number_scheduled{${KSM}}
                !=
              kube_daemonset_status_desired_number_scheduled{${KSM}}
            ) or (
              kube_daemonset_status_number_misscheduled{${KSM}} != 0
            ) or (
              kube_daemonset_status_updated_number_scheduled{${KSM}}
                !=
              kube_daemonset_status_desired_number_scheduled{${KSM}}
            ) or (
              kube_daemonset_status_number_available{${KSM}}
                !=
              kube_daemonset_status_desired_number_scheduled{${KSM}}
            )
          ) and (
            changes(kube_daemonset_status_updated_number_scheduled{${KSM}}[5m]) == 0
          )
        `,
        summary: 'A DaemonSet rollout is stuck.',
        description:
          'DaemonSet {{ $labels.namespace }}/{{ $labels.daemonset }} has not finished its rollout and has made no progress for 5 minutes.',
      },
      {
        alert: 'KubeContainerWaiting',
        severity: 'warning',
        for: '1h',
        expr: promql`
          sum by (namespace, pod, container) (kube_pod_container_status_waiting_reason{${KSM}}) > 0
        `,
        summary: 'A container has been waiting for an hour.',
        description:
          'Container {{ $labels.container }} of pod {{ $labels.namespace }}/{{ $labels.pod }} has been in a waiting state for longer than an hour.',
      },
      {
        alert: 'KubeDaemonSetNotScheduled',
        severity: 'warning',
        for: '10m',
        expr: promql`
          kube_daemonset_status_desired_number_scheduled{${KSM}}
            -
          kube_daemonset_status_current_number_scheduled{${KSM}} > 0
        `,
        summary: 'DaemonSet pods are not scheduled.',
        description:
          '{{ $value }} pods of DaemonSet {{ $labels.namespace }}/{{ $labels.daemonset }} are not scheduled.',
      },
      {
        alert: 'KubeDaemonSetMisScheduled',
        severity: 'warning',
        for: '15m',
        expr: promql`
          kube_daemonset_status_number_misscheduled{${KSM}} > 0
        `,
        summary: 'DaemonSet pods run where they should not.',
        description:
          '{{ $value }} pods of DaemonSet {{ $labels.namespace }}/{{ $labels.daemonset }} run on nodes they are not supposed to run on.',
      },
      {
        alert: 'KubeJobCompletion',
        severity: 'warning',
        for: '12h',
        expr: promql`
          kube_job_spec_completions{${KSM}} - kube_job_status_succeeded{${KSM}} > 0
        `,
        summary: 'A Job has not completed.',
        description: 'Job {{ $labels.namespace }}/{{ $labels.job_name }} has not completed after 12 hours.',
      },
      {
        alert: 'KubeJobFailed',
        severity: 'warning',
        for: '15m',
        expr: promql`
          kube_job_failed{${KSM}} > 0
        `,
        summary: 'A Job failed.',
        description:
          'Job {{ $labels.namespace }}/{{ $labels.job_name }} failed to complete; remove it to clear this alert.',
      },
      {
        alert: 'KubeHpaReplicasMismatch',
        severity: 'warning',
        for: '15m',
        expr: promql`
          (
            kube_horizontalpodautoscaler_status_desired_replicas{${KSM}}
              !=
            kube_horizontalpodautoscaler_status_current_replicas{${KSM}}
          ) and (
            kube_horizontalpodautoscaler_status_current_replicas{${KSM}}
              >
            kube_horizontalpodautoscaler_spec_min_replicas{${KSM}}
          ) and (
            kube_horizontalpodautoscaler_status_current_replicas{${KSM}}
              <
            kube_horizontalpodautoscaler_spec_max_replicas{${KSM}}
          ) and (
            changes(kube_horizontalpodautoscaler_status_current_replicas{${KSM}}[15m]) == 0
          )
        `,
        summary: 'An HPA has not reached its desired replicas.',
        description:
          'HorizontalPodAutoscaler {{ $labels.namespace }}/{{ $labels.horizontalpodautoscaler }} has not matched its desired number of replicas for 15 minutes.',
      },
      {
        alert: 'KubeHpaMaxedOut',
        severity: 'warning',
        for: '15m',
        expr: promql`
          kube_horizontalpodautoscaler_status_current_replicas{${KSM}}
            ==
          kube_horizontalpodautoscaler_spec_max_replicas{${KSM}}
        `,
        summary: 'An HPA runs at its maximum replicas.',
        description:
          'HorizontalPodAutoscaler {{ $labels.namespace }}/{{ $labels.horizontalpodautoscaler }} has run at its maximum number of replicas for 15 minutes.',
      },
    ],
  },
  {
    name: 'kubernetes-resources',
    runbooks: 'kubernetes',
    rules: [
      {
        alert: 'KubeCPUOvercommit',
        severity: 'warning',
        for: '10m',
        expr: overcommit('cpu'),
        summary: 'The cluster has overcommitted CPU requests.',
        description:
          'Pods request {{ $value }} CPU cores more than the cluster could still run after losing its largest node.',
      },
      {
        alert: 'KubeMemoryOvercommit',
        severity: 'warning',
        for: '10m',
        expr: overcommit('memory'),
        summary: 'The cluster has overcommitted memory requests.',
        description:
          'Pods request {{ $value | humanize }} bytes of memory more than the cluster could still run after losing its largest node.',
      },
      {
        alert: 'KubeCPUQuotaOvercommit',
        severity: 'warning',
        for: '5m',
        expr: quotaOvercommit('cpu'),
        summary: 'ResourceQuotas promise more CPU than the cluster has.',
        description:
          'The CPU hard limits of all ResourceQuotas are {{ $value | humanizePercentage }} of the allocatable CPU.',
      },
      {
        alert: 'KubeMemoryQuotaOvercommit',
        severity: 'warning',
        for: '5m',
        expr: quotaOvercommit('memory'),
        summary: 'ResourceQuotas promise more memory than the cluster has.',
        description:
          'The memory hard limits of all ResourceQuotas are {{ $value | humanizePercentage }} of the allocatable memory.',
      },
      {
        alert: 'KubeQuotaAlmostFull',
        severity: 'info',
        for: '15m',
        expr: promql`
          ${QUOTA_RATIO}
            > 0.9 < 1
        `,
        summary: 'A namespace quota is almost full.',
        description:
          'Namespace {{ $labels.namespace }} uses {{ $value | humanizePercentage }} of its {{ $labels.resource }} quota.',
      },
      {
        alert: 'KubeQuotaFullyUsed',
        severity: 'info',
        for: '15m',
        expr: promql`
          ${QUOTA_RATIO}
            == 1
        `,
        summary: 'A namespace quota is fully used.',
        description: 'Namespace {{ $labels.namespace }} uses all of its {{ $labels.resource }} quota.',
      },
      {
        alert: 'KubeQuotaExceeded',
        severity: 'warning',
        for: '15m',
        expr: promql`
          ${QUOTA_RATIO}
            > 1
        `,
        summary: 'A namespace quota is exceeded.',
        description:
          'Namespace {{ $labels.namespace }} uses {{ $value | humanizePercentage }} of its {{ $labels.resource }} quota.',
      },
      {
        alert: 'CPUThrottlingHigh',
        severity: 'info',
        for: '15m',
        expr: promql`
          sum by (namespace, pod, container) (increase(container_cpu_cfs_throttled_periods_total{container!=""}[5m]))
            /
          sum by (namespace, pod, container) (increase(container_cpu_cfs_periods_total[5m]))
            > 0.25
        `,
        summary: 'A container is often CPU-throttled.',
        description:
          'Container {{ $labels.container }} of pod {{ $labels.namespace }}/{{ $labels.pod }} was throttled in {{ $value | humanizePercentage }} of its CPU periods.',
      },
    ],
  },
  {
    name: 'kubernetes-storage',
    runbooks: 'kubernetes',
    rules: [
      {
        alert: 'KubePersistentVolumeFillingUp',
        severity: 'critical',
        for: '1m',
        expr: promql`
          (
            ${PVC_FREE} < 0.03
            and
            kubelet_volume_stats_used_bytes{${KUBELET}} > 0
          )
          ${PVC_NOT_READ_ONLY}
        `,
        summary: 'A persistent volume is almost full.',
        description:
          'The volume of PersistentVolumeClaim {{ $labels.namespace }}/{{ $labels.persistentvolumeclaim }} has only {{ $value | humanizePercentage }} free.',
      },
      {
        alert: 'KubePersistentVolumeFillingUp',
        severity: 'warning',
        for: '1h',
        expr: promql`
          (
            ${PVC_FREE} < 0.15
            and
            kubelet_volume_stats_used_bytes{${KUBELET}} > 0
            and
            predict_linear(kubelet_volume_stats_available_bytes{${KUBELET}}[6h], 4 * 24 * 3600) < 0
          )
          ${PVC_NOT_READ_ONLY}
        `,
        summary: 'A persistent volume will be full within four days.',
        description:
          'The volume of PersistentVolumeClaim {{ $labels.namespace }}/{{ $labels.persistentvolumeclaim }} has {{ $value | humanizePercentage }} free and, at its current growth, fills up within four days.',
      },
      {
        alert: 'KubePersistentVolumeErrors',
        severity: 'critical',
        for: '5m',
        expr: promql`
          kube_persistentvolume_status_phase{${KSM}, phase=~"Failed|Pending"} > 0
        `,
        summary: 'A persistent volume has a problem.',
        description: 'PersistentVolume {{ $labels.persistentvolume }} is in phase {{ $labels.phase }}.',
      },
    ],
  },
  {
    name: 'kubernetes-system',
    runbooks: 'kubernetes',
    rules: [
      {
        alert: 'KubeVersionMismatch',
        severity: 'warning',
        for: '15m',
        expr: promql`
          count(
            count by (git_version) (
              label_replace(kubernetes_build_info{job!~"kube-dns|coredns"}, "git_version", "$1", "git_version", "(v[0-9]*.[0-9]*).*")
            )
          ) > 1
        `,
        summary: 'Kubernetes components run different versions.',
        description: 'Components of the cluster run {{ $value }} different minor versions of Kubernetes.',
      },
      {
        alert: 'KubeClientErrors',
        severity: 'warning',
        for: '15m',
        expr: promql`
          (
            sum by (namespace, job, instance) (rate(rest_client_requests_total{code=~"5.."}[5m]))
              /
            sum by (namespace, job, instance) (rate(rest_client_requests_total[5m]))
          ) > 0.01
        `,
        summary: 'An API client sees server errors.',
        description:
          'The API client of {{ $labels.job }}/{{ $labels.instance }} gets {{ $value | humanizePercentage }} of its requests answered with a server error.',
      },
    ],
  },
  {
    name: 'kube-apiserver-slos',
    runbooks: 'kubernetes',
    rules: [
      {
        alert: 'KubeAPIErrorBudgetBurn',
        severity: 'critical',
        for: '2m',
        expr: burn('1h', '5m', '14.4'),
        labels: { long: '1h', short: '5m' },
        ...burnText,
      },
      {
        alert: 'KubeAPIErrorBudgetBurn',
        severity: 'critical',
        for: '15m',
        expr: burn('6h', '30m', '6'),
        labels: { long: '6h', short: '30m' },
        ...burnText,
      },
      {
        alert: 'KubeAPIErrorBudgetBurn',
        severity: 'warning',
        for: '1h',
        expr: burn('1d', '2h', '3'),
        labels: { long: '1d', short: '2h' },
        ...burnText,
      },
      {
        alert: 'KubeAPIErrorBudgetBurn',
        severity: 'warning',
        for: '3h',
        expr: burn('3d', '6h', '1'),
        labels: { long: '3d', short: '6h' },
        ...burnText,
      },
    ],
  },
  {
    name: 'kubernetes-system-apiserver',
    runbooks: 'kubernetes',
    rules: [
      {
        alert: 'KubeClientCertificateExpiration',
        severity: 'warning',
        expr: promql`
          apiserver_client_certificate_expiration_seconds_count{${APISERVER}} > 0
          and on (job)
          histogram_quantile(0.01, sum by (job, le) (rate(apiserver_client_certificate_expiration_seconds_bucket{${APISERVER}}[5m])))
            < 7 * 24 * 3600
        `,
        summary: 'A client certificate expires soon.',
        description:
          'A client certificate used to authenticate to the API server expires in less than 7 days.',
      },
      {
        alert: 'KubeClientCertificateExpiration',
        severity: 'critical',
        expr: promql`
          apiserver_client_certificate_expiration_seconds_count{${APISERVER}} > 0
          and on (job)
          histogram_quantile(0.01, sum by (job, le) (rate(apiserver_client_certificate_expiration_seconds_bucket{${APISERVER}}[5m])))
            < 24 * 3600
        `,
        summary: 'A client certificate expires within a day.',
        description:
          'A client certificate used to authenticate to the API server expires in less than 24 hours.',
      },
      {
        alert: 'KubeAggregatedAPIErrors',
        severity: 'warning',
        expr: promql`
          sum by (name, namespace) (increase(aggregator_unavailable_apiservice_total[10m])) > 4
        `,
        summary: 'An aggregated API keeps becoming unavailable.',
        description:
          'Aggregated API {{ $labels.name }}/{{ $labels.namespace }} became unavailable {{ $value }} times in the last 10 minutes.',
      },
      {
        alert: 'KubeAggregatedAPIDown',
        severity: 'warning',
        for: '5m',
        expr: promql`
          (1 - max by (name, namespace) (avg_over_time(aggregator_unavailable_apiservice[10m]))) * 100 < 85
        `,
        summary: 'An aggregated API is down.',
        description:
          'Aggregated API {{ $labels.name }}/{{ $labels.namespace }} was available only {{ $value | humanize }}% of the last 10 minutes.',
      },
      {
        alert: 'KubeAPIDown',
        severity: 'critical',
        for: '15m',
        expr: promql`
          absent(up{${APISERVER}} == 1)
        `,
        summary: 'The Kubernetes API server is unreachable.',
        description: 'Prometheus has not scraped any kube-apiserver target for 15 minutes.',
      },
      {
        alert: 'KubeAPITerminatedRequests',
        severity: 'warning',
        for: '5m',
        expr: promql`
          sum(rate(apiserver_request_terminations_total{${APISERVER}}[10m]))
            /
          (
            sum(rate(apiserver_request_total{${APISERVER}}[10m]))
              +
            sum(rate(apiserver_request_terminations_total{${APISERVER}}[10m]))
          )
            > 0.2
        `,
        summary: 'The API server terminates many requests.',
        description: 'The API server terminated {{ $value | humanizePercentage }} of its incoming requests.',
      },
    ],
  },
  {
    name: 'kubernetes-system-kubelet',
    runbooks: 'kubernetes',
    rules: [
      {
        alert: 'KubeNodeNotReady',
        severity: 'warning',
        for: '15m',
        expr: promql`
          kube_node_status_condition{${KSM}, condition="Ready", status="true"} == 0
        `,
        summary: 'A node is not ready.',
        description: 'Node {{ $labels.node }} has not been ready for 15 minutes.',
      },
      {
        alert: 'KubeNodeUnreachable',
        severity: 'warning',
        for: '15m',
        expr: promql`
          (
            kube_node_spec_taint{${KSM}, key="node.kubernetes.io/unreachable", effect="NoSchedule"}
              unless ignoring (key, value)
            kube_node_spec_taint{${KSM}, key=~"ToBeDeletedByClusterAutoscaler|cloud.google.com/impending-node-termination|aws-node-termination-handler/spot-itn"}
          ) == 1
        `,
        summary: 'A node is unreachable.',
        description: 'Node {{ $labels.node }} is tainted unreachable: its workloads are being rescheduled.',
      },
      {
        alert: 'KubeletTooManyPods',
        severity: 'info',
        for: '15m',
        expr: promql`
          count by (node) (
            (kube_pod_status_phase{${KSM}, phase="Running"} == 1)
            * on (instance, pod, namespace) group_left (node)
            topk by (instance, pod, namespace) (1, kube_pod_info{${KSM}})
          )
            /
          max by (node) (kube_node_status_capacity{${KSM}, resource="pods"} != 1)
            > 0.95
        `,
        summary: 'A node is close to its pod limit.',
        description:
          'Node {{ $labels.node }} runs {{ $value | humanizePercentage }} of the pods it can hold.',
      },
      {
        alert: 'KubeNodeReadinessFlapping',
        severity: 'warning',
        for: '15m',
        expr: promql`
          sum by (node) (changes(kube_node_status_condition{${KSM}, status="true", condition="Ready"}[15m])) > 2
        `,
        summary: 'A node keeps changing its readiness.',
        description:
          'Node {{ $labels.node }} changed its readiness {{ $value }} times in the last 15 minutes.',
      },
      {
        alert: 'KubeletPlegDurationHigh',
        severity: 'warning',
        for: '5m',
        expr: promql`
          node_quantile:kubelet_pleg_relist_duration_seconds:histogram_quantile{quantile="0.99"} >= 10
        `,
        summary: 'A kubelet relists its pods slowly.',
        description:
          'The 99th percentile of the kubelet PLEG relist duration on node {{ $labels.node }} is {{ $value }} seconds.',
      },
      {
        alert: 'KubeletPodStartUpLatencyHigh',
        severity: 'warning',
        for: '15m',
        expr: promql`
          histogram_quantile(0.99, sum by (instance, le) (rate(kubelet_pod_worker_duration_seconds_bucket{${KUBELET}}[5m])))
          * on (instance) group_left (node)
          kubelet_node_name{${KUBELET}}
            > 60
        `,
        summary: 'Pods start slowly on a node.',
        description:
          'The 99th percentile of pod start-up latency on node {{ $labels.node }} is {{ $value }} seconds.',
      },
      {
        alert: 'KubeletClientCertificateExpiration',
        severity: 'warning',
        expr: promql`
          kubelet_certificate_manager_client_ttl_seconds < 7 * 24 * 3600
        `,
        summary: 'A kubelet client certificate expires soon.',
        description:
          'The client certificate of the kubelet on node {{ $labels.node }} expires in {{ $value | humanizeDuration }}.',
      },
      {
        alert: 'KubeletClientCertificateExpiration',
        severity: 'critical',
        expr: promql`
          kubelet_certificate_manager_client_ttl_seconds < 24 * 3600
        `,
        summary: 'A kubelet client certificate expires within a day.',
        description:
          'The client certificate of the kubelet on node {{ $labels.node }} expires in {{ $value | humanizeDuration }}.',
      },
      {
        alert: 'KubeletServerCertificateExpiration',
        severity: 'warning',
        expr: promql`
          kubelet_certificate_manager_server_ttl_seconds < 7 * 24 * 3600
        `,
        summary: 'A kubelet server certificate expires soon.',
        description:
          'The serving certificate of the kubelet on node {{ $labels.node }} expires in {{ $value | humanizeDuration }}.',
      },
      {
        alert: 'KubeletServerCertificateExpiration',
        severity: 'critical',
        expr: promql`
          kubelet_certificate_manager_server_ttl_seconds < 24 * 3600
        `,
        summary: 'A kubelet server certificate expires within a day.',
        description:
          'The serving certificate of the kubelet on node {{ $labels.node }} expires in {{ $value | humanizeDuration }}.',
      },
      {
        alert: 'KubeletClientCertificateRenewalErrors',
        severity: 'warning',
        for: '15m',
        expr: promql`
          increase(kubelet_certificate_manager_client_expiration_renew_errors[5m]) > 0
        `,
        summary: 'A kubelet cannot renew its client certificate.',
        description:
          'The kubelet on node {{ $labels.node }} failed {{ $value | humanize }} times in the last 5 minutes to renew its client certificate.',
      },
      {
        alert: 'KubeletServerCertificateRenewalErrors',
        severity: 'warning',
        for: '15m',
        expr: promql`
          increase(kubelet_server_expiration_renew_errors[5m]) > 0
        `,
        summary: 'A kubelet cannot renew its server certificate.',
        description:
          'The kubelet on node {{ $labels.node }} failed {{ $value | humanize }} times in the last 5 minutes to renew its serving certificate.',
      },
      {
        alert: 'KubeletDown',
        severity: 'critical',
        for: '15m',
        expr: promql`
          absent(up{${KUBELET}} == 1)
        `,
        summary: 'No kubelet can be scraped.',
        description: 'Prometheus has not scraped any kubelet for 15 minutes.',
      },
    ],
  },
  {
    name: 'kubernetes-system-scheduler',
    runbooks: 'kubernetes',
    rules: [
      {
        alert: 'KubeSchedulerDown',
        severity: 'critical',
        for: '15m',
        expr: promql`
          absent(up{job="kube-scheduler"} == 1)
        `,
        summary: 'The scheduler is unreachable.',
        description: 'Prometheus has not scraped any kube-scheduler for 15 minutes.',
      },
    ],
  },
  {
    name: 'kubernetes-system-controller-manager',
    runbooks: 'kubernetes',
    rules: [
      {
        alert: 'KubeControllerManagerDown',
        severity: 'critical',
        for: '15m',
        expr: promql`
          absent(up{job="kube-controller-manager"} == 1)
        `,
        summary: 'The controller manager is unreachable.',
        description: 'Prometheus has not scraped any kube-controller-manager for 15 minutes.',
      },
    ],
  },
];
