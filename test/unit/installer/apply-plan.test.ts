/**
 * The apply plan on the in-memory API server: what waits for what (namespaces, CRDs Established), the
 * bound on requests in flight, and a refusal that stops the apply. The plan is the real one, rendered
 * from the empty spec.
 */
import { describe, expect, it } from '@jest/globals';
import path from 'node:path';
import { isCrd, isNamespace } from '../../../src/kube/object-ref.js';
import { ApiError, CONTENT_TYPE } from '../../../src/kube/client.js';
import { RestMapper } from '../../../src/kube/discovery.js';
import { silentLogger } from '../../../src/observe/logger.js';
import { createRenderer } from '../../../src/render/renderer.js';
import { ROLES } from '../../../src/installer/catalog.js';
import type { Plan, PlannedObject } from '../../../src/installer/model.js';
import { makePlan } from '../../../src/installer/plan/make-plan.js';
import { applyPlan } from '../../../src/installer/sync/apply-plan.js';
import { projectRoot } from '../../../src/paths.js';
import { RunError } from '../../../src/reconcile/contract.js';
import { FIXED_FACTS } from '../../fixed-facts.js';
import { FakeKube, type LoggedRequest } from '../../support/fake-kube.js';

const root = projectRoot();
const renderer = createRenderer(path.join(root, 'templates'));
const crdsRoot = path.join(root, 'crds');

let plan: Plan | undefined;
async function thePlan(): Promise<Plan> {
  plan ??= await makePlan({}, FIXED_FACTS, { renderer, crdsRoot, roles: ROLES, validate: false });
  return plan;
}

function planned(p: Plan): PlannedObject[] {
  return p.roles
    .filter((rp) => !rp.skip)
    .flatMap((rp) =>
      rp.manifests.map((m) => ({
        role: rp.role.name,
        source: m.source,
        object: m.object,
        live: undefined,
        change: 'absent',
      })),
    );
}

const applies = (log: LoggedRequest[]) =>
  log.filter((r) => r.method === 'PATCH' && r.contentType === CONTENT_TYPE.apply && !r.dryRun);

/** Lets every answer and watch event that is due be delivered. */
async function settle(ticks = 200): Promise<void> {
  for (let i = 0; i < ticks; i++) await new Promise((r) => setImmediate(r));
}

const CUSTOM = /^\/apis\/(monitoring\.coreos\.com|notification\.kubesphere\.io)\//;

describe('applyPlan on the in-memory API server', () => {
  it('applies namespaces before what lives in them, and a custom resource only once its CRD is Established', async () => {
    const p = await thePlan();
    const objects = planned(p);
    const kube = new FakeKube({ establishCrds: 'manual' });
    const mapper = new RestMapper(kube);
    for (const o of objects) if (isCrd(o.object)) mapper.learn(o.object);
    const done = applyPlan(p, objects, {
      client: kube,
      mapper,
      logger: silentLogger,
      fieldManager: 'ks-installer',
    });

    await settle();
    // Every CRD and every native object is applied; no custom resource yet.
    const crds = objects.filter((o) => isCrd(o.object));
    expect(applies(kube.log).filter((r) => r.path.includes('/customresourcedefinitions/'))).toHaveLength(
      crds.length,
    );
    expect(applies(kube.log).filter((r) => CUSTOM.test(r.path))).toEqual([]);
    const natives = objects.filter(
      (o) => !isCrd(o.object) && !/\.(coreos\.com|kubesphere\.io)\//.test(o.object.apiVersion),
    );
    expect(applies(kube.log).filter((r) => !r.path.includes('/customresourcedefinitions/'))).toHaveLength(
      natives.length,
    );

    const before = kube.log.length;
    for (const c of crds) kube.establish(c.object.metadata.name);
    const outcomes = await done;

    const custom = applies(kube.log).filter((r) => CUSTOM.test(r.path));
    expect(custom.length).toBe(objects.length - crds.length - natives.length);
    expect(custom.every((r) => kube.log.indexOf(r) >= before)).toBe(true);
    // Each namespace's apply precedes every apply into it (kubesphere-monitoring-federated holds nothing of ours).
    for (const ns of objects.filter((o) => isNamespace(o.object))) {
      const nsApply = kube.log.findIndex((r) => r.path === `/api/v1/namespaces/${ns.object.metadata.name}`);
      const into = kube.log.findIndex((r) => r.path.includes(`/namespaces/${ns.object.metadata.name}/`));
      expect(nsApply).toBeGreaterThanOrEqual(0);
      if (into >= 0) expect(nsApply).toBeLessThan(into);
    }
    expect(outcomes.reduce((n, o) => n + o.created, 0)).toBe(objects.length);
    expect(kube.objects('Prometheus')).toHaveLength(1);
  });

  it('keeps at most `concurrency` requests in flight, and does use them', async () => {
    const p = await thePlan();
    const kube = new FakeKube();
    await applyPlan(p, planned(p), {
      client: kube,
      mapper: new RestMapper(kube),
      logger: silentLogger,
      fieldManager: 'ks-installer',
      concurrency: 4,
    });
    expect(kube.maxInFlight).toBeLessThanOrEqual(4);
    expect(kube.maxInFlight).toBeGreaterThan(1);
  });

  it('sends nothing for objects that would not change', async () => {
    const p = await thePlan();
    const kube = new FakeKube();
    const objects = planned(p).map((o) => ({ ...o, change: undefined }));
    const outcomes = await applyPlan(p, objects, {
      client: kube,
      mapper: new RestMapper(kube),
      logger: silentLogger,
      fieldManager: 'ks-installer',
    });
    expect(kube.log).toEqual([]);
    expect(outcomes.reduce((n, o) => n + o.unchanged, 0)).toBe(objects.length);
  });

  it('stops at an object the API server refuses, and fails naming it', async () => {
    const p = await thePlan();
    const kube = new FakeKube();
    kube.intercept = ({ method, path: at }) => {
      if (method === 'PATCH' && at.endsWith('/deployments/kube-state-metrics'))
        throw new ApiError(
          422,
          'Invalid',
          'Deployment.apps "kube-state-metrics" is invalid: spec.replicas: Invalid value',
        );
    };
    const failure = await applyPlan(p, planned(p), {
      client: kube,
      mapper: new RestMapper(kube),
      logger: silentLogger,
      fieldManager: 'ks-installer',
      concurrency: 1,
    }).catch((e: unknown) => e);
    expect(failure).toBeInstanceOf(RunError);
    expect((failure as RunError).reason).toBe('RefusedByApiServer');
    // Retried (slowly, at least every resync): a refusal's cause may be fixed outside the spec.
    expect((failure as RunError).terminal).toBe(false);
    expect((failure as RunError).message).toContain('kube-state-metrics');
    const refused = kube.log.findIndex((r) => r.status === 422);
    // With one request in flight, nothing is sent after the refusal.
    expect(applies(kube.log.slice(refused + 1))).toEqual([]);
  });
});
