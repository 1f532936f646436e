/**
 * When a request is sent again, inside the request, as client-go's rest client does (its `checkWait`
 * and `IsRetryableError` rules), so a moment of throttling or a dropped connection does not fail a
 * whole run:
 * - 429 Too Many Requests or 503 Service Unavailable with a Retry-After header: the API server did not
 *   process the request (API Priority and Fairness rejecting it, or "storage is (re)initializing"
 *   while a just-created CRD's storage warms up) and says when to come back. Any method is sent again
 *   after that delay, capped at `maxRetryAfterMs`.
 * - 429 without Retry-After: not processed either; sent again after a growing delay.
 * - No answer (connection refused, reset, timed out): a request that never left (refused, connect
 *   timeout) is sent again whatever its method; one that may have reached the server only when
 *   sending it twice does what sending it once does: GET/HEAD, a server-side apply or merge patch, and
 *   any dry run. A create (POST), an update (PUT), a JSON patch and a delete are not: their outcome is
 *   unknown, so the error goes to the caller (the run's retry reads the state again first).
 * At most `maxRetries` times (client-go: 10); every other answer goes to the caller at once.
 */
import { REQUEST_RETRY } from '../reconcile/backoff.js';

export interface RetryPolicy {
  /** Retries after the first attempt (client-go's maxRetries: 10). */
  maxRetries: number;
  /** The longest Retry-After honoured as given; longer asks wait this long. */
  maxRetryAfterMs: number;
  /** The first growing delay (429 without Retry-After, a transport failure), doubled each retry… */
  backoffBaseMs: number;
  /** …up to this. */
  backoffMaxMs: number;
}

export const DEFAULT_RETRY: RetryPolicy = REQUEST_RETRY;

/** What one failed attempt looked like. */
export interface FailedAttempt {
  /** Sending the request twice leaves the same state as sending it once (KubeClient's `idempotent`). */
  idempotent: boolean;
  /** The HTTP status; 0 when no answer came. */
  status: number;
  retryAfter: string | null;
  /** Whether the request reached the server: answered, surely not ('no'), or unknown ('maybe'). */
  sent: 'no' | 'maybe' | 'answered';
  /** Retries made so far (0 after the first attempt). */
  attempt: number;
}

/** A retry about to be made, as reported to KubeClientOptions.onRetry. */
export interface RetryAttempt {
  method: string;
  path: string;
  /** 1 for the first retry. */
  attempt: number;
  delayMs: number;
  reason: RetryReason;
  /** The failure's message (the API server's Status message, or the transport's). */
  error: string;
}

export type RetryReason = 'retry-after' | 'throttled' | 'transport';

/** Seconds of a Retry-After header (delta-seconds, or an HTTP date), as milliseconds; undefined if absent or unreadable. */
export function parseRetryAfter(value: string | null, now = Date.now()): number | undefined {
  if (value === null) return undefined;
  const v = value.trim();
  if (/^\d+$/.test(v)) return Number(v) * 1000;
  const at = Date.parse(v);
  return Number.isNaN(at) ? undefined : Math.max(0, at - now);
}

/** The growing delay of retry `attempt` (0-based): base doubled each time, capped, plus up to 20% jitter. */
export function backoffMs(policy: RetryPolicy, attempt: number, random = Math.random): number {
  const exp = Math.min(policy.backoffBaseMs * 2 ** attempt, policy.backoffMaxMs);
  return Math.round(exp * (1 + 0.2 * random()));
}

/** Whether and when to send a failed request again; undefined: give its failure to the caller. */
export function retryDecision(
  policy: RetryPolicy,
  failed: FailedAttempt,
): { delayMs: number; reason: RetryReason } | undefined {
  if (failed.attempt >= policy.maxRetries) return undefined;
  if (failed.status === 429 || failed.status === 503) {
    const asked = parseRetryAfter(failed.retryAfter);
    if (asked !== undefined)
      return { delayMs: Math.min(asked, policy.maxRetryAfterMs), reason: 'retry-after' };
    if (failed.status === 429) return { delayMs: backoffMs(policy, failed.attempt), reason: 'throttled' };
    return undefined;
  }
  if (failed.status !== 0) return undefined;
  if (failed.sent === 'no' || failed.idempotent)
    return { delayMs: backoffMs(policy, failed.attempt), reason: 'transport' };
  return undefined;
}

/** Waits `ms`; false when the signal aborted first (the caller then gives up). */
export function waitForRetry(ms: number, signal?: AbortSignal): Promise<boolean> {
  return new Promise((resolve) => {
    if (signal?.aborted) return resolve(false);
    const timer = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve(true);
    }, ms);
    const onAbort = () => {
      clearTimeout(timer);
      resolve(false);
    };
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}
