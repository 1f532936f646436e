/**
 * etcd crashes (SIGKILL) and is back 5 s later, kube-apiserver running throughout: while the operator is
 * idle, and in the middle of a run. The same operator process recovers without a restart: an edit
 * made once etcd is back is applied, and a run cut by the outage is retried until it succeeds. The time
 * from etcd's return to the converged state is printed.
 * On a control plane of its own: etcd is killed.
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import type { ClusterConfiguration } from '../../src/api/cluster-configuration.js';
import { KubeClient } from '../../src/kube/client.js';
import { ControlPlane } from '../../tools/envtest/control-plane.js';
import {
  ccPath,
  createClusterConfiguration,
  installClusterConfigurationCrd,
  mergePatch,
  MONITORING_NS,
  sampleClusterConfiguration,
  setNodeCount,
  type Obj,
} from './fixtures.js';
import { startOperatorProcess, waitUntil, type OperatorProcess } from './operator-process.js';

const NS = 'kubesphere-system';
const PROMETHEUS = `/apis/monitoring.coreos.com/v1/namespaces/${MONITORING_NS}/prometheuses/k8s`;
const DOWN_MS = 5000;

describe('etcd restarted under the operator', () => {
  let cp: ControlPlane;
  let admin: KubeClient;
  let op: OperatorProcess;

  /** Waits until the edit to `replicas` is applied and the status shows a successful run of that spec. */
  async function converged(replicas: number, hashBefore: string | undefined): Promise<void> {
    await waitUntil(
      `replicas ${replicas} applied and Ready`,
      async () => {
        const prometheus = await admin.get<Obj & { spec: { replicas: number } }>(PROMETHEUS);
        const cc = await admin.get<ClusterConfiguration>(ccPath(NS));
        return (
          prometheus.spec.replicas === replicas &&
          cc.status?.observedSpecHash !== hashBefore &&
          cc.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True')
        );
      },
      180_000,
      250,
    );
  }

  const specHash = async () => (await admin.get<ClusterConfiguration>(ccPath(NS))).status?.observedSpecHash;

  beforeAll(async () => {
    cp = await ControlPlane.start({ progress: () => undefined });
    admin = KubeClient.fromKubeconfig(cp.kubeconfig);
    await installClusterConfigurationCrd(admin);
    await setNodeCount(admin, 1);
    await admin.request('POST', '/api/v1/namespaces', {
      body: { apiVersion: 'v1', kind: 'Namespace', metadata: { name: NS } },
    });
    await createClusterConfiguration(admin, sampleClusterConfiguration(NS));
    op = startOperatorProcess(['--kubeconfig', cp.kubeconfig, '--namespace', NS, '--resync-period', '1h']);
    await op.waitFor(/run succeeded/, 180_000);
  }, 240_000);

  afterAll(async () => {
    if (op) expect(await op.stop()).toBe(0);
    await admin?.close();
    await cp?.stop();
  });

  it('recovers from an etcd restart while idle: the next edit is applied', async () => {
    await cp.restartEtcd({ downMs: DOWN_MS });
    const back = Date.now();
    const before = await waitUntil('the API server serving again', async () => ({ hash: await specHash() }));
    await mergePatch(admin, ccPath(NS), { spec: { monitoring: { prometheus: { replicas: 2 } } } });
    await converged(2, before.hash);
    process.stdout.write(
      `etcd restart (${DOWN_MS / 1000} s down) while idle: an edit converged ${((Date.now() - back) / 1000).toFixed(1)} s after etcd was back\n`,
    );
    expect(op.child.exitCode).toBeNull();
  });

  it('recovers from an etcd restart in the middle of a run: the run is retried until it succeeds', async () => {
    const hash = await specHash();
    const from = op.lines.length;
    await mergePatch(admin, ccPath(NS), { spec: { monitoring: { prometheus: { replicas: 1 } } } });
    await op.waitFor(/run started: spec changed/, 30_000, from);
    await cp.restartEtcd({ downMs: DOWN_MS });
    const back = Date.now();
    await converged(1, hash);
    const failed = op.lines.slice(from).filter((l) => /run failed/.test(l)).length;
    process.stdout.write(
      `etcd restart (${DOWN_MS / 1000} s down) mid-run: converged ${((Date.now() - back) / 1000).toFixed(1)} s after etcd was back (${failed} failed runs retried)\n`,
    );
    expect(op.child.exitCode).toBeNull();
  });
});
