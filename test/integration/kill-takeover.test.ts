/**
 * The takeover of an original installation (the shape of upgrade-from-original.test.ts, written by
 * original-install.ts) killed anywhere: the operator, a real process talking through the write tap of
 * test/support/write-tap.ts, is SIGKILLed right after its k-th write was stored and before its answer
 * came back, k drawn for each of 10 fixed seeds over the writes an uninterrupted takeover makes
 * (measured first). A new process then starts and must end in exactly the state the uninterrupted
 * takeover reached: the same objects (a normalised dump of every object the plan renders), no field
 * left to the original's managers, the Prometheus volume kept (same uid), Helm's release Secrets of
 * notification-manager gone (the other release kept). The ClusterConfiguration and the release Secrets
 * are watched throughout: no version of the ClusterConfiguration lacks the original's
 * `status.monitoring`, and Ready=True is never written before the last change to the stack.
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import type { ClusterConfiguration } from '../../src/api/cluster-configuration.js';
import { PROMETHEUS_PVC } from '../../src/facts/live.js';
import { ORIGINAL_MANAGERS, type ManagedFieldsEntry } from '../../src/kube/client-side-apply.js';
import type { KubeClient, KubeObject } from '../../src/kube/client.js';
import type { WriteTap } from '../support/write-tap.js';
import { removeGlobalRuleGroupCrd } from './alerting-crd.js';
import {
  ccPath,
  createClusterConfiguration,
  deleteAndWait,
  deletePvc,
  mergePatch,
  MONITORING_NS,
  prepareOperatorTest,
  sampleClusterConfiguration,
  type Obj,
} from './fixtures.js';
import {
  conditionSummary,
  converged,
  describeWrite,
  differences,
  dump,
  killPoint,
  operatorFor,
  restartUntilConverged,
  recordVersions,
  revision,
  runKilledAt,
  startTap,
  warningsAbout,
} from './kill-points.js';
import {
  OTHER_RELEASE,
  planForOriginal,
  SECRETS,
  shapeOriginalInstall,
  type OriginalPlan,
} from './original-install.js';
import type { OperatorProcess } from './operator-process.js';

const SEEDS = Array.from({ length: 10 }, (_, i) => i + 1);
const ENABLED = { status: 'enabled', enabledTime: '2024-05-01T10:20:30CST' };
const PVC_PATH = `/api/v1/namespaces/${MONITORING_NS}/persistentvolumeclaims/${PROMETHEUS_PVC}`;
const isOriginal = (e: ManagedFieldsEntry) => ORIGINAL_MANAGERS.includes(e.manager ?? '') && !e.subresource;

describe('a takeover of the original installer killed anywhere ends as an uninterrupted one', () => {
  let admin: KubeClient;
  let ns: string;
  let original: OriginalPlan;
  let paths: string[];
  let tap: WriteTap;
  let tapKubeconfig: string;
  let closeTap: () => Promise<void>;
  let writes = 0;
  let baseline: Map<string, unknown>;
  let baselineConditions: string[];
  const results: string[] = [];

  /** The original's shape again, with its ClusterConfiguration (monitoring enabled); the volume's uid. */
  async function reset(): Promise<string> {
    await deleteAndWait(admin, ccPath(ns));
    const pvcUid = await shapeOriginalInstall(admin, original);
    await createClusterConfiguration(admin, sampleClusterConfiguration(ns));
    await mergePatch(admin, ccPath(ns), { status: { monitoring: ENABLED } });
    return pvcUid;
  }

  /** What is left of the original: its managers' fields on our objects, its Helm release Secrets. */
  async function originalLeft(): Promise<string[]> {
    const left: string[] = [];
    for (const p of paths) {
      const live = await admin.get<KubeObject>(p);
      const managers = ((live.metadata.managedFields ?? []) as ManagedFieldsEntry[]).filter(isOriginal);
      if (managers.length) left.push(`${p}: ${managers.map((m) => m.manager).join(', ')}`);
    }
    const releases = await admin.get<{ items: Obj[] }>(SECRETS, { query: { labelSelector: 'owner=helm' } });
    for (const s of releases.items)
      if (s.metadata.name !== OTHER_RELEASE) left.push(`Secret ${s.metadata.name}`);
    return left;
  }

  beforeAll(async () => {
    ({ admin, ns } = await prepareOperatorTest('kill-takeover'));
    original = await planForOriginal(admin, ns);
    ({ tap, kubeconfig: tapKubeconfig, close: closeTap } = await startTap());

    // The uninterrupted takeover, through the tap: how many writes it makes, and what it leaves. Twice:
    // what the reset keeps (the prometheus-operator and dashboard CRDs, the namespaces) is ours after a
    // first takeover, as every seed finds it, and the first one also writes those.
    const counts: number[] = [];
    let cc: ClusterConfiguration | undefined;
    let op: OperatorProcess | undefined;
    let took = 0;
    for (const _ of [1, 2]) {
      await reset();
      paths = await Promise.all(original.objects().map((o) => original.mapper.objectPath(o)));
      tap.reset();
      const started = performance.now();
      op = await operatorFor(ns, tapKubeconfig);
      cc = await converged(admin, ns);
      took = (performance.now() - started) / 1000;
      await op.stop();
      counts.push(tap.writes.length);
      expect(op.count(/run failed/)).toBe(0);
    }
    writes = counts.at(-1)!;
    expect(await originalLeft()).toEqual([]);
    baseline = (await dump(admin, paths)).state;
    baselineConditions = conditionSummary(cc!);
    process.stdout.write(
      `takeover, uninterrupted: ${writes} writes (${counts[0]} the first time) (first ${describeWrite(tap.writes[0])}, last ${describeWrite(tap.writes.at(-1))}), ${baseline.size} objects, ${took.toFixed(1)} s\n`,
    );
  }, 300_000);

  afterAll(async () => {
    await closeTap?.();
    process.stdout.write(`takeover killed at seeded writes:\n${results.join('\n')}\n`);
    // No volume, root Prometheus or alerting API left for the next file.
    await deletePvc(admin, PROMETHEUS_PVC);
    await deleteAndWait(admin, `/apis/monitoring.coreos.com/v1/namespaces/${MONITORING_NS}/prometheuses/k8s`);
    await deleteAndWait(admin, `${SECRETS}/${OTHER_RELEASE}`);
    await removeGlobalRuleGroupCrd(admin);
  }, 120_000);

  it.each(SEEDS)(
    'seed %i',
    async (seed) => {
      const pvcUid = await reset();
      const k = killPoint(seed, writes);
      const ccVersions = recordVersions(
        admin,
        `/apis/installer.kubesphere.io/v1alpha1/namespaces/${ns}/clusterconfigurations`,
        {
          fieldSelector: 'metadata.name=ks-installer',
        },
      );
      const releaseVersions = recordVersions(admin, SECRETS, {
        labelSelector: 'owner=helm,name=notification-manager',
      });
      try {
        const killed = await runKilledAt(tap, tapKubeconfig, ns, k, async () => undefined);
        const restarted = await restartUntilConverged(admin, ns);
        const { cc, recovery } = restarted;
        const after = await dump(admin, paths);
        await ccVersions.stop();
        await releaseVersions.stop();

        const seen = ccVersions.events.map((e) => e.object as ClusterConfiguration & Obj);
        const firstReady = seen.find((v) =>
          v.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True'),
        );
        const releaseGone = Math.max(
          0,
          ...releaseVersions.events.filter((e) => e.type === 'DELETED').map((e) => revision(e.object)),
        );
        results.push(
          `  seed ${seed}: killed after write ${k}/${writes} (${describeWrite(killed.lastWrite)}); recovered in ${recovery.toFixed(1)} s`,
        );
        expect({
          failedRuns: [...killed.lines, ...restarted.lines].filter((l) => /run failed/.test(l)),
          warnings: await warningsAbout(admin, ns, cc.metadata.uid!),
          conditions: conditionSummary(cc),
          differences: differences(baseline, after.state),
          originalLeft: await originalLeft(),
          volume: (await admin.get<Obj>(PVC_PATH)).metadata.uid,
          monitoringNotAsTheOriginalSetIt: seen.filter(
            (v) =>
              Object.keys(v.status?.monitoring ?? {}).length !== 2 ||
              v.status?.monitoring?.status !== ENABLED.status ||
              v.status.monitoring.enabledTime !== ENABLED.enabledTime,
          ).length,
          readyBeforeTheLastChange:
            firstReady === undefined ||
            revision(firstReady) < after.latest ||
            revision(firstReady) < releaseGone,
        }).toEqual({
          failedRuns: [],
          warnings: [],
          conditions: baselineConditions,
          differences: [],
          originalLeft: [],
          volume: pvcUid,
          monitoringNotAsTheOriginalSetIt: 0,
          readyBeforeTheLastChange: false,
        });
      } finally {
        await ccVersions.stop();
        await releaseVersions.stop();
      }
    },
    300_000,
  );
});
