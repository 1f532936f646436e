/**
 * The contract between the controller and what it runs, after controller-runtime's: the controller
 * hands over one key (`namespace/name`) with the reasons it was queued for; the reconciler answers
 * when it wants to look again, or throws. The queue owns every retry: a thrown error is retried with
 * per-key backoff, a terminal RunError (input retrying cannot fix) waits for the object to change.
 * Both sides import this folder; it imports neither.
 */
import type { FieldProblem } from '../config/problems.js';

export interface ReconcileResult {
  /** Look at the key again after this long (e.g. a volume expansion still in progress). */
  requeueAfterMs?: number;
}

export interface Reconciler {
  reconcile(key: string, reasons: string[]): Promise<ReconcileResult>;
}

/** Every reason the queue adds a key with to retry a failed run starts with this. */
export const RETRY_REASON_PREFIX = 'retry after';

/** The reason the periodic resync queues a key with; a run queued for nothing else is a quiet drift check. */
export const RESYNC_REASON = 'periodic resync';

/** Every reason a drift watch queues a run with starts with this. */
export const DRIFT_REASON_PREFIX = 'drift:';

/** Why a run failed: the reason of its Degraded and Ready conditions and of its Warning Event. */
export type RunFailureReason =
  'InvalidSpec' | 'RenderFailed' | 'ValidationFailed' | 'RefusedByApiServer' | 'ApplyFailed';

/**
 * Which failures retrying cannot fix, so the queue waits for the object to be edited: an invalid spec,
 * and objects the API server refuses. The rest are retried with backoff.
 */
const TERMINAL: Record<RunFailureReason, boolean> = {
  InvalidSpec: true,
  RenderFailed: false,
  ValidationFailed: false,
  RefusedByApiServer: true,
  ApplyFailed: false,
};

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
