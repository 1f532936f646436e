/**
 * A first install sends each object once, without a dry run, except what carries a value of the spec:
 * that is dry-run first, and a custom resource among it gets its CRD applied first so the API server
 * can check it. Here an admission policy refuses the Prometheus a spec value makes: the run fails
 * naming it before any namespace or workload is written, with only CRDs in the cluster; the fix installs.
 * On a control plane of its own, as a fresh install needs kubesphere-monitoring-system not to exist.
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import type { ClusterConfiguration } from '../../src/api/cluster-configuration.js';
import { KubeClient, type KubeObject } from '../../src/kube/client.js';
import { ControlPlane } from '../../tools/envtest/control-plane.js';
import { createRetentionPolicy } from './admission-policy.js';
import {
  ccPath,
  createClusterConfiguration,
  installClusterConfigurationCrd,
  mergePatch,
  MONITORING_NS,
  sampleClusterConfiguration,
  setNodeCount,
} from './fixtures.js';
import { startOperatorProcess, waitUntil, type OperatorProcess } from './operator-process.js';
import { runOutcomeOf } from './run-outcome.js';

const POLICY = 'ks-installer-test-refuse-retention-13d';
const NS = 'kubesphere-system';

describe('the check of a first install', () => {
  let cp: ControlPlane;
  let admin: KubeClient;
  let op: OperatorProcess | undefined;
  const getCc = () => admin.get<ClusterConfiguration>(ccPath(NS));

  beforeAll(async () => {
    cp = await ControlPlane.start({ progress: () => undefined });
    admin = KubeClient.fromKubeconfig(cp.kubeconfig);
    await installClusterConfigurationCrd(admin);
    await setNodeCount(admin, 1);
    await admin.request('POST', '/api/v1/namespaces', {
      body: { apiVersion: 'v1', kind: 'Namespace', metadata: { name: NS } },
    });
    // Refused as Invalid (422): to the operator a refusal of the object.
    await createRetentionPolicy(admin, { name: POLICY, retention: '13d', reason: 'Invalid' });
  }, 120_000);

  afterAll(async () => {
    if (op) expect(await op.stop()).toBe(0);
    await admin?.close();
    await cp?.stop();
  });

  it('dry-runs the custom resource a spec value makes after its CRD, and writes nothing else when refused', async () => {
    const cc = sampleClusterConfiguration(NS);
    const spec = cc.spec as { monitoring?: { prometheus?: Record<string, unknown> } };
    spec.monitoring = {
      ...spec.monitoring,
      prometheus: { ...spec.monitoring?.prometheus, retention: '13d' },
    };
    await createClusterConfiguration(admin, cc);
    op = startOperatorProcess(['--kubeconfig', cp.kubeconfig, '--namespace', NS, '--resync-period', '1h']);
    await op.waitFor(/run (failed|succeeded)/, 120_000);
    expect(op.lines.some((l) => /dry run: \d+ CRDs applied first, for \d+ custom resources/.test(l))).toBe(
      true,
    );
    const failed = await getCc();
    const ready = failed.status?.conditions?.find((c) => c.type === 'Ready');
    expect(ready).toMatchObject({ status: 'False', reason: 'RefusedByApiServer' });
    expect(ready?.message).toMatch(/Prometheus kubesphere-monitoring-system\/k8s.*retention 13d is refused/s);
    expect(failed.status?.monitoring).toBeUndefined();
    // Only CRDs were written: no namespace, no workload, no RBAC of the stack.
    expect(await admin.getOrUndefined(`/api/v1/namespaces/${MONITORING_NS}`)).toBeUndefined();
    expect(
      await admin.getOrUndefined(
        '/apis/rbac.authorization.k8s.io/v1/clusterroles/kubesphere-prometheus-operator',
      ),
    ).toBeUndefined();
    await admin.get(
      '/apis/apiextensions.k8s.io/v1/customresourcedefinitions/prometheuses.monitoring.coreos.com',
    );
  });

  it('installs once the value is fixed', async () => {
    const fix = await mergePatch(admin, ccPath(NS), {
      spec: { monitoring: { prometheus: { retention: '14d' } } },
    });
    expect((await runOutcomeOf(admin, fix)).succeeded).toBe(true);
    const prometheus = await admin.get<KubeObject & { spec: { retention: string } }>(
      `/apis/monitoring.coreos.com/v1/namespaces/${MONITORING_NS}/prometheuses/k8s`,
    );
    expect(prometheus.spec.retention).toBe('14d');
    await waitUntil('Ready', async () =>
      (await getCc()).status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True'),
    );
  });
});
