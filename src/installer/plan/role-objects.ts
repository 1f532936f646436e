/**
 * What a role would apply: its generated CRDs (crds/<folder>/*.yaml, read as files, with the conversion
 * webhook of those its operator converts set from the values) and the objects its templates render
 * from the resolved values. `ks-installer run` applies exactly this list and
 * `ks-installer render` prints it, so the two never disagree.
 */
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import yaml from 'js-yaml';
import { builtinAlertObjects } from '../../alerts/builtin.js';
import type { MonitoringValues } from '../../config/values.js';
import type { KubeObject } from '../../kube/client.js';
import { MANAGED_BY_LABEL, MANAGED_BY_VALUE } from '../../kube/live-objects.js';
import type { Renderer } from '../../render/renderer.js';
import type { ManifestSource, Role } from '../model.js';
import { withConversionWebhook } from './crd-conversion.js';

const crdCache = new Map<string, ManifestSource[]>();

/** The CustomResourceDefinitions of one crds/ folder, in file order (read once per process). */
export function loadCrds(crdsRoot: string, folder: string): ManifestSource[] {
  const key = path.join(crdsRoot, folder);
  const cached = crdCache.get(key);
  if (cached) return cached;
  const files = readdirSync(key)
    .filter((f) => f.endsWith('.yaml'))
    .sort();
  const result = files.flatMap((f) =>
    (yaml.loadAll(readFileSync(path.join(key, f), 'utf8')) as KubeObject[])
      .filter((o) => o && typeof o === 'object')
      .map((object) => ({ source: `crds/${folder}/${f}`, object })),
  );
  crdCache.set(key, result);
  return result;
}

/**
 * A CRD as we apply it: with the label every object we apply carries, so that a run reads the live
 * ones with one labelled list and learns they are Established from one labelled watch.
 */
function withManagedByLabel(m: ManifestSource): ManifestSource {
  const { metadata } = m.object;
  return {
    ...m,
    object: {
      ...m.object,
      metadata: { ...metadata, labels: { ...metadata.labels, [MANAGED_BY_LABEL]: MANAGED_BY_VALUE } },
    },
  };
}

/** Every object a role applies, CRDs first, then its templates', then its built-in alert groups. */
export function roleManifests(
  role: Role,
  values: MonitoringValues,
  renderer: Renderer,
  crdsRoot: string,
): ManifestSource[] {
  const loaded = role.crds.flatMap((folder) => loadCrds(crdsRoot, folder)).map(withManagedByLabel);
  const crds = role.conversionWebhook
    ? withConversionWebhook(loaded, role.conversionWebhook, values)
    : loaded;
  const rendered = renderer
    .renderFolder(role.templates, values)
    .map((r) => ({ source: `templates/${r.template}`, object: r.object as unknown as KubeObject }));
  const alerts = builtinAlertObjects(role.name, values.alerts, values.namespace).map((a) => ({
    source: `alerts/${a.group}`,
    object: a.object,
  }));
  return [...crds, ...rendered, ...alerts];
}
