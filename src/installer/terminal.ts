/**
 * Which failed runs wait for the ClusterConfiguration to change (terminal) and which are retried.
 * Terminal means "nothing changes until the spec does": an invalid spec only. Everything else has its
 * cause in the cluster or the moment and is retried with backoff, at least every resync period: a
 * refusal by the API server (an immutable field, an admission policy, a quota, a webhook) is fixed
 * outside the ClusterConfiguration as often as in it, and a run must notice when it is. A refusal is
 * retried slowly (it rarely clears within seconds); a failed request as the queue's backoff says.
 */

/** The reason of a failed run (PlanError's reasons, or ApplyFailed) needs an edit of the spec. */
export function isTerminalFailure(reason: string): boolean {
  return reason === 'InvalidSpec';
}

/** The least delay before a non-terminal failure is retried. */
export function retryFloorMs(reason: string): number {
  return reason === 'RefusedByApiServer' ? REFUSAL_RETRY_MS : 0;
}

/** The first retry of a refusal by the API server; the queue doubles it from there. */
export const REFUSAL_RETRY_MS = 10_000;
