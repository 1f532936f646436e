/**
 * API Priority and Fairness, on in the embedded control plane as in every real cluster, squeezing the
 * operator hard: a PriorityLevelConfiguration of one concurrency share with a short queue, and a
 * FlowSchema sending every request of the operator's user there. kube-apiserver answers what does not
 * fit with 429 and Retry-After; the operator retries inside the request (kube/retry.ts), so a first
 * install and an edit converge with no failed run. The operator's requests are counted by the API
 * server (dispatched and rejected at that priority level) and printed with the rate.
 * On a control plane of its own: a first install, and a flow schema no other test meets.
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import type { ClusterConfiguration } from '../../src/api/cluster-configuration.js';
import { KubeClient } from '../../src/kube/client.js';
import { ControlPlane } from '../../tools/envtest/control-plane.js';
import { flowControlCounts } from '../../tools/envtest/request-metrics.js';
import {
  ccPath,
  createClusterConfiguration,
  installClusterConfigurationCrd,
  mergePatch,
  sampleClusterConfiguration,
  setNodeCount,
} from './fixtures.js';
import { startOperatorProcess, waitUntil, type OperatorProcess } from './operator-process.js';

const NS = 'kubesphere-system';
const USER = 'ks-installer-operator';
const LEVEL = 'ks-installer-squeeze';
const FLOWCONTROL = '/apis/flowcontrol.apiserver.k8s.io/v1';

describe('API Priority and Fairness squeezing the operator', () => {
  let cp: ControlPlane;
  let admin: KubeClient;
  let op: OperatorProcess | undefined;
  const counts: { what: string; seconds: number; dispatched: number; rejected: number }[] = [];

  async function measure<T>(what: string, fn: () => Promise<T>): Promise<T> {
    const before = await flowControlCounts(admin, LEVEL);
    const started = performance.now();
    const result = await fn();
    const seconds = (performance.now() - started) / 1000;
    const after = await flowControlCounts(admin, LEVEL);
    const c = {
      what,
      seconds,
      dispatched: after.dispatched - before.dispatched,
      rejected: after.rejected - before.rejected,
    };
    counts.push(c);
    process.stdout.write(
      `priority and fairness: ${what} in ${seconds.toFixed(1)} s: ${c.dispatched} requests served, ${c.rejected} rejected with 429 (${((c.dispatched + c.rejected) / seconds).toFixed(1)} requests/s)\n`,
    );
    return result;
  }

  beforeAll(async () => {
    cp = await ControlPlane.start({ users: [{ name: USER, auth: 'token' }], progress: () => undefined });
    admin = KubeClient.fromKubeconfig(cp.kubeconfig);
    await admin.request('POST', '/apis/rbac.authorization.k8s.io/v1/clusterrolebindings', {
      body: {
        apiVersion: 'rbac.authorization.k8s.io/v1',
        kind: 'ClusterRoleBinding',
        metadata: { name: USER },
        roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: 'cluster-admin' },
        subjects: [{ apiGroup: 'rbac.authorization.k8s.io', kind: 'User', name: USER }],
      },
    });
    // One share of about 246 (the bootstrap levels'): 3 seats of the server's 600, nothing borrowed;
    // one queue of 2: a burst beyond 5 requests is rejected at once.
    await admin.request('POST', `${FLOWCONTROL}/prioritylevelconfigurations`, {
      body: {
        apiVersion: 'flowcontrol.apiserver.k8s.io/v1',
        kind: 'PriorityLevelConfiguration',
        metadata: { name: LEVEL },
        spec: {
          type: 'Limited',
          limited: {
            nominalConcurrencyShares: 1,
            lendablePercent: 0,
            borrowingLimitPercent: 0,
            limitResponse: { type: 'Queue', queuing: { queues: 1, handSize: 1, queueLengthLimit: 2 } },
          },
        },
      },
    });
    await admin.request('POST', `${FLOWCONTROL}/flowschemas`, {
      body: {
        apiVersion: 'flowcontrol.apiserver.k8s.io/v1',
        kind: 'FlowSchema',
        metadata: { name: LEVEL },
        spec: {
          priorityLevelConfiguration: { name: LEVEL },
          matchingPrecedence: 10,
          distinguisherMethod: { type: 'ByUser' },
          rules: [
            {
              subjects: [{ kind: 'User', user: { name: USER } }],
              resourceRules: [
                { verbs: ['*'], apiGroups: ['*'], resources: ['*'], namespaces: ['*'], clusterScope: true },
              ],
              nonResourceRules: [{ verbs: ['*'], nonResourceURLs: ['*'] }],
            },
          ],
        },
      },
    });
    await installClusterConfigurationCrd(admin);
    await setNodeCount(admin, 1);
    await admin.request('POST', '/api/v1/namespaces', {
      body: { apiVersion: 'v1', kind: 'Namespace', metadata: { name: NS } },
    });
    // The flow schema is in force once the API server reports it matched (its status says so).
    await waitUntil('the flow schema in force', async () => {
      const fs = await admin.get<{ status?: { conditions?: { type: string; status: string }[] } }>(
        `${FLOWCONTROL}/flowschemas/${LEVEL}`,
      );
      return fs.status?.conditions?.some((c) => c.type === 'Dangling' && c.status === 'False');
    });
  }, 120_000);

  afterAll(async () => {
    if (op) expect(await op.stop()).toBe(0);
    await admin?.close();
    await cp?.stop();
  });

  it('installs and applies an edit with no failed run, its requests throttled and retried', async () => {
    await createClusterConfiguration(admin, sampleClusterConfiguration(NS));
    op = startOperatorProcess(
      [
        '--kubeconfig',
        cp.userKubeconfig(USER),
        '--namespace',
        NS,
        '--resync-period',
        '1h',
        '--log-level',
        'debug',
      ],
      {},
    );
    await measure('first install', () => op!.waitFor(/run (succeeded|failed)/, 240_000));
    expect(op.count(/run failed/)).toBe(0);
    await waitUntil('monitoring enabled', async () => {
      const cc = await admin.get<ClusterConfiguration>(ccPath(NS));
      return cc.status?.monitoring?.status === 'enabled';
    });

    await measure('an edit', () =>
      op!.runAfter(
        () => mergePatch(admin, ccPath(NS), { spec: { monitoring: { prometheus: { replicas: 2 } } } }),
        180_000,
      ),
    );
    expect(op.count(/run failed/)).toBe(0);

    // The squeeze bit: the API server rejected some of the operator's requests and the operator sent
    // them again, by the Retry-After the server gave.
    const rejected = counts.reduce((n, c) => n + c.rejected, 0);
    expect(rejected).toBeGreaterThan(0);
    expect(op.count(/sent again in .*retry-after|reason=retry-after/)).toBeGreaterThan(0);
    // Bounded: a retry waits the Retry-After (at least 1 s) or backs off, so the operator does not
    // hammer a server that throttles it. Each request is tried at most 11 times.
    for (const c of counts) expect((c.dispatched + c.rejected) / c.seconds).toBeLessThan(100);
  });
});
