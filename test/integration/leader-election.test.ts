/** Two operator processes with --leader-elect: exactly one reconciles; the other takes over when it stops. */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import type { KubeClient } from '../../src/kube/client.js';
import { createClusterConfiguration, prepareOperatorTest, sampleClusterConfiguration } from './fixtures.js';
import { startOperatorProcess, type OperatorProcess } from './operator-process.js';

describe('leader election', () => {
  let admin: KubeClient;
  let ns: string;
  let a: OperatorProcess;
  let b: OperatorProcess;

  beforeAll(async () => {
    ({ admin, ns } = await prepareOperatorTest('leader'));
    await createClusterConfiguration(admin, sampleClusterConfiguration(ns));
  });

  afterAll(async () => {
    await Promise.all([a?.stop(), b?.stop()]);
  });

  it('lets exactly one process reconcile and hands over within 15 s after it stops', async () => {
    const args = ['--namespace', ns, '--leader-elect', '--resync-period', '1h'];
    a = startOperatorProcess(args);
    await a.waitFor(/became leader/, 30_000);
    b = startOperatorProcess(args);
    await b.waitFor(/waiting for leadership/, 30_000);
    await a.waitFor(/run succeeded/, 180_000);
    await new Promise((r) => setTimeout(r, 3000));
    expect(b.count(/run started/)).toBe(0);
    expect(b.count(/became leader/)).toBe(0);

    const lease = await admin.get<{ spec: { holderIdentity: string; leaseDurationSeconds: number } }>(
      `/apis/coordination.k8s.io/v1/namespaces/${ns}/leases/ks-installer`,
    );
    expect(lease.spec.leaseDurationSeconds).toBe(15);

    const stoppedAt = Date.now();
    expect(await a.stop('SIGTERM')).toBe(0);
    expect(a.count(/released leadership/)).toBe(1);
    await b.waitFor(/became leader/, 15_000);
    const takeoverMs = Date.now() - stoppedAt;
    expect(takeoverMs).toBeLessThan(15_000);
    await b.waitFor(/run started/, 30_000);
    const after = await admin.get<{ spec: { holderIdentity: string } }>(
      `/apis/coordination.k8s.io/v1/namespaces/${ns}/leases/ks-installer`,
    );
    expect(after.spec.holderIdentity).not.toBe(lease.spec.holderIdentity);
  });
});
