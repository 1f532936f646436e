/**
 * Our rule groups as Prometheus reads them: every PrometheusRule a run would apply, rendered through
 * the real plan (values, templates, validation), written out as one Prometheus rule file per object
 * in apply order. prometheus-operator turns each PrometheusRule into one rule file the same way.
 */
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import yaml from 'js-yaml';
import type { ClusterFacts } from '../../src/config/facts.js';
import { ROLES } from '../../src/installer/catalog.js';
import { makePlan } from '../../src/installer/plan/make-plan.js';
import { projectRoot } from '../../src/paths.js';
import { createRenderer } from '../../src/render/renderer.js';
import { FIXED_FACTS } from '../fixed-facts.js';

const root = projectRoot();

export interface RuleGroup {
  name: string;
  interval?: string;
  rules: {
    record?: string;
    alert?: string;
    expr: string;
    for?: string;
    labels?: Record<string, string>;
    annotations?: Record<string, string>;
  }[];
}

export interface RenderedRuleObject {
  kind: string;
  name: string;
  groups: RuleGroup[];
}

/**
 * The sample ClusterConfiguration's spec with etcd monitoring on (the fixture's etcd member) and the
 * alerting module on: every built-in group is installed.
 */
export function fixtureSpec(overrides: Record<string, unknown> = {}): Record<string, unknown> {
  const cc = yaml.load(readFileSync(path.join(root, 'examples', 'cluster-configuration.yaml'), 'utf8')) as {
    spec: Record<string, unknown>;
  };
  return {
    ...cc.spec,
    etcd: { monitoring: true, endpointIps: '192.168.0.11', port: 2379, tlsEnable: true },
    alerting: { enabled: true },
    ...overrides,
  };
}

/** A spec with Grafana on, whose role installs the dashboards' recording rules (prometheus-k8s-grafana-rules). */
export function withGrafana(spec: Record<string, unknown>): Record<string, unknown> {
  const monitoring = (spec.monitoring ?? {}) as Record<string, unknown>;
  return { ...spec, monitoring: { ...monitoring, grafana: { enabled: true } } };
}

/** The facts of the fixture's renders. */
export const FIXTURE_FACTS: ClusterFacts = FIXED_FACTS;

/** Every object of the plan that carries rule groups (PrometheusRule, and GlobalRuleGroup when served). */
export async function renderRuleObjects(
  spec: Record<string, unknown> = fixtureSpec(),
  facts: Partial<ClusterFacts> = {},
): Promise<RenderedRuleObject[]> {
  const plan = await makePlan(
    spec,
    { ...FIXTURE_FACTS, ...facts },
    {
      renderer: createRenderer(path.join(root, 'templates')),
      crdsRoot: path.join(root, 'crds'),
      roles: ROLES,
    },
  );
  const out: RenderedRuleObject[] = [];
  for (const role of plan.roles) {
    for (const m of role.manifests) {
      const o = m.object as { kind: string; metadata: { name: string }; spec?: { groups?: RuleGroup[] } };
      if (o.kind === 'PrometheusRule') {
        out.push({ kind: o.kind, name: o.metadata.name, groups: o.spec?.groups ?? [] });
      }
      if (o.kind === 'GlobalRuleGroup')
        out.push(globalRuleGroupAsRuleObject(m.object as unknown as GlobalRuleGroupLike));
    }
  }
  return out;
}

interface GlobalRuleGroupLike {
  kind: string;
  metadata: { name: string };
  spec: { rules: (RuleGroup['rules'][number] & { severity?: string })[] };
}

/** A GlobalRuleGroup as the one rule group it stands for: `severity`, a field of each rule, becomes a label. */
export function globalRuleGroupAsRuleObject(o: GlobalRuleGroupLike): RenderedRuleObject {
  const rules = o.spec.rules.map(({ severity, labels, ...rule }) => ({
    ...rule,
    labels: { ...labels, ...(severity ? { severity } : {}) },
  }));
  return { kind: o.kind, name: o.metadata.name, groups: [{ name: o.metadata.name, rules }] };
}

/** Writes one Prometheus rule file per object that has groups; returns their paths in order. */
export function writeRuleFiles(objects: RenderedRuleObject[], dir?: string): string[] {
  const target = dir ?? mkdtempSync(path.join(tmpdir(), 'ks-rules-'));
  return objects
    .filter((o) => o.groups.length > 0)
    .map((o, i) => {
      const file = path.join(target, `${String(i).padStart(2, '0')}-${o.name}.yaml`);
      writeFileSync(file, yaml.dump({ groups: o.groups }, { lineWidth: -1, noRefs: true }));
      return file;
    });
}
