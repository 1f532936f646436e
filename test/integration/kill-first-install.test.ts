/**
 * A first install killed anywhere: the operator (a real process, through the write tap of
 * test/support/write-tap.ts) is SIGKILLed right after its k-th write was stored and before its answer
 * came back, k drawn for each of 20 fixed seeds over the writes an uninterrupted first install makes
 * (measured first, on the same control plane). Then a new process starts and must converge with no
 * failed run: no "run failed" in either log, no version of the ClusterConfiguration with Degraded=True
 * (it is watched throughout), no Warning Event about it, the same conditions, and the same objects as
 * the uninterrupted install (a normalised dump of every object the plan renders); Ready=True is never
 * written before the last change to those objects. Each seed prints where it was killed and how long
 * the restarted process took to converge.
 *
 * Between seeds everything the install made goes (its objects, CRDs, namespaces and the
 * ClusterConfiguration), so each seed is a first install again, on the run's shared control plane.
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import type { ClusterConfiguration } from '../../src/api/cluster-configuration.js';
import type { KubeClient } from '../../src/kube/client.js';
import type { WriteTap } from '../support/write-tap.js';
import {
  ccPath,
  createClusterConfiguration,
  deleteAndWait,
  prepareOperatorTest,
  sampleClusterConfiguration,
} from './fixtures.js';
import {
  conditionSummary,
  converged,
  deleteAll,
  deleteNamespaces,
  describeWrite,
  differences,
  dump,
  killPoint,
  operatorFor,
  restartUntilConverged,
  planPaths,
  recordVersions,
  revision,
  runKilledAt,
  startTap,
  warningsAbout,
} from './kill-points.js';

const SEEDS = Array.from({ length: 20 }, (_, i) => i + 1);
const CC_COLLECTION = (ns: string) =>
  `/apis/installer.kubesphere.io/v1alpha1/namespaces/${ns}/clusterconfigurations`;

describe('a first install killed anywhere converges after a restart', () => {
  let admin: KubeClient;
  let ns: string;
  let tap: WriteTap;
  let tapKubeconfig: string;
  let closeTap: () => Promise<void>;
  let paths: Awaited<ReturnType<typeof planPaths>>;
  let writes = 0;
  let baseline: Map<string, unknown>;
  let baselineConditions: string[];
  const results: string[] = [];

  /** Nothing of an install left: the ClusterConfiguration, the objects, the CRDs (and what is stored in them), the namespaces. */
  async function reset(): Promise<void> {
    await deleteAndWait(admin, ccPath(ns));
    await deleteAll(admin, paths.rest);
    await deleteAll(admin, paths.crds);
    await deleteNamespaces(admin, paths.namespaces);
  }

  const createCc = () => createClusterConfiguration(admin, sampleClusterConfiguration(ns));

  beforeAll(async () => {
    ({ admin, ns } = await prepareOperatorTest('kill-install'));
    ({ tap, kubeconfig: tapKubeconfig, close: closeTap } = await startTap());
    paths = await planPaths(admin, ns);
    await reset();

    // The uninterrupted install, through the tap: how many writes it makes, and what it leaves.
    tap.reset();
    const op = await operatorFor(ns, tapKubeconfig);
    const started = performance.now();
    await createCc();
    const cc = await converged(admin, ns);
    const took = (performance.now() - started) / 1000;
    await op.stop();
    writes = tap.writes.length;
    expect(op.count(/run failed/)).toBe(0);
    paths = await planPaths(admin, ns); // every kind is served now
    baseline = (await dump(admin, paths.all)).state;
    baselineConditions = conditionSummary(cc);
    expect([...baseline.values()].filter((o) => o === undefined)).toEqual([]);
    process.stdout.write(
      `first install, uninterrupted: ${writes} writes (first ${describeWrite(tap.writes[0])}, last ${describeWrite(tap.writes.at(-1))}), ${baseline.size} objects, ${took.toFixed(1)} s\n`,
    );
  }, 300_000);

  afterAll(async () => {
    await closeTap?.();
    process.stdout.write(`first install killed at seeded writes:\n${results.join('\n')}\n`);
  });

  it.each(SEEDS)(
    'seed %i',
    async (seed) => {
      await reset();
      const k = killPoint(seed, writes);
      const versions = recordVersions(admin, CC_COLLECTION(ns), {
        fieldSelector: 'metadata.name=ks-installer',
      });
      try {
        const killed = await runKilledAt(tap, tapKubeconfig, ns, k, createCc);
        const restarted = await restartUntilConverged(admin, ns);
        const { cc, recovery } = restarted;
        const after = await dump(admin, paths.all);
        await versions.stop();

        const seen = versions.events
          .filter((e) => e.type !== 'DELETED')
          .map((e) => e.object as ClusterConfiguration & { metadata: { resourceVersion?: string } });
        const degraded = seen.filter((v) =>
          v.status?.conditions?.some((c) => c.type === 'Degraded' && c.status === 'True'),
        );
        const firstReady = seen.find((v) =>
          v.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True'),
        );
        results.push(
          `  seed ${seed}: killed after write ${k}/${writes} (${describeWrite(killed.lastWrite)}); recovered in ${recovery.toFixed(1)} s`,
        );
        expect({
          failedRuns: [...killed.lines, ...restarted.lines].filter((l) => /run failed/.test(l)),
          degradedVersions: degraded.length,
          warnings: await warningsAbout(admin, ns, cc.metadata.uid!),
          conditions: conditionSummary(cc),
          differences: differences(baseline, after.state),
          readyBeforeTheLastChange: firstReady !== undefined && revision(firstReady) < after.latest,
        }).toEqual({
          failedRuns: [],
          degradedVersions: 0,
          warnings: [],
          conditions: baselineConditions,
          differences: [],
          readyBeforeTheLastChange: false,
        });
      } finally {
        await versions.stop();
      }
    },
    300_000,
  );
});
