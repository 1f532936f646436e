/**
 * The groups of the monitoring components themselves: alertmanager-rules (alertmanager role),
 * kube-state-metrics (kube-state-metrics role), prometheus-operator and config-reloaders (the
 * operator, in prometheus-stack), prometheus (prometheus-stack), thanos-rule (the original applied it
 * only with its alerting module; we install it with prometheus-stack, see docs/differences.md).
 *
 * Looked up in the alertmanager, prometheus, prometheus-operator, kube-state-metrics and thanos
 * mixins for the facts the meanings leave open: which series and windows they read (5m rates and
 * max/min_over_time; 10m for operator list/watch errors, 3h for TSDB failures, 30m for target sync),
 * the thresholds (1 %/3 % notification errors, 40 % operator list/watch errors, 10 % reconcile
 * errors, 0.1/s node lookup errors, 120 s remote-write lag, 5 % Thanos evaluation and gRPC errors,
 * 1 % DNS failures), the gRPC codes that count as server errors. Jobs are our ServiceMonitors' (the
 * Service names alertmanager-main, prometheus-k8s, prometheus-operator, kube-state-metrics).
 * The expressions and texts are ours.
 */
import { promql, type AlertGroupSpec } from '../model.js';

const AM = 'job="alertmanager-main", namespace="kubesphere-monitoring-system"';
const PROM = 'job="prometheus-k8s", namespace="kubesphere-monitoring-system"';
const OPERATOR = 'job="prometheus-operator", namespace="kubesphere-monitoring-system"';
const KSM = 'job="kube-state-metrics"';
// The ruler the alerting role installs: its ServiceMonitor makes the job thanos-ruler-kubesphere.
const THANOS = 'job="thanos-ruler-kubesphere", namespace="kubesphere-monitoring-system"';

/** Every integration counts as critical (the alertmanager mixin's default), so the warning twin never fires. */
const CRITICAL_INTEGRATIONS = '.*';

function clusterFailedToSend(integrations: string) {
  return promql`
    min by (namespace, service, integration) (
      rate(alertmanager_notifications_failed_total{${AM}, integration${integrations}}[5m])
        /
      rate(alertmanager_notifications_total{${AM}, integration${integrations}}[5m])
    ) > 0.01
  `;
}

export const ALERTMANAGER_GROUP: AlertGroupSpec = {
  name: 'alertmanager-rules',
  runbooks: 'alertmanager',
  rules: [
    {
      alert: 'AlertmanagerFailedReload',
      severity: 'critical',
      for: '10m',
      expr: promql`
        max_over_time(alertmanager_config_last_reload_successful{${AM}}[5m]) == 0
      `,
      summary: 'Alertmanager could not reload its configuration.',
      description:
        'Alertmanager {{ $labels.namespace }}/{{ $labels.pod }} failed its last configuration reload.',
    },
    {
      alert: 'AlertmanagerMembersInconsistent',
      severity: 'critical',
      for: '15m',
      expr: promql`
        max_over_time(alertmanager_cluster_members{${AM}}[5m])
          < on (namespace, service) group_left
        count by (namespace, service) (max_over_time(alertmanager_cluster_members{${AM}}[5m]))
      `,
      summary: 'An Alertmanager does not see all its peers.',
      description:
        'Alertmanager {{ $labels.namespace }}/{{ $labels.pod }} sees only {{ $value }} members of its cluster.',
    },
    {
      alert: 'AlertmanagerFailedToSendAlerts',
      severity: 'warning',
      for: '5m',
      expr: promql`
        (
          rate(alertmanager_notifications_failed_total{${AM}}[5m])
            /
          rate(alertmanager_notifications_total{${AM}}[5m])
        ) > 0.01
      `,
      summary: 'An Alertmanager fails to send notifications.',
      description:
        'Alertmanager {{ $labels.namespace }}/{{ $labels.pod }} failed to send {{ $value | humanizePercentage }} of its notifications to {{ $labels.integration }}.',
    },
    {
      alert: 'AlertmanagerClusterFailedToSendAlerts',
      severity: 'critical',
      for: '5m',
      expr: clusterFailedToSend(`=~"${CRITICAL_INTEGRATIONS}"`),
      summary: 'Every Alertmanager fails to send notifications to a critical integration.',
      description:
        'Even the best Alertmanager of {{ $labels.namespace }}/{{ $labels.service }} failed to send {{ $value | humanizePercentage }} of its notifications to {{ $labels.integration }}.',
    },
    {
      alert: 'AlertmanagerClusterFailedToSendAlerts',
      severity: 'warning',
      for: '5m',
      expr: clusterFailedToSend(`!~"${CRITICAL_INTEGRATIONS}"`),
      summary: 'Every Alertmanager fails to send notifications to a non-critical integration.',
      description:
        'Even the best Alertmanager of {{ $labels.namespace }}/{{ $labels.service }} failed to send {{ $value | humanizePercentage }} of its notifications to {{ $labels.integration }}.',
    },
    {
      alert: 'AlertmanagerConfigInconsistent',
      severity: 'critical',
      for: '20m',
      expr: promql`
        count by (namespace, service) (
          count_values by (namespace, service) ("config_hash", alertmanager_config_hash{${AM}})
        ) != 1
      `,
      summary: 'Alertmanagers of one cluster run different configurations.',
      description:
        'The Alertmanagers of {{ $labels.namespace }}/{{ $labels.service }} run different configurations.',
    },
    {
      alert: 'AlertmanagerClusterDown',
      severity: 'critical',
      for: '5m',
      expr: promql`
        (
          count by (namespace, service) (avg_over_time(up{${AM}}[5m]) < 0.5)
            /
          count by (namespace, service) (up{${AM}})
        ) >= 0.5
      `,
      summary: 'Half or more of the Alertmanagers are down.',
      description:
        '{{ $value | humanizePercentage }} of the Alertmanagers of {{ $labels.namespace }}/{{ $labels.service }} were up less than half of the last 5 minutes.',
    },
    {
      alert: 'AlertmanagerClusterCrashlooping',
      severity: 'critical',
      for: '5m',
      expr: promql`
        (
          count by (namespace, service) (changes(process_start_time_seconds{${AM}}[10m]) > 4)
            /
          count by (namespace, service) (up{${AM}})
        ) >= 0.5
      `,
      summary: 'Half or more of the Alertmanagers keep restarting.',
      description:
        '{{ $value | humanizePercentage }} of the Alertmanagers of {{ $labels.namespace }}/{{ $labels.service }} restarted more than 4 times in the last 10 minutes.',
    },
  ],
};

function ksmErrors(metric: string) {
  return promql`
    (
      sum(rate(${metric}{${KSM}, result="error"}[5m]))
        /
      sum(rate(${metric}{${KSM}}[5m]))
    ) > 0.01
  `;
}

export const KUBE_STATE_METRICS_GROUP: AlertGroupSpec = {
  name: 'kube-state-metrics',
  runbooks: 'kube-state-metrics',
  rules: [
    {
      alert: 'KubeStateMetricsListErrors',
      severity: 'critical',
      for: '15m',
      expr: ksmErrors('kube_state_metrics_list_total'),
      summary: 'kube-state-metrics fails to list objects.',
      description:
        '{{ $value | humanizePercentage }} of the list requests of kube-state-metrics fail: some of its metrics are missing or stale.',
    },
    {
      alert: 'KubeStateMetricsWatchErrors',
      severity: 'critical',
      for: '15m',
      expr: ksmErrors('kube_state_metrics_watch_total'),
      summary: 'kube-state-metrics fails to watch objects.',
      description:
        '{{ $value | humanizePercentage }} of the watch requests of kube-state-metrics fail: some of its metrics are missing or stale.',
    },
    {
      alert: 'KubeStateMetricsShardingMismatch',
      severity: 'critical',
      for: '15m',
      expr: promql`
        stdvar(kube_state_metrics_total_shards{${KSM}}) != 0
      `,
      summary: 'kube-state-metrics shards disagree on their number.',
      description: 'The kube-state-metrics instances are configured with different total shard counts.',
    },
    {
      alert: 'KubeStateMetricsShardsMissing',
      severity: 'critical',
      for: '15m',
      expr: promql`
        2 ^ max(kube_state_metrics_total_shards{${KSM}}) - 1
          -
        sum(2 ^ max by (shard_ordinal) (kube_state_metrics_shard_ordinal{${KSM}}))
          != 0
      `,
      summary: 'kube-state-metrics shards are missing.',
      description: 'Some kube-state-metrics shard ordinals are not running: their objects are not exposed.',
    },
  ],
};

/** Share of prometheus-operator's list or watch calls that failed over 10 minutes, above 40 %. */
function operatorFailures(call: 'list' | 'watch') {
  return promql`
    (
      sum by (controller, namespace) (rate(prometheus_operator_${call}_operations_failed_total{${OPERATOR}}[10m]))
        /
      sum by (controller, namespace) (rate(prometheus_operator_${call}_operations_total{${OPERATOR}}[10m]))
    ) > 0.4
  `;
}

export const PROMETHEUS_OPERATOR_GROUP: AlertGroupSpec = {
  name: 'prometheus-operator',
  runbooks: 'prometheus-operator',
  rules: [
    {
      alert: 'PrometheusOperatorListErrors',
      severity: 'warning',
      for: '15m',
      expr: operatorFailures('list'),
      summary: 'prometheus-operator fails to list objects.',
      description:
        'The {{ $labels.controller }} controller of prometheus-operator fails many of its list calls.',
    },
    {
      alert: 'PrometheusOperatorWatchErrors',
      severity: 'warning',
      for: '15m',
      expr: operatorFailures('watch'),
      summary: 'prometheus-operator fails to watch objects.',
      description:
        'The {{ $labels.controller }} controller of prometheus-operator fails many of its watch calls.',
    },
    {
      alert: 'PrometheusOperatorSyncFailed',
      severity: 'warning',
      for: '10m',
      expr: promql`
        min_over_time(prometheus_operator_syncs{${OPERATOR}, status="failed"}[5m]) > 0
      `,
      summary: 'prometheus-operator has objects it cannot sync.',
      description:
        'The {{ $labels.controller }} controller of prometheus-operator has {{ $value }} objects whose last sync failed.',
    },
    {
      alert: 'PrometheusOperatorReconcileErrors',
      severity: 'warning',
      for: '10m',
      expr: promql`
        (
          sum by (controller, namespace) (rate(prometheus_operator_reconcile_errors_total{${OPERATOR}}[5m]))
            /
          sum by (controller, namespace) (rate(prometheus_operator_reconcile_operations_total{${OPERATOR}}[5m]))
        ) > 0.1
      `,
      summary: 'prometheus-operator reconciliations fail.',
      description:
        '{{ $value | humanizePercentage }} of the reconciliations of the {{ $labels.controller }} controller of prometheus-operator fail.',
    },
    {
      alert: 'PrometheusOperatorNodeLookupErrors',
      severity: 'warning',
      for: '10m',
      expr: promql`
        rate(prometheus_operator_node_address_lookup_errors_total{${OPERATOR}}[5m]) > 0.1
      `,
      summary: 'prometheus-operator cannot look up node addresses.',
      description: 'prometheus-operator fails to find the addresses of nodes for the kubelet endpoints.',
    },
    {
      alert: 'PrometheusOperatorNotReady',
      severity: 'warning',
      for: '5m',
      expr: promql`
        min by (controller, namespace) (max_over_time(prometheus_operator_ready{${OPERATOR}}[5m]) == 0)
      `,
      summary: 'prometheus-operator is not ready.',
      description:
        'The {{ $labels.controller }} controller of prometheus-operator is not ready to reconcile.',
    },
    {
      alert: 'PrometheusOperatorRejectedResources',
      severity: 'warning',
      for: '5m',
      expr: promql`
        min_over_time(prometheus_operator_managed_resources{${OPERATOR}, state="rejected"}[5m]) > 0
      `,
      summary: 'prometheus-operator rejected invalid objects.',
      description:
        'The {{ $labels.controller }} controller of prometheus-operator rejected {{ $value }} {{ $labels.resource }} objects; its logs say why.',
    },
  ],
};

export const CONFIG_RELOADERS_GROUP: AlertGroupSpec = {
  name: 'config-reloaders',
  runbooks: 'prometheus-operator',
  rules: [
    {
      alert: 'ConfigReloaderSidecarErrors',
      severity: 'warning',
      for: '10m',
      expr: promql`
        max_over_time(reloader_last_reload_successful{namespace=~".+"}[5m]) == 0
      `,
      summary: 'A config-reloader sidecar fails to reload.',
      description:
        'The config-reloader sidecar of pod {{ $labels.namespace }}/{{ $labels.pod }} has not reloaded successfully for 10 minutes.',
    },
  ],
};

export const PROMETHEUS_GROUP: AlertGroupSpec = {
  name: 'prometheus',
  runbooks: 'prometheus',
  rules: [
    {
      alert: 'PrometheusBadConfig',
      severity: 'critical',
      for: '10m',
      expr: promql`
        max_over_time(prometheus_config_last_reload_successful{${PROM}}[5m]) == 0
      `,
      summary: 'Prometheus could not reload its configuration.',
      description:
        'Prometheus {{ $labels.namespace }}/{{ $labels.pod }} failed its last configuration reload.',
    },
    {
      alert: 'PrometheusNotificationQueueRunningFull',
      severity: 'warning',
      for: '15m',
      expr: promql`
        predict_linear(prometheus_notifications_queue_length{${PROM}}[5m], 30 * 60)
          >
        min_over_time(prometheus_notifications_queue_capacity{${PROM}}[5m])
      `,
      summary: "Prometheus's alert queue is filling up.",
      description:
        'The alert notification queue of Prometheus {{ $labels.namespace }}/{{ $labels.pod }} will be full within 30 minutes.',
    },
    {
      alert: 'PrometheusErrorSendingAlertsToSomeAlertmanagers',
      severity: 'warning',
      for: '15m',
      expr: promql`
        (
          rate(prometheus_notifications_errors_total{${PROM}}[5m])
            /
          rate(prometheus_notifications_sent_total{${PROM}}[5m])
        ) * 100 > 1
      `,
      summary: 'Prometheus fails to send alerts to an Alertmanager.',
      description:
        'Prometheus {{ $labels.namespace }}/{{ $labels.pod }} failed to send {{ printf "%.1f" $value }}% of its alerts to {{ $labels.alertmanager }}.',
    },
    {
      alert: 'PrometheusNotConnectedToAlertmanagers',
      severity: 'warning',
      for: '10m',
      expr: promql`
        max_over_time(prometheus_notifications_alertmanagers_discovered{${PROM}}[5m]) < 1
      `,
      summary: 'Prometheus knows no Alertmanager.',
      description:
        'Prometheus {{ $labels.namespace }}/{{ $labels.pod }} has discovered no Alertmanager to send alerts to.',
    },
    {
      alert: 'PrometheusTSDBReloadsFailing',
      severity: 'warning',
      for: '4h',
      expr: promql`
        increase(prometheus_tsdb_reloads_failures_total{${PROM}}[3h]) > 0
      `,
      summary: 'Prometheus fails to reload its data blocks.',
      description:
        'Prometheus {{ $labels.namespace }}/{{ $labels.pod }} failed {{ $value | humanize }} block reloads in the last 3 hours.',
    },
    {
      alert: 'PrometheusTSDBCompactionsFailing',
      severity: 'warning',
      for: '4h',
      expr: promql`
        increase(prometheus_tsdb_compactions_failed_total{${PROM}}[3h]) > 0
      `,
      summary: 'Prometheus fails to compact its data blocks.',
      description:
        'Prometheus {{ $labels.namespace }}/{{ $labels.pod }} failed {{ $value | humanize }} compactions in the last 3 hours.',
    },
    {
      alert: 'PrometheusNotIngestingSamples',
      severity: 'warning',
      for: '10m',
      expr: promql`
        (
          rate(prometheus_tsdb_head_samples_appended_total{${PROM}}[5m]) <= 0
          and
          (
            sum without (scrape_job) (prometheus_target_metadata_cache_entries{${PROM}}) > 0
            or
            sum without (rule_group) (prometheus_rule_group_rules{${PROM}}) > 0
          )
        )
      `,
      summary: 'Prometheus stores no samples.',
      description:
        'Prometheus {{ $labels.namespace }}/{{ $labels.pod }} has targets or rules but appends no samples.',
    },
    {
      alert: 'PrometheusDuplicateTimestamps',
      severity: 'warning',
      for: '10m',
      expr: promql`
        rate(prometheus_target_scrapes_sample_duplicate_timestamp_total{${PROM}}[5m]) > 0
      `,
      summary: 'Prometheus drops samples with duplicate timestamps.',
      description:
        'Prometheus {{ $labels.namespace }}/{{ $labels.pod }} drops {{ printf "%.4g" $value }} samples per second that repeat a timestamp with another value.',
    },
    {
      alert: 'PrometheusOutOfOrderTimestamps',
      severity: 'warning',
      for: '10m',
      expr: promql`
        rate(prometheus_target_scrapes_sample_out_of_order_total{${PROM}}[5m]) > 0
      `,
      summary: 'Prometheus drops samples that arrive out of order.',
      description:
        'Prometheus {{ $labels.namespace }}/{{ $labels.pod }} drops {{ printf "%.4g" $value }} samples per second older than the newest of their series.',
    },
    {
      alert: 'PrometheusRemoteStorageFailures',
      severity: 'critical',
      for: '15m',
      expr: promql`
        (
          (rate(prometheus_remote_storage_failed_samples_total{${PROM}}[5m]) or rate(prometheus_remote_storage_samples_failed_total{${PROM}}[5m]))
            /
          (
            (rate(prometheus_remote_storage_failed_samples_total{${PROM}}[5m]) or rate(prometheus_remote_storage_samples_failed_total{${PROM}}[5m]))
              +
            (rate(prometheus_remote_storage_succeeded_samples_total{${PROM}}[5m]) or rate(prometheus_remote_storage_samples_total{${PROM}}[5m]))
          )
        ) * 100 > 1
      `,
      summary: 'Prometheus fails to send samples to remote storage.',
      description:
        'Prometheus {{ $labels.namespace }}/{{ $labels.pod }} failed to send {{ printf "%.1f" $value }}% of its samples to {{ $labels.remote_name }} ({{ $labels.url }}).',
    },
    {
      alert: 'PrometheusRemoteWriteBehind',
      severity: 'critical',
      for: '15m',
      expr: promql`
        (
          max_over_time(prometheus_remote_storage_highest_timestamp_in_seconds{${PROM}}[5m])
            - ignoring (remote_name, url) group_right
          max_over_time(prometheus_remote_storage_queue_highest_sent_timestamp_seconds{${PROM}}[5m])
        ) > 120
      `,
      summary: 'Prometheus remote write lags behind.',
      description:
        'Remote write of Prometheus {{ $labels.namespace }}/{{ $labels.pod }} to {{ $labels.remote_name }} is {{ printf "%.1f" $value }} seconds behind.',
    },
    {
      alert: 'PrometheusRemoteWriteDesiredShards',
      severity: 'warning',
      for: '15m',
      expr: promql`
        max_over_time(prometheus_remote_storage_shards_desired{${PROM}}[5m])
          >
        max_over_time(prometheus_remote_storage_shards_max{${PROM}}[5m])
      `,
      summary: 'Prometheus remote write needs more shards than allowed.',
      description:
        'Remote write of Prometheus {{ $labels.namespace }}/{{ $labels.pod }} to {{ $labels.remote_name }} wants {{ $value }} shards, more than its maximum.',
    },
    {
      alert: 'PrometheusRuleFailures',
      severity: 'critical',
      for: '15m',
      expr: promql`
        increase(prometheus_rule_evaluation_failures_total{${PROM}}[5m]) > 0
      `,
      summary: 'Prometheus fails to evaluate rules.',
      description:
        'Prometheus {{ $labels.namespace }}/{{ $labels.pod }} failed {{ printf "%.0f" $value }} rule evaluations in the last 5 minutes.',
    },
    {
      alert: 'PrometheusMissingRuleEvaluations',
      severity: 'warning',
      for: '15m',
      expr: promql`
        increase(prometheus_rule_group_iterations_missed_total{${PROM}}[5m]) > 0
      `,
      summary: 'Prometheus skips rule evaluations.',
      description:
        'Prometheus {{ $labels.namespace }}/{{ $labels.pod }} missed {{ printf "%.0f" $value }} rule group evaluations in the last 5 minutes: the groups take too long.',
    },
    {
      alert: 'PrometheusTargetLimitHit',
      severity: 'warning',
      for: '15m',
      expr: promql`
        increase(prometheus_target_scrape_pool_exceeded_target_limit_total{${PROM}}[5m]) > 0
      `,
      summary: 'Prometheus dropped targets over the target limit.',
      description:
        'Prometheus {{ $labels.namespace }}/{{ $labels.pod }} dropped {{ printf "%.0f" $value }} targets because a scrape configuration exceeds its target limit.',
    },
    {
      alert: 'PrometheusLabelLimitHit',
      severity: 'warning',
      for: '15m',
      expr: promql`
        increase(prometheus_target_scrape_pool_exceeded_label_limits_total{${PROM}}[5m]) > 0
      `,
      summary: 'Prometheus dropped targets over the label limits.',
      description:
        'Prometheus {{ $labels.namespace }}/{{ $labels.pod }} dropped {{ printf "%.0f" $value }} targets because they exceed a label limit.',
    },
    {
      alert: 'PrometheusTargetSyncFailure',
      severity: 'critical',
      for: '5m',
      expr: promql`
        increase(prometheus_target_sync_failed_total{${PROM}}[30m]) > 0
      `,
      summary: 'Prometheus cannot sync its targets.',
      description:
        'Prometheus {{ $labels.namespace }}/{{ $labels.pod }} failed {{ printf "%.0f" $value }} times to sync the targets of {{ $labels.scrape_job }}: its scrape configuration is probably invalid.',
    },
    {
      alert: 'PrometheusErrorSendingAlertsToAnyAlertmanager',
      severity: 'critical',
      for: '15m',
      expr: promql`
        min without (alertmanager) (
          rate(prometheus_notifications_errors_total{${PROM}, alertmanager!~""}[5m])
            /
          rate(prometheus_notifications_sent_total{${PROM}, alertmanager!~""}[5m])
        ) * 100 > 3
      `,
      summary: 'Prometheus fails to send alerts to every Alertmanager.',
      description:
        'Prometheus {{ $labels.namespace }}/{{ $labels.pod }} failed to send at least {{ printf "%.1f" $value }}% of its alerts to each Alertmanager.',
    },
  ],
};

/** A Thanos Ruler failure counter as a percentage of its total counter (5m rates), above `threshold`. */
function thanosPercent(failures: string, total: string, threshold: number, failureSelector?: string) {
  const failed = failureSelector ? `${THANOS}, ${failureSelector}` : THANOS;
  return promql`
    (
      sum by (job, instance) (rate(${failures}{${failed}}[5m]))
        /
      sum by (job, instance) (rate(${total}{${THANOS}}[5m]))
    ) * 100 > ${threshold}
  `;
}

export const THANOS_RULE_GROUP: AlertGroupSpec = {
  name: 'thanos-rule',
  runbooks: 'thanos',
  rules: [
    {
      alert: 'ThanosRuleQueueIsDroppingAlerts',
      severity: 'critical',
      for: '5m',
      expr: promql`
        sum by (job, instance) (rate(thanos_alert_queue_alerts_dropped_total{${THANOS}}[5m])) > 0
      `,
      summary: 'Thanos Ruler drops alerts from its queue.',
      description: 'Thanos Ruler {{ $labels.instance }} drops alerts it could not queue.',
    },
    {
      alert: 'ThanosRuleSenderIsFailingAlerts',
      severity: 'critical',
      for: '5m',
      expr: promql`
        sum by (job, instance) (rate(thanos_alert_sender_alerts_dropped_total{${THANOS}}[5m])) > 0
      `,
      summary: 'Thanos Ruler fails to send alerts.',
      description: 'Thanos Ruler {{ $labels.instance }} fails to send alerts to Alertmanager.',
    },
    {
      alert: 'ThanosRuleHighRuleEvaluationFailures',
      severity: 'critical',
      for: '5m',
      expr: thanosPercent(
        'prometheus_rule_evaluation_failures_total',
        'prometheus_rule_evaluations_total',
        5,
      ),
      summary: 'Thanos Ruler fails to evaluate rules.',
      description:
        'Thanos Ruler {{ $labels.instance }} fails {{ printf "%.1f" $value }}% of its rule evaluations.',
    },
    {
      alert: 'ThanosRuleHighRuleEvaluationWarnings',
      severity: 'info',
      for: '15m',
      expr: promql`
        sum by (job, instance) (rate(thanos_rule_evaluation_with_warnings_total{${THANOS}}[5m])) > 0
      `,
      summary: 'Thanos Ruler evaluations return warnings.',
      description: 'Thanos Ruler {{ $labels.instance }} gets warnings from many of its rule evaluations.',
    },
    {
      alert: 'ThanosRuleRuleEvaluationLatencyHigh',
      severity: 'warning',
      for: '5m',
      expr: promql`
        sum by (job, instance, rule_group) (prometheus_rule_group_last_duration_seconds{${THANOS}})
          >
        sum by (job, instance, rule_group) (prometheus_rule_group_interval_seconds{${THANOS}})
      `,
      summary: 'Thanos Ruler evaluates a group slower than its interval.',
      description:
        'Thanos Ruler {{ $labels.instance }} takes longer to evaluate group {{ $labels.rule_group }} than the group interval.',
    },
    {
      alert: 'ThanosRuleGrpcErrorRate',
      severity: 'warning',
      for: '5m',
      expr: thanosPercent(
        'grpc_server_handled_total',
        'grpc_server_started_total',
        5,
        'grpc_code=~"Unknown|ResourceExhausted|Internal|Unavailable|DataLoss|DeadlineExceeded"',
      ),
      summary: 'Thanos Ruler answers gRPC calls with errors.',
      description:
        'Thanos Ruler {{ $labels.instance }} fails {{ printf "%.1f" $value }}% of its gRPC requests.',
    },
    {
      alert: 'ThanosRuleConfigReloadFailure',
      severity: 'info',
      for: '5m',
      expr: promql`
        avg by (job, instance) (thanos_rule_config_last_reload_successful{${THANOS}}) != 1
      `,
      summary: 'Thanos Ruler could not reload its configuration.',
      description: 'Thanos Ruler {{ $labels.instance }} failed its last configuration reload.',
    },
    {
      alert: 'ThanosRuleQueryHighDNSFailures',
      severity: 'warning',
      for: '15m',
      expr: thanosPercent(
        'thanos_rule_query_apis_dns_failures_total',
        'thanos_rule_query_apis_dns_lookups_total',
        1,
      ),
      summary: 'Thanos Ruler cannot resolve its query endpoints.',
      description:
        'Thanos Ruler {{ $labels.instance }} fails {{ printf "%.1f" $value }}% of its DNS lookups of query endpoints.',
    },
    {
      alert: 'ThanosRuleAlertmanagerHighDNSFailures',
      severity: 'warning',
      for: '15m',
      expr: thanosPercent(
        'thanos_rule_alertmanagers_dns_failures_total',
        'thanos_rule_alertmanagers_dns_lookups_total',
        1,
      ),
      summary: 'Thanos Ruler cannot resolve its Alertmanagers.',
      description:
        'Thanos Ruler {{ $labels.instance }} fails {{ printf "%.1f" $value }}% of its DNS lookups of Alertmanagers.',
    },
    {
      alert: 'ThanosRuleNoEvaluationFor10Intervals',
      severity: 'info',
      for: '5m',
      expr: promql`
        time() - max by (job, instance, rule_group) (prometheus_rule_group_last_evaluation_timestamp_seconds{${THANOS}})
          >
        10 * max by (job, instance, rule_group) (prometheus_rule_group_interval_seconds{${THANOS}})
      `,
      summary: 'A Thanos Ruler group has not been evaluated for 10 intervals.',
      description:
        'Thanos Ruler {{ $labels.instance }} has not evaluated group {{ $labels.rule_group }} for {{ $value | humanize }} seconds.',
    },
    {
      alert: 'ThanosNoRuleEvaluations',
      severity: 'critical',
      for: '5m',
      expr: promql`
        sum by (job, instance) (rate(prometheus_rule_evaluations_total{${THANOS}}[5m])) <= 0
        and
        sum by (job, instance) (thanos_rule_loaded_rules{${THANOS}}) > 0
      `,
      summary: 'Thanos Ruler evaluates no rules.',
      description:
        'Thanos Ruler {{ $labels.instance }} has rules loaded but evaluated none in the last 5 minutes.',
    },
  ],
};
