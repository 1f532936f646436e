import { describe, expect, it } from '@jest/globals';
import { createOperatorMetrics, Registry } from '../../../src/observe/metrics.js';

describe('operator metrics', () => {
  it('declares the contract names, types, labels and buckets', async () => {
    const registry = new Registry();
    const metrics = createOperatorMetrics(registry);
    metrics.reconcileFinished('success', 12);
    metrics.reconcileFinished('error', 3);
    metrics.reconcileFinished('skipped', 0.001);
    metrics.roleFinished('kube-state-metrics', 0.31, { changed: 2, unchanged: 6 });
    metrics.leader.set(1);
    metrics.queueDepth.set(2);
    metrics.watchRestarts.inc({ reason: 'expired' });
    const text = await registry.metrics();

    const types = [...text.matchAll(/^# TYPE (\S+) (\S+)$/gm)].map((m) => `${m[1]} ${m[2]}`).sort();
    expect(types.filter((t) => t.startsWith('ks_installer_'))).toEqual([
      'ks_installer_last_success_timestamp_seconds gauge',
      'ks_installer_leader gauge',
      'ks_installer_objects_applied_total counter',
      'ks_installer_queue_depth gauge',
      'ks_installer_reconcile_duration_seconds histogram',
      'ks_installer_reconcile_total counter',
      'ks_installer_request_retries_total counter',
      'ks_installer_role_duration_seconds histogram',
      'ks_installer_watch_restarts_total counter',
    ]);
    // prom-client's default process and Node.js metrics.
    expect(types).toEqual(
      expect.arrayContaining([
        'nodejs_heap_size_used_bytes gauge',
        'process_cpu_seconds_total counter',
        'process_resident_memory_bytes gauge',
        'process_start_time_seconds gauge',
      ]),
    );
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
    expect(Number(/^nodejs_heap_size_used_bytes (\S+)$/m.exec(text)?.[1])).toBeGreaterThan(0);
    expect(Number(/^process_cpu_seconds_total (\S+)$/m.exec(text)?.[1])).toBeGreaterThan(0);
  });

  it('starts the reconcile counter at zero for every result', async () => {
    const registry = new Registry();
    createOperatorMetrics(registry);
    const text = await registry.metrics();
    for (const result of ['success', 'error', 'skipped']) {
      expect(text).toContain(`ks_installer_reconcile_total{result="${result}"} 0\n`);
    }
    expect(text).toContain('ks_installer_leader 0\n');
  });
});
