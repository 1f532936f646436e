/**
 * The KubeSphere groups (shipped with the KubeSphere component monitors of prometheus-stack):
 * ks-apiserver and ks-controller-manager. Looked up in KubeSphere's own mixin for the facts the
 * meanings leave open: ks-apiserver's latency histogram ks_server_request_duration_seconds, without
 * the terminal.kubesphere.io group (long-lived web terminals), by instance, group, version, resource
 * and verb over 5m rates. The expressions and texts are ours.
 */
import { promql, type AlertGroupSpec } from '../model.js';

export const KUBESPHERE_GROUPS: AlertGroupSpec[] = [
  {
    name: 'ks-apiserver',
    runbooks: 'kubesphere',
    rules: [
      {
        alert: 'ksApiSlow',
        severity: 'critical',
        for: '10m',
        expr: promql`
          histogram_quantile(0.99,
            sum by (instance, group, version, resource, verb, le) (
              rate(ks_server_request_duration_seconds_bucket{job="ks-apiserver", group!="terminal.kubesphere.io"}[5m])
            )
          ) > 5
        `,
        summary: 'ks-apiserver answers slowly.',
        description:
          'The 99th percentile of {{ $labels.verb }} {{ $labels.resource }}.{{ $labels.group }}/{{ $labels.version }} requests to ks-apiserver {{ $labels.instance }} takes {{ $value }} s.',
      },
      {
        alert: 'ksApiserverDown',
        severity: 'critical',
        for: '15m',
        expr: promql`
          absent(up{job="ks-apiserver"} == 1)
        `,
        summary: 'ks-apiserver is unreachable.',
        description: 'Prometheus has not scraped any ks-apiserver for 15 minutes.',
      },
    ],
  },
  {
    name: 'ks-controller-manager',
    runbooks: 'kubesphere',
    rules: [
      {
        alert: 'ksControllerManagerDown',
        severity: 'critical',
        for: '15m',
        expr: promql`
          absent(up{job="ks-controller-manager"} == 1)
        `,
        summary: 'ks-controller-manager is unreachable.',
        description: 'Prometheus has not scraped any ks-controller-manager for 15 minutes.',
      },
    ],
  },
];
