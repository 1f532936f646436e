/**
 * The outcome of the run that reconciled a change, read from the ClusterConfiguration's status rather
 * than from log wording: the conditions of a run carry the generation it reconciled, and a finished
 * run leaves Progressing False with Ready True (succeeded) or False (failed, with the reason and the
 * message naming the field or object).
 */
import {
  objectPath,
  type ClusterConfiguration,
  type Condition,
} from '../../src/api/cluster-configuration.js';
import type { KubeClient, KubeObject } from '../../src/kube/client.js';
import { waitUntil } from './operator-process.js';

export interface RunOutcome {
  succeeded: boolean;
  /** The Ready condition the run left. */
  ready: Condition;
  cc: ClusterConfiguration;
}

/**
 * Waits for the end of the first run that saw `changed` (the object as a spec edit or the create
 * returned it): Progressing False and a Ready condition of that generation or a later one.
 */
export async function runOutcomeOf(
  admin: KubeClient,
  changed: Pick<KubeObject, 'metadata'>,
  timeoutMs = 120_000,
): Promise<RunOutcome> {
  const generation = changed.metadata.generation ?? 0;
  const path = objectPath({ namespace: changed.metadata.namespace!, name: changed.metadata.name });
  return waitUntil(
    `the run of generation ${generation} to finish`,
    async () => {
      const cc = await admin.get<ClusterConfiguration>(path);
      const of = (type: string) => cc.status?.conditions?.find((c) => c.type === type);
      const ready = of('Ready');
      if (of('Progressing')?.status !== 'False' || !ready) return undefined;
      if ((ready.observedGeneration ?? -1) < generation) return undefined;
      return { succeeded: ready.status === 'True', ready, cc };
    },
    timeoutMs,
    200,
  );
}
