/**
 * Processes with --leader-elect: exactly one reconciles; on SIGTERM the leader releases the Lease
 * (controller-runtime's LeaderElectionReleaseOnCancel) and a standby takes over within the retry
 * period (2 s) plus a second, idle and in the middle of a run (the run is cancelled, not waited for).
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import type { KubeClient } from '../../src/kube/client.js';
import { createClusterConfiguration, prepareOperatorTest, sampleClusterConfiguration } from './fixtures.js';
import { startOperatorProcess, type OperatorProcess } from './operator-process.js';

describe('leader election', () => {
  let admin: KubeClient;
  let ns: string;
  const processes: OperatorProcess[] = [];

  beforeAll(async () => {
    ({ admin, ns } = await prepareOperatorTest('leader'));
    await createClusterConfiguration(admin, sampleClusterConfiguration(ns));
  });

  afterAll(async () => {
    await Promise.all(processes.map((p) => p.stop()));
  });

  /** SIGTERMs `leader` and answers which standby became leader, and how long after the signal. */
  async function handOver(leader: OperatorProcess, standbys: OperatorProcess[]) {
    const stoppedAt = Date.now();
    const next = Promise.race(
      standbys.map((s) => s.waitFor(/became leader/, 20_000).then(() => ({ s, ms: Date.now() - stoppedAt }))),
    );
    expect(await leader.stop('SIGTERM')).toBe(0);
    expect(leader.count(/released leadership/)).toBe(1);
    return next;
  }

  it('lets exactly one process reconcile; SIGTERM hands over in under 3 s, idle and mid-run', async () => {
    const args = ['--namespace', ns, '--leader-elect', '--resync-period', '1h'];
    const a = startOperatorProcess(args);
    processes.push(a);
    await a.waitFor(/became leader/, 30_000);
    const b = startOperatorProcess(args);
    const c = startOperatorProcess(args);
    processes.push(b, c);
    await b.waitFor(/waiting for leadership/, 30_000);
    await c.waitFor(/waiting for leadership/, 30_000);
    await a.waitFor(/run succeeded/, 180_000);
    await new Promise((r) => setTimeout(r, 3000));
    for (const s of [b, c]) {
      expect(s.count(/run started/)).toBe(0);
      expect(s.count(/became leader/)).toBe(0);
    }
    const lease = await admin.get<{ spec: { holderIdentity: string; leaseDurationSeconds: number } }>(
      `/apis/coordination.k8s.io/v1/namespaces/${ns}/leases/ks-installer`,
    );
    expect(lease.spec.leaseDurationSeconds).toBe(15);

    // Idle: SIGTERM between runs. Without the release it takes the lease duration (15 s) and a retry period.
    const idle = await handOver(a, [b, c]);
    process.stdout.write(
      `leader election: standby took over ${(idle.ms / 1000).toFixed(2)} s after SIGTERM (idle)\n`,
    );
    expect(idle.ms).toBeLessThan(3000);

    // Mid-run: the new leader's first run (it renders and reads everything) is under way.
    const second = idle.s;
    const last = second === b ? c : b;
    await second.waitFor(/run started/, 30_000);
    const busy = await handOver(second, [last]);
    const cancelled = second.count(/run succeeded/) === 0;
    process.stdout.write(
      `leader election: standby took over ${(busy.ms / 1000).toFixed(2)} s after SIGTERM (${cancelled ? 'mid-run, the run cancelled' : 'the run had finished'})\n`,
    );
    expect(busy.ms).toBeLessThan(3000);
    await last.waitFor(/run (succeeded|failed)/, 60_000);
    expect(last.count(/run succeeded/)).toBe(1);

    const after = await admin.get<{ spec: { holderIdentity: string } }>(
      `/apis/coordination.k8s.io/v1/namespaces/${ns}/leases/ks-installer`,
    );
    expect(after.spec.holderIdentity).not.toBe(lease.spec.holderIdentity);
  });
});
