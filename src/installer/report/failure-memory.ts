/**
 * How a failed run goes on the object, and the memory that keeps a repeated failure from churning it:
 * the reason and message of the last run's failure, and whether the status shows it. A run that fails
 * the same way again, with nothing written since, writes nothing at all (an outage or a persistent
 * error does not rewrite the object or post an Event every retry). A success forgets it.
 */
import type { ClusterConfiguration, Condition } from '../../api/cluster-configuration.js';
import type { Logger } from '../../observe/logger.js';
import { RunError } from '../../reconcile/contract.js';
import { failedConditions } from './conditions.js';
import type { StatusWriter } from './status-writer.js';

/** Where a run was when it failed: the stage or role, and its index for the progress string. */
export interface RunPosition {
  index: number;
  role: string;
}

export class FailureMemory {
  private last: { signature: string; written: boolean } | undefined;

  /** Whether the last run failed (a retry of it writes nothing at its start). */
  get failedBefore(): boolean {
    return this.last !== undefined;
  }

  forget(): void {
    this.last = undefined;
  }

  /**
   * Puts the failure on the status (conditions, progress, a Warning Event) unless it is the last
   * run's, already shown; then throws it as a RunError for the queue (terminal or retried).
   */
  async report(
    deps: { status: StatusWriter; logger: Logger; roles: number },
    cc: ClusterConfiguration,
    err: unknown,
    conditions: Condition[],
    generation: number | undefined,
    at: RunPosition,
    wroteThisRun: boolean,
  ): Promise<never> {
    const { logger, status } = deps;
    const reason = err instanceof RunError ? err.reason : 'ApplyFailed';
    const message = (err as Error).message;
    const signature = `${reason}\n${message}`;
    const last = this.last;
    // The same failure as the last run's, already on the object, and nothing written since: write nothing.
    const unchanged = !wroteThisRun && last?.signature === signature && last.written;
    if (unchanged) {
      logger.error(`run failed at ${at.role}: ${reason} (as the last run; status left as it was)`, {
        reason,
        role: at.role,
        err: message,
      });
    } else {
      const written = await status.patch({
        conditions: failedConditions(conditions, reason, message, generation),
        progress: `${at.index + 1}/${deps.roles} ${at.role} failed`,
      });
      this.last = { signature, written: written !== undefined };
      await status.event(cc, 'Warning', reason, message);
      logger.error(`run failed at ${at.role}: ${reason}`, { reason, role: at.role, err: message });
    }
    throw err instanceof RunError ? err : new RunError(reason, message, { cause: err });
  }
}
