/**
 * Prometheus storage size, storage class and retention (docs/original-installer.md#keys-storage-and-retention), with the precedence
 * spec > live cluster > default, and a volume that is never asked to shrink.
 */
import { DEFAULT_PROMETHEUS_RETENTION, DEFAULT_PROMETHEUS_STORAGE } from './defaults.js';
import type { LiveFacts } from './facts.js';
import { tryParseQuantity } from './quantity.js';
import type { Spec } from './spec-path.js';
import { firstSet } from './spec-path.js';
import type { ValueWarning } from './values.js';

export const VOLUME_SIZE_KEYS = [
  'monitoring.prometheus.volumeSize',
  'monitoring.prometheusVolumeSize',
] as const;
export const STORAGE_CLASS_KEYS = ['monitoring.storageClass', 'persistence.storageClass'] as const;
const RETENTION_KEYS = ['monitoring.prometheus.retention'] as const;

/** The larger of the live PVC size and the live volumeClaimTemplate request (either may be missing). */
function liveSize(live: LiveFacts): string | undefined {
  const candidates = [live.prometheusPvcSize, live.prometheusStorageRequest].filter(
    (size): size is string => typeof size === 'string' && size !== '',
  );
  const parsed = candidates.filter((size) => tryParseQuantity(size) !== undefined);
  if (parsed.length === 0) return candidates[0];
  return parsed.reduce((a, b) => ((tryParseQuantity(b) as number) > (tryParseQuantity(a) as number) ? b : a));
}

interface ResolvedStorage {
  size: string;
  warning?: ValueWarning;
}

// Correction: an explicit volumeSize now beats the live PVC size (the original silently kept the live
// size), except that a size smaller than the live volume is refused with a warning.
// Correction: the live size is the larger of the PVC and the live volumeClaimTemplate, not replica 0's PVC alone.
export function resolveStorageSize(spec: Spec, live: LiveFacts): ResolvedStorage {
  const explicit = firstSet(spec, VOLUME_SIZE_KEYS);
  const current = liveSize(live);
  if (!explicit) return { size: current ?? DEFAULT_PROMETHEUS_STORAGE };
  const asked = String(explicit.value);
  const askedBytes = tryParseQuantity(explicit.value);
  const currentBytes = tryParseQuantity(current);
  if (
    current === undefined ||
    askedBytes === undefined ||
    currentBytes === undefined ||
    askedBytes >= currentBytes
  ) {
    return { size: asked };
  }
  return {
    size: current,
    warning: {
      type: 'PrometheusStorageShrinkRefused',
      reason: 'LiveVolumeLarger',
      message:
        `spec.${explicit.path} asks for ${asked}, but the live Prometheus volume is ${current} and volumes cannot ` +
        `shrink; keeping ${current}. Set spec.${explicit.path} to ${current} or more to clear this warning.`,
    },
  };
}

// Correction: null and "" count as unset (null used to render `storageClassName: None`).
export function resolveStorageClass(spec: Spec): string | undefined {
  const found = firstSet(spec, STORAGE_CLASS_KEYS);
  return found ? String(found.value) : undefined;
}

// Addition: retention has a spec key (monitoring.prometheus.retention); the live value still beats the default.
export function resolveRetention(spec: Spec, live: LiveFacts): string {
  const explicit = firstSet(spec, RETENTION_KEYS);
  if (explicit) return String(explicit.value);
  return live.prometheusRetention ? live.prometheusRetention : DEFAULT_PROMETHEUS_RETENTION;
}
