/**
 * Puts the user hooks' state on the ClusterConfiguration as condition UserHookFailed (True while a
 * hook fails, False once every hook succeeded again) with a Warning Event per new failure. A hook
 * never fails the install, so this writer is apart from the run's own status.
 */
import { setCondition, type ClusterConfiguration } from '../api/cluster-configuration.js';
import type { HookFailure } from './user-hooks.js';

/** What this needs of the status writer (src/installer/report/status-writer.ts): read, patch, Events. */
interface HookStatusSink {
  read(): Promise<ClusterConfiguration | undefined>;
  patch(status: NonNullable<ClusterConfiguration['status']>): Promise<unknown>;
  event(cc: ClusterConfiguration, type: 'Normal' | 'Warning', reason: string, message: string): Promise<void>;
}

export async function reportUserHooks(status: HookStatusSink, failures: HookFailure[]): Promise<void> {
  const cc = await status.read();
  if (!cc) return;
  const current = cc.status?.conditions ?? [];
  if (failures.length === 0 && !current.some((c) => c.type === 'UserHookFailed')) return;
  const conditions = setCondition(current, {
    type: 'UserHookFailed',
    status: failures.length > 0 ? 'True' : 'False',
    reason: failures.length > 0 ? 'HookFailed' : 'HooksSucceeded',
    message:
      failures.length > 0
        ? failures.map((f) => `${f.hook} (${f.binding}) ${f.message}`).join('; ')
        : 'every user hook succeeded on its last run',
    observedGeneration: cc.metadata.generation,
  });
  await status.patch({ conditions });
  if (failures.length > 0) {
    await status.event(
      cc,
      'Warning',
      'UserHookFailed',
      failures.map((f) => `${f.hook}: ${f.message}`).join('; '),
    );
  }
}
