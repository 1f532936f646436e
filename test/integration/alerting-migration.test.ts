/**
 * The alerting module on a real API server that serves KubeSphere core's alerting API (test-only
 * CRDs): the ThanosRuler and its objects are applied and status.alerting is set; the PrometheusRules of
 * the 3.1/3.2 ThanosRuler are relabelled; the custom rules of KubeSphere 3.1–3.3 become
 * ClusterRuleGroups and RuleGroups once, their sources marked, a rule that cannot be converted named
 * in a condition and an Event and left in place with its group; nothing is deleted. A second run
 * migrates nothing twice; the fixed rule migrates with its group on the next run.
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { ruleGroupName } from '../../src/alerts/migrate.js';
import type { ClusterConfiguration } from '../../src/api/cluster-configuration.js';
import { ApiError, type KubeClient, type KubeObject } from '../../src/kube/client.js';
import { createTestNamespace } from './cluster.js';
import {
  CLUSTER_RULE_GROUPS,
  GLOBAL_RULE_GROUPS,
  installAlertingCrds,
  MONITORING_COLLECTIONS,
  removeGlobalRuleGroupCrd,
  ruleGroups,
  waitListed,
} from './alerting-crd.js';
import {
  ccPath,
  clusterEvents,
  createClusterConfiguration,
  ensureMonitoringCrds,
  ensureMonitoringNamespace,
  mergePatch,
  MONITORING_NS,
  prepareOperatorTest,
  sampleClusterConfiguration,
  startOperatorFor,
  type Obj,
} from './fixtures.js';
import type { OperatorProcess } from './operator-process.js';

const rules = (ns: string) => `/apis/monitoring.coreos.com/v1/namespaces/${ns}/prometheusrules`;
const LEGACY_CLUSTER = 'custom-alerting-rule-ks-test-cl';
const LEGACY_NAMESPACE = 'custom-alerting-rule-ks-test-ns';
const LEGACY_THANOS = 'ks-test-thanos-alerting-rules';

/** A rule saved by the old console's form. */
function formRule(
  alert: string,
  metric: string,
  kind: string,
  names: string[],
  threshold: string,
  unit: string,
) {
  return {
    alert,
    expr: `${metric}{x="y"} > 1`,
    for: '1m',
    labels: { severity: 'critical', alerttype: 'metric', rule_id: 'x1' },
    annotations: {
      summary: alert,
      kind,
      resources: JSON.stringify(names),
      rules: JSON.stringify([
        { _metricType: `${metric}{$1}`, condition_type: '>', thresholds: threshold, unit },
      ]),
    },
  };
}

function legacyRule(name: string, namespace: string, labels: Record<string, string>, groups: unknown[]) {
  return {
    apiVersion: 'monitoring.coreos.com/v1',
    kind: 'PrometheusRule',
    metadata: { name, namespace, labels },
    spec: { groups },
  };
}

describe('alerting module: legacy rules', () => {
  let admin: KubeClient;
  let ns: string;
  let project: string;
  let op: OperatorProcess;

  const cc = () => admin.get<ClusterConfiguration>(ccPath(ns));
  const condition = async (type: string) => (await cc()).status?.conditions?.find((c) => c.type === type);
  const ignoreNotFound = (e: unknown) => {
    if (!(e instanceof ApiError && e.notFound)) throw e;
  };

  beforeAll(async () => {
    ({ admin, ns } = await prepareOperatorTest('alert-migrate'));
    project = await createTestNamespace(admin, 'alert-project');
    await installAlertingCrds(admin);
    await ensureMonitoringNamespace(admin);
    // The monitoring CRDs, so that the legacy PrometheusRules can exist before our first run.
    await ensureMonitoringCrds(admin);
    await waitListed(admin, [
      CLUSTER_RULE_GROUPS,
      ruleGroups(project),
      GLOBAL_RULE_GROUPS,
      ...MONITORING_COLLECTIONS,
    ]);
    const create = (o: { metadata: { namespace: string } }) =>
      admin.request('POST', rules(o.metadata.namespace), { body: o });
    await create(
      legacyRule(LEGACY_CLUSTER, MONITORING_NS, { 'custom-alerting-rule-level': 'cluster' }, [
        {
          name: 'node rules',
          rules: [formRule('node load high', 'node:load1:ratio', 'Node', ['node-a'], '3', '')],
        },
        {
          name: 'broken',
          rules: [
            formRule('bad unit', 'node:node_cpu_utilisation:avg1m', 'Node', ['node-a'], '80', 'furlongs'),
            formRule('waits with it', 'node:load5:ratio', 'Node', ['node-a'], '2', ''),
          ],
        },
      ]),
    );
    await create(
      legacyRule(LEGACY_NAMESPACE, project, { 'custom-alerting-rule-level': 'namespace' }, [
        {
          name: 'web',
          rules: [
            formRule(
              'web replicas down',
              'namespace:deployment_unavailable_replicas:ratio',
              'Deployment',
              ['web'],
              '50',
              '%',
            ),
            { alert: 'custom promql', expr: 'up{job="web"} == 0', labels: { severity: 'warning' } },
          ],
        },
      ]),
    );
    await create(
      legacyRule(LEGACY_THANOS, project, { thanosruler: 'thanos-ruler', role: 'thanos-alerting-rules' }, [
        { name: 'old', rules: [{ alert: 'Old', expr: 'vector(1)' }] },
      ]),
    );
    op = await startOperatorFor(ns);
  });

  afterAll(async () => {
    expect(await op?.stop()).toBe(0);
    await admin.request('DELETE', `${rules(MONITORING_NS)}/${LEGACY_CLUSTER}`).catch(ignoreNotFound);
    await removeGlobalRuleGroupCrd(admin);
  });

  it('applies the ruler, relabels the 3.1/3.2 rules and migrates the custom rules once', async () => {
    const sample = sampleClusterConfiguration(ns);
    sample.spec = { ...sample.spec, alerting: { enabled: true } };
    const run = await op.runAfter(() => createClusterConfiguration(admin, sample));
    expect(run.some((l) => l.includes('alerting: migrated custom rules of KubeSphere 3.1-3.3'))).toBe(true);

    const status = await cc();
    expect(status.status?.alerting).toEqual({ status: 'enabled', enabledTime: expect.stringMatching(/Z$/) });
    expect(await condition('Alerting')).toMatchObject({ status: 'True', reason: 'Enabled' });
    const ruler = await admin.get<Obj>(
      `/apis/monitoring.coreos.com/v1/namespaces/${MONITORING_NS}/thanosrulers/kubesphere`,
    );
    expect(ruler.spec.ruleSelector.matchExpressions[0].key).toBe('alerting.kubesphere.io/rule_level');

    // 3.1/3.2 labels replaced by the 3.3 ones.
    const relabelled = await admin.get<KubeObject>(`${rules(project)}/${LEGACY_THANOS}`);
    expect(relabelled.metadata.labels).toEqual({ 'thanos-ruler': 'kubesphere', role: 'alert-rules' });

    // Cluster level: the group that converts, as a ClusterRuleGroup with its node builder.
    const clusterGroups = (await admin.get<{ items: Obj[] }>(CLUSTER_RULE_GROUPS)).items;
    expect(clusterGroups.map((g) => g.metadata.name)).toEqual([ruleGroupName(LEGACY_CLUSTER, 'node rules')]);
    const [nodeGroup] = clusterGroups;
    expect(nodeGroup!.metadata.labels).toEqual({ 'alerting.kubesphere.io/enable': 'true' });
    expect(nodeGroup!.metadata.labels).not.toHaveProperty('app.kubernetes.io/managed-by');
    expect(nodeGroup!.spec.rules).toEqual([
      expect.objectContaining({
        alert: 'node load high',
        severity: 'critical',
        exprBuilder: {
          node: { names: ['node-a'], comparator: '>', metricThreshold: { cpu: { load1m: 3 } } },
        },
      }),
    ]);

    // Namespace level: one RuleGroup in the project with both rules.
    const projectGroups = (await admin.get<{ items: Obj[] }>(ruleGroups(project))).items;
    expect(projectGroups).toHaveLength(1);
    expect(projectGroups[0]!.metadata.name).toBe(`${LEGACY_NAMESPACE}-web`);
    expect(projectGroups[0]!.spec.rules.map((r: { alert: string }) => r.alert)).toEqual([
      'web replicas down',
      'custom promql',
    ]);
    expect(projectGroups[0]!.spec.rules[0].exprBuilder.workload).toEqual({
      kind: 'deployment',
      names: ['web'],
      comparator: '>',
      metricThreshold: { replica: { unavailableRatio: 0.5 } },
    });

    // Marked where every rule migrated; the one with a failing rule is left as it was; nothing deleted.
    const nsSource = await admin.get<KubeObject>(`${rules(project)}/${LEGACY_NAMESPACE}`);
    expect(nsSource.metadata.labels?.['migrated-to-alerting-v2beta1']).toBe('true');
    const clSource = await admin.get<KubeObject>(`${rules(MONITORING_NS)}/${LEGACY_CLUSTER}`);
    expect(clSource.metadata.labels).toEqual({ 'custom-alerting-rule-level': 'cluster' });

    const failed = await condition('AlertingRulesNotMigrated');
    expect(failed).toMatchObject({ status: 'True', reason: 'ConversionFailed' });
    expect(failed!.message).toContain('bad unit');
    expect(failed!.message).toContain('unit "furlongs"');
    const events = await clusterEvents(admin, ns, 'ks-installer');
    expect(events.filter((e) => e.reason === 'AlertingRulesNotMigrated').map((e) => e.message)).toEqual([
      expect.stringContaining('bad unit'),
    ]);
  });

  it('a second run migrates nothing twice and posts no second Event for the same failure', async () => {
    const versions = async () =>
      [
        ...(await admin.get<{ items: Obj[] }>(CLUSTER_RULE_GROUPS)).items,
        ...(await admin.get<{ items: Obj[] }>(ruleGroups(project))).items,
      ].map((g) => `${g.metadata.name}@${g.metadata.resourceVersion}`);
    const before = await versions();
    const enabledTime = (await cc()).status?.alerting?.enabledTime;
    const run = await op.runAfter(() =>
      mergePatch(admin, ccPath(ns), { spec: { alerting: { thanosruler: { replicas: 1 } } } }),
    );
    expect(run.some((l) => l.includes('alerting: migrated'))).toBe(false);
    expect(await versions()).toEqual(before);
    expect((await cc()).status?.alerting?.enabledTime).toBe(enabledTime);
    const ruler = await admin.get<Obj>(
      `/apis/monitoring.coreos.com/v1/namespaces/${MONITORING_NS}/thanosrulers/kubesphere`,
    );
    expect(ruler.spec.replicas).toBe(1);
    // The same failure again: no second Event.
    const events = await clusterEvents(admin, ns, 'ks-installer');
    expect(events.filter((e) => e.reason === 'AlertingRulesNotMigrated')).toHaveLength(1);
  });

  it('once the failing rule is fixed, its group migrates and its source is marked', async () => {
    const source = await admin.get<Obj>(`${rules(MONITORING_NS)}/${LEGACY_CLUSTER}`);
    const groups = source.spec.groups as { rules: { annotations: Record<string, string> }[] }[];
    const fixed = JSON.parse(groups[1]!.rules[0]!.annotations.rules!) as Record<string, string>[];
    fixed[0]!.unit = '%';
    groups[1]!.rules[0]!.annotations.rules = JSON.stringify(fixed);
    await admin.request('PUT', `${rules(MONITORING_NS)}/${LEGACY_CLUSTER}`, { body: source });
    await op.runAfter(() =>
      mergePatch(admin, ccPath(ns), { spec: { alerting: { thanosruler: { replicas: 2 } } } }),
    );
    const clusterGroups = (await admin.get<{ items: Obj[] }>(CLUSTER_RULE_GROUPS)).items;
    expect(clusterGroups).toHaveLength(2);
    const broken = clusterGroups.find((g) =>
      g.spec.rules.some((r: { alert: string }) => r.alert === 'bad unit'),
    )!;
    expect(broken.spec.rules[0].exprBuilder.node.metricThreshold).toEqual({ cpu: { utilization: 0.8 } });
    const marked = await admin.get<KubeObject>(`${rules(MONITORING_NS)}/${LEGACY_CLUSTER}`);
    expect(marked.metadata.labels?.['migrated-to-alerting-v2beta1']).toBe('true');
    expect(await condition('AlertingRulesNotMigrated')).toMatchObject({
      status: 'False',
      reason: 'Resolved',
    });
  });

  it('turned off: the Alerting condition says so and status.alerting goes', async () => {
    await op.runAfter(() => mergePatch(admin, ccPath(ns), { spec: { alerting: { enabled: false } } }));
    const status = await cc();
    expect(status.status?.alerting).toBeUndefined();
    expect(await condition('Alerting')).toMatchObject({ status: 'False', reason: 'Disabled' });
    // The migrated groups are the user's: they stay.
    expect((await admin.get<{ items: Obj[] }>(CLUSTER_RULE_GROUPS)).items).toHaveLength(2);
  });
});
