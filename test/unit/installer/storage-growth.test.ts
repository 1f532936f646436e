import { describe, expect, it } from '@jest/globals';
import {
  notExpandableWarning,
  planStorageGrowth,
  STORAGE_NOT_EXPANDABLE,
  type StorageClassFacts,
} from '../../../src/installer/steps/storage-growth.js';

const pvc = (n: number, request: string, storageClassName?: string) => ({
  name: `prometheus-k8s-db-prometheus-k8s-${n}`,
  request,
  ...(storageClassName === undefined ? {} : { storageClassName }),
});

const expandable: StorageClassFacts = { name: 'fast', allowVolumeExpansion: true, isDefault: false };
const fixed: StorageClassFacts = { name: 'local', allowVolumeExpansion: false, isDefault: false };

describe('planStorageGrowth', () => {
  it('expands every smaller PVC whose StorageClass allows expansion, to the asked size', () => {
    const plan = planStorageGrowth(
      '100Gi',
      [pvc(1, '20Gi', 'fast'), pvc(0, '20Gi', 'fast')],
      [expandable, fixed],
    );
    expect(plan.expand).toEqual([
      { pvc: 'prometheus-k8s-db-prometheus-k8s-0', from: '20Gi', to: '100Gi', storageClass: 'fast' },
      { pvc: 'prometheus-k8s-db-prometheus-k8s-1', from: '20Gi', to: '100Gi', storageClass: 'fast' },
    ]);
    expect(plan.notExpandable).toEqual([]);
  });

  it('leaves PVCs that are already as large or larger alone (units compared as quantities)', () => {
    const plan = planStorageGrowth(
      '100Gi',
      [pvc(0, '100Gi', 'fast'), pvc(1, '102400Mi', 'fast'), pvc(2, '200Gi', 'fast'), pvc(3, '99Gi', 'fast')],
      [expandable],
    );
    expect(plan.expand.map((e) => e.pvc)).toEqual(['prometheus-k8s-db-prometheus-k8s-3']);
  });

  it('reports PVCs whose StorageClass does not allow expansion, and patches none of them', () => {
    const plan = planStorageGrowth(
      '100Gi',
      [pvc(0, '20Gi', 'local'), pvc(1, '20Gi', 'fast')],
      [expandable, fixed],
    );
    expect(plan.expand.map((e) => e.pvc)).toEqual(['prometheus-k8s-db-prometheus-k8s-1']);
    expect(plan.notExpandable).toEqual([
      {
        pvc: 'prometheus-k8s-db-prometheus-k8s-0',
        from: '20Gi',
        storageClass: 'local',
        cause: 'notAllowed',
        why: 'its StorageClass local does not allow volume expansion',
      },
    ]);
  });

  it('uses the default StorageClass for a PVC without storageClassName', () => {
    const def = { ...expandable, name: 'standard', isDefault: true };
    expect(planStorageGrowth('50Gi', [pvc(0, '20Gi')], [fixed, def]).expand).toEqual([
      { pvc: 'prometheus-k8s-db-prometheus-k8s-0', from: '20Gi', to: '50Gi', storageClass: 'standard' },
    ]);
    const fixedDefault = { ...fixed, isDefault: true };
    const plan = planStorageGrowth('50Gi', [pvc(0, '20Gi')], [expandable, fixedDefault]);
    expect(plan.expand).toEqual([]);
    expect(plan.notExpandable[0]).toMatchObject({ storageClass: 'local', cause: 'notAllowed' });
  });

  it('treats "" as no class, and a missing class or no default as not expandable', () => {
    const def = { ...expandable, isDefault: true };
    expect(planStorageGrowth('50Gi', [pvc(0, '20Gi', '')], [def]).notExpandable[0]).toMatchObject({
      cause: 'noClass',
      why: 'it has no StorageClass',
    });
    expect(planStorageGrowth('50Gi', [pvc(0, '20Gi')], [expandable]).notExpandable[0]).toMatchObject({
      cause: 'noClass',
    });
    expect(planStorageGrowth('50Gi', [pvc(0, '20Gi', 'gone')], [expandable]).notExpandable[0]).toMatchObject({
      storageClass: 'gone',
      cause: 'missingClass',
      why: 'its StorageClass gone does not exist',
    });
  });

  it('ignores PVCs of other names and sizes that are not quantities', () => {
    const plan = planStorageGrowth(
      '50Gi',
      [
        { name: 'grafana-storage', request: '50Mi', storageClassName: 'fast' },
        { name: 'prometheus-k8s-db-prometheus-k8s-0-copy', request: '1Gi', storageClassName: 'fast' },
        { name: 'prometheus-k8s-db-prometheus-k8s-1', storageClassName: 'fast' },
        pvc(2, 'lots', 'fast'),
      ],
      [expandable],
    );
    expect(plan).toEqual({ expand: [], notExpandable: [] });
    expect(planStorageGrowth('not-a-size', [pvc(0, '1Gi', 'fast')], [expandable])).toEqual({
      expand: [],
      notExpandable: [],
    });
  });
});

describe('notExpandableWarning', () => {
  it('is undefined when every PVC could grow', () => {
    expect(notExpandableWarning('100Gi', [])).toBeUndefined();
  });

  it('names the PVCs, their sizes, the StorageClass and the fix', () => {
    const plan = planStorageGrowth('100Gi', [pvc(0, '20Gi', 'local'), pvc(1, '30Gi', 'local')], [fixed]);
    const w = notExpandableWarning('100Gi', plan.notExpandable)!;
    expect(w.type).toBe(STORAGE_NOT_EXPANDABLE);
    expect(w.reason).toBe('VolumeExpansionNotAllowed');
    expect(w.message).toContain('The Prometheus CR asks for 100Gi');
    expect(w.message).toContain('prometheus-k8s-db-prometheus-k8s-0 (20Gi;');
    expect(w.message).toContain('prometheus-k8s-db-prometheus-k8s-1 (30Gi;');
    expect(w.message).toContain('Set allowVolumeExpansion: true on StorageClass local');
    expect(w.message).toContain('nothing is deleted');
    expect(w.message).not.toContain('moving its data');
  });

  it('says a volume without an expandable class must move its data, and that refusals are retried', () => {
    const w = notExpandableWarning('100Gi', [
      {
        pvc: 'prometheus-k8s-db-prometheus-k8s-0',
        from: '20Gi',
        cause: 'noClass',
        why: 'it has no StorageClass',
      },
      {
        pvc: 'prometheus-k8s-db-prometheus-k8s-1',
        from: '20Gi',
        storageClass: 'fast',
        cause: 'refused',
        why: 'the API server refused the expansion: Only bound persistent volume claims can be expanded',
      },
    ])!;
    expect(w.message).toContain('moving its data to a new, larger volume');
    expect(w.message).toContain('Only bound persistent volume claims can be expanded');
    expect(w.message).toContain('Each run tries again');
    expect(w.message).not.toContain('allowVolumeExpansion');
  });
});
