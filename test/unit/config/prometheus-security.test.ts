/** Which user Prometheus runs as: kept per volume (src/config/prometheus-security.ts). */
import { describe, expect, it } from '@jest/globals';
import {
  ORIGINAL_PROMETHEUS_SECURITY_CONTEXT,
  PROMETHEUS_NON_ROOT_SECURITY_CONTEXT,
  resolvePrometheusSecurityContext,
} from '../../../src/config/prometheus-security.js';
import { findObject, renderRole, sampleSpec } from '../roles/golden.js';

const prometheusOf = (live: Record<string, unknown>) =>
  findObject<{ spec: { securityContext: unknown } }>(
    renderRole('prometheus-stack', sampleSpec(), { live: { etcdClientCertsSecret: false, ...live } }),
    'Prometheus',
    'k8s',
  ).spec.securityContext;

describe('Prometheus security context', () => {
  it('a fresh install runs as uid 1000 with group 2000 owning the volume', () => {
    expect(resolvePrometheusSecurityContext({ etcdClientCertsSecret: false })).toEqual({
      securityContext: PROMETHEUS_NON_ROOT_SECURITY_CONTEXT,
      source: 'default',
    });
    expect(prometheusOf({})).toEqual({
      runAsNonRoot: true,
      runAsUser: 1000,
      runAsGroup: 2000,
      fsGroup: 2000,
    });
  });

  it('an install adopted from the original keeps running as root, the owner of its TSDB', () => {
    const live = {
      prometheusSecurityContext: { ...ORIGINAL_PROMETHEUS_SECURITY_CONTEXT },
      prometheusPvcSize: '20Gi',
    };
    expect(resolvePrometheusSecurityContext({ etcdClientCertsSecret: false, ...live }).source).toBe('live');
    expect(prometheusOf(live)).toEqual({ runAsNonRoot: false, runAsUser: 0, fsGroup: 0 });
  });

  it('a live Prometheus without a security context keeps running as its image user', () => {
    expect(prometheusOf({ prometheusSecurityContext: {} })).toEqual({});
  });

  it('a live context that was moved to another user is carried over as it is', () => {
    const moved = { runAsNonRoot: true, runAsUser: 1000, runAsGroup: 2000, fsGroup: 2000 };
    expect(prometheusOf({ prometheusSecurityContext: moved, prometheusPvcSize: '20Gi' })).toEqual(moved);
  });

  it('a volume without a live Prometheus has an unknown owner: root, which reads any', () => {
    expect(
      resolvePrometheusSecurityContext({ etcdClientCertsSecret: false, prometheusPvcSize: '20Gi' }),
    ).toEqual({
      securityContext: ORIGINAL_PROMETHEUS_SECURITY_CONTEXT,
      source: 'existing-volume',
    });
  });
});
