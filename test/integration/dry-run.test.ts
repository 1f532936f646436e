/**
 * No half-applied plans, on the real API server: what a run sends is dry-run server-side before the
 * first write, so a value the API server refuses fails the run with nothing written (no
 * resourceVersion of the stack moves), and the conditions name the object and field.
 */
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import type { ClusterConfiguration } from '../../src/api/cluster-configuration.js';
import { dryRunObjects } from '../../src/installer/sync/dry-run.js';
import { makePlan } from '../../src/installer/plan/make-plan.js';
import { ROLES } from '../../src/installer/catalog.js';
import { CONTENT_TYPE, type KubeClient } from '../../src/kube/client.js';
import { isCrd } from '../../src/kube/object-ref.js';
import { RestMapper } from '../../src/kube/discovery.js';
import { readLiveObjects } from '../../src/kube/live-objects.js';
import { createRenderer } from '../../src/render/renderer.js';
import {
  ccPath,
  createClusterConfiguration,
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
import { waitUntil, type OperatorProcess } from './operator-process.js';
import { runOutcomeOf } from './run-outcome.js';

const PROMETHEUS = `/apis/monitoring.coreos.com/v1/namespaces/${MONITORING_NS}/prometheuses/k8s`;

describe('server-side dry run of the whole plan', () => {
  let admin: KubeClient;
  let ns: string;
  let op: OperatorProcess | undefined;
  const getCc = () => admin.get<ClusterConfiguration>(ccPath(ns));
  const condition = (cc: ClusterConfiguration, type: string) =>
    cc.status?.conditions?.find((c) => c.type === type);

  beforeAll(async () => {
    ({ admin, ns } = await prepareOperatorTest('dry-run'));
  });

  afterAll(async () => {
    if (op) expect(await op.stop()).toBe(0);
  });

  it('finds the object and field the API server refuses, and writes nothing', async () => {
    const plan = await makePlan(sampleClusterConfiguration(ns).spec ?? {}, ONE_NODE_FACTS, {
      renderer: createRenderer(path.join(ROOT, 'templates')),
      crdsRoot: path.join(ROOT, 'crds'),
      roles: ROLES,
    });
    const deployment = plan.roles
      .flatMap((r) => r.manifests.map((m) => m.object as Obj))
      .find((o) => o.kind === 'Deployment' && o.metadata.name === 'prometheus-operator')!;
    deployment.spec.template.spec.nodeSelector = { role: 'a\nb' };
    const before = await stackResourceVersions(admin);
    // What a run dry-runs when it changes existing objects: every object it sends but CRDs.
    const mapper = new RestMapper(admin);
    const items = plan.roles.flatMap((r) =>
      r.manifests.filter((m) => !isCrd(m.object)).map((m) => ({ role: r.role.name, object: m.object })),
    );
    const live = await readLiveObjects(
      admin,
      mapper,
      items.map((i) => i.object),
    );
    const result = await dryRunObjects(items, {
      client: admin,
      mapper,
      fieldManager: 'ks-installer',
      fallbackNamespace: ns,
      missingNamespaces: live.missingNamespaces,
      unserved: live.unserved,
    });
    expect(result.problems).toEqual([
      expect.objectContaining({
        role: 'prometheus-stack',
        object: `Deployment ${MONITORING_NS}/prometheus-operator`,
        reason: 'Invalid',
        fields: [expect.stringContaining('nodeSelector')],
      }),
    ]);
    expect(result.checked).toBeGreaterThan(40);
    expect(await stackResourceVersions(admin)).toEqual(before);
  });

  it('fails a run the API server would refuse before anything is written, and a fix applies cleanly', async () => {
    op = await startOperatorFor(ns);
    expect(
      (await runOutcomeOf(admin, await createClusterConfiguration(admin, sampleClusterConfiguration(ns))))
        .succeeded,
    ).toBe(true);

    const before = await stackResourceVersions(admin);
    const edit = await mergePatch(admin, ccPath(ns), {
      spec: { monitoring: { nodeSelector: { role: 'a\nb' } } },
    });
    const { succeeded, cc: failed } = await runOutcomeOf(admin, edit);
    expect(succeeded).toBe(false);
    expect(condition(failed, 'Ready')).toMatchObject({ status: 'False' });
    expect(condition(failed, 'Degraded')?.message).toMatch(/nodeSelector/);
    expect(await stackResourceVersions(admin)).toEqual(before);

    const fix = await mergePatch(admin, ccPath(ns), { spec: { monitoring: { nodeSelector: null } } });
    expect((await runOutcomeOf(admin, fix)).succeeded).toBe(true);
    const prom = await admin.get<Obj>(PROMETHEUS);
    expect(Object.values(prom.spec.nodeSelector ?? {})).not.toContain('a\nb');
    const fixed = await waitUntil('Ready=True', async () => {
      const c = await getCc();
      return condition(c, 'Ready')?.status === 'True' ? c : undefined;
    });
    expect(condition(fixed, 'Degraded')).toMatchObject({ status: 'False' });
  });

  it('refuses a local_registry too long for the API server without writing anything', async () => {
    const before = await stackResourceVersions(admin);
    const edit = await mergePatch(admin, ccPath(ns), {
      spec: { local_registry: `r${'e'.repeat(1024 * 1024)}.example.com` },
    });
    expect((await runOutcomeOf(admin, edit)).succeeded).toBe(false);
    expect(condition(await getCc(), 'Degraded')?.message).toMatch(/local_registry|too large|too long/);
    expect(await stackResourceVersions(admin)).toEqual(before);
    const fix = await mergePatch(admin, ccPath(ns), { spec: { local_registry: '' } });
    expect((await runOutcomeOf(admin, fix)).succeeded).toBe(true);
  });

  it('refuses common.monitoring.type: externel naming the field, without writing anything', async () => {
    const before = await stackResourceVersions(admin);
    const edit = await mergePatch(admin, ccPath(ns), {
      spec: { common: { monitoring: { type: 'externel' } } },
    });
    expect((await runOutcomeOf(admin, edit)).succeeded).toBe(false);
    expect(condition(await getCc(), 'Degraded')).toMatchObject({ status: 'True', reason: 'InvalidSpec' });
    expect(condition(await getCc(), 'Degraded')?.message).toContain('spec.common.monitoring.type');
    expect(await stackResourceVersions(admin)).toEqual(before);
    const fix = await mergePatch(admin, ccPath(ns), { spec: { common: { monitoring: { type: null } } } });
    expect((await runOutcomeOf(admin, fix)).succeeded).toBe(true);
  });

  it('never carries over a live Prometheus nodeSelector the API server would refuse', async () => {
    // Applied by our field manager, as a version without these checks did (the Prometheus CRD does
    // not check label syntax; the StatefulSet prometheus-operator makes from it is refused).
    const live = await admin.get<Obj>(PROMETHEUS);
    await admin.request('PATCH', PROMETHEUS, {
      query: { fieldManager: 'ks-installer', force: true },
      body: {
        apiVersion: live.apiVersion,
        kind: live.kind,
        metadata: {
          name: live.metadata.name,
          namespace: live.metadata.namespace,
          labels: live.metadata.labels,
        },
        spec: { ...live.spec, nodeSelector: { ...live.spec.nodeSelector, role: 'a\nb' } },
      },
      contentType: CONTENT_TYPE.apply,
    });
    const edit = await mergePatch(admin, ccPath(ns), {
      spec: { monitoring: { prometheus: { retention: '8d' } } },
    });
    expect((await runOutcomeOf(admin, edit)).succeeded).toBe(true);
    const prom = await admin.get<Obj>(PROMETHEUS);
    expect(Object.values(prom.spec.nodeSelector ?? {})).not.toContain('a\nb');
    const cc = await getCc();
    expect(condition(cc, 'LiveValueDropped')).toMatchObject({ status: 'True' });
    expect(condition(cc, 'LiveValueDropped')?.message).toMatch(/spec.nodeSelector/);
    expect(condition(cc, 'Ready')).toMatchObject({ status: 'True' });
  });
});
