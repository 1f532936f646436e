import { describe, expect, it } from '@jest/globals';
import { ConfigError } from '../../../src/config/problems.js';
import { resolveValues } from '../../../src/config/resolve.js';
import { facts } from './resolve-helpers.js';

describe('replicas', () => {
  const table: [number, number, number, number][] = [
    // nodes, prometheus, alertmanager, notification-manager
    [1, 1, 1, 1],
    [2, 1, 1, 1],
    [3, 2, 3, 2],
    [5, 2, 3, 2],
  ];
  it.each(table)(
    '%i nodes → prometheus %i, alertmanager %i, notification-manager %i',
    (nodeCount, p, a, n) => {
      const { values } = resolveValues({}, facts({ nodeCount }));
      expect([
        values.prometheus.replicas,
        values.alertmanager.replicas,
        values.notificationManager.replicas,
      ]).toEqual([p, a, n]);
      expect(values.nodeCount).toBe(nodeCount);
    },
  );

  it.each([1, 2, 3, 5])('explicit values win at %i nodes', (nodeCount) => {
    const spec = {
      monitoring: {
        prometheus: { replicas: 4 },
        alertmanager: { replicas: 0 },
        notification_manager: { replicas: 5 },
      },
    };
    const { values } = resolveValues(spec, facts({ nodeCount }));
    expect([
      values.prometheus.replicas,
      values.alertmanager.replicas,
      values.notificationManager.replicas,
    ]).toEqual([4, 0, 5]);
  });

  it('new keys beat the legacy ones, which beat the node rule', () => {
    const both = {
      monitoring: { prometheus: { replicas: 3 }, prometheusReplicas: 7, alertmanagerReplicas: 6 },
    };
    const { values } = resolveValues(both, facts({ nodeCount: 1 }));
    expect(values.prometheus.replicas).toBe(3);
    expect(values.alertmanager.replicas).toBe(6);
  });

  it('null counts as unset and digit strings as numbers', () => {
    const spec = { monitoring: { prometheus: { replicas: null }, prometheusReplicas: '5' } };
    expect(resolveValues(spec, facts({ nodeCount: 1 })).values.prometheus.replicas).toBe(5);
    expect(
      resolveValues({ monitoring: { prometheusReplicas: null } }, facts({ nodeCount: 1 })).values.prometheus
        .replicas,
    ).toBe(1);
  });
});

describe('Prometheus storage', () => {
  it('refuses to shrink a live 50Gi volume to the asked 20Gi and warns', () => {
    const spec = { monitoring: { prometheus: { volumeSize: '20Gi' } } };
    const { values, warnings } = resolveValues(spec, facts({ live: { prometheusPvcSize: '50Gi' } }));
    expect(values.prometheus.storage.size).toBe('50Gi');
    expect(warnings).toHaveLength(1);
    expect(warnings[0]?.type).toBe('PrometheusStorageShrinkRefused');
    expect(warnings[0]?.message).toContain('spec.monitoring.prometheus.volumeSize');
    expect(warnings[0]?.message).toContain('20Gi');
    expect(warnings[0]?.message).toContain('50Gi');
  });

  it('grows a live 20Gi volume to the asked 100Gi', () => {
    const spec = { monitoring: { prometheusVolumeSize: '100Gi' } };
    const { values, warnings } = resolveValues(spec, facts({ live: { prometheusPvcSize: '20Gi' } }));
    expect(values.prometheus.storage.size).toBe('100Gi');
    expect(warnings).toEqual([]);
  });

  it('compares sizes across units', () => {
    const spec = { monitoring: { prometheus: { volumeSize: '51200Mi' } } };
    const { values, warnings } = resolveValues(spec, facts({ live: { prometheusPvcSize: '50Gi' } }));
    expect(values.prometheus.storage.size).toBe('51200Mi');
    expect(warnings).toEqual([]);
  });

  it('keeps the live size without an explicit one', () => {
    const { values } = resolveValues({}, facts({ live: { prometheusPvcSize: '35Gi' } }));
    expect(values.prometheus.storage.size).toBe('35Gi');
  });

  it('takes the larger of the live PVC and the live volumeClaimTemplate', () => {
    const live = { prometheusPvcSize: '20Gi', prometheusStorageRequest: '40Gi' };
    expect(resolveValues({}, facts({ live })).values.prometheus.storage.size).toBe('40Gi');
    const shrink = resolveValues({ monitoring: { prometheusVolumeSize: '30Gi' } }, facts({ live }));
    expect(shrink.values.prometheus.storage.size).toBe('40Gi');
    expect(shrink.warnings.map((w) => w.type)).toEqual(['PrometheusStorageShrinkRefused']);
  });

  it('without a live volume uses the spec, new key first, else 20Gi', () => {
    expect(resolveValues({}, facts()).values.prometheus.storage.size).toBe('20Gi');
    expect(
      resolveValues({ monitoring: { prometheusVolumeSize: '30Gi' } }, facts()).values.prometheus.storage.size,
    ).toBe('30Gi');
    const both = { monitoring: { prometheus: { volumeSize: '40Gi' }, prometheusVolumeSize: '30Gi' } };
    expect(resolveValues(both, facts()).values.prometheus.storage.size).toBe('40Gi');
  });
});

describe('Prometheus retention', () => {
  it('keeps the live retention', () => {
    expect(
      resolveValues({}, facts({ live: { prometheusRetention: '15d' } })).values.prometheus.retention,
    ).toBe('15d');
  });

  it('lets an explicit retention win over the live one', () => {
    const spec = { monitoring: { prometheus: { retention: '30d' } } };
    expect(
      resolveValues(spec, facts({ live: { prometheusRetention: '15d' } })).values.prometheus.retention,
    ).toBe('30d');
  });

  it('defaults to 7d', () => {
    expect(resolveValues({}, facts()).values.prometheus.retention).toBe('7d');
  });
});

describe('Prometheus nodeSelector', () => {
  const live = { prometheusNodeSelector: { 'node-role.kubernetes.io/monitoring': '' } };

  it('keeps the live nodeSelector when the spec names none', () => {
    expect(resolveValues({}, facts({ live })).values.prometheus.placement.nodeSelector).toEqual(
      live.prometheusNodeSelector,
    );
  });

  it('lets the spec chain win over the live nodeSelector', () => {
    const top = resolveValues({ nodeSelector: { disk: 'ssd' } }, facts({ live }));
    expect(top.values.prometheus.placement.nodeSelector).toEqual({ disk: 'ssd' });
    const monitoring = resolveValues(
      { monitoring: { nodeSelector: {} }, nodeSelector: { disk: 'ssd' } },
      facts({ live }),
    );
    expect(monitoring.values.prometheus.placement.nodeSelector).toEqual({});
  });

  it('falls back to the default and touches no other workload', () => {
    const { values } = resolveValues({}, facts({ live }));
    expect(values.alertmanager.placement.nodeSelector).toEqual({ 'kubernetes.io/os': 'linux' });
    expect(resolveValues({}, facts()).values.prometheus.placement.nodeSelector).toEqual({
      'kubernetes.io/os': 'linux',
    });
  });
});

describe('storageClass', () => {
  const storageClass = (spec: Record<string, unknown>) =>
    resolveValues(spec, facts()).values.prometheus.storage;

  it('is omitted when unset, null or ""', () => {
    for (const spec of [
      {},
      { monitoring: { storageClass: null } },
      { monitoring: { storageClass: '' } },
      { persistence: { storageClass: '' } },
    ]) {
      expect(storageClass(spec)).not.toHaveProperty('storageClassName');
    }
  });

  it('takes monitoring.storageClass, then persistence.storageClass', () => {
    expect(
      storageClass({ monitoring: { storageClass: 'fast' }, persistence: { storageClass: 'slow' } })
        .storageClassName,
    ).toBe('fast');
    expect(
      storageClass({ monitoring: { storageClass: null }, persistence: { storageClass: 'slow' } })
        .storageClassName,
    ).toBe('slow');
    expect(
      storageClass({ monitoring: { storageClass: '' }, persistence: { storageClass: 'slow' } })
        .storageClassName,
    ).toBe('slow');
  });
});

describe('validation', () => {
  it('throws a ConfigError naming every bad field before resolving', () => {
    const spec = {
      monitoring: { prometheus: { replicas: 'many' } },
      etcd: { monitoring: true, endpointIps: 'localhost' },
    };
    let error: unknown;
    try {
      resolveValues(spec, facts());
    } catch (caught) {
      error = caught;
    }
    expect(error).toBeInstanceOf(ConfigError);
    expect((error as ConfigError).problems.map((p) => p.field)).toEqual([
      'spec.monitoring.prometheus.replicas',
      'spec.etcd.endpointIps',
    ]);
  });
});
