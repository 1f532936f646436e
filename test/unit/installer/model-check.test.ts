import { describe, expect, it } from '@jest/globals';
import type { KubeObject } from '../../../src/kube/client.js';
import { validateManifests } from '../../../src/installer/plan/model-check.js';

const m = (object: Record<string, unknown>, source = 'templates/role/10-x.yaml.njk') => ({
  source,
  object: object as unknown as KubeObject,
});

describe('client-side validation against the OpenAPI models', () => {
  it('names the template, the object and the path of each problem', async () => {
    const problems = await validateManifests([
      m({
        apiVersion: 'apps/v1',
        kind: 'Deployment',
        metadata: { name: 'x', namespace: 'ns' },
        spec: { replicas: 'two', selector: {}, template: {} },
      }),
    ]);
    expect(problems).toEqual([
      {
        source: 'templates/role/10-x.yaml.njk',
        object: 'Deployment ns/x',
        message: '/spec/replicas must be integer',
      },
    ]);
  });

  it('checks monitoring.coreos.com kinds, without the models’ false positive on embedded apiVersion/kind', async () => {
    const prometheus = (replicas: unknown) =>
      m({
        apiVersion: 'monitoring.coreos.com/v1',
        kind: 'Prometheus',
        metadata: { name: 'k8s' },
        spec: {
          replicas,
          storage: { volumeClaimTemplate: { spec: { resources: { requests: { storage: '20Gi' } } } } },
        },
      });
    expect(await validateManifests([prometheus(2)])).toEqual([]);
    expect((await validateManifests([prometheus('2')]))[0]?.message).toBe('/spec/replicas must be integer');
  });

  it('leaves kinds without a model and the generated CRDs to the API server', async () => {
    expect(
      await validateManifests([
        m({
          apiVersion: 'notification.kubesphere.io/v2beta2',
          kind: 'NotificationManager',
          metadata: { name: 'n' },
          spec: { replicas: 'x' },
        }),
        m(
          {
            apiVersion: 'apiextensions.k8s.io/v1',
            kind: 'CustomResourceDefinition',
            metadata: { name: 'c' },
            spec: 'nonsense',
          },
          'crds/x/c.yaml',
        ),
      ]),
    ).toEqual([]);
  });
});
