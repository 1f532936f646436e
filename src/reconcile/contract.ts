/**
 * The contract between the controller and what it runs, after controller-runtime's: the controller
 * hands over one key (`namespace/name`) with the triggers it was queued for and a signal that cancels
 * the run (shutdown); the reconciler answers when it wants to look again, or throws. The queue owns
 * every retry: a thrown error is retried with per-key backoff (backoff.ts), a terminal RunError (input
 * retrying cannot fix) waits for the object to change. Both sides import this folder; it imports neither.
 */
import type { FieldProblem } from '../config/problems.js';

export interface ReconcileResult {
  /** Look at the key again after this long (e.g. a volume expansion still in progress). */
  requeueAfterMs?: number;
}

export interface Reconciler {
  reconcile(key: string, triggers: readonly Trigger[], signal: AbortSignal): Promise<ReconcileResult>;
}

/**
 * Why a key was queued. The controller decides it from the watch (first sight, a change of the
 * jqFilter selection, status.monitoring removed), the drift watches, and the queue itself (the periodic
 * resync, a requeue the reconciler asked for, a retry after a failure). The reconciler reads the kinds
 * only to decide what a run writes (src/installer/report/write-budget.ts); `detail` is for people.
 */
export type TriggerKind =
  'first-sight' | 'spec-changed' | 'monitoring-removed' | 'resync' | 'drift' | 'requeue' | 'retry';

export interface Trigger {
  kind: TriggerKind;
  /** What happened, for the log, the Progressing condition and the RunStarted Event. */
  detail: string;
}

export const trigger = (kind: TriggerKind, detail = ''): Trigger => ({ kind, detail });

/** Two triggers are the same when kind and detail are (the queue coalesces them). */
export const triggerKey = (t: Trigger): string => `${t.kind}\n${t.detail}`;

const SAY: Record<TriggerKind, (detail: string) => string> = {
  'first-sight': (d) => `first sight of ${d}`,
  'spec-changed': (d) => `spec changed (${d})`,
  'monitoring-removed': () => 'status.monitoring removed: full run',
  resync: () => 'periodic resync',
  drift: (d) => `drift: ${d}`,
  requeue: (d) => (d ? `check again: ${d}` : 'check again'),
  retry: (d) => `retry after ${d}`,
};

/** One line for a trigger, as the log and the conditions show it. */
export const describeTrigger = (t: Trigger): string => SAY[t.kind](t.detail);

/** Why a run failed: the reason of its Degraded and Ready conditions and of its Warning Event. */
type RunFailureReason =
  'InvalidSpec' | 'RenderFailed' | 'ValidationFailed' | 'RefusedByApiServer' | 'ApplyFailed';

/**
 * Which failures retrying cannot fix, so the queue waits for the object to be edited. Terminal means
 * "nothing changes until the spec does": an invalid spec only. A refusal by the API server (an
 * admission policy, a quota, an immutable field) has its cause in the cluster as often as in the
 * spec, and fixing it there must heal the stack: it is retried, slowly (REFUSAL_RETRY in backoff.ts),
 * and never later than the periodic resync. The rest are retried with backoff.
 */
const TERMINAL: Record<RunFailureReason, boolean> = {
  InvalidSpec: true,
  RenderFailed: false,
  ValidationFailed: false,
  RefusedByApiServer: false,
  ApplyFailed: false,
};

/** Whether a failure is a refusal by the API server: retried from REFUSAL_RETRY.firstMs (backoff.ts). */
export const isRefusal = (err: unknown): boolean =>
  err instanceof RunError && err.reason === 'RefusedByApiServer';

/**
 * Why a run failed, said so that a user can act (the field, template or object, and the fix), and
 * whether retrying can help. Plan, dry run and apply all fail with it.
 */
export class RunError extends Error {
  override readonly name = 'RunError';
  readonly terminal: boolean;
  readonly problems: FieldProblem[];
  readonly role: string | undefined;

  constructor(
    readonly reason: RunFailureReason,
    message: string,
    options: { problems?: FieldProblem[]; role?: string; terminal?: boolean; cause?: unknown } = {},
  ) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.terminal = options.terminal ?? TERMINAL[reason];
    this.problems = options.problems ?? [];
    this.role = options.role;
  }
}

/** Whether the queue should wait for the object to change instead of retrying. */
export const isTerminal = (err: unknown): boolean => err instanceof RunError && err.terminal;

/** A run stopped by its signal (shutdown): nothing is written about it and nothing is retried. */
export class RunCancelled extends Error {
  override readonly name = 'RunCancelled';
  constructor(readonly stage: string) {
    super(`run cancelled at ${stage}`);
  }
}
