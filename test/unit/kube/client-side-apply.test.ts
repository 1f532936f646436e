import { describe, expect, it } from '@jest/globals';
import {
  clientSideApplyUpgradePatch,
  HELM_RELEASE_ANNOTATION,
  LAST_APPLIED_ANNOTATION,
  unionFieldSets,
  upgradeManagedFields,
  type ManagedFieldsEntry,
} from '../../../src/kube/client-side-apply.js';
import type { KubeObject } from '../../../src/kube/client.js';

const csa = (fieldsV1: ManagedFieldsEntry['fieldsV1'], apiVersion = 'apps/v1'): ManagedFieldsEntry => ({
  manager: 'kubectl-client-side-apply',
  operation: 'Update',
  apiVersion,
  time: '2024-05-01T10:20:30Z',
  fieldsType: 'FieldsV1',
  fieldsV1,
});

describe('unionFieldSets', () => {
  it('merges the tries key by key', () => {
    expect(
      unionFieldSets(
        { 'f:metadata': { 'f:labels': { 'f:a': {} } } },
        { 'f:metadata': { 'f:labels': { 'f:b': {} } }, 'f:spec': { 'f:replicas': {} } },
      ),
    ).toEqual({ 'f:metadata': { 'f:labels': { 'f:a': {}, 'f:b': {} } }, 'f:spec': { 'f:replicas': {} } });
  });

  it('keeps a member leaf as "." when the other side has children under it', () => {
    expect(unionFieldSets({ 'f:env': {} }, { 'f:env': { 'k:{"name":"X"}': {} } })).toEqual({
      'f:env': { '.': {}, 'k:{"name":"X"}': {} },
    });
  });

  it('does not share structure with its inputs', () => {
    const a = { 'f:spec': { 'f:x': {} } };
    const out = unionFieldSets(a, {});
    out['f:spec']!['f:y'] = {};
    expect(a).toEqual({ 'f:spec': { 'f:x': {} } });
  });
});

describe('upgradeManagedFields', () => {
  it('is undefined when no client-side apply entry exists', () => {
    expect(
      upgradeManagedFields([{ manager: 'ks-installer', operation: 'Apply', fieldsV1: {} }], 'ks-installer'),
    ).toBeUndefined();
  });

  it('turns the client-side entry into our Apply entry when we have none', () => {
    const out = upgradeManagedFields(
      [csa({ 'f:spec': { 'f:replicas': {} } }), { manager: 'kube-controller-manager', operation: 'Update' }],
      'ks-installer',
    );
    expect(out).toEqual([
      {
        manager: 'ks-installer',
        operation: 'Apply',
        apiVersion: 'apps/v1',
        time: '2024-05-01T10:20:30Z',
        fieldsType: 'FieldsV1',
        fieldsV1: { 'f:spec': { 'f:replicas': {} } },
      },
      { manager: 'kube-controller-manager', operation: 'Update' },
    ]);
  });

  it('merges client-side fields into our existing Apply entry and drops every client-side entry', () => {
    const ours: ManagedFieldsEntry = {
      manager: 'ks-installer',
      operation: 'Apply',
      apiVersion: 'apps/v1',
      fieldsType: 'FieldsV1',
      fieldsV1: { 'f:spec': { 'f:replicas': {} } },
    };
    const out = upgradeManagedFields(
      [
        ours,
        csa({ 'f:metadata': { 'f:labels': { 'f:old': {} } } }),
        { ...csa({ 'f:x': {} }), manager: 'before-first-apply' },
        csa({ 'f:other': {} }, 'apps/v1beta2'),
      ],
      'ks-installer',
    );
    expect(out).toEqual([
      {
        ...ours,
        fieldsV1: {
          'f:spec': { 'f:replicas': {} },
          'f:metadata': { 'f:labels': { 'f:old': {} } },
          'f:x': {},
        },
      },
    ]);
  });

  it('leaves subresource and other managers alone', () => {
    const status = { ...csa({ 'f:status': {} }), subresource: 'status' };
    const edit = { manager: 'kubectl-edit', operation: 'Update', fieldsV1: { 'f:a': {} } };
    const out = upgradeManagedFields([csa({ 'f:b': {} }), status, edit], 'ks-installer');
    expect(out?.slice(1)).toEqual([status, edit]);
  });
});

describe('clientSideApplyUpgradePatch', () => {
  const live = (meta: Partial<KubeObject['metadata']>): KubeObject => ({
    apiVersion: 'v1',
    kind: 'Service',
    metadata: { name: 's', namespace: 'n', resourceVersion: '42', ...meta },
  });

  it('is undefined for an object only server-side applied', () => {
    expect(
      clientSideApplyUpgradePatch(
        live({ managedFields: [{ manager: 'ks-installer', operation: 'Apply' }] }),
        'ks-installer',
      ),
    ).toBeUndefined();
  });

  it('guards on the resourceVersion, replaces managedFields and removes the annotation', () => {
    const patch = clientSideApplyUpgradePatch(
      live({
        annotations: { [LAST_APPLIED_ANNOTATION]: '{}', keep: 'x' },
        managedFields: [csa({ 'f:spec': {} }, 'v1')],
      }),
      'ks-installer',
    );
    expect(patch).toEqual([
      { op: 'test', path: '/metadata/resourceVersion', value: '42' },
      {
        op: 'replace',
        path: '/metadata/managedFields',
        value: [
          expect.objectContaining({
            manager: 'ks-installer',
            operation: 'Apply',
            fieldsV1: { 'f:spec': {} },
          }),
        ],
      },
      { op: 'remove', path: '/metadata/annotations/kubectl.kubernetes.io~1last-applied-configuration' },
    ]);
  });

  it('removes a lone annotation without touching managedFields', () => {
    const patch = clientSideApplyUpgradePatch(
      live({ annotations: { [LAST_APPLIED_ANNOTATION]: '{}' }, managedFields: [] }),
      'ks-installer',
    );
    expect(patch?.map((op) => op.op)).toEqual(['test', 'remove']);
  });

  describe("the original's other managers", () => {
    const entry = (manager: string, fieldsV1: ManagedFieldsEntry['fieldsV1']): ManagedFieldsEntry => ({
      ...csa(fieldsV1, 'v1'),
      manager,
    });
    const managers = [
      entry('helm', { 'f:metadata': { 'f:annotations': { [`f:${HELM_RELEASE_ANNOTATION}`]: {} } } }),
      entry('kubectl-patch', { 'f:spec': { 'f:caBundle': {} } }),
      entry('kubectl-edit', { 'f:spec': { 'f:edited': {} } }),
      entry('kubectl-annotate', { 'f:metadata': { 'f:annotations': { 'f:note': {} } } }),
    ];
    const status = { ...entry('helm', { 'f:status': {} }), subresource: 'status' };
    const other = entry('kube-controller-manager', { 'f:spec': { 'f:other': {} } });
    const replaced = (patch: ReturnType<typeof clientSideApplyUpgradePatch>) =>
      (patch?.find((op) => op.op === 'replace') as { value: ManagedFieldsEntry[] } | undefined)?.value;

    it("are taken over on an object with Helm's release annotation: helm, kubectl-patch, -edit, -annotate", () => {
      const patch = clientSideApplyUpgradePatch(
        live({
          annotations: { [HELM_RELEASE_ANNOTATION]: 'notification-manager' },
          managedFields: [...managers, status, other],
        }),
        'ks-installer',
      );
      expect(replaced(patch)).toEqual([
        expect.objectContaining({
          manager: 'ks-installer',
          operation: 'Apply',
          fieldsV1: {
            'f:metadata': { 'f:annotations': { [`f:${HELM_RELEASE_ANNOTATION}`]: {}, 'f:note': {} } },
            'f:spec': { 'f:caBundle': {}, 'f:edited': {} },
          },
        }),
        status,
        other,
      ]);
      // Helm's annotation goes with the apply (we do not render it), not with this patch.
      expect(patch?.map((op) => op.op)).toEqual(['test', 'replace']);
    });

    it('are taken over with the client-side apply on an object with the last-applied annotation', () => {
      const patch = clientSideApplyUpgradePatch(
        live({
          annotations: { [LAST_APPLIED_ANNOTATION]: '{}' },
          managedFields: [csa({ 'f:spec': { 'f:a': {} } }, 'v1'), managers[1]!],
        }),
        'ks-installer',
      );
      expect(replaced(patch)).toEqual([
        expect.objectContaining({ fieldsV1: { 'f:spec': { 'f:a': {}, 'f:caBundle': {} } } }),
      ]);
    });

    it("stay the user's on an object without the original's marks (a later kubectl edit or patch)", () => {
      const ours = { manager: 'ks-installer', operation: 'Apply', apiVersion: 'v1', fieldsV1: {} };
      expect(
        clientSideApplyUpgradePatch(live({ managedFields: [ours, ...managers] }), 'ks-installer'),
      ).toBeUndefined();
    });
  });
});
