/**
 * etcd monitoring (docs/original-installer.md#objects-etcd): the Endpoints addresses and port, TLS, and the client
 * certificate Secret that Prometheus mounts when TLS is on.
 */
import { DEFAULT_ETCD_PORT } from './defaults.js';
import type { LiveFacts } from './facts.js';
import type { Spec } from './spec-path.js';
import { get, isSetScalar } from './spec-path.js';
import type { MonitoringValues, ValueWarning } from './values.js';

export const ETCD_CLIENT_CERTS_SECRET = 'kube-etcd-client-certs';

const CREATE_ETCD_CLIENT_CERTS_COMMAND =
  `kubectl -n kubesphere-monitoring-system create secret generic ${ETCD_CLIENT_CERTS_SECRET} ` +
  '--from-file=etcd-client-ca.crt=<path> --from-file=etcd-client.crt=<path> --from-file=etcd-client.key=<path>';

/** etcd.endpointIps as a list: comma-separated (a YAML list is accepted too), trimmed, empty items dropped. */
// Correction: items are trimmed, so "10.0.0.1, 10.0.0.2" works; Addition: a YAML list is accepted too.
export function splitEndpointIps(value: unknown): string[] {
  const items = Array.isArray(value) ? value.map(String) : isSetScalar(value) ? String(value).split(',') : [];
  return items.map((item) => item.trim()).filter((item) => item !== '');
}

interface ResolvedEtcd {
  etcd: MonitoringValues['etcd'];
  /** Secrets Prometheus mounts. */
  prometheusSecrets: string[];
  warnings: ValueWarning[];
}

export function resolveEtcd(spec: Spec, live: LiveFacts): ResolvedEtcd {
  const enabled = get(spec, 'etcd.monitoring') === true;
  // Correction: an unset tlsEnable means false (the original crashed rendering Prometheus).
  const tls = get(spec, 'etcd.tlsEnable') === true;
  const port = get(spec, 'etcd.port');
  const etcd = {
    enabled,
    endpointIps: splitEndpointIps(get(spec, 'etcd.endpointIps')),
    // Correction: the port defaults to 2379 (the original failed to render without it).
    port: isSetScalar(port) ? Number(port) : DEFAULT_ETCD_PORT,
    tls,
  };
  const warnings: ValueWarning[] = [];
  const prometheusSecrets: string[] = [];
  if (enabled && tls) {
    if (live.etcdClientCertsSecret) {
      prometheusSecrets.push(ETCD_CLIENT_CERTS_SECRET);
    } else {
      // Correction: a missing Secret is reported and NOT mounted, so Prometheus still starts
      // (the original mounted it unconditionally and Prometheus pods could not start).
      warnings.push({
        type: 'EtcdClientCertsMissing',
        reason: 'SecretNotFound',
        message:
          `etcd monitoring with TLS needs the Secret ${ETCD_CLIENT_CERTS_SECRET} in kubesphere-monitoring-system, ` +
          `which does not exist; etcd is not scraped until it does. Create it from the etcd client certificate: ` +
          CREATE_ETCD_CLIENT_CERTS_COMMAND,
      });
    }
  }
  return { etcd, prometheusSecrets, warnings };
}
