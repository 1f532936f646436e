/**
 * Which endpoint KubeSphere should read (docs/install.md#outgrowing-one-prometheus): with Thanos on,
 * Thanos Query's Service, the one view of every shard and of the bucket; KubeSphere's own
 * configuration takes it from common.monitoring.endpoint, which its core installer writes, so the
 * condition `QueryEndpoint` and the run's log line name it. Nothing here talks to the cluster.
 */
import type { Condition } from '../../api/cluster-configuration.js';
import type { Plan } from '../model.js';

export const QUERY_ENDPOINT_CONDITION = 'QueryEndpoint';
export const THANOS_ROLE = 'thanos';

export interface QueryEndpointState {
  status: 'True' | 'False';
  /** ThanosQuery, or Prometheus once Thanos is off again. */
  reason: string;
  message: string;
  url: string;
}

/** Prometheus k8s's Service, what KubeSphere reads without Thanos. */
export function prometheusUrl(namespace: string): string {
  return `http://prometheus-k8s.${namespace}.svc:9090`;
}

/**
 * True/ThanosQuery while the thanos role runs; False/Prometheus when it does not and the object still
 * shows the condition True (a cluster that never had Thanos gets no such condition); else undefined.
 */
export function queryEndpointState(plan: Plan, prev: Condition[]): QueryEndpointState | undefined {
  const rp = plan.roles.find((r) => r.role.name === THANOS_ROLE);
  if (!rp) return undefined;
  const v = plan.values;
  if (!rp.skip) {
    return {
      status: 'True',
      reason: 'ThanosQuery',
      url: v.thanos.queryUrl,
      message: `KubeSphere should read Thanos Query at ${v.thanos.queryUrl} (set common.monitoring.endpoint to it): it answers for every Prometheus shard (${v.prometheus.shards}) and replica and for the blocks in the object storage`,
    };
  }
  if (!prev.some((c) => c.type === QUERY_ENDPOINT_CONDITION && c.status === 'True')) return undefined;
  const url = prometheusUrl(v.namespace);
  return {
    status: 'False',
    reason: 'Prometheus',
    url,
    message: `monitoring.thanos.enabled is not true: KubeSphere should read Prometheus at ${url} (common.monitoring.endpoint)`,
  };
}
