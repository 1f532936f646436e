/**
 * The generated Grafana dashboards as committed (templates/grafana/dashboards):
 * - they match their provenance record (what `npm run dashboards:check` checks without the mixins'
 *   repositories, which CI does not have); a changed byte, an extra or missing file, or an edited
 *   configuration not regenerated is caught. With every repository named by its environment variable
 *   (KUBERNETES_MIXIN_SRC, ...), they are also regenerated and compared byte for byte;
 * - every PromQL expression in them parses with Prometheus 2.39.1's parser (test/tools/promql-parse), after
 *   the documented stand-ins for Grafana's variables; a bad one fails the check;
 * - the recorded series they read that none of our recording rules records are the ones docs/dashboards.md
 *   lists (their panels show no data).
 */
import { beforeAll, describe, expect, it } from '@jest/globals';
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import yaml from 'js-yaml';
import { projectRoot } from '../../../src/paths.js';
import {
  checkDashboardExpressions,
  dashboardExpressions,
  substituteVariables,
  templatingExpression,
} from '../../../tools/dashboards/expressions.js';
import {
  compareFiles,
  generateDashboards,
  readCommitted,
  readEntry,
} from '../../../tools/dashboards/generate.js';
import {
  checkProvenance,
  PROVENANCE_FILE,
  type DashboardProvenance,
} from '../../../tools/dashboards/provenance.js';
import { DASHBOARD_REPOSITORIES, EXPECTED_DASHBOARDS } from '../../../tools/dashboards/sources.js';
import { resolveTestTool } from '../../../tools/envtest/test-tools.js';

const committed = await readCommitted();
const entry = await readEntry();
const dashboards = new Map([...committed].filter(([f]) => f !== PROVENANCE_FILE));
const repositories = new Map(
  DASHBOARD_REPOSITORIES.filter((r) => process.env[r.envVar]).map((r) => [
    r.name,
    path.resolve(process.env[r.envVar]!),
  ]),
);

describe('generated Grafana dashboards: provenance', () => {
  it('are the 23 expected, matching SOURCE.json', () => {
    expect(dashboards.size).toBe(23);
    expect(Object.values(EXPECTED_DASHBOARDS).flat()).toHaveLength(23);
    expect(checkProvenance(committed, entry)).toEqual([]);
    const record = JSON.parse(committed.get(PROVENANCE_FILE)!) as DashboardProvenance;
    expect(record.lockedBy).toMatchObject({
      tag: 'v0.10.0',
      commit: '42ea595d60265b803ad460a971a7186488f6be7e',
    });
    expect(record.sources.find((s) => s.name === 'kubernetes-mixin' && s.subdir === '')?.commit).toBe(
      'b538a10c89508f8d12885680cca72a134d3127f5',
    );
    expect(record.jsonnet).toEqual({ module: 'github.com/google/go-jsonnet', version: 'v0.20.0' });
    expect(record.extVars).toEqual({ namespace: 'kubesphere-monitoring-system' });
  });

  it('a changed byte, an extra file, a missing file or an edited configuration is caught', () => {
    const tampered = new Map(committed).set('apiserver.json', `${committed.get('apiserver.json')!} `);
    expect(checkProvenance(tampered, entry)).toEqual([
      expect.stringMatching(/^apiserver\.json: sha256 [0-9a-f]{64} is not the recorded [0-9a-f]{64}$/),
    ]);
    expect(checkProvenance(new Map(committed).set('extra.json', '{}'), entry)).toEqual([
      'extra.json: not a generated dashboard',
    ]);
    const missing = new Map(committed);
    missing.delete('nodes.json');
    expect(checkProvenance(missing, entry)).toEqual(['nodes.json: missing']);
    expect(checkProvenance(committed, `${entry}// edited\n`)).toEqual([
      expect.stringMatching(/^SOURCE\.json: entry is .* expected /),
    ]);
  });

  it('carry the two KubeSphere edits: our namespace, and kubelet and cAdvisor selected by job alone', () => {
    const all = [...dashboards.values()].join('\n');
    expect(all).not.toContain('metrics_path');
    expect(all).not.toMatch(/namespace=\\"monitoring\\"/);
    expect(dashboards.get('prometheus.json')).toContain(
      'job=\\"prometheus-k8s\\",namespace=\\"kubesphere-monitoring-system\\"',
    );
    expect(dashboards.get('k8s-resources-pod.json')).toContain(
      'container_memory_working_set_bytes{job=\\"kubelet\\", cluster',
    );
  });

  const regenerate = repositories.size === DASHBOARD_REPOSITORIES.length ? it : it.skip;
  regenerate(
    'regenerated from the repositories, equal byte for byte',
    async () => {
      const g = await generateDashboards({ repositories, progress: () => undefined });
      expect(compareFiles(committed, g.files)).toEqual([]);
    },
    600_000,
  );
});

describe('generated Grafana dashboards: every PromQL expression parses with Prometheus 2.39.1', () => {
  let parser: string;
  beforeAll(async () => {
    parser = (await resolveTestTool('promql-parse')).path;
  }, 600_000);

  it('every expression of every panel and templating query parses', async () => {
    const result = await checkDashboardExpressions(parser, dashboards);
    expect(result.problems).toEqual([]);
    expect(result.parsed).toBe(result.expressions);
    // Panel and annotation expressions and templating queries of the 23 dashboards (docs/dashboards.md).
    expect(result.expressions).toBeGreaterThan(400);
    process.stderr.write(`dashboards: ${result.expressions} PromQL expressions parsed\n`);
  });

  it('one bad expression fails the check, naming the dashboard, the place and the expression', async () => {
    const bad = {
      title: 'bad',
      panels: [
        { targets: [{ expr: 'sum(rate(up[$__rate_interval])) by (job)' }] },
        { targets: [{ expr: 'sum(rate(up{job="x"}[5m])' }] },
      ],
    };
    const result = await checkDashboardExpressions(parser, new Map([['bad.json', JSON.stringify(bad)]]));
    expect(result.expressions).toBe(2);
    expect(result.parsed).toBe(1);
    expect(result.problems).toEqual([
      expect.stringMatching(
        /^bad\.json panels\[1\]\.targets\[0\]\.expr: .+\n {4}sum\(rate\(up\{job="x"\}\[5m\]\)$/,
      ),
    ]);
  });

  it('a variable without a stand-in where PromQL wants a number or duration fails, and a bad label_values selector', async () => {
    const bad = {
      panels: [{ targets: [{ expr: 'topk($limit, up)' }, { expr: 'rate(up[$window])' }] }],
      templating: {
        list: [
          { type: 'query', name: 'ok', query: 'label_values(up{job=~"$job"}, instance)' },
          { type: 'query', name: 'broken', query: 'label_values(up{job=~"$job", instance)' },
        ],
      },
    };
    const result = await checkDashboardExpressions(parser, new Map([['vars.json', JSON.stringify(bad)]]));
    expect(result.expressions).toBe(4);
    expect(result.problems.map((p) => p.split(':')[0])).toEqual([
      'vars.json panels[0].targets[0].expr',
      'vars.json panels[0].targets[1].expr',
      'vars.json templating.list[1].query',
    ]);
  });

  it('stand-ins: durations outside strings, bare names inside; templating queries give their expression', () => {
    expect(
      substituteVariables('sum(rate(x{cluster="$cluster", namespace=~"${namespace}"}[$__rate_interval]))'),
    ).toBe('sum(rate(x{cluster="cluster", namespace=~"namespace"}[5m]))');
    expect(substituteVariables('irate(x{a="[[pod]]"}[$interval:$resolution])')).toBe(
      'irate(x{a="pod"}[5m:1m])',
    );
    expect(substituteVariables("x{a='$a\\'b'} offset $__range")).toBe("x{a='a\\'b'} offset 1h");
    expect(templatingExpression('label_values(kube_pod_info{a="1", b="2"}, pod)')).toEqual({
      expr: 'kube_pod_info{a="1", b="2"}',
    });
    expect(templatingExpression('label_values(job)')).toEqual({});
    expect(templatingExpression('query_result(topk(5, up))')).toEqual({ expr: 'topk(5, up)' });
    expect(templatingExpression('up')).toMatchObject({ problem: expect.stringContaining('not a Grafana') });
    const { expressions } = dashboardExpressions('d.json', {
      templating: {
        list: [
          { type: 'datasource', query: 'prometheus' },
          { type: 'interval', query: '1m,5m' },
        ],
      },
      annotations: { list: [{ expr: 'ALERTS' }] },
    });
    expect(expressions.map((e) => e.id)).toEqual(['d.json annotations.list[0].expr']);
  });
});

/** Recorded series (names with a colon) the dashboards read that no rule of rules/recording records. */
const UNRECORDED = [
  'cluster:namespace:pod_cpu:active:kube_pod_container_resource_limits',
  'cluster:namespace:pod_cpu:active:kube_pod_container_resource_requests',
  'cluster:namespace:pod_memory:active:kube_pod_container_resource_limits',
  'cluster:namespace:pod_memory:active:kube_pod_container_resource_requests',
  'instance:node_cpu_utilisation:rate5m',
  'instance:node_load1_per_cpu:ratio',
  'instance:node_memory_utilisation:ratio',
  'instance:node_network_receive_bytes_excluding_lo:rate5m',
  'instance:node_network_receive_drop_excluding_lo:rate5m',
  'instance:node_network_transmit_bytes_excluding_lo:rate5m',
  'instance:node_network_transmit_drop_excluding_lo:rate5m',
  'instance:node_num_cpu:sum',
  'instance:node_vmstat_pgmajfault:rate5m',
  'instance_device:node_disk_io_time_seconds:rate5m',
  'instance_device:node_disk_io_time_weighted_seconds:rate5m',
  'namespace_cpu:kube_pod_container_resource_limits:sum',
  'namespace_memory:kube_pod_container_resource_limits:sum',
  'namespace_workload_pod:kube_pod_owner:relabel',
  'node_memory_MemAvailable_bytes:sum',
  'node_namespace_pod_container:container_cpu_usage_seconds_total:sum_irate',
  'node_namespace_pod_container:container_memory_cache',
  'node_namespace_pod_container:container_memory_rss',
  'node_namespace_pod_container:container_memory_swap',
  'node_namespace_pod_container:container_memory_working_set_bytes',
];

describe('generated Grafana dashboards: the recorded series they read', () => {
  it('those no rule of ours records are the ones docs/dashboards.md lists', () => {
    const root = projectRoot();
    const recordingDir = path.join(root, 'rules', 'recording');
    const recorded = new Set(
      readdirSync(recordingDir).flatMap((f) =>
        (
          yaml.load(readFileSync(path.join(recordingDir, f), 'utf8')) as {
            groups: { rules: { record?: string }[] }[];
          }
        ).groups.flatMap((g) => g.rules.flatMap((r) => (r.record ? [r.record] : []))),
      ),
    );
    const read = new Set<string>();
    for (const [file, text] of dashboards)
      for (const e of dashboardExpressions(file, JSON.parse(text)).expressions) {
        // Names outside string literals that hold a colon: recorded series.
        const code = e.expr.replace(/"(?:\\.|[^"\\])*"|'(?:\\.|[^'\\])*'|`[^`]*`/g, '""');
        for (const m of code.matchAll(/\b[a-zA-Z_]\w*:[\w:]+/g)) read.add(m[0]);
      }
    expect([...read].filter((r) => !recorded.has(r)).sort()).toEqual(UNRECORDED);
    const docs = readFileSync(path.join(root, 'docs', 'dashboards.md'), 'utf8');
    expect(UNRECORDED.filter((r) => !docs.includes(`\`${r}\``))).toEqual([]);
  });
});
