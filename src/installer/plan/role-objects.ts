/**
 * What a role would apply: its generated CRDs (crds/<folder>/*.yaml, read as files, with the conversion
 * webhook of those its operator converts set from the values) and the objects its templates render
 * from the resolved values, then its groups of rules/ (rules/catalog.yaml, src/rules). `ks-installer run` applies exactly this list and
 * `ks-installer render` prints it, so the two never disagree.
 */
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import yaml from 'js-yaml';
import { ownershipLabels } from '../../config/ownership.js';
import type { MonitoringValues } from '../../config/values.js';
import type { KubeObject } from '../../kube/client.js';
import type { Renderer } from '../../render/renderer.js';
import { ruleObjects } from '../../rules/package.js';
import type { ManifestSource, Role } from '../model.js';
import { withConversionWebhook } from './crd-conversion.js';

const crdCache = new Map<string, ManifestSource[]>();

/**
 * The CustomResourceDefinitions of one crds/ folder, in file order (read once per process), copied flat
 * after parsing so that the cache keeps no rope of the file's text (see render/manifests.ts).
 */
export function loadCrds(crdsRoot: string, folder: string): ManifestSource[] {
  const key = path.join(crdsRoot, folder);
  const cached = crdCache.get(key);
  if (cached) return cached;
  const files = readdirSync(key)
    .filter((f) => f.endsWith('.yaml'))
    .sort();
  const result = files.flatMap((f) =>
    (structuredClone(yaml.loadAll(readFileSync(path.join(key, f), 'utf8'))) as KubeObject[])
      .filter((o) => o && typeof o === 'object')
      .map((object) => ({ source: `crds/${folder}/${f}`, object })),
  );
  crdCache.set(key, result);
  return result;
}

/**
 * An object as we apply it: with the labels every object we apply carries (src/config/ownership.ts),
 * stamped here rather than typed in templates. The managed-by label lets a run read the live objects
 * with one labelled list per kind (and learn CRDs are Established from one labelled watch); the role
 * label finds the objects of a role that was turned off (lifecycle/remove-turned-off.ts).
 */
function stamped(role: string, m: ManifestSource): ManifestSource {
  const { metadata } = m.object;
  return {
    ...m,
    object: {
      ...m.object,
      metadata: { ...metadata, labels: { ...metadata.labels, ...ownershipLabels(role) } },
    },
  };
}

/** Every object a role applies: CRDs first, then its templates', then its rule groups (recording, then alerts); each stamped with our labels. */
export function roleManifests(
  role: Role,
  values: MonitoringValues,
  renderer: Renderer,
  crdsRoot: string,
): ManifestSource[] {
  const loaded = role.crds.flatMap((folder) => loadCrds(crdsRoot, folder));
  const crds = role.conversionWebhook
    ? withConversionWebhook(loaded, role.conversionWebhook, values)
    : loaded;
  const rendered = (role.templates === undefined ? [] : renderer.renderFolder(role.templates, values)).map(
    (r) => ({ source: `templates/${r.template}`, object: r.object as unknown as KubeObject }),
  );
  return [...crds, ...rendered, ...ruleObjects(role.name, values)].map((m) => stamped(role.name, m));
}
