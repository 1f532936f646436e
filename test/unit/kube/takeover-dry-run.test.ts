import { describe, expect, it } from '@jest/globals';
import { HELM_RELEASE_ANNOTATION, LAST_APPLIED_ANNOTATION } from '../../../src/kube/client-side-apply.js';
import type { KubeObject } from '../../../src/kube/client.js';
import { afterTakeover } from '../../../src/kube/takeover-dry-run.js';

type Obj = KubeObject & Record<string, unknown>;

/** A dry-run answer: a Deployment-like object whose fields three managers own. */
function answer(annotations: Record<string, string>): Obj {
  const object = {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: {
      name: 'd',
      resourceVersion: '7',
      annotations: { ...annotations, kept: 'x' },
      managedFields: [
        {
          manager: 'ks-installer',
          operation: 'Apply',
          fieldsV1: {
            'f:spec': { 'f:replicas': {}, 'f:volumes': { 'k:{"name":"ours"}': { '.': {}, 'f:name': {} } } },
          },
        },
        {
          manager: 'helm',
          operation: 'Update',
          fieldsV1: {
            'f:metadata': { 'f:annotations': { [`f:${HELM_RELEASE_ANNOTATION}`]: {} } },
            'f:spec': {
              'f:replicas': {},
              'f:paused': {},
              'f:volumes': {
                'k:{"name":"ours"}': { '.': {}, 'f:name': {} },
                'k:{"name":"theirs"}': { '.': {}, 'f:name': {}, 'f:hostPath': { 'f:path': {} } },
              },
              'f:selector': { 'f:matchLabels': { 'f:a': {} } },
            },
          },
        },
        {
          manager: 'someone',
          operation: 'Update',
          fieldsV1: { 'f:spec': { 'f:selector': { 'f:matchLabels': { 'f:a': {} } } } },
        },
      ],
    },
    spec: {
      replicas: 1,
      paused: true,
      selector: { matchLabels: { a: '1' } },
      volumes: [{ name: 'ours' }, { name: 'theirs', hostPath: { path: '/x' } }],
    },
  };
  return object as unknown as Obj;
}

describe('afterTakeover', () => {
  it("removes what only the original's managers own, keeps what we or others own", () => {
    const out = afterTakeover(answer({ [HELM_RELEASE_ANNOTATION]: 'notification-manager' })) as Obj;
    expect(out.spec).toEqual({
      replicas: 1,
      selector: { matchLabels: { a: '1' } },
      volumes: [{ name: 'ours' }],
    });
    expect(out.metadata.annotations).toEqual({ kept: 'x' });
    expect(out.metadata.managedFields).toBeUndefined();
    expect(out.metadata.resourceVersion).toBe('7');
  });

  it('drops the last-applied annotation', () => {
    const out = afterTakeover(answer({ [LAST_APPLIED_ANNOTATION]: '{}' })) as Obj;
    expect(out.metadata.annotations).toEqual({ kept: 'x' });
  });

  it("is undefined without the original's marks or managers", () => {
    const a = answer({});
    a.metadata.managedFields = a.metadata.managedFields!.filter((e) => e.manager !== 'helm');
    expect(afterTakeover(a)).toBeUndefined();
    // helm's entry on an unmarked object is a later user's: not taken over.
    expect(afterTakeover(answer({}))).toBeUndefined();
  });
});
