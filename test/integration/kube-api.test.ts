/**
 * The API surface the operator relies on, exercised against the real kube-apiserver: CRD
 * establishment, server-side apply, merge patch, watch, metadata-only paginated lists and RBAC.
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { readdirSync, readFileSync, readlinkSync } from 'node:fs';
import {
  ApiError,
  CONTENT_TYPE,
  type KubeClient,
  type KubeObject,
  type WatchEvent,
} from '../../src/kube/client.js';
import { applyObject } from '../../src/kube/apply.js';
import { applyObjects } from '../../tools/apply-objects.js';
import { waitForCrdsEstablished } from '../../src/kube/crd.js';
import { RestMapper } from '../../src/kube/discovery.js';
import { listAll } from '../../src/kube/list.js';
import { adminClient, clusterInfo, configMap, createTestNamespace, userClient } from './cluster.js';

/** Established TCP connections of this process to the API server's port (from /proc). */
function connectionsToApiServer(): number {
  const port = Number(new URL(clusterInfo().server).port);
  const ours = new Set(
    readdirSync('/proc/self/fd')
      .map((fd) => {
        try {
          return /^socket:\[(\d+)\]$/.exec(readlinkSync(`/proc/self/fd/${fd}`))?.[1];
        } catch {
          return undefined;
        }
      })
      .filter(Boolean),
  );
  return ['/proc/self/net/tcp', '/proc/self/net/tcp6']
    .flatMap((f) => readFileSync(f, 'utf8').split('\n').slice(1))
    .map((l) => l.trim().split(/\s+/))
    .filter((c) => c.length > 9 && c[3] === '01' && parseInt(c[2]!.split(':')[1]!, 16) === port)
    .filter((c) => ours.has(c[9]!)).length;
}

const GROUP = 'widgets.kube-api.test';
const CRD_NAME = `widgets.${GROUP}`;

function widgetCrd(): KubeObject {
  return {
    apiVersion: 'apiextensions.k8s.io/v1',
    kind: 'CustomResourceDefinition',
    metadata: { name: CRD_NAME },
    spec: {
      group: GROUP,
      scope: 'Namespaced',
      names: { plural: 'widgets', singular: 'widget', kind: 'Widget', shortNames: ['wg'] },
      versions: [
        {
          name: 'v1',
          served: true,
          storage: true,
          schema: {
            openAPIV3Schema: {
              type: 'object',
              properties: {
                spec: {
                  type: 'object',
                  properties: {
                    size: { type: 'integer' },
                    color: { type: 'string' },
                    owner: { type: 'string' },
                  },
                },
                status: {
                  type: 'object',
                  x_placeholder: undefined,
                  'x-kubernetes-preserve-unknown-fields': true,
                },
              },
            },
          },
        },
      ],
    },
  };
}

describe('the Kubernetes API through our client', () => {
  let admin: KubeClient;
  let mapper: RestMapper;
  let ns: string;

  beforeAll(async () => {
    admin = adminClient();
    mapper = new RestMapper(admin);
    ns = await createTestNamespace(admin, 'kube-api');
  });

  afterAll(async () => {
    await admin.request('DELETE', `/api/v1/namespaces/${ns}`).catch(() => undefined);
  });

  it('creates a CRD by server-side apply and waits until it is Established', async () => {
    const [applied] = await applyObjects(admin, mapper, [widgetCrd()], { fieldManager: 'kube-api-test' });
    expect(applied!.result).toBe('created');
    await waitForCrdsEstablished(admin, [CRD_NAME], 30_000);
    const crd = await admin.get<{ status: { conditions: { type: string; status: string }[] } }>(
      `/apis/apiextensions.k8s.io/v1/customresourcedefinitions/${CRD_NAME}`,
    );
    expect(crd.status.conditions).toEqual(
      expect.arrayContaining([expect.objectContaining({ type: 'Established', status: 'True' })]),
    );
    expect(await mapper.isNamespaced(`${GROUP}/v1`, 'Widget')).toBe(true);
  });

  it('reports a CRD that never becomes established, naming it', async () => {
    await expect(waitForCrdsEstablished(admin, ['nothings.kube-api.test'], 500)).rejects.toThrow(
      /nothings\.kube-api\.test \(not found\)/,
    );
  });

  it('server-side applies a custom object: create, no-op, change, and a conflict only force resolves', async () => {
    const widget = (spec: Record<string, unknown>): KubeObject => ({
      apiVersion: `${GROUP}/v1`,
      kind: 'Widget',
      metadata: { name: 'w1', namespace: ns },
      spec,
    });
    const first = await applyObject(admin, mapper, widget({ size: 1, color: 'red' }), {
      fieldManager: 'alpha',
    });
    expect(first.result).toBe('created');

    const again = await applyObject(admin, mapper, widget({ size: 1, color: 'red' }), {
      fieldManager: 'alpha',
    });
    expect(again.result).toBe('unchanged');
    expect(again.object.metadata.resourceVersion).toBe(first.object.metadata.resourceVersion);

    const changed = await applyObject(admin, mapper, widget({ size: 2, color: 'red' }), {
      fieldManager: 'alpha',
    });
    expect(changed.result).toBe('changed');
    expect(changed.object.spec).toEqual({ size: 2, color: 'red' });

    // Another manager claiming alpha's field conflicts without force, and wins with it.
    await expect(
      applyObject(admin, mapper, widget({ size: 3 }), { fieldManager: 'beta', force: false }),
    ).rejects.toMatchObject({ status: 409 });
    const forced = await applyObject(admin, mapper, widget({ size: 3 }), {
      fieldManager: 'beta',
      force: true,
    });
    expect((forced.object.spec as { size: number }).size).toBe(3);
    const managers = forced.object.metadata.managedFields?.map((m) => m.manager).sort();
    expect(managers).toEqual(['alpha', 'beta']);
  });

  it('merge-patches a custom object and sees the change through a watch', async () => {
    const path = `/apis/${GROUP}/v1/namespaces/${ns}/widgets`;
    const created = await admin.request<KubeObject>('POST', path, {
      body: {
        apiVersion: `${GROUP}/v1`,
        kind: 'Widget',
        metadata: { name: 'watched', namespace: ns },
        spec: { size: 1 },
      },
    });
    const events: WatchEvent[] = [];
    const controller = new AbortController();
    const watching = admin.watch(
      path,
      (e) => {
        events.push(e);
        if (e.type === 'MODIFIED') controller.abort();
      },
      {
        query: { fieldSelector: 'metadata.name=watched', resourceVersion: created.metadata.resourceVersion },
        signal: controller.signal,
      },
    );
    const patched = await admin.request<KubeObject>('PATCH', `${path}/watched`, {
      body: { spec: { color: 'blue' }, status: { phase: 'Painted' } },
      contentType: CONTENT_TYPE.merge,
    });
    expect(patched.spec).toEqual({ size: 1, color: 'blue' });
    await watching;
    const modified = events.find((e) => e.type === 'MODIFIED');
    expect(modified?.object.metadata.resourceVersion).toBe(patched.metadata.resourceVersion);
    expect((modified?.object as { status?: { phase?: string } }).status?.phase).toBe('Painted');
  });

  it('lists metadata only, page by page', async () => {
    const mapperNs = await createTestNamespace(admin, 'kube-api-list');
    await Promise.all(
      Array.from({ length: 7 }, (_, i) =>
        admin.request('POST', `/api/v1/namespaces/${mapperNs}/configmaps`, {
          body: configMap(mapperNs, `cm-${i}`, { payload: 'x'.repeat(1000) }),
        }),
      ),
    );
    const { items, pages } = await listAll(admin, `/api/v1/namespaces/${mapperNs}/configmaps`, {
      limit: 3,
      metadataOnly: true,
    });
    const names = items.map((i) => i.metadata.name).filter((n) => n.startsWith('cm-'));
    expect(names).toHaveLength(7);
    expect(pages).toBeGreaterThanOrEqual(3);
    expect(items[0]!.kind).toBe('PartialObjectMetadata');
    expect(items.some((i) => 'data' in (i as object))).toBe(false);
  });

  it('sends every request of a client over one connection', async () => {
    const client = adminClient();
    const before = connectionsToApiServer();
    const path = `/api/v1/namespaces/${ns}/configmaps`;
    for (let i = 0; i < 20; i++) await client.get(path);
    await Promise.all(Array.from({ length: 20 }, () => client.get(path)));
    // Each request on its own connection would add 40 here; other clients' idle ones may close meanwhile.
    expect(connectionsToApiServer() - before).toBeLessThanOrEqual(1);
    await client.close();
  });

  describe('RBAC', () => {
    beforeAll(async () => {
      const objects: KubeObject[] = [
        { apiVersion: 'v1', kind: 'ServiceAccount', metadata: { name: 'reader', namespace: ns } },
        {
          apiVersion: 'rbac.authorization.k8s.io/v1',
          kind: 'Role',
          metadata: { name: 'configmap-reader', namespace: ns },
          rules: [{ apiGroups: [''], resources: ['configmaps'], verbs: ['get', 'list'] }],
        },
        {
          apiVersion: 'rbac.authorization.k8s.io/v1',
          kind: 'RoleBinding',
          metadata: { name: 'reader', namespace: ns },
          roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'Role', name: 'configmap-reader' },
          subjects: [{ kind: 'ServiceAccount', name: 'reader', namespace: ns }],
        },
        configMap(ns, 'visible', { a: 'b' }),
      ];
      await applyObjects(admin, mapper, objects, { fieldManager: 'kube-api-test' });
    });

    it('denies an unprivileged user (client certificate and token)', async () => {
      for (const user of ['alice', 'bob']) {
        const err = await userClient(user)
          .get(`/api/v1/namespaces/${ns}/configmaps`)
          .catch((e: unknown) => e);
        expect(err).toBeInstanceOf(ApiError);
        expect((err as ApiError).status).toBe(403);
        expect((err as ApiError).message).toContain(`"${user}"`);
      }
    });

    it('allows an impersonated ServiceAccount exactly what its Role grants', async () => {
      const sa = admin.as({
        user: `system:serviceaccount:${ns}:reader`,
        groups: ['system:serviceaccounts', 'system:authenticated'],
      });
      const list = await sa.get<{ items: KubeObject[] }>(`/api/v1/namespaces/${ns}/configmaps`);
      expect(list.items.map((i) => i.metadata.name)).toContain('visible');
      await expect(sa.get(`/api/v1/namespaces/${ns}/secrets`)).rejects.toMatchObject({ status: 403 });
      await expect(
        sa.request('POST', `/api/v1/namespaces/${ns}/configmaps`, { body: configMap(ns, 'nope') }),
      ).rejects.toMatchObject({ status: 403 });
    });
  });
});
