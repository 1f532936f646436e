/**
 * promtool 2.39.1 on our rules: `check rules` on every committed rule file and on the PrometheusRules
 * of several ClusterConfigurations (etcd monitoring on and off, 1 and 40 nodes), and `test rules` on our
 * cases (test/rules/cases). The recording cases cover what the one rules fixture cannot show: empty
 * namespaces, namespaces without a workspace, unscheduled, ContainerCreating and Succeeded pods,
 * NotReady and master-only nodes, counter resets, and every kind of pod owner. The alert cases
 * (cases/alerts, one file per group) make alerts fire and stay quiet from what each alert means.
 */
import { beforeAll, describe, expect, test } from '@jest/globals';
import { resolveTestTool } from '../../../tools/envtest/test-tools.js';
import { fixtureSpec, withGrafana } from '../../rules/rule-files.js';
import { caseFiles, checkCommittedRules, checkRules, prepareCases, testRules } from '../../rules/promtool.js';

let promtool: string;
/** Each test runs promtool (and most render a plan first): seconds on a loaded 2-core machine. */
const PROMTOOL_TIMEOUT = 60_000;

beforeAll(async () => {
  // Built into the cache on first use (a few minutes on 2 cores), found there afterwards.
  promtool = (await resolveTestTool('promtool')).path;
}, 30 * 60_000);

const ETCD_OFF = { monitoring: false, endpointIps: 'localhost', port: 2379, tlsEnable: true };

describe('promtool check rules', () => {
  test(
    'every committed rule file, as it is: 19 recording (3 generated) and 21 alert groups, 301 rules',
    async () => {
      const result = await checkCommittedRules(promtool);
      expect(result.output).not.toMatch(/FAILED|error/i);
      expect(result.exitCode).toBe(0);
      expect(result.files).toBe(40);
      const rules = [...result.output.matchAll(/SUCCESS: (\d+) rules found/g)].reduce(
        (n, m) => n + Number(m[1]),
        0,
      );
      expect(rules).toBe(135 + 26 + 140);
    },
    PROMTOOL_TIMEOUT,
  );

  test.each([
    ['etcd on, 1 node', fixtureSpec(), 1, 135],
    ['etcd on, 40 nodes', fixtureSpec(), 40, 135],
    ['etcd off, 1 node', fixtureSpec({ etcd: ETCD_OFF }), 1, 114],
    ['etcd off, 40 nodes', fixtureSpec({ etcd: ETCD_OFF }), 40, 114],
    ['etcd on, Grafana on, 1 node', withGrafana(fixtureSpec()), 1, 135 + 26],
    ['etcd off, Grafana on, 40 nodes', withGrafana(fixtureSpec({ etcd: ETCD_OFF })), 40, 114 + 26],
  ])(
    '%s: every PrometheusRule passes, with the contract’s recording rules',
    async (_name, spec, nodes, records) => {
      const result = await checkRules(promtool, spec, { nodeCount: nodes });
      expect(result.output).not.toMatch(/FAILED|error/i);
      expect(result.exitCode).toBe(0);
      // 112 in prometheus-k8s-rules (the original's 115, its four hourly request-count rules written as
      // one), 2 in prometheus-k8s-prometheus-rules, 21 in prometheus-k8s-etcd-rules; with Grafana, 26
      // (24 record names) in prometheus-k8s-grafana-rules.
      expect(result.rendered.records).toBe(records);
      // promtool read every rule we render (alerting rules too, should a PrometheusRule carry any).
      expect(result.rules).toBe(result.rendered.rules);
      expect(result.files.includes('prometheus-k8s-etcd-rules.yaml')).toBe(!_name.startsWith('etcd off'));
      expect(result.files.includes('prometheus-k8s-grafana-rules.yaml')).toBe(_name.includes('Grafana on'));
    },
    PROMTOOL_TIMEOUT,
  );
});

describe('promtool test rules', () => {
  let dir: string;
  beforeAll(async () => {
    dir = await prepareCases();
  }, PROMTOOL_TIMEOUT);

  test.each(caseFiles())(
    '%s',
    async (caseFile) => {
      const result = await testRules(promtool, dir, caseFile);
      expect(result.output).toContain('SUCCESS');
      expect({ exitCode: result.exitCode, output: result.output }).toEqual({
        exitCode: 0,
        output: expect.stringContaining('SUCCESS') as unknown as string,
      });
    },
    PROMTOOL_TIMEOUT,
  );

  test('there are cases: the recording groups, and one file per alert group', () => {
    expect(caseFiles().filter((f) => !f.startsWith('alerts/')).length).toBeGreaterThanOrEqual(5);
    expect(caseFiles().filter((f) => f.startsWith('alerts/'))).toHaveLength(21);
  });
});
