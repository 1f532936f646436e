/**
 * Golden renders: a role rendered from fixed inputs must equal test/golden/<name>.yaml byte for byte.
 * After an intended template change, regenerate with `UPDATE_GOLDEN=1 npm run test:unit` and review
 * the diff like code.
 */
import { expect } from '@jest/globals';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import yaml from 'js-yaml';
import type { ClusterFacts } from '../../../src/config/facts.js';
import type { KubeObject } from '../../../src/kube/client.js';
import { resolveValues } from '../../../src/config/resolve.js';
import { projectRoot } from '../../../src/paths.js';
import { roleManifests } from '../../../src/installer/plan/role-objects.js';
import { ROLES } from '../../../src/installer/catalog.js';
import { createRenderer } from '../../../src/render/renderer.js';
import { findUnsafeOutputs } from '../../../tools/render-safety.js';
import { FIXED_FACTS } from '../../fixed-facts.js';

const root = projectRoot();
const renderer = createRenderer(path.join(root, 'templates'));

export { FIXED_FACTS };

/**
 * The role's rendered objects as one YAML stream: its templates' and its recording-rule PrometheusRules
 * (generated CRDs left out: crds:check guards those; the built-in alerts too: test/unit/rules checks them).
 */
export function renderRoleText(
  roleName: string,
  spec: Record<string, unknown>,
  facts: ClusterFacts = FIXED_FACTS,
  mapObject: (object: KubeObject) => KubeObject = (o) => o,
): string {
  const role = ROLES.find((r) => r.name === roleName);
  if (!role) throw new Error(`no role ${roleName}`);
  const { values } = resolveValues(spec, facts);
  return roleManifests(role, values, renderer, path.join(root, 'crds'))
    .filter((m) => m.source.startsWith('templates/') || m.source.startsWith('rules/recording/'))
    .map(
      (m) =>
        `# Source: ${m.source}\n${yaml.dump(mapObject(m.object), { noRefs: true, lineWidth: -1, sortKeys: false })}`,
    )
    .join('---\n');
}

export function expectGolden(name: string, text: string): void {
  const file = path.join(root, 'test', 'golden', `${name}.yaml`);
  if (process.env.UPDATE_GOLDEN === '1' || !existsSync(file)) {
    mkdirSync(path.dirname(file), { recursive: true });
    writeFileSync(file, text);
    if (process.env.UPDATE_GOLDEN !== '1')
      throw new Error(`wrote missing golden file ${file}; review it and run again`);
  }
  expect(text).toBe(readFileSync(file, 'utf8'));
}

/** The spec of examples/cluster-configuration.yaml (a fresh copy each call). */
export function sampleSpec(): Record<string, unknown> {
  const cc = yaml.load(readFileSync(path.join(root, 'examples', 'cluster-configuration.yaml'), 'utf8')) as {
    spec: Record<string, unknown>;
  };
  return cc.spec;
}

/** The sample spec with keys of `monitoring` (and top-level keys) replaced. */
export function withMonitoring(
  monitoring: Record<string, unknown>,
  top: Record<string, unknown> = {},
): Record<string, unknown> {
  const spec = { ...sampleSpec(), ...top };
  spec.monitoring = { ...(spec.monitoring as Record<string, unknown>), ...monitoring };
  return spec;
}

/** A role's rendered objects, parsed; facts default to FIXED_FACTS, overridden key by key. */
export function renderRole(
  roleName: string,
  spec: Record<string, unknown> = sampleSpec(),
  facts: Partial<ClusterFacts> = {},
): KubeObject[] {
  return yaml.loadAll(renderRoleText(roleName, spec, { ...FIXED_FACTS, ...facts })) as KubeObject[];
}

export function findObject<T>(objects: KubeObject[], kind: string, name: string): T {
  const found = objects.find((o) => o.kind === kind && o.metadata.name === name);
  if (!found)
    throw new Error(
      `no ${kind} ${name} among ${objects.map((o) => `${o.kind}/${o.metadata.name}`).join(', ')}`,
    );
  return found as unknown as T;
}

interface PodTemplateOwner {
  spec?: { template: { spec?: { containers: { name: string }[] } } };
}

/** A container of a Deployment or DaemonSet by name. */
export function containerOf<C extends { name: string }>(workload: PodTemplateOwner, name: string): C {
  const found = workload.spec?.template.spec?.containers.find((c) => c.name === name);
  if (!found) throw new Error(`no container ${name}`);
  return found as C;
}

/** Each template file of a role folder with its `{{ }}` outputs that are not safely serialized. */
export function unsafeOutputsOf(folder: string): { template: string; unsafe: string[] }[] {
  return renderer.listTemplates(folder).map((template) => ({
    template,
    unsafe: findUnsafeOutputs(readFileSync(path.join(root, 'templates', template), 'utf8')),
  }));
}

/** `apiVersion Kind namespace/name` (`-` for cluster-scoped) of each object, in order. */
export function objectIds(objects: KubeObject[]): string[] {
  return objects.map((o) => `${o.apiVersion} ${o.kind} ${o.metadata.namespace ?? '-'}/${o.metadata.name}`);
}
