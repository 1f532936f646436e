/**
 * Ownership declared once and checked against what the roles render: every object a role applies
 * carries our managed-by label and its role's label (stamped, not typed in templates); a role that
 * can be turned off declares every kind and namespace it renders, in apply order; the kinds watched
 * for drift (watches.yaml `owns`) are rendered in the monitoring namespace and granted list and watch
 * by the chart.
 */
import { beforeAll, describe, expect, it } from '@jest/globals';
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { resolveValues } from '../../../src/config/resolve.js';
import { MANAGED_BY_LABEL, MANAGED_BY_VALUE, ROLE_LABEL } from '../../../src/config/ownership.js';
import { MONITORING_NAMESPACE } from '../../../src/config/values.js';
import { ROLES } from '../../../src/installer/catalog.js';
import { makePlan } from '../../../src/installer/plan/make-plan.js';
import { roleManifests } from '../../../src/installer/plan/role-objects.js';
import { projectRoot } from '../../../src/paths.js';
import type { KubeObject } from '../../../src/kube/client.js';
import { createRenderer } from '../../../src/render/renderer.js';
import { findObject as findChartObject, helmBinary, helmTemplate, rulesOf } from '../chart/helm.js';
import { ownedResources } from '../chart/access.js';
import { FIXED_FACTS, withMonitoring } from './golden.js';

const root = projectRoot();
const renderer = createRenderer(path.join(root, 'templates'));
const crdsRoot = path.join(root, 'crds');

const ETCD_ON = { etcd: { monitoring: true, endpointIps: '10.0.0.1,10.0.0.2', tlsEnable: true } };
const GLOBAL_RULE_GROUPS = {
  ...FIXED_FACTS,
  servedApiVersions: [...FIXED_FACTS.servedApiVersions, 'alerting.kubesphere.io/v2beta1'],
};

/** Each role's objects in every variant that changes which kinds it renders. */
function variants(): { role: string; objects: KubeObject[] }[] {
  const specs = [
    withMonitoring({}, ETCD_ON),
    withMonitoring({}, { etcd: { ...ETCD_ON.etcd, tlsEnable: false } }),
  ];
  const out: { role: string; objects: KubeObject[] }[] = [];
  for (const facts of [FIXED_FACTS, GLOBAL_RULE_GROUPS])
    for (const spec of specs) {
      const { values } = resolveValues(spec, facts);
      for (const role of ROLES)
        out.push({
          role: role.name,
          objects: roleManifests(role, values, renderer, crdsRoot).map((m) => m.object),
        });
    }
  return out;
}

const kindOf = (o: { apiVersion: string; kind: string; metadata?: { namespace?: string } }) =>
  `${o.apiVersion} ${o.kind} ${o.metadata?.namespace ?? '-'}`;

describe('ownership', () => {
  const rendered = variants();

  it('stamps our managed-by label and the role label on every object every role applies', () => {
    expect(rendered.flatMap((v) => v.objects).length).toBeGreaterThan(100);
    for (const { role, objects } of rendered)
      for (const o of objects) {
        expect([o.kind, o.metadata.name, o.metadata.labels?.[MANAGED_BY_LABEL]]).toEqual([
          o.kind,
          o.metadata.name,
          MANAGED_BY_VALUE,
        ]);
        expect([o.kind, o.metadata.name, o.metadata.labels?.[ROLE_LABEL]]).toEqual([
          o.kind,
          o.metadata.name,
          role,
        ]);
      }
  });

  it('templates do not type our managed-by label', () => {
    for (const folder of readdirSync(path.join(root, 'templates'))) {
      for (const file of renderer.listTemplates(folder)) {
        const text = readFileSync(path.join(root, 'templates', file), 'utf8');
        expect([file, /managed-by:\s*ks-installer/.test(text)]).toEqual([file, false]);
      }
    }
  });

  it('a role that can be turned off declares every kind and namespace it renders, in apply order', () => {
    const removable = ROLES.filter((r) => r.removal);
    expect(removable.map((r) => r.name)).toContain('etcd-monitor');
    for (const role of removable) {
      const declared = role.removal!.owns.map((k) => `${k.apiVersion} ${k.kind} ${k.namespace ?? '-'}`);
      const kept = (role.removal!.keeps ?? []).map((k) => `${k.apiVersion} ${k.kind}`);
      const seen = new Set<string>();
      for (const { objects } of rendered.filter((v) => v.role === role.name)) {
        expect(objects.length).toBeGreaterThan(0);
        const kinds = objects.filter((o) => !kept.includes(`${o.apiVersion} ${o.kind}`)).map(kindOf);
        for (const k of kinds) expect([role.name, k, declared.includes(k)]).toEqual([role.name, k, true]);
        // Apply order: the declared index never goes back along the rendered objects.
        const indexes = kinds.map((k) => declared.indexOf(k));
        expect(indexes).toEqual([...indexes].sort((a, b) => a - b));
        for (const k of kinds) seen.add(k);
      }
      // Nothing declared that no variant renders.
      expect(declared.filter((k) => !seen.has(k))).toEqual([]);
      for (const f of role.removal!.first ?? [])
        expect(declared.some((k) => k.startsWith(`${f.apiVersion} ${f.kind} `))).toBe(true);
    }
  });

  it('a role turned off is marked for removal in the plan; external monitoring removes nothing', async () => {
    const off = await makePlan(withMonitoring({}, { etcd: { monitoring: false } }), FIXED_FACTS, {
      renderer,
      crdsRoot,
      roles: ROLES,
      validate: false,
    });
    const etcd = off.roles.find((r) => r.role.name === 'etcd-monitor')!;
    expect([etcd.skip, etcd.remove]).toEqual(['etcd.monitoring is not true', true]);
    expect(off.roles.filter((r) => r.remove).map((r) => r.role.name)).toEqual([
      'metrics-server',
      'etcd-monitor',
      'alerting',
      'thanos',
      'sharded-rules',
      'gpu-monitoring',
      'istio-monitoring',
      'grafana',
    ]);
    const external = await makePlan(
      withMonitoring({}, { ...ETCD_ON, common: { monitoring: { type: 'external' } } }),
      FIXED_FACTS,
      { renderer, crdsRoot, roles: ROLES, validate: false },
    );
    // metrics-server, GPU and Istio monitoring are not part of the monitoring stack: they follow their
    // own switches there too; the dashboard CRDs are applied also with external monitoring.
    const ownSwitch = new Set(['metrics-server', 'gpu-monitoring', 'istio-monitoring']);
    const stack = external.roles.filter(
      (r) => !ownSwitch.has(r.role.name) && r.role.name !== 'monitoring-dashboard',
    );
    expect(stack.every((r) => r.skip && !r.remove)).toBe(true);
    expect(external.roles.find((r) => r.role.name === 'monitoring-dashboard')!.skip).toBeUndefined();
  });

  describe('watches.yaml owns (the kinds watched for drift)', () => {
    const owns = ownedResources();
    let clusterRules: ReturnType<typeof rulesOf> = [];
    beforeAll(async () => {
      const objects = await helmTemplate(await helmBinary());
      clusterRules = rulesOf(findChartObject(objects, 'ClusterRole')!);
    }, 20 * 60_000);

    it('are kinds the roles render in the monitoring namespace', () => {
      expect(owns.length).toBeGreaterThan(0);
      const inMonitoring = new Set(
        rendered
          .flatMap((v) => v.objects)
          .filter((o) => o.metadata.namespace === MONITORING_NAMESPACE)
          .map((o) => o.apiVersion + ' ' + o.kind),
      );
      for (const r of owns)
        expect([r.kind, inMonitoring.has(`${r.group ? `${r.group}/` : ''}${r.version} ${r.kind}`)]).toEqual([
          r.kind,
          true,
        ]);
    });

    it('are listed and watched with the chart’s ClusterRole', () => {
      for (const r of owns)
        for (const verb of ['list', 'watch'])
          expect([
            r.resource,
            verb,
            clusterRules.some(
              (rule) =>
                rule.apiGroups?.includes(r.group) &&
                rule.resources?.includes(r.resource) &&
                rule.verbs.includes(verb) &&
                !rule.resourceNames,
            ),
          ]).toEqual([r.resource, verb, true]);
    });
  });
});
