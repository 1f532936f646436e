/**
 * KubeSphere's alerting module (docs/alerting.md): the keys it reads and the values of the ThanosRuler
 * `kubesphere`. `alerting.enabled` counts only as the boolean true. The ruler queries
 * `common.monitoring.endpoint` when set (verbatim, as KubeSphere's own configuration reads it), else our
 * Prometheus through its governing Service; it sends to our Alertmanager pods, found by DNS SRV.
 */
import type { Spec } from './spec-path.js';
import { get, isSetScalar } from './spec-path.js';

export const ALERTING_ENABLED_KEY = 'alerting.enabled';
export const THANOS_RULER_REPLICAS_KEY = 'alerting.thanosruler.replicas';
export const MONITORING_ENDPOINT_KEY = 'common.monitoring.endpoint';

export function alertingEnabled(spec: Spec): boolean {
  return get(spec, ALERTING_ENABLED_KEY) === true;
}

/** Our Prometheus, through the Service prometheus-operator keeps for it (no scheme: Thanos adds http). */
export function defaultQueryEndpoint(namespace: string): string {
  return `prometheus-operated.${namespace}.svc:9090`;
}

/**
 * Our Alertmanager pods: the SRV records of the `web` port of the Service prometheus-operator keeps for
 * Alertmanager main. Correction: named port and protocol, so that only the pods' port 9093 is listed
 * (the bare Service name's SRV answer also lists the cluster port 9094, which speaks no HTTP).
 */
export function alertmanagersUrl(namespace: string): string {
  return `dnssrv+http://_web._tcp.alertmanager-operated.${namespace}.svc`;
}

export function queryEndpoint(spec: Spec, namespace: string): string {
  const value = get(spec, MONITORING_ENDPOINT_KEY);
  return isSetScalar(value) && typeof value === 'string' ? value : defaultQueryEndpoint(namespace);
}

/**
 * Why a query endpoint cannot be used, or undefined: `[http://|https://]host[:port][/path]`, the host a
 * DNS name or an IP address (IPv6 in brackets), no credentials, query or fragment.
 */
export function endpointReason(value: unknown): string | undefined {
  if (typeof value !== 'string') return 'is not a string';
  if (/\s/.test(value)) return 'contains white space';
  const scheme = /^([A-Za-z][A-Za-z0-9+.-]*):\/\//.exec(value)?.[1];
  if (scheme !== undefined && !['http', 'https'].includes(scheme.toLowerCase()))
    return `has the scheme ${scheme}; only http and https are served`;
  let url: URL;
  try {
    url = new URL(scheme === undefined ? `http://${value}` : value);
  } catch {
    return 'is not a URL';
  }
  if (url.username || url.password) return 'carries credentials';
  if (url.search || url.hash) return 'has a query or a fragment';
  if (url.hostname === '') return 'has no host';
  const host = url.hostname.replace(/^\[|\]$/g, '');
  const isIp = /^[0-9.]+$/.test(host) || host.includes(':');
  if (
    !isIp &&
    !/^[A-Za-z0-9]([A-Za-z0-9-]*[A-Za-z0-9])?(\.[A-Za-z0-9]([A-Za-z0-9-]*[A-Za-z0-9])?)*$/.test(host)
  )
    return 'has no valid host name';
  // The URL parser accepts an explicit port up to 65535 only; a port of 0 is not one.
  if (url.port === '0') return 'has port 0';
  return undefined;
}
