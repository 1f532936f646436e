/**
 * A value checked against a schema of one of the upstream CRDs we generate (crds/, README "Upstream
 * CRDs"), before it is printed into a custom resource: e.g. `monitoring.prometheus.remoteWrite` against
 * the Prometheus CRD's `spec.remoteWrite` (prometheus-operator v0.55's RemoteWriteSpec). The schema is
 * read from the generated file, never copied by hand, so it moves with the CRD we install.
 *
 * Stricter than the API server in one way: an unknown field is refused (the API server would prune it
 * silently, and a misspelt `queueConfig` would be lost without a word).
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import yaml from 'js-yaml';
import { projectRoot } from '../paths.js';
import { isMapping } from './spec-path.js';

/** The subset of OpenAPI v3 the generated CRDs use. */
export interface CrdSchema {
  type?: string;
  properties?: Record<string, CrdSchema>;
  additionalProperties?: CrdSchema | boolean;
  items?: CrdSchema;
  required?: string[];
  enum?: unknown[];
  pattern?: string;
  minLength?: number;
  minimum?: number;
  format?: string;
  'x-kubernetes-int-or-string'?: boolean;
  'x-kubernetes-preserve-unknown-fields'?: boolean;
}

/** One problem at `path` below the checked value (`[0].basicAuth.password.key`, `` for the value itself). */
export interface SchemaProblem {
  path: string;
  value: unknown;
  reason: string;
}

const loaded = new Map<string, CrdSchema>();

/**
 * The openAPIV3Schema node at `specPath` (dotted, below the custom resource's `spec`) of the served
 * version of the CRD in `crds/<file>`.
 */
export function crdSpecSchema(file: string, specPath: string): CrdSchema {
  const cacheKey = `${file}#${specPath}`;
  const cached = loaded.get(cacheKey);
  if (cached) return cached;
  const crd = yaml.load(readFileSync(path.join(projectRoot(), 'crds', file), 'utf8')) as {
    spec: { versions: { served: boolean; schema: { openAPIV3Schema: CrdSchema } }[] };
  };
  const version = crd.spec.versions.find((v) => v.served);
  let node: CrdSchema | undefined = version?.schema.openAPIV3Schema.properties?.spec;
  for (const key of specPath.split('.')) node = node?.properties?.[key];
  if (!node) throw new Error(`crds/${file} has no spec.${specPath}`);
  loaded.set(cacheKey, node);
  return node;
}

const INT32 = 2 ** 31 - 1;

function typeReason(schema: CrdSchema, value: unknown): string | undefined {
  if (schema['x-kubernetes-int-or-string'])
    return typeof value === 'string' || Number.isInteger(value) ? undefined : 'is not a number or a string';
  switch (schema.type) {
    case 'object':
      return isMapping(value) ? undefined : 'is not a mapping';
    case 'array':
      return Array.isArray(value) ? undefined : 'is not a list';
    case 'string':
      return typeof value === 'string' ? undefined : 'is not a string';
    case 'boolean':
      return typeof value === 'boolean' ? undefined : 'is not true or false';
    case 'integer':
      if (typeof value !== 'number' || !Number.isInteger(value)) return 'is not a whole number';
      return schema.format === 'int32' && Math.abs(value) > INT32 ? 'is out of range' : undefined;
    case 'number':
      return typeof value === 'number' ? undefined : 'is not a number';
    default:
      return undefined;
  }
}

function join(base: string, key: string | number): string {
  if (typeof key === 'number') return `${base}[${key}]`;
  return base === '' ? key : `${base}.${key}`;
}

/** Every problem of `value` against `schema`; empty when the API server would take it as it is. */
export function schemaProblems(schema: CrdSchema, value: unknown, at = ''): SchemaProblem[] {
  const why = typeReason(schema, value);
  if (why !== undefined) return [{ path: at, value, reason: why }];
  const problems: SchemaProblem[] = [];
  if (schema.enum && !schema.enum.includes(value))
    problems.push({
      path: at,
      value,
      reason: `is not one of ${schema.enum.map((e) => String(e)).join(', ')}`,
    });
  if (typeof value === 'string') {
    if (schema.minLength !== undefined && value.length < schema.minLength)
      problems.push({ path: at, value, reason: 'is empty' });
    if (schema.pattern !== undefined && !new RegExp(schema.pattern).test(value))
      problems.push({ path: at, value, reason: `does not match ${schema.pattern}` });
  }
  if (typeof value === 'number' && schema.minimum !== undefined && value < schema.minimum)
    problems.push({ path: at, value, reason: `is less than ${schema.minimum}` });
  if (Array.isArray(value) && schema.items) {
    const items = schema.items;
    value.forEach((item, i) => problems.push(...schemaProblems(items, item, join(at, i))));
  }
  if (isMapping(value)) {
    for (const key of schema.required ?? []) {
      if (value[key] === undefined || value[key] === null)
        problems.push({ path: join(at, key), value: undefined, reason: 'is missing (required)' });
    }
    for (const [key, item] of Object.entries(value)) {
      if (item === null) continue;
      const own = schema.properties?.[key];
      if (own) {
        problems.push(...schemaProblems(own, item, join(at, key)));
      } else if (typeof schema.additionalProperties === 'object') {
        problems.push(...schemaProblems(schema.additionalProperties, item, join(at, key)));
      } else if (
        schema.properties &&
        !schema['x-kubernetes-preserve-unknown-fields'] &&
        schema.additionalProperties !== true
      ) {
        problems.push({
          path: join(at, key),
          value: item,
          reason: `is not a field here (known: ${Object.keys(schema.properties).join(', ')})`,
        });
      }
    }
  }
  return problems;
}
