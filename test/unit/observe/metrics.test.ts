import { describe, expect, it } from '@jest/globals';
import {
  Counter,
  createOperatorMetrics,
  escapeLabelValue,
  formatSampleValue,
  Registry,
} from '../../../src/observe/metrics.js';

describe('exposition format', () => {
  it('renders a labelled counter, a gauge and a labelled histogram exactly', () => {
    const registry = new Registry();
    const applied = registry.counter({
      name: 'demo_objects_applied_total',
      help: 'Objects applied.',
      labelNames: ['role', 'result'],
    });
    const depth = registry.gauge({ name: 'demo_queue_depth', help: 'Queue depth.' });
    const duration = registry.histogram({
      name: 'demo_role_duration_seconds',
      help: 'Role duration.',
      labelNames: ['role'],
      buckets: [0.5, 1, 2.5],
    });

    applied.inc({ role: 'prometheus', result: 'unchanged' }, 6);
    applied.inc({ role: 'prometheus', result: 'changed' }, 2);
    applied.inc({ role: 'alertmanager', result: 'changed' });
    depth.inc();
    depth.inc(4);
    depth.dec(2);
    duration.observe({ role: 'prometheus' }, 0.31);
    duration.observe({ role: 'prometheus' }, 1.5);
    duration.observe({ role: 'prometheus' }, 7);
    duration.observe({ role: 'alertmanager' }, 1);

    expect(registry.render()).toBe(
      [
        '# HELP demo_objects_applied_total Objects applied.',
        '# TYPE demo_objects_applied_total counter',
        'demo_objects_applied_total{role="alertmanager",result="changed"} 1',
        'demo_objects_applied_total{role="prometheus",result="changed"} 2',
        'demo_objects_applied_total{role="prometheus",result="unchanged"} 6',
        '# HELP demo_queue_depth Queue depth.',
        '# TYPE demo_queue_depth gauge',
        'demo_queue_depth 3',
        '# HELP demo_role_duration_seconds Role duration.',
        '# TYPE demo_role_duration_seconds histogram',
        'demo_role_duration_seconds_bucket{role="alertmanager",le="0.5"} 0',
        'demo_role_duration_seconds_bucket{role="alertmanager",le="1"} 1',
        'demo_role_duration_seconds_bucket{role="alertmanager",le="2.5"} 1',
        'demo_role_duration_seconds_bucket{role="alertmanager",le="+Inf"} 1',
        'demo_role_duration_seconds_sum{role="alertmanager"} 1',
        'demo_role_duration_seconds_count{role="alertmanager"} 1',
        'demo_role_duration_seconds_bucket{role="prometheus",le="0.5"} 1',
        'demo_role_duration_seconds_bucket{role="prometheus",le="1"} 1',
        'demo_role_duration_seconds_bucket{role="prometheus",le="2.5"} 2',
        'demo_role_duration_seconds_bucket{role="prometheus",le="+Inf"} 3',
        'demo_role_duration_seconds_sum{role="prometheus"} 8.81',
        'demo_role_duration_seconds_count{role="prometheus"} 3',
        '',
      ].join('\n'),
    );
  });

  it('escapes label values and help text', () => {
    const registry = new Registry();
    const restarts = registry.counter({
      name: 'demo_restarts_total',
      help: 'Restarts \\ with\nnewline.',
      labelNames: ['reason'],
    });
    restarts.inc({ reason: 'path C:\\tmp "quoted"\nnext' });
    expect(registry.render()).toBe(
      '# HELP demo_restarts_total Restarts \\\\ with\\nnewline.\n' +
        '# TYPE demo_restarts_total counter\n' +
        'demo_restarts_total{reason="path C:\\\\tmp \\"quoted\\"\\nnext"} 1\n',
    );
    expect(escapeLabelValue('a\\b"c\nd')).toBe('a\\\\b\\"c\\nd');
  });

  it('renders a label-less metric at zero before any update, a labelled one with no series', () => {
    const registry = new Registry();
    registry.counter({ name: 'b_total', help: 'B.' });
    registry.gauge({ name: 'a', help: 'A.', labelNames: ['x'] });
    expect(registry.render()).toBe(
      '# HELP a A.\n# TYPE a gauge\n# HELP b_total B.\n# TYPE b_total counter\nb_total 0\n',
    );
  });

  it('formats special values the Prometheus way', () => {
    expect([NaN, Infinity, -Infinity, 0.25, 1e21, 3].map(formatSampleValue)).toEqual([
      'NaN',
      '+Inf',
      '-Inf',
      '0.25',
      '1e+21',
      '3',
    ]);
  });
});

describe('metric rules', () => {
  it('rejects wrong labels, negative counter steps, bad names and duplicates', () => {
    const registry = new Registry();
    const c = registry.counter({ name: 'x_total', help: 'X.', labelNames: ['result'] });
    expect(() => c.inc()).toThrow(/expected labels result, got none/);
    expect(() => c.inc({ result: 'ok', extra: 'y' } as { result: string })).toThrow(/expected labels result/);
    expect(() => c.inc({ result: 'ok' }, -1)).toThrow(/cannot increase by -1/);
    expect(() => registry.counter({ name: 'x_total', help: 'again' })).toThrow(/already registered/);
    expect(() => new Counter({ name: 'bad-name', help: '' })).toThrow(/invalid metric name/);
    expect(() => registry.histogram({ name: 'h', help: 'H.', labelNames: ['le'] })).toThrow(
      /invalid label name "le"/,
    );
    expect(() => registry.histogram({ name: 'h2', help: 'H.', buckets: [1, 0.5] })).toThrow(/ascending/);
  });

  it('reads collected values at render time', () => {
    const registry = new Registry();
    let value = 1;
    registry.gauge({ name: 'collected', help: 'C.', collect: () => value });
    expect(registry.render()).toContain('\ncollected 1\n');
    value = 42;
    expect(registry.render()).toContain('\ncollected 42\n');
  });
});

describe('operator metrics', () => {
  it('declares the contract names, types, labels and buckets', () => {
    const registry = new Registry();
    const metrics = createOperatorMetrics(registry);
    metrics.reconcileFinished('success', 12);
    metrics.reconcileFinished('error', 3);
    metrics.reconcileFinished('skipped', 0.001);
    metrics.roleFinished('kube-state-metrics', 0.31, { changed: 2, unchanged: 6 });
    metrics.leader.set(1);
    metrics.queueDepth.set(2);
    metrics.watchRestarts.inc({ reason: 'expired' });
    const text = registry.render();

    const types = [...text.matchAll(/^# TYPE (\S+) (\S+)$/gm)].map((m) => `${m[1]} ${m[2]}`);
    expect(types).toEqual([
      'ks_installer_last_success_timestamp_seconds gauge',
      'ks_installer_leader gauge',
      'ks_installer_objects_applied_total counter',
      'ks_installer_queue_depth gauge',
      'ks_installer_reconcile_duration_seconds histogram',
      'ks_installer_reconcile_total counter',
      'ks_installer_role_duration_seconds histogram',
      'ks_installer_watch_restarts_total counter',
      'nodejs_heap_used_bytes gauge',
      'process_cpu_seconds_total counter',
      'process_resident_memory_bytes gauge',
      'process_start_time_seconds gauge',
    ]);
    const les = [...text.matchAll(/^ks_installer_reconcile_duration_seconds_bucket\{le="([^"]+)"\}/gm)].map(
      (m) => m[1],
    );
    expect(les).toEqual(['0.1', '0.25', '0.5', '1', '2.5', '5', '10', '30', '60', '120', '300', '+Inf']);
    expect(text).toContain('ks_installer_reconcile_total{result="error"} 1\n');
    expect(text).toContain('ks_installer_reconcile_total{result="skipped"} 1\n');
    expect(text).toContain('ks_installer_reconcile_total{result="success"} 1\n');
    expect(text).toContain('ks_installer_reconcile_duration_seconds_count 2\n');
    expect(text).toContain('ks_installer_reconcile_duration_seconds_sum 15\n');
    expect(text).toContain('ks_installer_role_duration_seconds_count{role="kube-state-metrics"} 1\n');
    expect(text).toContain(
      'ks_installer_objects_applied_total{role="kube-state-metrics",result="changed"} 2\n',
    );
    expect(text).toContain(
      'ks_installer_objects_applied_total{role="kube-state-metrics",result="unchanged"} 6\n',
    );
    expect(text).toContain('ks_installer_leader 1\n');
    expect(text).toContain('ks_installer_queue_depth 2\n');
    expect(text).toContain('ks_installer_watch_restarts_total{reason="expired"} 1\n');
    const lastSuccess = Number(/^ks_installer_last_success_timestamp_seconds (\S+)$/m.exec(text)?.[1]);
    expect(Math.abs(lastSuccess - Date.now() / 1000)).toBeLessThan(60);
    const rss = Number(/^process_resident_memory_bytes (\S+)$/m.exec(text)?.[1]);
    expect(rss).toBeGreaterThan(0);
    expect(Number(/^nodejs_heap_used_bytes (\S+)$/m.exec(text)?.[1])).toBeGreaterThan(0);
    expect(Number(/^process_cpu_seconds_total (\S+)$/m.exec(text)?.[1])).toBeGreaterThan(0);
  });

  it('starts the reconcile counter at zero for every result', () => {
    const registry = new Registry();
    createOperatorMetrics(registry);
    const text = registry.render();
    for (const result of ['success', 'error', 'skipped']) {
      expect(text).toContain(`ks_installer_reconcile_total{result="${result}"} 0\n`);
    }
    expect(text).toContain('ks_installer_leader 0\n');
  });
});
