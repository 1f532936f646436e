/**
 * Drift repair without polling, on the real API server, with the resync an hour away: a Service we
 * own deleted, or a Deployment's spec changed by another field manager, is repaired by a run the
 * drift watch starts. The bounds asserted are generous (15 s; measured about 1-2 s) so the test does
 * not flake on a loaded machine; speed is measured, not asserted.
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import type { KubeClient } from '../../src/kube/client.js';
import { installedOperatorTest, mergePatch, MONITORING_NS, type Obj } from './fixtures.js';
import { waitUntil, type OperatorProcess } from './operator-process.js';

const SERVICE = `/api/v1/namespaces/${MONITORING_NS}/services/kube-state-metrics`;
const DEPLOYMENT = `/apis/apps/v1/namespaces/${MONITORING_NS}/deployments/kube-state-metrics`;

describe('drift repair by watching what we own', () => {
  let admin: KubeClient;
  let op: OperatorProcess;

  beforeAll(async () => {
    ({ admin, op } = await installedOperatorTest('drift'));
  });

  afterAll(async () => {
    expect(await op?.stop()).toBe(0);
  });

  it('brings a deleted Service back within seconds', async () => {
    const before = await admin.get<Obj>(SERVICE);
    const from = op.lines.length;
    const started = performance.now();
    await admin.request('DELETE', SERVICE);
    const back = await waitUntil(
      'the Service re-created',
      async () => {
        const s = await admin.getOrUndefined<Obj>(SERVICE);
        return s && s.metadata.uid !== before.metadata.uid ? s : undefined;
      },
      15_000,
      50,
    );
    const seconds = (performance.now() - started) / 1000;
    process.stderr.write(`drift repair: deleted Service back in ${seconds.toFixed(2)}s\n`);
    expect(back.spec.ports).toEqual(before.spec.ports);
    expect(op.lines.slice(from).some((l) => /drift: services .*kube-state-metrics deleted/.test(l))).toBe(
      true,
    );
  });

  it('reverts a change by another field manager to a field we own', async () => {
    const before = await admin.get<Obj>(DEPLOYMENT);
    const started = performance.now();
    await mergePatch(admin, DEPLOYMENT, { spec: { replicas: (before.spec.replicas as number) + 2 } });
    await waitUntil(
      'the replicas reverted',
      async () => (await admin.get<Obj>(DEPLOYMENT)).spec.replicas === before.spec.replicas,
      15_000,
      50,
    );
    process.stderr.write(
      `drift repair: foreign Deployment change reverted in ${((performance.now() - started) / 1000).toFixed(2)}s\n`,
    );
  });

  it('does not start runs for its own writes', async () => {
    await new Promise((r) => setTimeout(r, 3000));
    const from = op.lines.length;
    await new Promise((r) => setTimeout(r, 3000));
    expect(op.lines.slice(from).filter((l) => /run started/.test(l))).toEqual([]);
  });
});
