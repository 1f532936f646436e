import { describe, expect, it } from '@jest/globals';
import { ApiError, type KubeClient } from '../../../src/kube/client.js';
import { RestMapper } from '../../../src/kube/discovery.js';

const CRDS = '/apis/apiextensions.k8s.io/v1/customresourcedefinitions';

function crd(established: boolean) {
  return {
    apiVersion: 'apiextensions.k8s.io/v1',
    kind: 'CustomResourceDefinition',
    metadata: { name: 'widgets.example.io' },
    spec: {
      group: 'example.io',
      scope: 'Cluster',
      names: { plural: 'widgets', kind: 'Widget' },
      versions: [{ name: 'v1', served: true }],
    },
    status: { conditions: [{ type: 'Established', status: established ? 'True' : 'False' }] },
  };
}

/** A client whose discovery document of example.io/v1 lacks Widget, as right after establishment. */
function clientWith(crdEstablished: boolean | undefined, requests: string[]): KubeClient {
  return {
    get: async (path: string) => {
      requests.push(path);
      if (path === '/apis/example.io/v1')
        return { resources: [{ name: 'gadgets', kind: 'Gadget', namespaced: true }] };
      if (path === CRDS) return { items: crdEstablished === undefined ? [] : [crd(crdEstablished)] };
      throw new ApiError(404, 'NotFound', path);
    },
  } as unknown as KubeClient;
}

describe('RestMapper, a kind not yet in discovery', () => {
  it('maps from its CRD when the CRD is Established, and remembers it', async () => {
    const requests: string[] = [];
    const mapper = new RestMapper(clientWith(true, requests));
    const info = await mapper.resource('example.io/v1', 'Widget');
    expect(info).toEqual({ base: '/apis/example.io/v1', resource: 'widgets', namespaced: false });
    // discovery, discovery refreshed, then the CRDs once
    expect(requests).toEqual(['/apis/example.io/v1', '/apis/example.io/v1', CRDS]);
    await mapper.resource('example.io/v1', 'Widget');
    expect(requests).toHaveLength(3);
  });

  it('is an error when its CRD is not Established, or absent', async () => {
    for (const established of [false, undefined]) {
      const mapper = new RestMapper(clientWith(established, []));
      await expect(mapper.resource('example.io/v1', 'Widget')).rejects.toThrow(
        'the server has no kind Widget in example.io/v1',
      );
    }
  });

  it('does not look at CRDs when asked not to refresh', async () => {
    const requests: string[] = [];
    const mapper = new RestMapper(clientWith(true, requests));
    await expect(mapper.resource('example.io/v1', 'Widget', { refresh: false })).rejects.toThrow(ApiError);
    expect(requests).toEqual(['/apis/example.io/v1']);
  });
});
