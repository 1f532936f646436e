/**
 * The controller with the real Installer on the in-memory API server: what starts a run (first sight,
 * a spec change, status.monitoring removed, one of our objects deleted) and what does not (the run's
 * own status writes and applies).
 */
import { afterEach, describe, expect, it } from '@jest/globals';
import { Controller } from '../../../src/controller/controller.js';
import { describeTrigger, type Reconciler } from '../../../src/reconcile/contract.js';
import { CONTENT_TYPE } from '../../../src/kube/client.js';
import { silentLogger } from '../../../src/observe/logger.js';
import { CC_PATH, TARGET, currentCc, fakeCluster, fakeInstaller } from '../../support/fake-cluster.js';
import type { FakeKube } from '../../support/fake-kube.js';

const MONITORING_NS = 'kubesphere-monitoring-system';

async function until(what: string, cond: () => boolean, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!cond()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 5));
  }
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

let controller: Controller | undefined;
afterEach(async () => {
  await controller?.stop();
  controller = undefined;
});

/** A controller over the real Installer; `runs` records the triggers of every run as the log says them, `idle` says none is running or queued soon. */
async function start(kube: FakeKube) {
  const { installer, cache } = fakeInstaller(kube);
  const runs: string[][] = [];
  let running = 0;
  const reconciler: Reconciler = {
    reconcile: async (key, triggers, signal) => {
      runs.push(triggers.map(describeTrigger));
      running++;
      try {
        return await installer.reconcile(key, triggers, signal);
      } finally {
        running--;
      }
    },
  };
  controller = new Controller({
    client: kube,
    reconciler,
    cache,
    logger: silentLogger,
    ...TARGET,
    jqFilter: '.spec',
    resync: { everyMs: 3_600_000 },
    drift: { namespace: MONITORING_NS, fieldManager: 'ks-installer' },
  });
  controller.start();
  return { runs, finished: (n: number) => runs.length === n && running === 0 };
}

describe('Controller on the in-memory API server', () => {
  it('runs on first sight and on a spec change, not on its own status writes', async () => {
    const kube = await fakeCluster({ monitoring: { prometheus: { replicas: 1 } } });
    const { runs, finished } = await start(kube);

    await until('the first run', () => finished(1));
    expect(runs[0]![0]).toMatch(/^first sight of kubesphere-system\/ks-installer/);
    expect(currentCc(kube).status?.monitoring?.status).toBe('enabled');
    // The run wrote the object (status, progress) several times; none of those writes starts a run,
    // nor do its applies count as drift (the drift watches coalesce for 0.5 s).
    expect(kube.writes().filter((r) => r.path === CC_PATH).length).toBeGreaterThanOrEqual(2);
    await sleep(800);
    expect(runs).toHaveLength(1);

    // A status write by someone else does not start a run either.
    await kube.request('PATCH', CC_PATH, {
      body: { status: { progress: 'edited by hand' } },
      contentType: CONTENT_TYPE.merge,
    });
    await sleep(100);
    expect(runs).toHaveLength(1);

    await kube.request('PATCH', CC_PATH, {
      body: { spec: { monitoring: { prometheus: { replicas: 2 } } } },
      contentType: CONTENT_TYPE.merge,
    });
    await until('the run of the edit', () => finished(2));
    expect(runs[1]).toEqual([expect.stringMatching(/^spec changed \(generation \d+\)$/)]);
    expect((kube.objects('Prometheus')[0] as unknown as { spec: { replicas: number } }).spec.replicas).toBe(
      2,
    );
    await sleep(800);
    expect(runs).toHaveLength(2);
  });

  it('a full run when status.monitoring is removed; a quiet run puts back an object deleted', async () => {
    const kube = await fakeCluster({});
    const { runs, finished } = await start(kube);
    await until('the first run', () => finished(1));

    await kube.request('PATCH', CC_PATH, {
      body: { status: { monitoring: null } },
      contentType: CONTENT_TYPE.merge,
    });
    await until('the full run', () => finished(2));
    expect(runs[1]).toEqual(['status.monitoring removed: full run']);
    expect(currentCc(kube).status?.monitoring?.status).toBe('enabled');

    await kube.request('DELETE', `/api/v1/namespaces/${MONITORING_NS}/services/kube-state-metrics`);
    await until('the drift run', () => finished(3));
    expect(runs[2]![0]).toMatch(/^drift: services kubesphere-monitoring-system\/kube-state-metrics deleted/);
    expect(kube.stored('v1', 'Service', 'kube-state-metrics', MONITORING_NS)).toBeDefined();
  });
});
