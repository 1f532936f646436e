/**
 * Replicas on the real API server, read from the live custom resources: the node-count rule
 * (fewer than 3 nodes → 1, else Prometheus 2, Alertmanager 3, NotificationManager 2) and explicit
 * values winning over it, with their precedence chains.
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import type { KubeClient, KubeObject } from '../../src/kube/client.js';
import {
  ccPath,
  createClusterConfiguration,
  mergePatch,
  MONITORING_NS,
  prepareOperatorTest,
  sampleClusterConfiguration,
  setNodeCount,
  startOperatorFor,
} from './fixtures.js';
import { type OperatorProcess } from './operator-process.js';

type WithReplicas = KubeObject & { spec: { replicas?: number } };

describe('replicas', () => {
  let admin: KubeClient;
  let ns: string;
  let op: OperatorProcess;

  const runAfter = (change: () => Promise<unknown>) => op.runAfter(change);
  const patchSpec = (spec: unknown) => () => mergePatch(admin, ccPath(ns), { spec });
  const rerun = () => mergePatch(admin, ccPath(ns), { status: { monitoring: null } });

  async function liveReplicas(): Promise<{
    prometheus?: number;
    alertmanager?: number;
    notificationManager?: number;
  }> {
    const get = (p: string) => admin.get<WithReplicas>(p).then((o) => o.spec.replicas);
    const m = `/apis/monitoring.coreos.com/v1/namespaces/${MONITORING_NS}`;
    return {
      prometheus: await get(`${m}/prometheuses/k8s`),
      alertmanager: await get(`${m}/alertmanagers/main`),
      notificationManager: await get(
        '/apis/notification.kubesphere.io/v2beta2/notificationmanagers/notification-manager',
      ),
    };
  }

  beforeAll(async () => {
    ({ admin, ns } = await prepareOperatorTest('mon-replicas'));
    op = await startOperatorFor(ns);
  });

  afterAll(async () => {
    expect(await op?.stop()).toBe(0);
    await setNodeCount(admin, 1);
  });

  it('a 1-node cluster gets one of each', async () => {
    await runAfter(() => createClusterConfiguration(admin, sampleClusterConfiguration(ns)));
    expect(op.lines.some((l) => /facts: 1 nodes/.test(l))).toBe(true);
    expect(await liveReplicas()).toEqual({ prometheus: 1, alertmanager: 1, notificationManager: 1 });
  });

  it('a 5-node cluster gets Prometheus 2, Alertmanager 3, NotificationManager 2', async () => {
    await setNodeCount(admin, 5);
    await runAfter(rerun);
    expect(op.lines.some((l) => /facts: 5 nodes/.test(l))).toBe(true);
    expect(await liveReplicas()).toEqual({ prometheus: 2, alertmanager: 3, notificationManager: 2 });
  });

  it('explicit replicas win over the node-count rule', async () => {
    await runAfter(
      patchSpec({
        monitoring: {
          prometheus: { replicas: 3 },
          alertmanager: { replicas: 4 },
          notification_manager: { replicas: 5 },
        },
      }),
    );
    expect(await liveReplicas()).toEqual({ prometheus: 3, alertmanager: 4, notificationManager: 5 });
  });

  it('the legacy keys count when the nested ones are unset', async () => {
    await runAfter(
      patchSpec({
        monitoring: {
          prometheus: { replicas: null },
          prometheusReplicas: 1,
          alertmanager: { replicas: null },
          alertmanagerReplicas: 1,
          notification_manager: { replicas: null },
        },
      }),
    );
    // NotificationManager has no legacy key: back to the rule for 5 nodes.
    expect(await liveReplicas()).toEqual({ prometheus: 1, alertmanager: 1, notificationManager: 2 });
  });

  it('the nested keys beat the legacy ones', async () => {
    await runAfter(patchSpec({ monitoring: { prometheus: { replicas: 2 }, alertmanager: { replicas: 2 } } }));
    expect(await liveReplicas()).toEqual({ prometheus: 2, alertmanager: 2, notificationManager: 2 });
  });

  it('explicit values also win on a 1-node cluster', async () => {
    await setNodeCount(admin, 1);
    await runAfter(rerun);
    expect(await liveReplicas()).toEqual({ prometheus: 2, alertmanager: 2, notificationManager: 1 });
  });
});
