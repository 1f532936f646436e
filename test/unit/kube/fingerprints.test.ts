import { describe, expect, it } from '@jest/globals';
import type { KubeObject } from '../../../src/kube/client.js';
import { Fingerprints } from '../../../src/kube/fingerprints.js';

const ours = (categories = ['a']): KubeObject =>
  ({
    apiVersion: 'apiextensions.k8s.io/v1',
    kind: 'CustomResourceDefinition',
    metadata: { name: 'widgets.example.com', labels: { l: 'v' } },
    spec: { group: 'example.com', names: { kind: 'Widget', plural: 'widgets', categories } },
  }) as unknown as KubeObject;

const live = (generation: number, uid = 'u1', established = true): KubeObject =>
  ({
    ...ours(),
    metadata: { name: 'widgets.example.com', uid, generation, labels: { l: 'v' }, resourceVersion: '9' },
    status: { conditions: [{ type: 'Established', status: established ? 'True' : 'False' }] },
  }) as unknown as KubeObject;

describe('Fingerprints', () => {
  it('restores a CRD from its metadata while uid, generation and our CRD are unchanged', () => {
    const f = new Fingerprints();
    const desired = ours();
    expect(f.knows(desired)).toBe(false);
    f.remember(desired, live(3));
    expect(f.knows(desired)).toBe(true);
    const restored = f.restore(desired, live(3).metadata);
    expect(restored).toMatchObject({ spec: desired.spec, metadata: { generation: 3, labels: { l: 'v' } } });
    expect(restored?.status).toEqual({ conditions: [{ type: 'Established', status: 'True' }] });
  });

  it('gives nothing when the live spec may have changed, the CRD was recreated, or ours changed', () => {
    const f = new Fingerprints();
    f.remember(ours(), live(3));
    expect(f.restore(ours(), live(4).metadata)).toBeUndefined();
    expect(f.restore(ours(), live(3, 'u2').metadata)).toBeUndefined();
    expect(f.restore(ours(['a', 'b']), live(3).metadata)).toBeUndefined();
  });

  it('restores any kind with a generation, without a status', () => {
    const f = new Fingerprints();
    const deployment = {
      apiVersion: 'apps/v1',
      kind: 'Deployment',
      metadata: { name: 'd', namespace: 'n' },
      spec: { replicas: 1 },
    } as unknown as KubeObject;
    f.remember(deployment, { ...deployment, metadata: { ...deployment.metadata, uid: 'u', generation: 2 } });
    const restored = f.restore(deployment, { name: 'd', namespace: 'n', uid: 'u', generation: 2 });
    expect(restored).toEqual({
      ...deployment,
      metadata: { name: 'd', namespace: 'n', uid: 'u', generation: 2 },
    });
    expect(f.restore(deployment, { name: 'd', namespace: 'n', uid: 'u', generation: 3 })).toBeUndefined();
  });

  it('does not remember a CRD that is not Established, nor an object without a generation, and forgets on request', () => {
    const f = new Fingerprints();
    f.remember(ours(), live(3, 'u1', false));
    expect(f.knows(ours())).toBe(false);
    const service = {
      apiVersion: 'v1',
      kind: 'Service',
      metadata: { name: 's', namespace: 'n' },
    } as KubeObject;
    f.remember(service, { ...service, metadata: { ...service.metadata, uid: 'u3' } });
    expect(f.knows(service)).toBe(false);
    f.remember(ours(), live(3));
    f.forget(ours());
    expect(f.knows(ours())).toBe(false);
  });
});
