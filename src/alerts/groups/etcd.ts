/**
 * The etcd group (shipped with the etcd-monitor role, only when etcd monitoring is on).
 *
 * Looked up in etcd-mixin for the facts the meanings leave open: members count as down when their
 * target is down or they fail to send to peers (over 0.01/s in 2m); the failed-gRPC share counts
 * the codes Unknown, FailedPrecondition, ResourceExhausted, Internal, Unavailable, DataLoss and
 * DeadlineExceeded over 5m rates, per method; latencies are p99 over 5m rates; leader changes count
 * over 15m, failed proposals over 15m; database growth is extrapolated from 4h towards the quota.
 * Members are any job matching etcd. The expressions and texts are ours.
 */
import { promql, type AlertGroupSpec } from '../model.js';

const ETCD = 'job=~".*etcd.*"';
const GRPC_SERVER_ERRORS =
  'Unknown|FailedPrecondition|ResourceExhausted|Internal|Unavailable|DataLoss|DeadlineExceeded';

function failedGrpcPercent(threshold: number) {
  return promql`
    100 * sum without (grpc_type, grpc_code) (rate(grpc_server_handled_total{${ETCD}, grpc_code=~"${GRPC_SERVER_ERRORS}"}[5m]))
      /
    sum without (grpc_type, grpc_code) (rate(grpc_server_handled_total{${ETCD}}[5m]))
      > ${threshold}
  `;
}

function fsyncP99(threshold: number) {
  return promql`
    histogram_quantile(0.99, rate(etcd_disk_wal_fsync_duration_seconds_bucket{${ETCD}}[5m])) > ${threshold}
  `;
}

export const ETCD_GROUP: AlertGroupSpec = {
  name: 'etcd',
  runbooks: 'etcd',
  rules: [
    {
      alert: 'etcdMembersDown',
      severity: 'critical',
      for: '10m',
      expr: promql`
        max without (endpoint) (
          sum without (instance) (up{${ETCD}} == bool 0)
          or
          count without (To) (
            sum without (instance) (rate(etcd_network_peer_sent_failures_total{${ETCD}}[2m])) > 0.01
          )
        ) > 0
      `,
      summary: 'etcd members are down.',
      description:
        'etcd cluster "{{ $labels.job }}": {{ $value }} members are down or cannot reach their peers.',
    },
    {
      alert: 'etcdInsufficientMembers',
      severity: 'critical',
      for: '3m',
      expr: promql`
        sum without (instance) (up{${ETCD}} == bool 1)
          <
        (count without (instance) (up{${ETCD}}) + 1) / 2
      `,
      summary: 'etcd has lost its quorum.',
      description: 'etcd cluster "{{ $labels.job }}": only {{ $value }} members are up, fewer than a quorum.',
    },
    {
      alert: 'etcdNoLeader',
      severity: 'critical',
      for: '1m',
      expr: promql`
        etcd_server_has_leader{${ETCD}} == 0
      `,
      summary: 'An etcd member has no leader.',
      description: 'etcd cluster "{{ $labels.job }}": member {{ $labels.instance }} has no leader.',
    },
    {
      alert: 'etcdHighNumberOfLeaderChanges',
      severity: 'warning',
      for: '5m',
      expr: promql`
        increase(
          (
            max without (instance) (etcd_server_leader_changes_seen_total{${ETCD}})
            or
            0 * absent(etcd_server_leader_changes_seen_total{${ETCD}})
          )[15m:1m]
        ) >= 4
      `,
      summary: 'etcd changes its leader often.',
      description:
        'etcd cluster "{{ $labels.job }}": {{ $value }} leader changes within the last 15 minutes.',
    },
    {
      alert: 'etcdHighNumberOfFailedGRPCRequests',
      severity: 'warning',
      for: '10m',
      expr: failedGrpcPercent(1),
      summary: 'etcd fails some gRPC requests.',
      description:
        'etcd cluster "{{ $labels.job }}": {{ $value }}% of {{ $labels.grpc_method }} requests to {{ $labels.instance }} fail.',
    },
    {
      alert: 'etcdHighNumberOfFailedGRPCRequests',
      severity: 'critical',
      for: '5m',
      expr: failedGrpcPercent(5),
      summary: 'etcd fails many gRPC requests.',
      description:
        'etcd cluster "{{ $labels.job }}": {{ $value }}% of {{ $labels.grpc_method }} requests to {{ $labels.instance }} fail.',
    },
    {
      alert: 'etcdGRPCRequestsSlow',
      severity: 'critical',
      for: '10m',
      expr: promql`
        histogram_quantile(0.99,
          sum by (job, instance, grpc_service, grpc_method, le) (
            rate(grpc_server_handling_seconds_bucket{${ETCD}, grpc_type="unary"}[5m])
          )
        ) > 0.15
      `,
      summary: 'etcd answers gRPC requests slowly.',
      description:
        'etcd cluster "{{ $labels.job }}": the 99th percentile of {{ $labels.grpc_method }} requests on {{ $labels.instance }} takes {{ $value }} s.',
    },
    {
      alert: 'etcdMemberCommunicationSlow',
      severity: 'warning',
      for: '10m',
      expr: promql`
        histogram_quantile(0.99, rate(etcd_network_peer_round_trip_time_seconds_bucket{${ETCD}}[5m])) > 0.15
      `,
      summary: 'etcd members talk to each other slowly.',
      description:
        'etcd cluster "{{ $labels.job }}": the 99th percentile round trip from {{ $labels.instance }} to member {{ $labels.To }} takes {{ $value }} s.',
    },
    {
      alert: 'etcdHighNumberOfFailedProposals',
      severity: 'warning',
      for: '15m',
      expr: promql`
        rate(etcd_server_proposals_failed_total{${ETCD}}[15m]) > 5
      `,
      summary: 'etcd proposals fail.',
      description:
        'etcd cluster "{{ $labels.job }}": {{ $value }} proposals per second fail on {{ $labels.instance }}.',
    },
    {
      alert: 'etcdHighFsyncDurations',
      severity: 'warning',
      for: '10m',
      expr: fsyncP99(0.5),
      summary: 'etcd writes its log slowly.',
      description:
        'etcd cluster "{{ $labels.job }}": the 99th percentile of WAL fsyncs on {{ $labels.instance }} takes {{ $value }} s.',
    },
    {
      alert: 'etcdHighFsyncDurations',
      severity: 'critical',
      for: '10m',
      expr: fsyncP99(1),
      summary: 'etcd writes its log very slowly.',
      description:
        'etcd cluster "{{ $labels.job }}": the 99th percentile of WAL fsyncs on {{ $labels.instance }} takes {{ $value }} s.',
    },
    {
      alert: 'etcdHighCommitDurations',
      severity: 'warning',
      for: '10m',
      expr: promql`
        histogram_quantile(0.99, rate(etcd_disk_backend_commit_duration_seconds_bucket{${ETCD}}[5m])) > 0.25
      `,
      summary: 'etcd commits slowly.',
      description:
        'etcd cluster "{{ $labels.job }}": the 99th percentile of backend commits on {{ $labels.instance }} takes {{ $value }} s.',
    },
    {
      alert: 'etcdExcessiveDatabaseGrowth',
      severity: 'warning',
      for: '10m',
      expr: promql`
        predict_linear(etcd_mvcc_db_total_size_in_bytes{${ETCD}}[4h], 4 * 60 * 60)
          >
        etcd_server_quota_backend_bytes{${ETCD}}
      `,
      summary: 'The etcd database grows towards its quota.',
      description:
        'etcd cluster "{{ $labels.job }}": at its growth over the last four hours, the database of {{ $labels.instance }} reaches its quota within four hours.',
    },
  ],
};
