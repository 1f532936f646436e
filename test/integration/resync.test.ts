/**
 * The periodic resync as a drift check: on a settled stack it writes nothing to the
 * ClusterConfiguration (every write would bump its generation) and posts no Events; drift it
 * corrects shows on the status and as an Event.
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import type { KubeClient } from '../../src/kube/client.js';
import type { ClusterConfiguration } from '../../src/api/cluster-configuration.js';
import {
  ccPath,
  clusterEvents,
  createClusterConfiguration,
  MONITORING_NS,
  prepareOperatorTest,
  sampleClusterConfiguration,
} from './fixtures.js';
import { startOperatorProcess, waitUntil, type OperatorProcess } from './operator-process.js';

const RESYNC_STARTED = /run started: periodic resync/;
const NO_DRIFT = /run succeeded: .*; no drift, status left as it was/;

describe('periodic resync', () => {
  let admin: KubeClient;
  let ns: string;
  let op: OperatorProcess;
  const getCc = () => admin.get<ClusterConfiguration>(ccPath(ns));

  beforeAll(async () => {
    ({ admin, ns } = await prepareOperatorTest('resync'));
    await createClusterConfiguration(admin, sampleClusterConfiguration(ns));
    op = startOperatorProcess(['--namespace', ns, '--resync-period', '2s']);
    await op.waitFor(/run succeeded/, 120_000);
    await waitUntil('Ready', async () =>
      (await getCc()).status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True'),
    );
  });

  afterAll(async () => {
    expect(await op?.stop()).toBe(0);
  });

  it('leaves a settled ClusterConfiguration and its Events untouched', async () => {
    // Let one resync settle whatever the first run's last status write raced with.
    await op.waitFor(NO_DRIFT, 60_000);
    const before = await getCc();
    const events = (await clusterEvents(admin, ns, 'ks-installer')).length;
    const from = op.lines.length;
    const first = op.lines.indexOf(await op.waitFor(NO_DRIFT, 60_000, from), from);
    const second = op.lines.indexOf(await op.waitFor(NO_DRIFT, 60_000, first + 1), first + 1);
    expect(op.lines.slice(from, second + 1).filter((l) => RESYNC_STARTED.test(l))).toHaveLength(2);
    const after = await getCc();
    expect(after.metadata.resourceVersion).toBe(before.metadata.resourceVersion);
    expect(after.metadata.generation).toBe(before.metadata.generation);
    expect((await clusterEvents(admin, ns, 'ks-installer')).length).toBe(events);
  });

  it('puts the drift it corrected on the status and in an Event', async () => {
    const monitor = `/apis/monitoring.coreos.com/v1/namespaces/${MONITORING_NS}/servicemonitors/node-exporter`;
    const before = await getCc();
    const from = op.lines.length;
    await admin.request('DELETE', monitor);
    const line = await op.waitFor(/run succeeded: .*\([1-9]\d* changed\)/, 60_000, from);
    expect(line).not.toMatch(/no drift/);
    await admin.get(monitor);
    const after = await waitUntil('the status written', async () => {
      const cc = await getCc();
      return cc.metadata.resourceVersion !== before.metadata.resourceVersion && cc;
    });
    expect(after.status?.conditions?.find((c) => c.type === 'Ready')).toMatchObject({
      status: 'True',
      message: expect.stringMatching(/\(1 changed\)/),
    });
    expect(after.status?.monitoring).toEqual(before.status?.monitoring);
    await waitUntil('a RunSucceeded Event for the correction', async () =>
      (await clusterEvents(admin, ns, 'ks-installer')).some(
        (e) => e.reason === 'RunSucceeded' && /\(1 changed\)/.test(e.message ?? ''),
      ),
    );
  });
});
