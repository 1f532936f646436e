/**
 * The built-in alerts in both forms a run may install (rules/alerts, src/rules): GlobalRuleGroups where
 * alerting.kubesphere.io/v2beta1 is served, fallback PrometheusRules elsewhere. Both hold the
 * contract's 140 rules (125 names) in its 21 groups, with the same expressions, `for` and labels,
 * and promtool 2.39.1 accepts both as rule files.
 */
import { beforeAll, describe, expect, test } from '@jest/globals';
import { execa } from 'execa';
import { ALERTING_API_VERSION, FALLBACK_PREFIX, ruleId } from '../../../src/rules/package.js';
import { resolveTestTool } from '../../../tools/envtest/test-tools.js';
import { CONTRACT_ALERTS } from '../../rules/alerts-contract.js';
import {
  FIXTURE_FACTS,
  fixtureSpec,
  renderRuleObjects,
  writeRuleFiles,
  type RenderedRuleObject,
} from '../../rules/rule-files.js';

const SERVED = { servedApiVersions: [...FIXTURE_FACTS.servedApiVersions, ALERTING_API_VERSION] };

/** Every alerting rule of the objects as one comparable line per rule, with its group. */
function alertRules(objects: RenderedRuleObject[]) {
  return objects.flatMap((o) =>
    o.groups.flatMap((g) =>
      g.rules
        .filter((r) => r.alert)
        .map((r) => ({
          group: g.name,
          alert: r.alert!,
          expr: r.expr,
          for: r.for ?? '',
          labels: r.labels ?? {},
          annotations: r.annotations ?? {},
        })),
    ),
  );
}

type AlertRule = ReturnType<typeof alertRules>[number];
const sortedLabels = (l: Record<string, string>) => Object.entries(l).sort(([a], [b]) => (a < b ? -1 : 1));
const key = (r: AlertRule) => JSON.stringify([r.group, r.alert, r.expr, r.for, sortedLabels(r.labels)]);

describe('built-in alerts, both forms (etcd monitoring on)', () => {
  let fallback: RenderedRuleObject[];
  let global: RenderedRuleObject[];
  let withApi: RenderedRuleObject[];

  beforeAll(async () => {
    fallback = (await renderRuleObjects()).filter((o) => o.name.startsWith(FALLBACK_PREFIX));
    withApi = await renderRuleObjects(fixtureSpec(), SERVED);
    global = withApi.filter((o) => o.kind === 'GlobalRuleGroup');
  });

  test('without the API: 21 fallback PrometheusRules, one group each, 140 rules, 125 names', () => {
    expect(fallback.map((o) => o.kind)).toEqual(Array(21).fill('PrometheusRule'));
    expect(fallback.every((o) => o.groups.length === 1)).toBe(true);
    const rules = alertRules(fallback);
    expect(rules).toHaveLength(140);
    expect(new Set(rules.map((r) => r.alert)).size).toBe(125);
  });

  test('with the API: 21 GlobalRuleGroups and no alerting rule left in any PrometheusRule', () => {
    expect(global).toHaveLength(21);
    expect(alertRules(global)).toHaveLength(140);
    expect(alertRules(withApi.filter((o) => o.kind === 'PrometheusRule'))).toEqual([]);
  });

  test('both forms hold the same rules: group, name, expression, for, labels and annotations', () => {
    const a = alertRules(fallback);
    const b = alertRules(global);
    expect(b.map(key)).toEqual(a.map(key));
    expect(b.map((r) => r.annotations)).toEqual(a.map((r) => r.annotations));
  });

  test('every rule of the contract, with its group, severity and for, and nothing else', () => {
    const ours = alertRules(global)
      .map((r) => [r.group, r.alert, r.labels.severity, r.for].join(' '))
      .sort();
    expect(ours).toEqual(CONTRACT_ALERTS.map((c) => c.join(' ')).sort());
    expect(new Set(ours.map((o) => o.split(' ')[0])).size).toBe(21);
  });

  test('each rule has a unique 32-hex rule_id computed from group, alert, severity and for', () => {
    const rules = alertRules(global);
    for (const r of rules) {
      expect(r.labels.rule_id).toBe(
        ruleId(r.group, { alert: r.alert, severity: r.labels.severity as never, for: r.for || undefined }),
      );
    }
    expect(new Set(rules.map((r) => r.labels.rule_id)).size).toBe(140);
  });

  test('each rule has a summary, a description and a runbook on the KubeSphere runbook host', () => {
    for (const r of alertRules(global)) {
      expect(r.annotations.summary).toBeTruthy();
      expect(r.annotations.description).toBeTruthy();
      expect(r.annotations.runbook_url).toBe(
        `https://alert-runbooks.kubesphere.io/runbooks/${r.annotations.runbook_url!.split('/')[4]}/${r.alert.toLowerCase()}`,
      );
    }
  });

  test.each([
    ['fallback PrometheusRules', () => fallback],
    ['GlobalRuleGroups', () => global],
  ])(
    'promtool 2.39.1 check rules accepts the %s',
    async (_form, objects) => {
      const promtool = (await resolveTestTool('promtool')).path;
      const files = writeRuleFiles(objects());
      expect(files).toHaveLength(21);
      const r = await execa(promtool, ['check', 'rules', ...files], { reject: false });
      expect({ exitCode: r.exitCode, stderr: r.stderr }).toEqual({ exitCode: 0, stderr: '' });
      expect(r.stdout.match(/SUCCESS: \d+ rules found/g)?.length).toBe(21);
    },
    20 * 60_000,
  );
});
