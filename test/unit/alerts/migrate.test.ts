/**
 * The conversion of KubeSphere 3.1–3.3 custom alerting rules into v2beta1 rule groups
 * (src/alerts/migrate.ts): every row of the metric table, the units, and each defect of the original's
 * migration that ours must not have.
 */
import { describe, expect, it } from '@jest/globals';
import {
  convertRule,
  MIGRATED_FROM_ANNOTATION,
  migratePrometheusRule,
  NODE_METRICS,
  ruleGroupName,
  WORKLOAD_METRICS,
  type LegacyPrometheusRule,
  type LegacyRule,
} from '../../../src/alerts/migrate.js';

/** A rule as the old console's form saved it. */
function formRule(options: {
  metric: string;
  kind?: string;
  names?: string[];
  comparator?: string;
  threshold?: unknown;
  unit?: string;
  alert?: string;
}): LegacyRule {
  return {
    alert: options.alert ?? 'high usage',
    expr: `${options.metric}{x="y"} > 1`,
    for: '5m',
    labels: { severity: 'warning', alerttype: 'metric', rule_id: 'abc', team: 'ops' },
    annotations: {
      summary: 'too high',
      kind: options.kind ?? 'Node',
      resources: JSON.stringify(options.names ?? ['node-1']),
      rules: JSON.stringify([
        {
          _metricType: `${options.metric}{$1}`,
          condition_type: options.comparator ?? '>',
          thresholds: options.threshold ?? '80',
          unit: options.unit ?? '',
        },
      ]),
      rule_update_time: '2021-01-01T00:00:00Z',
    },
  };
}

function legacy(level: 'cluster' | 'namespace', rules: LegacyRule[], group = 'alerting.custom.defaults') {
  return {
    metadata: {
      name: `custom-alerting-rule-${level}`,
      namespace: level === 'cluster' ? 'kubesphere-monitoring-system' : 'demo',
      labels: { 'custom-alerting-rule-level': level },
    },
    spec: { groups: [{ name: group, rules }] },
  } satisfies LegacyPrometheusRule;
}

const builderOf = (rule: LegacyRule, level: 'cluster' | 'namespace') =>
  convertRule(rule, level).exprBuilder as Record<string, Record<string, unknown>>;

describe('metric table: node metrics (ClusterRuleGroup exprBuilder.node)', () => {
  const rows: [string, string, string, string, number][] = [
    // record, type, field, unit, threshold after conversion (from 80 in that unit)
    ['node:node_cpu_utilisation:avg1m', 'cpu', 'utilization', '%', 0.8],
    ['node:load1:ratio', 'cpu', 'load1m', '', 80],
    ['node:load5:ratio', 'cpu', 'load5m', '', 80],
    ['node:load15:ratio', 'cpu', 'load15m', '', 80],
    ['node:node_memory_utilisation:', 'memory', 'utilization', '%', 0.8],
    ['node:node_memory_bytes_available:sum', 'memory', 'available', 'GiB', 80 * 1024 ** 3],
    ['node:node_net_bytes_transmitted:sum_irate', 'network', 'transmittedRate', 'Mbps', 10_000_000],
    ['node:node_net_bytes_received:sum_irate', 'network', 'receivedRate', 'KB/s', 80_000],
    ['node:disk_space_utilization:ratio', 'disk', 'spaceUtilization', '%', 0.8],
    ['node:disk_space_available:', 'disk', 'spaceAvailable', 'GB', 80e9],
    ['node:disk_inode_utilization:ratio', 'disk', 'inodeUtilization', '%', 0.8],
    ['node:data_volume_iops_reads:sum', 'disk', 'iopsRead', 'times/s', 80],
    ['node:data_volume_iops_writes:sum', 'disk', 'iopsWrite', 'times/s', 80],
    ['node:data_volume_throughput_bytes_read:sum', 'disk', 'throughputRead', 'MiB/s', 80 * 1024 ** 2],
    ['node:data_volume_throughput_bytes_written:sum', 'disk', 'throughputWrite', 'KiB/s', 80 * 1024],
    ['node:pod_utilization:ratio', 'pod', 'utilization', '%', 0.8],
    ['node:pod_abnormal:ratio', 'pod', 'abnormalRatio', '%', 0.8],
  ];

  it('has exactly these 17 rows', () => {
    expect(Object.keys(NODE_METRICS).sort()).toEqual(rows.map((r) => r[0]).sort());
  });

  it.each(rows)('%s → metricThreshold.%s.%s', (metric, type, field, unit, threshold) => {
    const builder = builderOf(formRule({ metric, unit, names: ['n1', 'n2'] }), 'cluster');
    expect(builder).toEqual({
      node: { names: ['n1', 'n2'], comparator: '>', metricThreshold: { [type]: { [field]: threshold } } },
    });
  });
});

describe('metric table: workload metrics (RuleGroup exprBuilder.workload)', () => {
  const rows: [string, string, string, string, string, number][] = [
    ['namespace:workload_cpu_usage:sum', 'Deployment', 'cpu', 'usage', 'm', 0.08],
    ['namespace:workload_memory_usage:sum', 'StatefulSet', 'memory', 'usage', 'MiB', 80 * 1024 ** 2],
    ['namespace:workload_memory_usage_wo_cache:sum', 'DaemonSet', 'memory', 'usageWoCache', 'MB', 80e6],
    [
      'namespace:workload_net_bytes_transmitted:sum_irate',
      'Deployment',
      'network',
      'transmittedRate',
      'Kbps',
      10_000,
    ],
    ['namespace:workload_net_bytes_received:sum_irate', 'Deployment', 'network', 'receivedRate', 'B/s', 80],
    [
      'namespace:deployment_unavailable_replicas:ratio',
      'Deployment',
      'replica',
      'unavailableRatio',
      '%',
      0.8,
    ],
    [
      'namespace:statefulset_unavailable_replicas:ratio',
      'StatefulSet',
      'replica',
      'unavailableRatio',
      '%',
      0.8,
    ],
    ['namespace:daemonset_unavailable_replicas:ratio', 'DaemonSet', 'replica', 'unavailableRatio', '%', 0.8],
  ];

  it('has the 6 rows (the replica ratio for each of the three kinds)', () => {
    expect(Object.keys(WORKLOAD_METRICS)).toHaveLength(6);
  });

  it.each(rows)('%s (%s) → metricThreshold.%s.%s', (metric, kind, type, field, unit, threshold) => {
    const builder = builderOf(
      formRule({ metric, kind, unit, names: ['web'], comparator: '>=' }),
      'namespace',
    );
    expect(builder).toEqual({
      workload: {
        kind: kind.toLowerCase(),
        names: ['web'],
        comparator: '>=',
        metricThreshold: { [type]: { [field]: threshold } },
      },
    });
  });
});

describe('defects of the original migration, not repeated', () => {
  it('network thresholds land under "network" (the original wrote a misspelt type)', () => {
    const b = builderOf(
      formRule({ metric: 'node:node_net_bytes_received:sum_irate', unit: 'B/s' }),
      'cluster',
    );
    expect(Object.keys(b.node!.metricThreshold as object)).toEqual(['network']);
  });

  it('the written-throughput record is recognised (the original looked for a name no rule records)', () => {
    const b = builderOf(
      formRule({ metric: 'node:data_volume_throughput_bytes_written:sum', unit: 'B/s' }),
      'cluster',
    );
    expect(b.node!.metricThreshold).toEqual({ disk: { throughputWrite: 80 } });
  });

  it('the replica ratio records are matched by kind (the original matched a literal "$2")', () => {
    const b = builderOf(
      formRule({
        metric: 'namespace:statefulset_unavailable_replicas:ratio',
        kind: 'StatefulSet',
        unit: '%',
      }),
      'namespace',
    );
    expect(b.workload).toMatchObject({
      kind: 'statefulset',
      metricThreshold: { replica: { unavailableRatio: 0.8 } },
    });
    expect(
      builderOf(
        formRule({ metric: 'namespace:$2_unavailable_replicas:ratio', kind: 'Deployment' }),
        'namespace',
      ),
    ).toBeUndefined();
  });

  it('one rule group per group of rules, named validly and never after the free-text alert name', () => {
    const rules = [
      formRule({ metric: 'node:load1:ratio', alert: 'CPU load is high!' }),
      formRule({ metric: 'node:load5:ratio', alert: 'CPU load is high!' }),
    ];
    const m = migratePrometheusRule(legacy('cluster', rules, 'My Rules'));
    expect(m.groups).toHaveLength(1);
    const [group] = m.groups;
    expect(group!.kind).toBe('ClusterRuleGroup');
    expect(group!.spec.rules.map((r) => r.alert)).toEqual(['CPU load is high!', 'CPU load is high!']);
    expect(group!.metadata.name).toMatch(/^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/);
    expect(group!.metadata.name.length).toBeLessThanOrEqual(63);
    expect(group!.metadata.name).not.toContain('high');
    expect(group!.metadata.annotations[MIGRATED_FROM_ANNOTATION]).toBe(
      'PrometheusRule kubesphere-monitoring-system/custom-alerting-rule-cluster, group My Rules',
    );
  });

  it('names: valid ones kept, others made valid with a hash; distinct sources never share a name', () => {
    expect(ruleGroupName('custom-alerting-rule-abc', 'ops')).toBe('custom-alerting-rule-abc-ops');
    const a = ruleGroupName('custom-alerting-rule-abc', 'My Rules');
    const b = ruleGroupName('custom-alerting-rule-abc', 'my-rules');
    expect(a).not.toBe(b);
    const long = ruleGroupName('x'.repeat(80), 'g');
    expect(long.length).toBeLessThanOrEqual(63);
    expect(ruleGroupName('!!!', '???')).toMatch(/^group-[0-9a-f]{8}$/);
  });

  it('a rule that cannot be converted is reported by name; its group waits, the other groups are converted', () => {
    const bad = formRule({ metric: 'node:load1:ratio', alert: 'broken threshold', threshold: 'eighty' });
    const good = formRule({ metric: 'node:load1:ratio', alert: 'fine' });
    const rule = legacy('cluster', [bad, good]);
    rule.spec.groups.push({
      name: 'other',
      rules: [formRule({ metric: 'node:load5:ratio', alert: 'also fine' })],
    });
    const m = migratePrometheusRule(rule);
    expect(m.converted).toBe(1);
    expect(m.groups.map((g) => g.spec.rules.map((r) => r.alert))).toEqual([['also fine']]);
    expect(m.failures).toEqual([
      {
        source: 'kubesphere-monitoring-system/custom-alerting-rule-cluster',
        group: 'alerting.custom.defaults',
        rule: 'broken threshold',
        reason: 'threshold "eighty" is not a number',
      },
    ]);
  });
});

describe('rule rewrite', () => {
  it('severity becomes the field; the old API’s own labels and annotations go; the rest is kept', () => {
    const r = convertRule(formRule({ metric: 'node:load1:ratio' }), 'cluster');
    expect(r).toMatchObject({
      alert: 'high usage',
      expr: 'node:load1:ratio{x="y"} > 1',
      for: '5m',
      severity: 'warning',
      labels: { team: 'ops' },
      annotations: { summary: 'too high' },
    });
  });

  it('a rule written as PromQL (no console form, or a metric outside the table) keeps its expression only', () => {
    const plain = convertRule(
      { alert: 'up', expr: 'up == 0', labels: { severity: 'critical' } },
      'namespace',
    );
    expect(plain).toEqual({ alert: 'up', expr: 'up == 0', severity: 'critical' });
    const other = convertRule(formRule({ metric: 'my_metric' }), 'cluster');
    expect(other).not.toHaveProperty('exprBuilder');
  });

  it.each([
    [{ expr: 'up' }, 'has no alert name'],
    [{ alert: 'x' }, 'has no expression'],
    [{ record: 'r', expr: 'up' }, 'is a recording rule'],
    [{ alert: 'x', expr: 'up', labels: { severity: 'urgent' } }, 'severity "urgent" is not one of'],
    [{ ...formRule({ metric: 'node:load1:ratio', comparator: '==' }) }, 'comparator "==" is not one of'],
    [{ ...formRule({ metric: 'node:node_cpu_utilisation:avg1m', unit: 'furlongs' }) }, 'unit "furlongs"'],
    [{ ...formRule({ metric: 'node:node_cpu_utilisation:avg1m', unit: 'GiB' }) }, 'does not measure'],
    [{ ...formRule({ metric: 'node:load1:ratio', names: [] }) }, 'names no node or workload'],
    [
      { alert: 'x', expr: 'up', annotations: { rules: '{', resources: '[]' } },
      'annotation rules is not JSON',
    ],
  ])('%j is refused: %s', (rule, reason) => {
    expect(() => convertRule(rule as LegacyRule, 'cluster')).toThrow(reason);
  });

  it('a workload rule needs a workload kind; a node metric at namespace level is not a workload metric', () => {
    expect(() =>
      convertRule(
        formRule({ metric: 'namespace:workload_cpu_usage:sum', kind: 'Job', unit: 'core' }),
        'namespace',
      ),
    ).toThrow('workload kind "Job"');
    expect(convertRule(formRule({ metric: 'node:load1:ratio' }), 'namespace')).not.toHaveProperty(
      'exprBuilder',
    );
  });

  it('namespace level: RuleGroups in the rule’s namespace, enabled, interval and strategy kept', () => {
    const rule = legacy('namespace', [{ alert: 'a', expr: 'up == 0' }]);
    rule.spec.groups[0] = {
      ...rule.spec.groups[0]!,
      interval: '30s',
      partial_response_strategy: 'warn',
    } as never;
    const m = migratePrometheusRule(rule);
    expect(m.groups[0]).toMatchObject({
      apiVersion: 'alerting.kubesphere.io/v2beta1',
      kind: 'RuleGroup',
      metadata: { namespace: 'demo', labels: { 'alerting.kubesphere.io/enable': 'true' } },
      spec: { interval: '30s', partial_response_strategy: 'warn', rules: [{ alert: 'a', expr: 'up == 0' }] },
    });
  });
});
