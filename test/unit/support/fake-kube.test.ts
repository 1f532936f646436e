/** The in-memory API server answers as kube-apiserver does, for what the operator relies on. */
import { describe, expect, it } from '@jest/globals';
import { ACCEPT_METADATA_LIST, ApiError, CONTENT_TYPE, type KubeObject } from '../../../src/kube/client.js';
import { listAll, countItems } from '../../../src/kube/list.js';
import { FakeKube, type ManagedFieldsEntry } from '../../support/fake-kube.js';

const NS = 'kubesphere-system';
const path = (name: string) => `/apis/apps/v1/namespaces/${NS}/deployments/${name}`;

function deployment(name: string, extra: Record<string, unknown> = {}, labels: Record<string, string> = {}) {
  return {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: { name, namespace: NS, labels: { app: name, ...labels } },
    spec: {
      replicas: 1,
      selector: { matchLabels: { app: name } },
      template: { spec: { containers: [{ name: 'main', image: 'a:1', args: ['--x'] }] } },
      ...extra,
    },
  };
}

async function apply(kube: FakeKube, obj: Record<string, unknown>, manager = 'ks-installer', force = true) {
  const name = (obj.metadata as { name: string }).name;
  return kube.requestWithStatus<KubeObject>('PATCH', path(name), {
    query: { fieldManager: manager, force },
    body: obj,
    contentType: CONTENT_TYPE.apply,
  });
}

const ours = (o: KubeObject, manager = 'ks-installer') =>
  (o.metadata.managedFields as unknown as ManagedFieldsEntry[]).find((e) => e.manager === manager);

describe('FakeKube: server-side apply', () => {
  it('creates on the first apply (201), then an equal apply stores nothing', async () => {
    const kube = new FakeKube();
    const first = await apply(kube, deployment('a'));
    expect(first.status).toBe(201);
    expect(first.body.metadata.generation).toBe(1);
    expect(ours(first.body)).toMatchObject({ operation: 'Apply', apiVersion: 'apps/v1' });
    expect(ours(first.body)!.fieldsV1).toMatchObject({
      'f:metadata': { 'f:labels': { 'f:app': {} } },
      'f:spec': { 'f:template': { 'f:spec': { 'f:containers': { 'k:{"name":"main"}': { '.': {} } } } } },
    });
    const again = await apply(kube, deployment('a'));
    expect(again.status).toBe(200);
    expect(again.body.metadata.resourceVersion).toBe(first.body.metadata.resourceVersion);
    expect(kube.writes()).toHaveLength(2); // both count as writes, as apiserver_request_total does
  });

  it('a changed field moves resourceVersion and generation; a label only the resourceVersion', async () => {
    const kube = new FakeKube();
    const first = (await apply(kube, deployment('a'))).body;
    const spec = (await apply(kube, deployment('a', { replicas: 2 }))).body;
    expect(Number(spec.metadata.resourceVersion)).toBeGreaterThan(Number(first.metadata.resourceVersion));
    expect(spec.metadata.generation).toBe(2);
    const label = (await apply(kube, deployment('a', { replicas: 2 }, { tier: 'x' }))).body;
    expect(label.metadata.generation).toBe(2);
    expect(label.metadata.labels).toEqual({ app: 'a', tier: 'x' });
  });

  it('removes a field its manager stopped applying, keeps one another manager owns', async () => {
    const kube = new FakeKube();
    await apply(kube, deployment('a', { minReadySeconds: 5 }));
    await apply(kube, deployment('a', { paused: false }), 'someone-else');
    const after = (await apply(kube, deployment('a'))).body as KubeObject & { spec: Record<string, unknown> };
    expect(after.spec.minReadySeconds).toBeUndefined();
    expect(after.spec.paused).toBe(false);
  });

  it('refuses (409) another manager’s field without force, takes it over with force', async () => {
    const kube = new FakeKube();
    await apply(kube, deployment('a'));
    const refused = await apply(kube, deployment('a', { replicas: 3 }), 'someone-else', false).catch(
      (e) => e,
    );
    expect(refused).toBeInstanceOf(ApiError);
    expect((refused as ApiError).status).toBe(409);
    const taken = (await apply(kube, deployment('a', { replicas: 3 }), 'someone-else', true)).body;
    expect(taken.spec).toMatchObject({ replicas: 3 });
    expect(JSON.stringify(ours(taken)!.fieldsV1)).not.toContain('f:replicas');
  });

  it('dryRun=All answers the result and stores nothing', async () => {
    const kube = new FakeKube();
    const res = await kube.requestWithStatus<KubeObject>('PATCH', path('a'), {
      query: { fieldManager: 'ks-installer', force: true, dryRun: 'All' },
      body: deployment('a'),
      contentType: CONTENT_TYPE.apply,
    });
    expect(res.status).toBe(201);
    expect(kube.stored('apps/v1', 'Deployment', 'a', NS)).toBeUndefined();
    expect(kube.writes()).toHaveLength(0);
  });

  it('answers 404 for a missing object or namespace, 409 for a create of an existing one', async () => {
    const kube = new FakeKube();
    await expect(kube.get(path('missing'))).rejects.toMatchObject({ status: 404 });
    await expect(
      kube.requestWithStatus('PATCH', '/api/v1/namespaces/nowhere/configmaps/x', {
        query: { fieldManager: 'm' },
        body: { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'x' } },
        contentType: CONTENT_TYPE.apply,
      }),
    ).rejects.toMatchObject({ status: 404 });
    const cm = { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'x' }, data: { a: '1' } };
    await kube.request('POST', `/api/v1/namespaces/${NS}/configmaps`, { body: cm });
    await expect(
      kube.request('POST', `/api/v1/namespaces/${NS}/configmaps`, { body: cm }),
    ).rejects.toMatchObject({
      status: 409,
      reason: 'AlreadyExists',
    });
  });

  it('a PUT with an old resourceVersion is a 409 Conflict', async () => {
    const kube = new FakeKube();
    const created = (await apply(kube, deployment('a'))).body;
    await apply(kube, deployment('a', { replicas: 2 }));
    await expect(kube.request('PUT', path('a'), { body: created })).rejects.toMatchObject({ status: 409 });
  });
});

describe('FakeKube: reads', () => {
  it('lists by label selector, metadata only through the Accept header, with counts and pages', async () => {
    const kube = new FakeKube();
    for (const n of ['a', 'b', 'c']) await apply(kube, deployment(n, {}, n === 'c' ? {} : { mine: 'yes' }));
    const mine = await listAll<KubeObject>(kube, `/apis/apps/v1/namespaces/${NS}/deployments`, {
      labelSelector: 'mine=yes',
    });
    expect(mine.items.map((o) => o.metadata.name)).toEqual(['a', 'b']);
    const partial = await kube.get<{ kind: string; items: KubeObject[] }>(
      `/apis/apps/v1/namespaces/${NS}/deployments`,
      {
        accept: ACCEPT_METADATA_LIST,
      },
    );
    expect(partial.kind).toBe('PartialObjectMetadataList');
    expect(partial.items[0]).not.toHaveProperty('spec');
    expect(await countItems(kube, `/apis/apps/v1/namespaces/${NS}/deployments`)).toEqual({
      count: 3,
      requests: 1,
    });
    const paged = await listAll(kube, `/apis/apps/v1/namespaces/${NS}/deployments`, { limit: 2 });
    expect(paged).toMatchObject({ pages: 2 });
  });

  it('watches from the current state, then each change', async () => {
    const kube = new FakeKube();
    await apply(kube, deployment('a'));
    const seen: string[] = [];
    const abort = new AbortController();
    const ended = kube.watch(
      `/apis/apps/v1/namespaces/${NS}/deployments`,
      (e) => seen.push(`${e.type} ${e.object.metadata.name}`),
      {
        signal: abort.signal,
      },
    );
    await apply(kube, deployment('b'));
    await kube.request('DELETE', path('a'));
    await new Promise((r) => setImmediate(r));
    abort.abort();
    expect(await ended).toBe('aborted');
    expect(seen).toEqual(['ADDED a', 'ADDED b', 'DELETED a']);
  });
});

describe('FakeKube: deletes', () => {
  it('deletes a collection by label and field selector, and answers what it deleted', async () => {
    const kube = new FakeKube();
    const secret = (name: string, type: string, labels: Record<string, string>) => ({
      apiVersion: 'v1',
      kind: 'Secret',
      type,
      metadata: { name, namespace: NS, labels },
      stringData: { k: 'v' },
    });
    kube.seed(secret('release.v1', 'helm.sh/release.v1', { owner: 'helm' }) as never);
    kube.seed(secret('other-type', 'Opaque', { owner: 'helm' }) as never);
    kube.seed(secret('not-helm', 'helm.sh/release.v1', { owner: 'someone' }) as never);
    expect(kube.stored('v1', 'Secret', 'release.v1', NS)).toMatchObject({ data: { k: 'dg==' } });
    const deleted = await kube.request<{ items: KubeObject[] }>(
      'DELETE',
      `/api/v1/namespaces/${NS}/secrets`,
      {
        query: { labelSelector: 'owner=helm', fieldSelector: 'type=helm.sh/release.v1' },
      },
    );
    expect(deleted.items.map((o) => o.metadata.name)).toEqual(['release.v1']);
    expect(
      kube
        .objects('Secret')
        .map((o) => o.metadata.name)
        .sort(),
    ).toEqual(['not-helm', 'other-type']);
  });
});
