/**
 * The condition BuiltinAlerts a run sets, from its plan (which form, how many rules and objects), and
 * the console's toggles on live GlobalRuleGroups, which a run keeps.
 */
import { describe, expect, it } from '@jest/globals';
import path from 'node:path';
import { ALERTING_API_VERSION, globalRuleGroup, liveToggles, toggleKey } from '../../../src/rules/package.js';
import { loadRuleCatalog } from '../../../src/rules/load.js';
import { builtinAlertsState } from '../../../src/installer/steps/switch-builtin-alerts.js';
import { projectRoot } from '../../../src/paths.js';
import { ROLES } from '../../../src/installer/catalog.js';
import { makePlan } from '../../../src/installer/plan/make-plan.js';
import { createRenderer } from '../../../src/render/renderer.js';
import { FIXED_FACTS, sampleSpec } from '../roles/golden.js';

const root = projectRoot();
const plan = (spec: Record<string, unknown>, served: string[] = []) =>
  makePlan(
    spec,
    { ...FIXED_FACTS, servedApiVersions: [...FIXED_FACTS.servedApiVersions, ...served] },
    {
      renderer: createRenderer(path.join(root, 'templates')),
      crdsRoot: path.join(root, 'crds'),
      roles: ROLES,
    },
  );

describe('condition BuiltinAlerts', () => {
  it('PrometheusRules without the alerting API (sample: etcd monitoring and alerting off, 19 groups)', async () => {
    expect(builtinAlertsState(await plan(sampleSpec()))).toEqual({
      status: 'True',
      reason: 'PrometheusRules',
      message:
        '116 alerting rules in 19 PrometheusRules builtin-alerts-* in kubesphere-monitoring-system, evaluated by Prometheus k8s: alerting.kubesphere.io/v2beta1 is not served',
    });
  });

  it('GlobalRuleGroups where it is served (etcd monitoring and alerting on: all 21 groups)', async () => {
    const spec = {
      ...sampleSpec(),
      etcd: { monitoring: true, endpointIps: '10.0.0.1', port: 2379 },
      alerting: { enabled: true },
    };
    expect(builtinAlertsState(await plan(spec, [ALERTING_API_VERSION]))).toEqual({
      status: 'True',
      reason: 'GlobalRuleGroups',
      message:
        '140 alerting rules in 21 GlobalRuleGroups: alerting.kubesphere.io/v2beta1 is served, KubeSphere evaluates them',
    });
  });

  it('False with external monitoring: nothing installed', async () => {
    const spec = { ...sampleSpec(), common: { monitoring: { type: 'external' } } };
    expect(builtinAlertsState(await plan(spec))).toMatchObject({ status: 'False', reason: 'NotInstalled' });
  });
});

describe('the console toggles on a live GlobalRuleGroup', () => {
  const group = loadRuleCatalog().alerts.find((g) => g.group === 'kubernetes-apps')!.spec;
  const vars = { MONITORING_NAMESPACE: 'kubesphere-monitoring-system' };
  type Rules = { spec: { rules: { alert: string; disable?: boolean }[] } };

  it('are read from its enable label and the rules marked disable', () => {
    const live = globalRuleGroup(group, vars) as ReturnType<typeof globalRuleGroup> & Rules;
    live.metadata.labels!['alerting.kubesphere.io/enable'] = 'false';
    live.spec.rules[1]!.disable = true;
    expect(liveToggles(live)).toEqual({ enable: 'false', disabledRules: [toggleKey(group.rules[1]!)] });
    expect(liveToggles(globalRuleGroup(group, vars))).toEqual({ enable: 'true', disabledRules: [] });
  });

  it('are kept by the next apply, while the initial-configuration snapshot stays as shipped', () => {
    const kept = globalRuleGroup(group, vars, {
      enable: 'false',
      disabledRules: ['KubePodNotReady/warning/15m'],
    }) as ReturnType<typeof globalRuleGroup> & Rules;
    expect(kept.metadata.labels).toMatchObject({ 'alerting.kubesphere.io/enable': 'false' });
    expect(kept.spec.rules.filter((r) => r.disable).map((r) => r.alert)).toEqual(['KubePodNotReady']);
    const snapshot = JSON.parse(
      kept.metadata.annotations!['alerting.kubesphere.io/initial-configuration']!,
    ) as ReturnType<typeof globalRuleGroup> & Rules;
    expect(snapshot.metadata.labels).toMatchObject({ 'alerting.kubesphere.io/enable': 'true' });
    expect(snapshot.spec.rules.some((r) => r.disable)).toBe(false);
  });
});
