/**
 * node-exporter (shipped with the node-exporter role) and node-network (kube-prometheus's group, which
 * the original never applied; we install it with node-exporter, see docs/differences.md).
 *
 * Looked up in node-mixin for the facts the meanings leave open: filesystems are node-exporter's
 * with a type and a mountpoint and not read-only; the predictions extrapolate 6h of history; the
 * "filling up" pair also needs less than 40 % (warning) or 20 % (critical) left; the error-rate
 * threshold is 1 % over 2m rates; the clock offsets count only while they grow; a clock that is not
 * synchronising also has a max error of 16 s or more. The expressions and texts are ours.
 */
import { promql, type AlertGroupSpec } from '../model.js';

const NE = 'job="node-exporter"';
const FS = `${NE}, fstype!="", mountpoint!=""`;

/**
 * Filesystems with under `left` % of their space (`bytes`) or inodes (`files`) left, not read-only;
 * with `hours`, also predicted (from 6h of history) to run out within that many hours.
 */
function filesystemLeft(what: 'bytes' | 'files', left: number, hours?: number) {
  const [free, total] =
    what === 'bytes'
      ? ['node_filesystem_avail_bytes', 'node_filesystem_size_bytes']
      : ['node_filesystem_files_free', 'node_filesystem_files'];
  const prediction = hours ? `\n  and\n  predict_linear(${free}{${FS}}[6h], ${hours} * 3600) < 0` : '';
  return `(\n  ${free}{${FS}} / ${total}{${FS}} * 100 < ${left}${prediction}\n  and\n  node_filesystem_readonly{${FS}} == 0\n)`;
}
const spaceFillingUp = (left: number, hours: number) => filesystemLeft('bytes', left, hours);
const spaceAlmostOut = (left: number) => filesystemLeft('bytes', left);
const filesFillingUp = (left: number, hours: number) => filesystemLeft('files', left, hours);
const filesAlmostOut = (left: number) => filesystemLeft('files', left);

const FS_WHERE = '{{ $labels.device }} mounted on {{ $labels.mountpoint }} of {{ $labels.instance }}';

export const NODE_EXPORTER_GROUP: AlertGroupSpec = {
  name: 'node-exporter',
  runbooks: 'node',
  rules: [
    {
      alert: 'NodeFilesystemSpaceFillingUp',
      severity: 'warning',
      for: '1h',
      expr: spaceFillingUp(40, 24),
      summary: 'A filesystem will run out of space within 24 hours.',
      description: `Filesystem ${FS_WHERE} has {{ printf "%.2f" $value }}% space left and is filling up.`,
    },
    {
      alert: 'NodeFilesystemSpaceFillingUp',
      severity: 'critical',
      for: '1h',
      expr: spaceFillingUp(20, 4),
      summary: 'A filesystem will run out of space within 4 hours.',
      description: `Filesystem ${FS_WHERE} has {{ printf "%.2f" $value }}% space left and is filling up fast.`,
    },
    {
      alert: 'NodeFilesystemAlmostOutOfSpace',
      severity: 'warning',
      for: '30m',
      expr: spaceAlmostOut(5),
      summary: 'A filesystem has less than 5% space left.',
      description: `Filesystem ${FS_WHERE} has {{ printf "%.2f" $value }}% space left.`,
    },
    {
      alert: 'NodeFilesystemAlmostOutOfSpace',
      severity: 'critical',
      for: '30m',
      expr: spaceAlmostOut(3),
      summary: 'A filesystem has less than 3% space left.',
      description: `Filesystem ${FS_WHERE} has {{ printf "%.2f" $value }}% space left.`,
    },
    {
      alert: 'NodeFilesystemFilesFillingUp',
      severity: 'warning',
      for: '1h',
      expr: filesFillingUp(40, 24),
      summary: 'A filesystem will run out of inodes within 24 hours.',
      description: `Filesystem ${FS_WHERE} has {{ printf "%.2f" $value }}% inodes left and is filling up.`,
    },
    {
      alert: 'NodeFilesystemFilesFillingUp',
      severity: 'critical',
      for: '1h',
      expr: filesFillingUp(20, 4),
      summary: 'A filesystem will run out of inodes within 4 hours.',
      description: `Filesystem ${FS_WHERE} has {{ printf "%.2f" $value }}% inodes left and is filling up fast.`,
    },
    {
      alert: 'NodeFilesystemAlmostOutOfFiles',
      severity: 'warning',
      for: '1h',
      expr: filesAlmostOut(5),
      summary: 'A filesystem has less than 5% inodes left.',
      description: `Filesystem ${FS_WHERE} has {{ printf "%.2f" $value }}% inodes left.`,
    },
    {
      alert: 'NodeFilesystemAlmostOutOfFiles',
      severity: 'critical',
      for: '1h',
      expr: filesAlmostOut(3),
      summary: 'A filesystem has less than 3% inodes left.',
      description: `Filesystem ${FS_WHERE} has {{ printf "%.2f" $value }}% inodes left.`,
    },
    {
      alert: 'NodeNetworkReceiveErrs',
      severity: 'warning',
      for: '1h',
      expr: promql`
        rate(node_network_receive_errs_total{${NE}}[2m]) / rate(node_network_receive_packets_total{${NE}}[2m]) > 0.01
      `,
      summary: 'A network interface receives many broken packets.',
      description:
        'Interface {{ $labels.device }} of {{ $labels.instance }} had receive errors on {{ $value | humanizePercentage }} of its packets over the last two minutes.',
    },
    {
      alert: 'NodeNetworkTransmitErrs',
      severity: 'warning',
      for: '1h',
      expr: promql`
        rate(node_network_transmit_errs_total{${NE}}[2m]) / rate(node_network_transmit_packets_total{${NE}}[2m]) > 0.01
      `,
      summary: 'A network interface fails to send many packets.',
      description:
        'Interface {{ $labels.device }} of {{ $labels.instance }} had transmit errors on {{ $value | humanizePercentage }} of its packets over the last two minutes.',
    },
    {
      alert: 'NodeHighNumberConntrackEntriesUsed',
      severity: 'warning',
      expr: promql`
        node_nf_conntrack_entries{${NE}} / node_nf_conntrack_entries_limit{${NE}} > 0.75
      `,
      summary: 'The conntrack table is filling up.',
      description: '{{ $labels.instance }} uses {{ $value | humanizePercentage }} of its conntrack entries.',
    },
    {
      alert: 'NodeTextFileCollectorScrapeError',
      severity: 'warning',
      expr: promql`
        node_textfile_scrape_error{${NE}} == 1
      `,
      summary: "node-exporter's textfile collector fails.",
      description:
        'The textfile collector of node-exporter on {{ $labels.instance }} could not read its files.',
    },
    {
      alert: 'NodeClockSkewDetected',
      severity: 'warning',
      for: '10m',
      expr: promql`
        (
          node_timex_offset_seconds{${NE}} > 0.05
          and
          deriv(node_timex_offset_seconds{${NE}}[5m]) >= 0
        )
        or
        (
          node_timex_offset_seconds{${NE}} < -0.05
          and
          deriv(node_timex_offset_seconds{${NE}}[5m]) <= 0
        )
      `,
      summary: 'A node clock is off.',
      description:
        'The clock of {{ $labels.instance }} is more than 50 ms away from its time source; check NTP.',
    },
    {
      alert: 'NodeClockNotSynchronising',
      severity: 'warning',
      for: '10m',
      expr: promql`
        min_over_time(node_timex_sync_status{${NE}}[5m]) == 0
        and
        node_timex_maxerror_seconds{${NE}} >= 16
      `,
      summary: 'A node clock is not synchronising.',
      description: 'The clock of {{ $labels.instance }} is not synchronising; check NTP.',
    },
    {
      alert: 'NodeRAIDDegraded',
      severity: 'critical',
      for: '15m',
      expr: promql`
        node_md_disks_required{${NE}, device=~"(/dev/)?(mmcblk.p.+|nvme.+|rbd.+|sd.+|vd.+|xvd.+|dm-.+|dasd.+)"}
          - ignoring (state)
        node_md_disks{${NE}, state="active", device=~"(/dev/)?(mmcblk.p.+|nvme.+|rbd.+|sd.+|vd.+|xvd.+|dm-.+|dasd.+)"}
          > 0
      `,
      summary: 'A RAID array is degraded.',
      description:
        'RAID array {{ $labels.device }} on {{ $labels.instance }} lacks {{ $value }} active disks; replace the failed ones.',
    },
    {
      alert: 'NodeRAIDDiskFailure',
      severity: 'warning',
      expr: promql`
        node_md_disks{${NE}, state="failed", device=~"(/dev/)?(mmcblk.p.+|nvme.+|rbd.+|sd.+|vd.+|xvd.+|dm-.+|dasd.+)"} > 0
      `,
      summary: 'A disk of a RAID array failed.',
      description:
        'A disk of RAID array {{ $labels.device }} on {{ $labels.instance }} failed and needs replacing.',
    },
    {
      alert: 'NodeFileDescriptorLimit',
      severity: 'warning',
      for: '15m',
      expr: promql`
        node_filefd_allocated{${NE}} * 100 / node_filefd_maximum{${NE}} > 70
      `,
      summary: 'The kernel is running out of file descriptors.',
      description:
        '{{ $labels.instance }} has allocated {{ printf "%.2f" $value }}% of its file descriptors.',
    },
    {
      alert: 'NodeFileDescriptorLimit',
      severity: 'critical',
      for: '15m',
      expr: promql`
        node_filefd_allocated{${NE}} * 100 / node_filefd_maximum{${NE}} > 90
      `,
      summary: 'The kernel is almost out of file descriptors.',
      description:
        '{{ $labels.instance }} has allocated {{ printf "%.2f" $value }}% of its file descriptors.',
    },
  ],
};

export const NODE_NETWORK_GROUP: AlertGroupSpec = {
  name: 'node-network',
  runbooks: 'node',
  rules: [
    {
      alert: 'NodeNetworkInterfaceFlapping',
      severity: 'warning',
      for: '2m',
      expr: promql`
        changes(node_network_up{${NE}, device!~"veth.+"}[2m]) > 2
      `,
      summary: 'A network interface keeps going up and down.',
      description:
        'Interface {{ $labels.device }} of {{ $labels.instance }} changed its up state {{ $value }} times in two minutes.',
    },
  ],
};

/** kube-prometheus's general group (the original never applied it; we do, see docs/differences.md). */
export const GENERAL_GROUP: AlertGroupSpec = {
  name: 'general-rules',
  runbooks: 'general',
  rules: [
    {
      alert: 'TargetDown',
      severity: 'warning',
      for: '10m',
      expr: promql`
        100 * (
          count by (job, namespace, service) (up == 0)
            /
          count by (job, namespace, service) (up)
        ) > 10
      `,
      summary: 'Some scrape targets are down.',
      description:
        '{{ printf "%.4g" $value }}% of the {{ $labels.job }}/{{ $labels.service }} targets in namespace {{ $labels.namespace }} are down.',
    },
    {
      alert: 'Watchdog',
      severity: 'none',
      expr: promql`
        vector(1)
      `,
      summary: 'The alerting pipeline works.',
      description:
        'This alert always fires. If it stops arriving at its receiver, Prometheus or Alertmanager or the way between them is broken.',
    },
    {
      alert: 'InfoInhibitor',
      severity: 'none',
      expr: promql`
        ALERTS{severity="info"} == 1
          unless on (namespace)
        ALERTS{alertname!="InfoInhibitor", severity=~"warning|critical", alertstate="firing"} == 1
      `,
      summary: 'Info alerts are firing without a warning or critical alert beside them.',
      description:
        'Present while an info alert fires in a namespace with no warning or critical alert; Alertmanager uses it to hold back info alerts there. Route it to a receiver that does nothing.',
    },
  ],
};
