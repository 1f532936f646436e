/** The ClusterConfiguration CRD on the real API server: accepted samples, rejected types, printer columns. */
import { beforeAll, describe, expect, it } from '@jest/globals';
import { execa } from 'execa';
import path from 'node:path';
import { ApiError, type KubeClient } from '../../src/kube/client.js';
import { waitForCrdsEstablished } from '../../src/kube/crd.js';
import { adminClient, clusterInfo, createTestNamespace } from './cluster.js';
import {
  ccPath,
  createClusterConfiguration,
  installClusterConfigurationCrd,
  mergePatch,
  sampleClusterConfiguration,
} from './fixtures.js';

describe('ClusterConfiguration CRD', () => {
  let admin: KubeClient;
  let ns: string;

  beforeAll(async () => {
    admin = adminClient();
    await installClusterConfigurationCrd(admin);
    await waitForCrdsEstablished(admin, ['clusterconfigurations.installer.kubesphere.io']);
    ns = await createTestNamespace(admin, 'cc-crd');
  });

  it('accepts the sample, keeps unknown keys and status without a status subresource', async () => {
    const cc = sampleClusterConfiguration(ns);
    (cc.spec as Record<string, unknown>).devops = { enabled: false, jenkinsMemoryLim: '2Gi' };
    const created = await createClusterConfiguration(admin, cc);
    expect((created.spec as { devops: unknown }).devops).toEqual({ enabled: false, jenkinsMemoryLim: '2Gi' });
    await mergePatch(admin, ccPath(ns), {
      status: {
        monitoring: { status: 'enabled', enabledTime: '2026-01-01T00:00:00Z' },
        progress: '7/7 done',
      },
    });
    const got = await admin.get<{ status: { monitoring: { status: string } } }>(ccPath(ns));
    expect(got.status.monitoring.status).toBe('enabled');
  });

  it('rejects a wrong type at kubectl-edit time, naming the field', async () => {
    const err = await mergePatch(admin, ccPath(ns), {
      spec: { monitoring: { prometheus: { replicas: 'two' } } },
    }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ApiError);
    expect((err as ApiError).status).toBe(422);
    expect((err as ApiError).message).toContain('spec.monitoring.prometheus.replicas');
  });

  it('shows monitoring, progress and readiness as printer columns', async () => {
    const info = clusterInfo();
    const { stdout } = await execa(path.join(info.binDir, 'kubectl'), [
      '--kubeconfig',
      info.kubeconfig,
      'get',
      'cc',
      '-n',
      ns,
    ]);
    const [header, row] = stdout.split('\n');
    expect(header!.split(/\s+/)).toEqual(['NAME', 'MONITORING', 'PROGRESS', 'READY', 'AGE']);
    expect(row).toMatch(/^ks-installer\s+enabled\s+7\/7 done\s+/);
  });
});
