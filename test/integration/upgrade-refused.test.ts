/**
 * No half-upgrade: a takeover the API server would refuse writes nothing. notification-manager's operator
 * Deployment, created by the original's Helm release with a volume we do not render, also carries a mount of
 * that volume added by another tool (field manager `sidecar-injector`). The takeover would remove the volume
 * (only Helm owns it) but not the mount (not Helm's): the Deployment would be invalid. The run's dry run of
 * the whole plan, takeover included, must refuse it before the first write, name the object and the field,
 * and leave `status.monitoring` of the original and every object as they were.
 */
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import type { ClusterConfiguration } from '../../src/api/cluster-configuration.js';
import { makePlan } from '../../src/installer/plan/make-plan.js';
import { ROLES } from '../../src/installer/catalog.js';
import { loadCrds } from '../../src/installer/plan/role-objects.js';
import { RestMapper } from '../../src/kube/discovery.js';
import { applyObjects } from '../../tools/apply-objects.js';
import { HELM_RELEASE_ANNOTATION } from '../../src/kube/client-side-apply.js';
import type { KubeClient } from '../../src/kube/client.js';
import { createRenderer } from '../../src/render/renderer.js';
import {
  ccPath,
  createClusterConfiguration,
  deleteAndWait,
  ensureMonitoringCrds,
  mergePatch,
  MONITORING_NS,
  ONE_NODE_FACTS,
  prepareOperatorTest,
  ROOT,
  sampleClusterConfiguration,
  stackResourceVersions,
  startOperatorFor,
  type Obj,
} from './fixtures.js';
import type { OperatorProcess } from './operator-process.js';

const DEPLOYMENTS = `/apis/apps/v1/namespaces/${MONITORING_NS}/deployments`;
const DEPLOYMENT = `${DEPLOYMENTS}/notification-manager-operator`;
const ENABLED = { status: 'enabled', enabledTime: '2024-05-01T10:20:30CST' };

describe('a takeover the API server would refuse', () => {
  let admin: KubeClient;
  let ns: string;
  let op: OperatorProcess | undefined;
  let before: Map<string, string>;

  beforeAll(async () => {
    ({ admin, ns } = await prepareOperatorTest('upgrade-refused'));
    // An original installation has every CRD of the stack: without them a run would apply them
    // before its dry run (their custom resources cannot be checked otherwise), whatever ran before.
    await ensureMonitoringCrds(admin);
    await applyObjects(
      admin,
      new RestMapper(admin),
      loadCrds(path.join(ROOT, 'crds'), 'notification.kubesphere.io').map((m) => m.object),
      { fieldManager: 'test-setup' },
    );
    const plan = await makePlan(sampleClusterConfiguration(ns).spec ?? {}, ONE_NODE_FACTS, {
      renderer: createRenderer(path.join(ROOT, 'templates')),
      crdsRoot: path.join(ROOT, 'crds'),
      roles: ROLES.filter((r) => r.name === 'notification-manager'),
    });
    const deployment = structuredClone(
      plan.roles[0]!.manifests.find((m) => m.object.kind === 'Deployment')!.object,
    ) as Obj;
    delete deployment.metadata.labels?.['app.kubernetes.io/managed-by'];
    deployment.metadata.annotations = {
      [HELM_RELEASE_ANNOTATION]: 'notification-manager',
      'meta.helm.sh/release-namespace': MONITORING_NS,
    };
    deployment.spec.template.spec.volumes = [
      ...(deployment.spec.template.spec.volumes ?? []),
      { name: 'host-zoneinfo', hostPath: { path: '/usr/share/zoneinfo' } },
    ];
    await deleteAndWait(admin, DEPLOYMENT);
    await admin.request('POST', DEPLOYMENTS, { query: { fieldManager: 'helm' }, body: deployment });
    const container = deployment.spec.template.spec.containers[0].name as string;
    await admin.request('PATCH', DEPLOYMENT, {
      query: { fieldManager: 'sidecar-injector' },
      contentType: 'application/strategic-merge-patch+json',
      body: {
        spec: {
          template: {
            spec: {
              containers: [
                {
                  name: container,
                  volumeMounts: [{ name: 'host-zoneinfo', mountPath: '/usr/share/zoneinfo' }],
                },
              ],
            },
          },
        },
      },
    });
    await createClusterConfiguration(admin, sampleClusterConfiguration(ns));
    await mergePatch(admin, ccPath(ns), { status: { monitoring: ENABLED } });
    before = await stackResourceVersions(admin);
  });

  afterAll(async () => {
    if (op) expect(await op.stop()).toBe(0);
    await deleteAndWait(admin, DEPLOYMENT);
  });

  it('fails the run before the first write, naming the object and the field', async () => {
    op = await startOperatorFor(ns);
    await op.waitFor(/run (succeeded|failed)/, 120_000);
    expect(op.count(/run failed/)).toBe(1);
    const cc = await admin.get<ClusterConfiguration>(ccPath(ns));
    const ready = cc.status?.conditions?.find((c) => c.type === 'Ready');
    expect(ready).toMatchObject({ status: 'False', reason: 'RefusedByApiServer' });
    expect(ready?.message).toContain(
      `apply after taking over the original installer's fields of Deployment ${MONITORING_NS}/notification-manager-operator`,
    );
    expect(ready?.message).toContain('takeover not completed');
    expect(ready?.message).toContain('volumeMounts');
    expect(ready?.message).toContain('nothing was written');
    // The original's status stays: the takeover has not completed.
    expect(cc.status?.monitoring).toEqual(ENABLED);
  });

  it('wrote nothing', async () => {
    expect(await stackResourceVersions(admin)).toEqual(before);
    const live = await admin.get<Obj>(DEPLOYMENT);
    expect(live.metadata.annotations?.[HELM_RELEASE_ANNOTATION]).toBe('notification-manager');
    expect(live.metadata.managedFields?.map((f) => f.manager).sort()).toEqual(['helm', 'sidecar-injector']);
  });
});
