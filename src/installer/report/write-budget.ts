/**
 * What a run may write on the ClusterConfiguration, decided from why it runs. Every status write bumps
 * metadata.generation (the CRD has no status subresource), so each kind of run has a budget:
 * - a loud run (first sight, a spec change, a mix with those): its start (Progressing and a RunStarted
 *   Event), at most one progress write, and its end (conditions, status.monitoring, a RunSucceeded or
 *   failure Event): at most three writes and two Events;
 * - a quiet run (only the periodic resync, drift, or a requeue the last run asked for, e.g. a volume
 *   still expanding) of an object whose status shows a successful run of this spec: nothing at its start
 *   and no progress; its end is written only when it changed something or the warnings changed;
 * - a forced full run (status.monitoring removed, possibly with quiet triggers): its end only, one status
 *   write and one Event, since the end puts status.monitoring back anyway;
 * - a retry of a failed run: nothing at its start (a run failing the same way again then writes nothing
 *   at all, failure-memory.ts).
 */
import type { Trigger, TriggerKind } from '../../reconcile/contract.js';

interface WriteBudget {
  /** Write the start: Progressing and a RunStarted Event. */
  start: boolean;
  /** The one progress write of a long run is allowed. */
  progress: boolean;
  /** Write the end only when something changed (a quiet drift check). */
  quietEnd: boolean;
}

const QUIET: ReadonlySet<TriggerKind> = new Set(['resync', 'drift', 'requeue']);

export function writeBudget(
  triggers: readonly Trigger[],
  settled: boolean,
  failedBefore: boolean,
): WriteBudget {
  const all = (ok: (k: TriggerKind) => boolean) => triggers.length > 0 && triggers.every((t) => ok(t.kind));
  if (all((k) => QUIET.has(k)) && settled) return { start: false, progress: false, quietEnd: true };
  if (all((k) => k === 'retry') && failedBefore) return { start: false, progress: true, quietEnd: false };
  if (
    all((k) => QUIET.has(k) || k === 'monitoring-removed') &&
    triggers.some((t) => t.kind === 'monitoring-removed')
  )
    return { start: false, progress: false, quietEnd: false };
  return { start: true, progress: true, quietEnd: false };
}
