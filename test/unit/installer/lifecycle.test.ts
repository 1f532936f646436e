/**
 * The lifecycle of a role turned off (src/installer/lifecycle/remove-turned-off.ts), against a small in-memory API: what
 * is never removed (another manager's fields, a PersistentVolumeClaim, a CustomResourceDefinition, an
 * object without our label), the order of removal, and that a role found clean costs no request again.
 */
import { describe, expect, it } from '@jest/globals';
import {
  FIELD_MANAGER,
  MANAGED_BY_LABEL,
  MANAGED_BY_VALUE,
  ownershipLabels,
  roleSelector,
} from '../../../src/config/ownership.js';
import type { Condition } from '../../../src/api/cluster-configuration.js';
import {
  RoleLifecycle,
  whyKept,
  type Ownership,
} from '../../../src/installer/lifecycle/remove-turned-off.js';
import type { Plan, RemovalOutcome, Role, RunReport } from '../../../src/installer/model.js';
import { findingConditions } from '../../../src/installer/report/conditions.js';
import { ApiError, type KubeClient, type KubeObject } from '../../../src/kube/client.js';
import type { RestMapper } from '../../../src/kube/discovery.js';
import { createLogger } from '../../../src/observe/logger.js';
import { RunCancelled, RunError } from '../../../src/reconcile/contract.js';

const OWNERSHIP: Ownership = {
  fieldManager: FIELD_MANAGER,
  label: { key: MANAGED_BY_LABEL, value: MANAGED_BY_VALUE },
  roleSelector,
};

const ours = (fields: Record<string, unknown> = { 'f:spec': {} }) => ({
  manager: FIELD_MANAGER,
  operation: 'Apply',
  fieldsV1: fields,
});

function object(
  apiVersion: string,
  kind: string,
  name: string,
  extra: { namespace?: string; labels?: Record<string, string>; managedFields?: unknown[] } = {},
): KubeObject {
  return {
    apiVersion,
    kind,
    metadata: {
      name,
      ...(extra.namespace ? { namespace: extra.namespace } : {}),
      uid: `uid-${name}`,
      resourceVersion: '7',
      labels: extra.labels ?? ownershipLabels('extra'),
      managedFields: (extra.managedFields ?? [ours()]) as KubeObject['metadata']['managedFields'],
    },
  };
}

describe('whyKept', () => {
  it('removes an object of ours whose only other writers touch metadata bookkeeping or status', () => {
    const o = object('v1', 'Service', 'etcd', {
      namespace: 'kube-system',
      managedFields: [
        ours(),
        {
          manager: 'kubectl-annotate',
          operation: 'Update',
          fieldsV1: { 'f:metadata': { 'f:annotations': {} } },
        },
        {
          manager: 'kube-controller-manager',
          operation: 'Update',
          subresource: 'status',
          fieldsV1: { 'f:status': {} },
        },
      ],
    });
    expect(whyKept(o, OWNERSHIP)).toBeUndefined();
  });

  it('keeps an object whose fields another manager holds beyond metadata', () => {
    const o = object('v1', 'Service', 'etcd', {
      managedFields: [
        ours(),
        { manager: 'kubectl-edit', operation: 'Update', fieldsV1: { 'f:spec': { 'f:ports': {} } } },
      ],
    });
    expect(whyKept(o, OWNERSHIP)).toBe('fields held by kubectl-edit');
    const meta = object('v1', 'Service', 'etcd', {
      managedFields: [ours(), { manager: 'other', fieldsV1: { 'f:metadata': { 'f:generateName': {} } } }],
    });
    expect(whyKept(meta, OWNERSHIP)).toBe('fields held by other');
  });

  it('never removes a PersistentVolumeClaim, a CustomResourceDefinition or a Namespace, even labelled as ours', () => {
    expect(whyKept(object('v1', 'PersistentVolumeClaim', 'data'), OWNERSHIP)).toMatch(/never removed/);
    expect(
      whyKept(object('apiextensions.k8s.io/v1', 'CustomResourceDefinition', 'x.example.com'), OWNERSHIP),
    ).toMatch(/never removed/);
    expect(whyKept(object('v1', 'Namespace', 'ns'), OWNERSHIP)).toMatch(/never removed/);
  });

  it('keeps an object without our managed-by label', () => {
    const o = object('v1', 'Service', 'etcd', { labels: { 'installer.kubesphere.io/role': 'extra' } });
    expect(whyKept(o, OWNERSHIP)).toMatch(/not labelled/);
  });
});

/** Collections of a tiny API server: `base/[namespaces/ns/]resource` → objects; records requests. */
class FakeApi {
  readonly requests: string[] = [];
  readonly store = new Map<string, KubeObject>();
  static readonly KINDS: Record<string, { base: string; resource: string; namespaced: boolean }> = {
    'v1 Service': { base: '/api/v1', resource: 'services', namespaced: true },
    'v1 PersistentVolumeClaim': { base: '/api/v1', resource: 'persistentvolumeclaims', namespaced: true },
    'apiextensions.k8s.io/v1 CustomResourceDefinition': {
      base: '/apis/apiextensions.k8s.io/v1',
      resource: 'customresourcedefinitions',
      namespaced: false,
    },
    'apiregistration.k8s.io/v1 APIService': {
      base: '/apis/apiregistration.k8s.io/v1',
      resource: 'apiservices',
      namespaced: false,
    },
    'rbac.authorization.k8s.io/v1 ClusterRole': {
      base: '/apis/rbac.authorization.k8s.io/v1',
      resource: 'clusterroles',
      namespaced: false,
    },
  };

  pathOf(o: KubeObject): string {
    const k = FakeApi.KINDS[`${o.apiVersion} ${o.kind}`]!;
    const ns = k.namespaced ? `/namespaces/${o.metadata.namespace}` : '';
    return `${k.base}${ns}/${k.resource}/${o.metadata.name}`;
  }

  add(o: KubeObject): void {
    this.store.set(this.pathOf(o), o);
  }

  readonly mapper = {
    resource: async (apiVersion: string, kind: string) => {
      const k = FakeApi.KINDS[`${apiVersion} ${kind}`];
      if (!k) throw new ApiError(404, 'NotFound', `${kind} not served`);
      return k;
    },
  } as unknown as RestMapper;

  readonly client = {
    get: async (path: string, options: { query?: { labelSelector?: string } } = {}) => {
      this.requests.push(`LIST ${path} ${options.query?.labelSelector ?? ''}`);
      const wanted = (options.query?.labelSelector ?? '').split(',').filter(Boolean);
      const items = [...this.store.entries()]
        .filter(([p]) => p.startsWith(`${path}/`) && !p.slice(path.length + 1).includes('/'))
        .map(([, o]) => o)
        .filter((o) => wanted.every((w) => o.metadata.labels?.[w.split('=')[0]!] === w.split('=')[1]));
      return { metadata: {}, items };
    },
    request: async (method: string, path: string) => {
      this.requests.push(`${method} ${path}`);
      if (!this.store.delete(path)) throw new ApiError(404, 'NotFound', 'gone');
      return {};
    },
  } as unknown as KubeClient;
}

const ROLE: Role = {
  name: 'extra',
  when: () => ({ run: true }),
  templates: 'extra',
  crds: [],
  removal: {
    owns: [
      { apiVersion: 'apiextensions.k8s.io/v1', kind: 'CustomResourceDefinition' },
      { apiVersion: 'rbac.authorization.k8s.io/v1', kind: 'ClusterRole' },
      { apiVersion: 'v1', kind: 'PersistentVolumeClaim', namespace: 'mon' },
      { apiVersion: 'v1', kind: 'Service', namespace: 'mon' },
      { apiVersion: 'apiregistration.k8s.io/v1', kind: 'APIService' },
      { apiVersion: 'example.com/v1', kind: 'NotServed', namespace: 'mon' },
    ],
    first: [{ apiVersion: 'apiregistration.k8s.io/v1', kind: 'APIService', name: 'v1beta1.metrics.k8s.io' }],
  },
};

const plan = (off: boolean): Plan =>
  ({
    values: {},
    warnings: [],
    roles: [
      off
        ? { role: ROLE, skip: 'extra.enabled is false', remove: true, manifests: [] }
        : { role: ROLE, manifests: [] },
    ],
  }) as unknown as Plan;

describe('RoleLifecycle', () => {
  const logger = createLogger({ format: 'json', level: 'error' });

  function setup() {
    const api = new FakeApi();
    api.add(object('apiextensions.k8s.io/v1', 'CustomResourceDefinition', 'extras.example.com'));
    api.add(object('rbac.authorization.k8s.io/v1', 'ClusterRole', 'extra-reader'));
    api.add(object('v1', 'PersistentVolumeClaim', 'extra-data', { namespace: 'mon' }));
    api.add(object('v1', 'Service', 'extra', { namespace: 'mon' }));
    api.add(
      object('v1', 'Service', 'edited', {
        namespace: 'mon',
        managedFields: [ours(), { manager: 'kubectl-edit', fieldsV1: { 'f:spec': {} } }],
      }),
    );
    api.add(object('v1', 'Service', 'other-role', { namespace: 'mon', labels: ownershipLabels('another') }));
    api.add(object('v1', 'Service', 'users', { namespace: 'mon', labels: { app: 'users' } }));
    api.add(object('apiregistration.k8s.io/v1', 'APIService', 'v1beta1.metrics.k8s.io'));
    const events: string[] = [];
    const ctx = {
      client: api.client,
      mapper: api.mapper,
      logger,
      ownership: OWNERSHIP,
      event: async (_type: string, reason: string, message: string) =>
        void events.push(`${reason}: ${message}`),
    };
    return { api, events, ctx };
  }

  it('removes what the role owns, the APIService first, then namespaced before cluster-scoped; never a CRD, a PVC, another manager’s, another role’s or a user’s object', async () => {
    const { api, events, ctx } = setup();
    const lifecycle = new RoleLifecycle();
    const [outcome] = await lifecycle.removeTurnedOff(plan(true), ctx);
    const deletes = api.requests.filter((r) => r.startsWith('DELETE'));
    expect(deletes).toEqual([
      'DELETE /apis/apiregistration.k8s.io/v1/apiservices/v1beta1.metrics.k8s.io',
      'DELETE /api/v1/namespaces/mon/services/extra',
      'DELETE /apis/rbac.authorization.k8s.io/v1/clusterroles/extra-reader',
    ]);
    expect(outcome!.removed).toEqual([
      'APIService v1beta1.metrics.k8s.io',
      'Service mon/extra',
      'ClusterRole extra-reader',
    ]);
    expect(outcome!.kept.sort()).toEqual([
      'CustomResourceDefinition extras.example.com: a CustomResourceDefinition is never removed',
      'PersistentVolumeClaim mon/extra-data: a PersistentVolumeClaim is never removed',
      'Service mon/edited: fields held by kubectl-edit',
    ]);
    for (const left of ['edited', 'other-role', 'users'])
      expect(api.store.has(`/api/v1/namespaces/mon/services/${left}`)).toBe(true);
    expect(api.store.has('/api/v1/namespaces/mon/persistentvolumeclaims/extra-data')).toBe(true);
    expect(events).toHaveLength(1);
    expect(events[0]).toMatch(
      /^RoleObjectsRemoved: role extra is off \(extra.enabled is false\): 3 objects removed/,
    );
    // Lists are selected by our labels and the role's name.
    for (const r of api.requests.filter((x) => x.startsWith('LIST')))
      expect(r.endsWith(`${MANAGED_BY_LABEL}=${MANAGED_BY_VALUE},installer.kubesphere.io/role=extra`)).toBe(
        true,
      );
  });

  it('lists nothing in a namespace that did not exist when the run read the live objects', async () => {
    const { api, ctx } = setup();
    await new RoleLifecycle().removeTurnedOff(plan(true), { ...ctx, absentNamespaces: new Set(['mon']) });
    const lists = api.requests.filter((r) => r.startsWith('LIST'));
    expect(lists.some((r) => r.includes('/namespaces/mon/'))).toBe(false);
    expect(lists.length).toBeGreaterThan(0);
  });

  it('sends no request for a role found clean, until the role runs again and is turned off again', async () => {
    const { api, ctx } = setup();
    const lifecycle = new RoleLifecycle();
    await lifecycle.removeTurnedOff(plan(true), ctx);
    const first = api.requests.length;
    expect(await lifecycle.removeTurnedOff(plan(true), ctx)).toEqual([]);
    expect(api.requests.length).toBe(first);
    // On again: nothing to do here; then off again: it looks again (one list per served kind).
    expect(await lifecycle.removeTurnedOff(plan(false), ctx)).toEqual([]);
    expect(api.requests.length).toBe(first);
    api.add(object('v1', 'Service', 'extra', { namespace: 'mon' }));
    const [again] = await lifecycle.removeTurnedOff(plan(true), ctx);
    expect(again!.removed).toEqual(['Service mon/extra']);
    expect(api.requests.length).toBe(first + 5 + 1);
  });

  it('leaves a role whose condition only says it does not run (external monitoring) alone', async () => {
    const { api, ctx } = setup();
    const external = {
      values: {},
      warnings: [],
      roles: [{ role: ROLE, skip: 'common.monitoring.type is external', manifests: [] }],
    } as unknown as Plan;
    expect(await new RoleLifecycle().removeTurnedOff(external, ctx)).toEqual([]);
    expect(api.requests).toEqual([]);
  });

  it('fails the run as a retried RunError naming the role when a request is refused', async () => {
    const { api, ctx } = setup();
    const client = {
      ...api.client,
      request: async () => {
        throw new ApiError(403, 'Forbidden', 'services "extra" is forbidden');
      },
    } as unknown as KubeClient;
    const err = await new RoleLifecycle().removeTurnedOff(plan(true), { ...ctx, client }).catch((e) => e);
    expect(err).toBeInstanceOf(RunError);
    expect(err).toMatchObject({ reason: 'RemoveFailed', terminal: false, role: 'extra' });
    expect((err as Error).message).toMatch(/^removing the objects of turned-off role extra: .*forbidden/);
  });

  it('sends nothing once the run is cancelled', async () => {
    const { api, ctx } = setup();
    const aborted = new AbortController();
    aborted.abort();
    const err = await new RoleLifecycle()
      .removeTurnedOff(plan(true), { ...ctx, signal: aborted.signal })
      .catch((e) => e);
    expect(err).toBeInstanceOf(RunCancelled);
    expect(api.requests).toEqual([]);
  });
});

describe('condition RoleObjectsRemoved', () => {
  const report = (removed: RemovalOutcome[], off: boolean, alsoOff = false) =>
    ({
      plan: {
        values: { alerts: { form: 'PrometheusRule', toggles: {} } },
        warnings: [],
        roles: [
          { role: { name: 'extra' }, remove: off, manifests: [] },
          // Off by default, nothing of it ever removed: it does not hold the condition True.
          { role: { name: 'optional' }, remove: alsoOff, manifests: [] },
        ],
      },
      removed,
      warnings: [],
    }) as unknown as RunReport;
  const outcome: RemovalOutcome = {
    role: 'extra',
    reason: 'extra off',
    removed: ['Service mon/extra'],
    kept: [],
    requests: 2,
  };
  const find = (c: Condition[]) => c.find((x) => x.type === 'RoleObjectsRemoved');

  it('is True after a removal, left alone while the role stays off, False once the roles it names are on', () => {
    const removed = findingConditions([], report([outcome], true));
    expect(find(removed)).toMatchObject({
      status: 'True',
      reason: 'RoleTurnedOff',
      message: 'extra (extra off): 1 removed, 0 kept',
    });
    expect(find(findingConditions(removed, report([], true)))).toEqual(find(removed));
    expect(find(findingConditions(removed, report([], false)))).toMatchObject({
      status: 'False',
      reason: 'RolesOn',
    });
    expect(find(findingConditions([], report([], false)))).toBeUndefined();
    expect(find(findingConditions(removed, report([], true, true)))).toEqual(find(removed));
    expect(find(findingConditions(removed, report([], false, true)))).toMatchObject({
      status: 'False',
      reason: 'RolesOn',
    });
  });
});
