/**
 * Turns a rendered template (a multi-document YAML stream) into Kubernetes objects: YAML 1.2 core
 * schema (a bare `=` is the string "=", dates stay strings, duplicate keys are an error), empty
 * documents dropped, `kind: List` (and any `*List` with items, e.g. ConfigMapList) expanded, and
 * every object checked for apiVersion, kind and metadata.name.
 */
import yaml from 'js-yaml';
import { RenderError } from './errors.js';

export interface ManifestObject {
  apiVersion: string;
  kind: string;
  metadata: { name: string; namespace?: string; [key: string]: unknown };
  [key: string]: unknown;
}

function isMapping(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function nonEmptyString(value: unknown): value is string {
  return typeof value === 'string' && value.length > 0;
}

function isListKind(doc: Record<string, unknown>): boolean {
  return typeof doc.kind === 'string' && /List$/.test(doc.kind) && Array.isArray(doc.items);
}

function checkObject(template: string, where: string, value: unknown): ManifestObject {
  if (!isMapping(value)) {
    throw new RenderError(template, 'object', `${where} is not a mapping but ${JSON.stringify(value)}`);
  }
  const missing: string[] = [];
  if (!nonEmptyString(value.apiVersion)) missing.push('apiVersion');
  if (!nonEmptyString(value.kind)) missing.push('kind');
  if (!isMapping(value.metadata) || !nonEmptyString(value.metadata.name)) missing.push('metadata.name');
  if (missing.length > 0) {
    const kind = nonEmptyString(value.kind) ? ` (kind ${value.kind})` : '';
    throw new RenderError(template, 'object', `${where}${kind} has no ${missing.join(', ')}`);
  }
  return value as ManifestObject;
}

/**
 * The documents of a rendered template. js-yaml builds each scalar by concatenating slices of the text
 * (one per escape or line), so a parsed string is a rope that keeps the whole rendered text and a node per
 * piece alive for as long as the object lives (the last plan is kept between runs): 23 Grafana dashboards,
 * 0.87 MB of JSON written as YAML strings, held 10 MiB of heap that way. A structured clone copies every
 * string flat and lets the text go.
 */
function loadDocuments(text: string, template: string): unknown[] {
  try {
    return structuredClone(yaml.loadAll(text, null, { schema: yaml.CORE_SCHEMA, filename: template }));
  } catch (error) {
    if (error instanceof yaml.YAMLException) {
      const line = error.mark ? error.mark.line + 1 : undefined;
      const offending = line === undefined ? undefined : text.split(/\r?\n/)[line - 1];
      const shown = offending === undefined ? '' : `\n  ${line} | ${offending}`;
      throw new RenderError(template, 'yaml', `not valid YAML: ${error.reason}${shown}`, line);
    }
    throw error;
  }
}

export function parseManifests(text: string, template: string): ManifestObject[] {
  const objects: ManifestObject[] = [];
  loadDocuments(text, template).forEach((doc, docIndex) => {
    if (doc === null || doc === undefined) return;
    const where = `document ${docIndex + 1}`;
    if (isMapping(doc) && isListKind(doc)) {
      (doc.items as unknown[]).forEach((item, itemIndex) => {
        objects.push(checkObject(template, `${where}, ${String(doc.kind)} item ${itemIndex + 1}`, item));
      });
      return;
    }
    objects.push(checkObject(template, where, doc));
  });
  return objects;
}
