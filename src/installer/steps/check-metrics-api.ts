/**
 * The Metrics API that the metrics-server role registers (APIService v1beta1.metrics.k8s.io): after the
 * run applied every role, its Available condition decides what the ClusterConfiguration shows.
 * - Available: `status.metricsServer: {status: enabled, enabledTime}` (kept once set, as
 *   status.monitoring).
 * - Not Available (metrics-server not running yet, no endpoints, a TLS or discovery failure): a warning
 *   condition MetricsApiUnavailable carrying the APIService's own reason and message; the rest of the
 *   run completes and the run is looked at again after METRICS_API_RECHECK_MS.
 * A run that changed the role's objects waits for the condition at most METRICS_API_WAIT_MS (a new
 * metrics-server needs a few seconds to be discovered); a run that changed nothing reads it once.
 * docs/metrics-server.md tells the whole story.
 */
import { ApiError, type KubeClient, type KubeObject } from '../../kube/client.js';
import { sleep } from '../../util/sleep.js';
import type { AfterApplyStep } from '../model.js';

export const METRICS_API_SERVICE = 'v1beta1.metrics.k8s.io';
export const METRICS_API_UNAVAILABLE = 'MetricsApiUnavailable';
/** The longest a run waits for the APIService to become Available after changing the role's objects. */
export const METRICS_API_WAIT_MS = 20_000;
/** How soon a run is looked at again while the APIService is not Available. */
export const METRICS_API_RECHECK_MS = 30_000;
const POLL_MS = 1000;

interface ApiServiceCondition {
  type: string;
  status: string;
  reason?: string;
  message?: string;
}

export type MetricsApiState = { available: true } | { available: false; reason: string; message: string };

/** The APIService's Available condition, as the API server reports it. */
export async function metricsApiState(client: KubeClient): Promise<MetricsApiState> {
  let apiService: (KubeObject & { status?: { conditions?: ApiServiceCondition[] } }) | undefined;
  try {
    apiService = await client.getOrUndefined(
      `/apis/apiregistration.k8s.io/v1/apiservices/${METRICS_API_SERVICE}`,
    );
  } catch (err) {
    if (err instanceof ApiError) return { available: false, reason: 'ReadFailed', message: err.message };
    throw err;
  }
  if (!apiService) return { available: false, reason: 'NotFound', message: 'the APIService does not exist' };
  const available = apiService.status?.conditions?.find((c) => c.type === 'Available');
  if (available?.status === 'True') return { available: true };
  return {
    available: false,
    reason: available?.reason ?? 'NoCondition',
    message: available?.message ?? 'kube-apiserver has not reported its Available condition yet',
  };
}

/** After the metrics-server role applied: is the Metrics API served? */
export const checkMetricsApi: AfterApplyStep = async ({ client, objects, logger }) => {
  const changed = objects.some((o) => o.change);
  const deadline = performance.now() + (changed ? METRICS_API_WAIT_MS : 0);
  let state = await metricsApiState(client);
  while (!state.available && performance.now() + POLL_MS <= deadline) {
    await sleep(POLL_MS);
    state = await metricsApiState(client);
  }
  if (state.available) {
    logger.info(`metrics-server: APIService ${METRICS_API_SERVICE} is Available`);
    return { warnings: [], changed: 0, enabled: ['metricsServer'] };
  }
  const warning = {
    type: METRICS_API_UNAVAILABLE,
    reason: state.reason,
    message: `APIService ${METRICS_API_SERVICE} is not Available (${state.reason}): ${state.message}; kubectl top and autoscaling have no metrics until it is; checked again in ${METRICS_API_RECHECK_MS / 1000}s`,
  };
  logger.warn(`${warning.type}: ${warning.message}`, { condition: warning.type, reason: warning.reason });
  return { warnings: [warning], changed: 0, requeueAfterMs: METRICS_API_RECHECK_MS };
};
