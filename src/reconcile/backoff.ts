/**
 * Every retry, backoff and requeue policy of the operator, named in one place with its numbers. The
 * modules that wait import their policy from here; nothing else retries. A request is sent again inside
 * the client only when the API server did not process it or sending it twice is harmless
 * (REQUEST_RETRY, the rules in src/kube/retry.ts); any other failed request fails its run, and the
 * queue retries the run.
 *
 * Two failures are not retried at all, on purpose: a takeover of the original installer's fields that
 * meets a 409 or 422 is left to the next run (src/kube/apply.ts), and a terminal RunError (an invalid
 * spec) waits for the ClusterConfiguration to be edited (contract.ts).
 */

/**
 * The work queue (src/controller/queue.ts): a failed run is retried after a per-key exponential
 * backoff, 1 s doubling to 5 minutes, plus up to 20 % jitter so replicas and keys do not retry in step
 * (controller-runtime's 5 ms start made a failing run retry about ten times in its first 8 s), and an
 * overall token bucket of 10 runs a second, burst 100.
 */
export const QUEUE_BACKOFF = {
  baseMs: 1000,
  maxMs: 300_000,
  qps: 10,
  burst: 100,
  jitter: 0.2,
} as const;

/**
 * A run the API server refused (RefusedByApiServer: an admission policy, a quota, an immutable field)
 * is retried no sooner than 10 s after it failed (the queue's backoff when longer), and every failed
 * run no later than the periodic resync: a cause fixed outside the ClusterConfiguration heals within it.
 */
export const REFUSAL_RETRY = { firstMs: 10_000 } as const;

/**
 * A run that failed on a 409 Conflict (someone wrote the object between our read and our write) is
 * retried at once, up to 3 times in a row; beyond that it backs off like any failure (QUEUE_BACKOFF).
 */
export const CONFLICT_RETRY = { immediate: 3 } as const;

/**
 * Inside a request (src/kube/retry.ts): at most 10 retries, as client-go; a Retry-After honoured up to
 * 10 s; without one (429, a connection that failed) a delay from 250 ms doubling to 5 s, plus up to 20 % jitter.
 */
export const REQUEST_RETRY = {
  maxRetries: 10,
  maxRetryAfterMs: 10_000,
  backoffBaseMs: 250,
  backoffMaxMs: 5_000,
} as const;

/**
 * A request with no complete answer is given up when nothing at all was answered on its connection
 * for 20 s (the connection is then taken for dead, as client-go's HTTP/2 health check does after 30 s
 * without a frame and a 15 s ping), or after 65 s in any case (kube-apiserver answers any request that
 * is not a watch within its 60 s request timeout). Giving up closes the connection, so every request
 * on it fails at once and is retried (REQUEST_RETRY) on a new one (src/kube/client.ts).
 */
export const ANSWER_STALL = { idleMs: 20_000, maxMs: 65_000 } as const;

/**
 * A watch (src/controller/watch.ts) that fails restarts after 1 s doubling to 30 s; a 410 Gone relists
 * at once. A stream silent for 3 minutes (bookmarks arrive about once a minute) is reopened, and the
 * server is asked to end each watch after 300 s.
 */
export const WATCH_BACKOFF = {
  initialMs: 1000,
  maxMs: 30_000,
  watchdogMs: 180_000,
  serverTimeoutSeconds: 300,
} as const;

/**
 * Waiting for a CRD to be Established (src/kube/crd.ts): 60 s at most; a CRD stuck NamesAccepted but
 * not Established for 5 s is nudged (and again every 5 s), checked every 250 ms on the watch; without the
 * watch, polled every 100 ms.
 */
export const CRD_ESTABLISH = {
  timeoutMs: 60_000,
  nudgeAfterMs: 5_000,
  nudgeCheckMs: 250,
  pollMs: 100,
} as const;

/**
 * A custom resource applied right after its CRD became Established may meet an API server handler that
 * does not serve the kind yet (404): retried 30 times, 100 ms apart (src/installer/sync/apply-plan.ts).
 */
export const FRESH_KIND_404 = { attempts: 30, delayMs: 100 } as const;

/** Drift events within 500 ms of each other make one run (src/controller/controller.ts). */
export const DRIFT_COALESCE_MS = 500;

/**
 * After each successful run the key is requeued for the periodic resync (the watches.yaml crontab, or
 * --resync-period), at least 1 s later; a run that asks to be looked at sooner (ReconcileResult
 * requeueAfterMs) is requeued then instead, quietly.
 */
export const RESYNC_MIN_DELAY_MS = 1000;

/**
 * A requeue asked for by a run: a Prometheus volume whose expansion is in progress is looked at again
 * 30 s later (src/installer/steps/grow-prometheus-volumes.ts).
 */
export const VOLUME_RECHECK_MS = 30_000;
