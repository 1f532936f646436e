/**
 * The generated Grafana dashboards as committed (templates/grafana/dashboards):
 * - they match their provenance record (what `npm run dashboards:check` checks without the mixins'
 *   repositories, which CI does not have); a changed byte, an extra or missing file, or an edited
 *   configuration not regenerated is caught. With every repository named by its environment variable
 *   (KUBERNETES_MIXIN_SRC, ...), they are also regenerated and compared byte for byte;
 * - every PromQL expression in them parses with Prometheus 2.39.1's parser (test/tools/promql-parse), after
 *   the documented stand-ins for Grafana's variables; a bad one fails the check;
 * - the recorded series they read are all recorded: by our rules, or by the mixins' rules generated with
 *   them into rules/recording (the 24 records docs/dashboards.md lists, none named like one of ours), and the
 *   generator's selection refuses a record nobody records and a clash with one of ours.
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
  readCommittedRules,
  readEntry,
} from '../../../tools/dashboards/generate.js';
import { recordsRead, selectRecordingRules, type EvaluatedRules } from '../../../tools/dashboards/rules.js';
import {
  checkProvenance,
  PROVENANCE_FILE,
  type DashboardProvenance,
} from '../../../tools/dashboards/provenance.js';
import {
  DASHBOARD_REPOSITORIES,
  EXPECTED_DASHBOARDS,
  EXPECTED_RECORDS,
} from '../../../tools/dashboards/sources.js';
import { resolveTestTool } from '../../../tools/envtest/test-tools.js';

const committed = await readCommitted();
const committedRules = await readCommittedRules();
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
    expect(checkProvenance(committed, entry, committedRules)).toEqual([]);
    expect([...committedRules.keys()]).toEqual([
      'kubernetes-mixin-k8s.rules.yaml',
      'kubernetes-mixin-node.rules.yaml',
      'node-mixin-node-exporter.rules.yaml',
    ]);
    const record = JSON.parse(committed.get(PROVENANCE_FILE)!) as DashboardProvenance;
    expect(
      Object.values(record.rules)
        .flatMap((r) => r.records)
        .sort(),
    ).toEqual([...EXPECTED_RECORDS].sort());
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
    expect(checkProvenance(tampered, entry, committedRules)).toEqual([
      expect.stringMatching(/^apiserver\.json: sha256 [0-9a-f]{64} is not the recorded [0-9a-f]{64}$/),
    ]);
    expect(checkProvenance(new Map(committed).set('extra.json', '{}'), entry, committedRules)).toEqual([
      'extra.json: not a generated dashboard',
    ]);
    const missing = new Map(committed);
    missing.delete('nodes.json');
    expect(checkProvenance(missing, entry, committedRules)).toEqual(['nodes.json: missing']);
    expect(checkProvenance(committed, `${entry}// edited\n`, committedRules)).toEqual([
      expect.stringMatching(/^SOURCE\.json: entry is .* expected /),
    ]);
  });

  it('an edited, missing or extra generated rule file is caught', () => {
    const file = 'kubernetes-mixin-node.rules.yaml';
    const edited = new Map(committedRules).set(
      file,
      committedRules.get(file)!.replace('node_memory_Slab_bytes', 'node_memory_SReclaimable_bytes'),
    );
    expect(checkProvenance(committed, entry, edited)).toEqual([
      expect.stringMatching(
        /^rules\/recording\/kubernetes-mixin-node\.rules\.yaml: sha256 [0-9a-f]{64} is not/,
      ),
    ]);
    const missing = new Map(committedRules);
    missing.delete(file);
    expect(checkProvenance(committed, entry, missing)).toEqual([`rules/recording/${file}: missing`]);
    expect(
      checkProvenance(committed, entry, new Map(committedRules).set('node-mixin-extra.yaml', 'groups: []\n')),
    ).toEqual(['rules/recording/node-mixin-extra.yaml: not a generated rule file']);
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
      expect(compareFiles(committedRules, g.rules)).toEqual([]);
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

/** Record names (metric names with a colon) of rule files. */
function recordsOf(texts: Iterable<string>): string[] {
  return [...texts].flatMap((text) =>
    (yaml.load(text) as { groups: { rules: { record?: string }[] }[] }).groups.flatMap((g) =>
      g.rules.flatMap((r) => (r.record ? [r.record] : [])),
    ),
  );
}

describe('generated Grafana dashboards: the recorded series they read', () => {
  const recordingDir = path.join(projectRoot(), 'rules', 'recording');
  const ours = new Set(
    recordsOf(
      readdirSync(recordingDir)
        .filter((f) => !committedRules.has(f))
        .map((f) => readFileSync(path.join(recordingDir, f), 'utf8')),
    ),
  );
  const generated = recordsOf(committedRules.values());

  it('our own rules record 112 names; the generated files the 24 others the dashboards read, none of ours', () => {
    expect(ours.size).toBe(112);
    expect(new Set(generated).size).toBe(24);
    expect([...new Set(generated)].sort()).toEqual([...EXPECTED_RECORDS].sort());
    expect(generated.filter((r) => ours.has(r))).toEqual([]);
  });

  it('every recorded series a dashboard reads is recorded, and docs/dashboards.md lists the generated ones', () => {
    const read = new Set<string>();
    for (const [file, text] of dashboards)
      for (const e of dashboardExpressions(file, JSON.parse(text)).expressions) {
        // Names outside string literals that hold a colon (a leading one too): recorded series.
        const code = e.expr.replace(/"(?:\\.|[^"\\])*"|'(?:\\.|[^'\\])*'|`[^`]*`/g, '""');
        for (const m of code.matchAll(/(?<![\w:.])[a-zA-Z_:][\w:]*/g)) if (m[0].includes(':')) read.add(m[0]);
      }
    expect([...read].filter((r) => !ours.has(r) && !generated.includes(r))).toEqual([]);
    // The generated records that no dashboard reads itself are read by another generated record.
    const readByRules = new Set(
      [...committedRules.values()].flatMap((t) =>
        (yaml.load(t) as { groups: { rules: { expr: string }[] }[] }).groups.flatMap((g) =>
          g.rules.flatMap((r) => recordsRead(r.expr)),
        ),
      ),
    );
    expect(generated.filter((r) => !read.has(r) && !readByRules.has(r))).toEqual([]);
    const docs = readFileSync(path.join(projectRoot(), 'docs', 'dashboards.md'), 'utf8');
    expect(EXPECTED_RECORDS.filter((r) => !docs.includes(`\`${r}\``))).toEqual([]);
  });

  it('the selection refuses a record nobody records and a rule reading one of ours', () => {
    const board = new Map([
      ['d.json', JSON.stringify({ panels: [{ targets: [{ expr: 'sum(a:b) + c:d' }] }] })],
    ]);
    const mixin = (rules: { record: string; expr: string }[]): EvaluatedRules => ({
      'kubernetes-mixin': [{ name: 'g', rules }],
    });
    expect(() => selectRecordingRules(mixin([{ record: 'a:b', expr: 'x' }]), board, new Set())).toThrow(
      /c:d: read by a dashboard, recorded by no rule of ours nor of the mixins/,
    );
    expect(() =>
      selectRecordingRules(mixin([{ record: 'a:b', expr: 'rate(e:f[5m])' }]), board, new Set(['c:d', 'e:f'])),
    ).toThrow(/a:b reads e:f, which one of our rules records/);
    // Well formed but not the expected selection.
    expect(() =>
      selectRecordingRules(mixin([{ record: 'a:b', expr: 'x' }]), board, new Set(['c:d'])),
    ).toThrow(/the dashboards need the records a:b; tools\/dashboards\/sources\.ts expects/);
    expect(recordsRead('sum(x{a="b:c"}) / :y:sum + rate(z[5m:1m]) + w:v:')).toEqual([':y:sum', 'w:v:']);
  });
});
