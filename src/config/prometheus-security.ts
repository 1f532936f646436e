/**
 * The user Prometheus k8s runs as. The TSDB on its volume belongs to the user that wrote it, so this is
 * decided once per volume and then kept (the decision other code and docs refer to):
 *
 * - a live Prometheus k8s exists: its `spec.securityContext` carries over unchanged (`{}` when it has
 *   none: the image's user). A cluster installed by the original installer runs Prometheus as root
 *   ({@link ORIGINAL_PROMETHEUS_SECURITY_CONTEXT}) and keeps doing so: its root-owned TSDB stays
 *   readable and writable on every volume type (fsGroup is not applied to hostPath, local or NFS
 *   volumes, so a switch to uid 1000 would lose the data there);
 * - no live Prometheus, but its volume (PVC prometheus-k8s-db-prometheus-k8s-0) exists: its owner is
 *   unknown, so root, which can read any owner's files;
 * - neither (a fresh install): {@link PROMETHEUS_NON_ROOT_SECURITY_CONTEXT}, uid 1000.
 *
 * Moving an adopted install to uid 1000 is a manual step (docs/install.md): chown the volume, then
 * edit the live Prometheus's securityContext; the next run carries the new one over.
 */
import type { LiveFacts } from './facts.js';

type PodSecurityContext = Record<string, unknown>;

/** A fresh install's Prometheus: uid 1000, group 2000 owning the volume. */
export const PROMETHEUS_NON_ROOT_SECURITY_CONTEXT: PodSecurityContext = Object.freeze({
  runAsNonRoot: true,
  runAsUser: 1000,
  runAsGroup: 2000,
  fsGroup: 2000,
});

/** What the original installer's Prometheus k8s ran as: root. */
export const ORIGINAL_PROMETHEUS_SECURITY_CONTEXT: PodSecurityContext = Object.freeze({
  runAsNonRoot: false,
  runAsUser: 0,
  fsGroup: 0,
});

/** Where the security context came from: `live` (carried over), `existing-volume` (root), `default`. */
type PrometheusSecurityContextSource = 'live' | 'existing-volume' | 'default';

/** `LiveFacts.prometheusSecurityContext` of a live Prometheus object (undefined when there is none). */
export function liveSecurityContext(
  prometheus: { spec?: { securityContext?: PodSecurityContext } } | undefined,
): PodSecurityContext | undefined {
  if (!prometheus) return undefined;
  return prometheus.spec?.securityContext ?? {};
}

export function resolvePrometheusSecurityContext(live: LiveFacts): {
  securityContext: PodSecurityContext;
  source: PrometheusSecurityContextSource;
} {
  if (live.prometheusSecurityContext)
    return { securityContext: structuredClone(live.prometheusSecurityContext), source: 'live' };
  if (live.prometheusPvcSize)
    return { securityContext: { ...ORIGINAL_PROMETHEUS_SECURITY_CONTEXT }, source: 'existing-volume' };
  return { securityContext: { ...PROMETHEUS_NON_ROOT_SECURITY_CONTEXT }, source: 'default' };
}
