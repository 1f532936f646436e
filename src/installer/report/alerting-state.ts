/**
 * The alerting module on the ClusterConfiguration (docs/alerting.md): the condition `Alerting` and
 * `status.alerting`. `status.alerting: {status: enabled, enabledTime}` is written by the run that
 * applied the ruler's objects and kept while the module is on; once it is off (its objects removed) the
 * key goes, so a later enable sets a new enabledTime. Nothing here talks to the cluster.
 */
import { rfc3339, type ClusterConfiguration } from '../../api/cluster-configuration.js';
import type { Plan } from '../model.js';

export const ALERTING_CONDITION = 'Alerting';
export const ALERTING_ROLE = 'alerting';

export interface AlertingState {
  status: 'True' | 'False';
  /** Enabled, Disabled or ExternalMonitoring. */
  reason: string;
  message: string;
}

/** What the plan does with the alerting module; undefined when the run's roles leave it out. */
export function alertingState(plan: Plan): AlertingState | undefined {
  const rp = plan.roles.find((r) => r.role.name === ALERTING_ROLE);
  if (!rp) return undefined;
  const v = plan.values;
  if (!rp.skip) {
    return {
      status: 'True',
      reason: 'Enabled',
      message: `ThanosRuler kubesphere (${v.alerting.replicas} replicas) evaluates the alerting rules KubeSphere writes into ${v.namespace}; it queries ${v.alerting.queryEndpoint} and sends to ${v.alerting.alertmanagersUrl}`,
    };
  }
  if (v.alerting.enabled && v.external) {
    return {
      status: 'False',
      reason: 'ExternalMonitoring',
      message:
        'alerting.enabled is true, but common.monitoring.type is external: there is no prometheus-operator in the cluster to run the ThanosRuler; evaluate the alerting rules where the external Prometheus runs',
    };
  }
  return {
    status: 'False',
    reason: 'Disabled',
    message:
      'alerting.enabled is not true: no ThanosRuler; KubeSphere evaluates no alerting rule and hides its alerting pages',
  };
}

/**
 * The status.alerting a successful run writes: set when the module was applied and the object does not
 * show it yet, null (removed) when the module is off and the object still shows it, else undefined (no
 * change).
 */
export function alertingStatus(
  cc: ClusterConfiguration,
  plan: Plan,
): { status: string; enabledTime: string } | null | undefined {
  const rp = plan.roles.find((r) => r.role.name === ALERTING_ROLE);
  if (!rp) return undefined;
  const shown = cc.status?.alerting as { status?: string } | null | undefined;
  if (!rp.skip)
    return shown?.status === 'enabled' ? undefined : { status: 'enabled', enabledTime: rfc3339() };
  return shown === undefined || shown === null ? undefined : null;
}
