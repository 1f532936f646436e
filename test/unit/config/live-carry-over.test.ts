import { describe, expect, it } from '@jest/globals';
import { LIVE_VALUE_DROPPED, resolveValues } from '../../../src/config/resolve.js';
import { facts } from './resolve-helpers.js';

describe('live carry-over never carries a value the API server would refuse', () => {
  it('drops a live nodeSelector with a label value the API server refuses, with a warning naming it', () => {
    const { values, warnings } = resolveValues(
      {},
      facts({ live: { prometheusNodeSelector: { role: 'a\nb', 'kubernetes.io/os': 'linux' } } }),
    );
    expect(values.prometheus.placement.nodeSelector).not.toHaveProperty('role');
    expect(warnings).toEqual([
      expect.objectContaining({
        type: LIVE_VALUE_DROPPED,
        message: expect.stringContaining('spec.nodeSelector'),
      }),
    ]);
  });

  it('drops an unparsable live retention and storage size; keeps usable ones without a warning', () => {
    const bad = resolveValues(
      {},
      facts({ live: { prometheusRetention: '7 days', prometheusPvcSize: 'big' } }),
    );
    expect(bad.values.prometheus.retention).toBe('7d');
    expect(bad.values.prometheus.storage.size).toBe('20Gi');
    expect(bad.warnings.map((w) => w.type)).toEqual([LIVE_VALUE_DROPPED]);
    const good = resolveValues(
      {},
      facts({ live: { prometheusRetention: '15d', prometheusNodeSelector: { 'node-role/mon': '' } } }),
    );
    expect(good.values.prometheus.retention).toBe('15d');
    expect(good.values.prometheus.placement.nodeSelector).toEqual({ 'node-role/mon': '' });
    expect(good.warnings).toEqual([]);
  });
});
