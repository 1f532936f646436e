/**
 * The built-in alerts on the real API server: without KubeSphere core's GlobalRuleGroup API they are
 * installed as PrometheusRules our Prometheus selects; once the API is served (its CRD installed,
 * here a test-only copy), the next run installs GlobalRuleGroups and deletes exactly the fallback
 * PrometheusRules — the recording rules and a user's own PrometheusRule stay as they were. A group
 * or rule disabled in KubeSphere's console stays disabled across runs.
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { FALLBACK_RULE_NAMES } from '../../src/rules/package.js';
import type { ClusterConfiguration } from '../../src/api/cluster-configuration.js';
import { ApiError, type KubeClient, type KubeObject } from '../../src/kube/client.js';
import { GLOBAL_RULE_GROUPS, installGlobalRuleGroupCrd, removeGlobalRuleGroupCrd } from './alerting-crd.js';
import {
  ccPath,
  createClusterConfiguration,
  mergePatch,
  MONITORING_NS,
  prepareOperatorTest,
  sampleClusterConfiguration,
  startOperatorFor,
  ensureMonitoringNamespace,
} from './fixtures.js';
import { type OperatorProcess } from './operator-process.js';

const RULES = `/apis/monitoring.coreos.com/v1/namespaces/${MONITORING_NS}/prometheusrules`;
const USER_RULE = 'team-alerts';

interface Rule {
  alert?: string;
  record?: string;
  expr: string;
  for?: string;
  severity?: string;
  labels?: Record<string, string>;
  disable?: boolean;
}
type PrometheusRule = KubeObject & { spec: { groups: { name: string; rules: Rule[] }[] } };
type GlobalRuleGroup = KubeObject & { spec: { rules: Rule[] } };

describe('built-in alerts', () => {
  let admin: KubeClient;
  let ns: string;
  let op: OperatorProcess;
  let userRuleVersion: string | undefined;

  const cc = () => admin.get<ClusterConfiguration>(ccPath(ns));
  const condition = async () => (await cc()).status?.conditions?.find((c) => c.type === 'BuiltinAlerts');
  const prometheusRules = async () => (await admin.get<{ items: PrometheusRule[] }>(RULES)).items;
  const deleteUserRule = () =>
    admin.request('DELETE', `${RULES}/${USER_RULE}`).catch((e: unknown) => {
      if (!(e instanceof ApiError && e.notFound)) throw e;
    });

  beforeAll(async () => {
    ({ admin, ns } = await prepareOperatorTest('mon-alerts'));
    await removeGlobalRuleGroupCrd(admin);
    await ensureMonitoringNamespace(admin);
    op = await startOperatorFor(ns);
  });

  afterAll(async () => {
    expect(await op?.stop()).toBe(0);
    await deleteUserRule();
    await removeGlobalRuleGroupCrd(admin);
  });

  it('without the GlobalRuleGroup API: 140 rules in 21 fallback PrometheusRules our Prometheus selects', async () => {
    const sample = sampleClusterConfiguration(ns);
    sample.spec = {
      ...sample.spec,
      etcd: { monitoring: true, endpointIps: '10.30.0.11', port: 2379, tlsEnable: false },
      // With the alerting module, whose role brings the thanos-rule group: all 21 groups.
      alerting: { enabled: true },
    };
    const run = await op.runAfter(() => createClusterConfiguration(admin, sample));
    expect(run.some((l) => l.includes('builtin alerts: 140 alerting rules in 21 PrometheusRules'))).toBe(
      true,
    );

    const fallback = (await prometheusRules()).filter((r) => FALLBACK_RULE_NAMES.includes(r.metadata.name));
    expect(fallback.map((r) => r.metadata.name).sort()).toEqual([...FALLBACK_RULE_NAMES].sort());
    for (const r of fallback) {
      expect(r.metadata.labels).toMatchObject({ prometheus: 'k8s', role: 'alert-rules' });
    }
    const rules = fallback.flatMap((r) => r.spec.groups.flatMap((g) => g.rules));
    expect(rules).toHaveLength(140);
    expect(new Set(rules.map((r) => r.alert)).size).toBe(125);
    for (const r of rules) {
      expect(r.labels?.severity).toMatch(/^(critical|warning|info|none)$/);
      expect(r.labels?.rule_id).toMatch(/^[0-9a-f]{32}$/);
    }
    expect(await condition()).toMatchObject({
      status: 'True',
      reason: 'PrometheusRules',
      message: expect.stringContaining('alerting.kubesphere.io/v2beta1 is not served'),
    });
  });

  it('once KubeSphere core serves GlobalRuleGroups, the next run installs them and deletes only the fallback PrometheusRules', async () => {
    // Somebody's own rules, and our recording rules, which must stay.
    const user = await admin.request<KubeObject>('POST', RULES, {
      body: {
        apiVersion: 'monitoring.coreos.com/v1',
        kind: 'PrometheusRule',
        metadata: { name: USER_RULE, labels: { prometheus: 'k8s', role: 'alert-rules' } },
        spec: { groups: [{ name: 'team', rules: [{ alert: 'TeamDown', expr: 'vector(1)' }] }] },
      },
    });
    userRuleVersion = user.metadata.resourceVersion;
    const othersBefore = (await prometheusRules())
      .filter((r) => !FALLBACK_RULE_NAMES.includes(r.metadata.name))
      .map((r) => `${r.metadata.name}@${r.metadata.resourceVersion}`)
      .sort();
    expect(othersBefore.length).toBeGreaterThan(1);

    await installGlobalRuleGroupCrd(admin);
    const run = await op.runAfter(() => mergePatch(admin, ccPath(ns), { status: { monitoring: null } }));
    expect(run.some((l) => l.includes('builtin alerts: 140 alerting rules in 21 GlobalRuleGroups'))).toBe(
      true,
    );
    expect(run.some((l) => l.includes('deleted the fallback PrometheusRules builtin-alerts-'))).toBe(true);

    const groups = (await admin.get<{ items: GlobalRuleGroup[] }>(GLOBAL_RULE_GROUPS)).items;
    expect(groups).toHaveLength(21);
    for (const g of groups) {
      expect(g.metadata.labels).toMatchObject({
        'alerting.kubesphere.io/builtin': 'true',
        'alerting.kubesphere.io/enable': 'true',
      });
    }
    const rules = groups.flatMap((g) => g.spec.rules);
    expect(rules).toHaveLength(140);
    expect(new Set(rules.map((r) => r.alert)).size).toBe(125);
    expect(rules.every((r) => r.severity && /^[0-9a-f]{32}$/.test(r.labels?.rule_id ?? ''))).toBe(true);

    const after = await prometheusRules();
    expect(after.filter((r) => FALLBACK_RULE_NAMES.includes(r.metadata.name))).toEqual([]);
    expect(after.map((r) => `${r.metadata.name}@${r.metadata.resourceVersion}`).sort()).toEqual(othersBefore);
    expect(after.find((r) => r.metadata.name === USER_RULE)?.metadata.resourceVersion).toBe(userRuleVersion);
    expect(await condition()).toMatchObject({
      status: 'True',
      reason: 'GlobalRuleGroups',
      message: expect.stringContaining('alerting.kubesphere.io/v2beta1 is served'),
    });
  });

  it('a later run with the API still served changes nothing and deletes nothing', async () => {
    const groupsBefore = (await admin.get<{ items: GlobalRuleGroup[] }>(GLOBAL_RULE_GROUPS)).items
      .map((g) => `${g.metadata.name}@${g.metadata.resourceVersion}`)
      .sort();
    const run = await op.runAfter(() => mergePatch(admin, ccPath(ns), { status: { monitoring: null } }));
    expect(run.some((l) => l.includes('deleted the fallback'))).toBe(false);
    const groupsAfter = (await admin.get<{ items: GlobalRuleGroup[] }>(GLOBAL_RULE_GROUPS)).items
      .map((g) => `${g.metadata.name}@${g.metadata.resourceVersion}`)
      .sort();
    expect(groupsAfter).toEqual(groupsBefore);
    const user = (await prometheusRules()).find((r) => r.metadata.name === USER_RULE);
    expect(user?.metadata.resourceVersion).toBe(userRuleVersion);
  });

  it("a group or a rule disabled the way KubeSphere's console does it stays disabled after the next run", async () => {
    const path = `${GLOBAL_RULE_GROUPS}/kubernetes-apps`;
    const live = await admin.get<GlobalRuleGroup>(path);
    live.metadata.labels = { ...live.metadata.labels, 'alerting.kubesphere.io/enable': 'false' };
    live.spec.rules.find((r) => r.alert === 'KubePodNotReady')!.disable = true;
    await admin.request('PUT', path, { body: live });

    await op.runAfter(() => mergePatch(admin, ccPath(ns), { status: { monitoring: null } }));
    const after = await admin.get<GlobalRuleGroup>(path);
    expect(after.metadata.labels?.['alerting.kubesphere.io/enable']).toBe('false');
    expect(after.spec.rules.filter((r) => r.disable).map((r) => r.alert)).toEqual(['KubePodNotReady']);
    expect(after.spec.rules).toHaveLength(15);
  });
});
