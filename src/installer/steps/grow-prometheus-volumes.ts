/**
 * After prometheus-stack is applied: the Prometheus volumes that exist grow to the size the CR now asks
 * for, where their StorageClass allows it (storage-growth.ts). While an expansion is in progress the
 * run asks to be looked at again.
 */
import { VOLUME_RECHECK_MS } from '../../reconcile/backoff.js';
import type { AfterApplyStep } from '../model.js';
import { growPrometheusStorage } from './storage-growth.js';

/** Existing Prometheus volumes grow to the size the CR now asks for, where their StorageClass allows it. */
export const growPrometheusVolumes: AfterApplyStep = async ({ client, plan, logger }) => {
  const v = plan.values;
  const growth = await growPrometheusStorage(client, v.namespace, v.prometheus.storage.size, logger);
  for (const w of growth.warnings)
    logger.warn(`${w.type}: ${w.message}`, { condition: w.type, reason: w.reason });
  return {
    warnings: growth.warnings,
    changed: 0,
    ...(growth.expanding ? { requeueAfterMs: VOLUME_RECHECK_MS } : {}),
  };
};
