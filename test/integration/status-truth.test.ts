/**
 * Status from the truth, and retries that fit the error, on the real API server: an edit that makes
 * every run fail with a retryable error (an admission policy refusing it with 403, so no run is
 * terminal) is retried with backoff; no write of the ClusterConfiguration shows Ready=True until the
 * fix, and retries that fail the same way write nothing.
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import type { ClusterConfiguration } from '../../src/api/cluster-configuration.js';
import { ApiError, CONTENT_TYPE, type KubeClient } from '../../src/kube/client.js';
import { createRetentionPolicy, deleteRetentionPolicy } from './admission-policy.js';
import { ccPath, installedOperatorTest, mergePatch, MONITORING_NS } from './fixtures.js';
import { waitUntil, type OperatorProcess } from './operator-process.js';
import { runOutcomeOf } from './run-outcome.js';

const POLICY = 'ks-installer-test-refuse-retention';
const PROMETHEUS = `/apis/monitoring.coreos.com/v1/namespaces/${MONITORING_NS}/prometheuses/k8s`;
/** Refuses a Prometheus with this retention, as Forbidden (403): to the operator an API error, not bad input. */
const createPolicy = (admin: KubeClient, retention: string) =>
  createRetentionPolicy(admin, { name: POLICY, retention, reason: 'Forbidden' });
const deletePolicy = (admin: KubeClient) => deleteRetentionPolicy(admin, POLICY);

describe('status from the truth while every run fails', () => {
  let admin: KubeClient;
  let ns: string;
  let op: OperatorProcess;

  beforeAll(async () => {
    ({ admin, ns, op } = await installedOperatorTest('status-truth'));
  });

  afterAll(async () => {
    await deletePolicy(admin);
    expect(await op?.stop()).toBe(0);
  });

  it('never shows Ready=True before the fix, retries with backoff, and writes nothing for the same failure', async () => {
    await deletePolicy(admin);
    // A retention the live Prometheus does not have: an earlier file may have left one (the monitoring
    // namespace is shared, and a run carries the live retention over), and the edit must change it.
    const live = await admin.get<{ spec: { retention?: string } }>(PROMETHEUS);
    const refused = live.spec.retention === '9d' ? '8d' : '9d';
    await createPolicy(admin, refused);
    const writes: { ready?: string; reason?: string; progress?: string }[] = [];
    const abort = new AbortController();
    const start = await admin.get<ClusterConfiguration>(ccPath(ns));
    const watching = admin
      .watch<ClusterConfiguration>(
        ccPath(ns).replace(/\/[^/]+$/, ''),
        (e) => {
          if (e.type !== 'MODIFIED' || e.object.metadata.name !== 'ks-installer') return;
          const ready = e.object.status?.conditions?.find((c) => c.type === 'Ready');
          writes.push({ ready: ready?.status, reason: ready?.reason, progress: e.object.status?.progress });
        },
        { query: { resourceVersion: start.metadata.resourceVersion }, signal: abort.signal },
      )
      .catch(() => 'aborted');

    // The policy takes effect once the API server has loaded it.
    await waitUntil(`the policy refuses retention ${refused}`, async () => {
      try {
        await admin.request('PATCH', PROMETHEUS, {
          query: { dryRun: 'All' },
          body: { spec: { retention: refused } },
          contentType: CONTENT_TYPE.merge,
        });
        return false;
      } catch (e) {
        return e instanceof ApiError && e.status === 403;
      }
    });
    const from = op.lines.length;
    await mergePatch(admin, ccPath(ns), { spec: { monitoring: { prometheus: { retention: refused } } } });
    await op.waitFor(/run failed/, 60_000, from);
    const failedFrom = op.lines.length;
    // The window of retries: with backoff from 1 s (1, 2, 4 s + jitter) about 3 retries in 8 s.
    await new Promise((r) => setTimeout(r, 8000));
    const failedRuns = op.lines.slice(from).filter((l) => /run failed/.test(l)).length;
    process.stderr.write(
      `while failing: ${failedRuns} failed runs and ${writes.length} writes of the object from the edit to 8 s after the first failure: ${JSON.stringify(writes)}\n`,
    );
    // From the first failure on, no write shows Ready=True (the edit's start write still shows the
    // previous run's Ready=True, with that run's observedGeneration), and the retries failing the same
    // way write nothing: the failure write is the last one.
    const firstFailure = writes.findIndex((w) => w.ready === 'False');
    expect(firstFailure).toBeGreaterThanOrEqual(0);
    const afterFailure = writes.slice(firstFailure);
    expect(afterFailure.map((w) => w.ready)).not.toContain('True');
    expect(afterFailure).toHaveLength(1);
    expect(failedRuns).toBeGreaterThanOrEqual(2);
    expect(failedRuns).toBeLessThanOrEqual(6);
    expect(op.lines.slice(failedFrom).some((l) => /as the last run; status left as it was/.test(l))).toBe(
      true,
    );

    await deletePolicy(admin);
    const fix = await mergePatch(admin, ccPath(ns), {
      spec: { monitoring: { prometheus: { retention: null } } },
    });
    expect((await runOutcomeOf(admin, fix)).succeeded).toBe(true);
    await waitUntil('a write with Ready=True', async () => writes.some((w) => w.ready === 'True'));
    abort.abort();
    await watching;
  });
});
