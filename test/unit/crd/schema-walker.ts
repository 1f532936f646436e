/**
 * A small walker over CRD OpenAPI v3 schemas, enough to check our own CRD without an API server:
 * `structuralViolations` lists what would make the schema non-structural, `validate` checks a value
 * against the declared types (type, int-or-string, minimum/maximum, pattern, enum, required,
 * additionalProperties) and reports each error with its path, like the API server does.
 * `nullsKept` says which nulls the API server keeps (nullable) rather than drops.
 */

export interface Schema {
  type?: string;
  nullable?: boolean;
  description?: string;
  properties?: Record<string, Schema>;
  additionalProperties?: Schema | boolean;
  items?: Schema;
  required?: string[];
  enum?: unknown[];
  minimum?: number;
  maximum?: number;
  pattern?: string;
  format?: string;
  anyOf?: Schema[];
  allOf?: Schema[];
  oneOf?: Schema[];
  not?: Schema;
  $ref?: string;
  'x-kubernetes-preserve-unknown-fields'?: boolean;
  'x-kubernetes-int-or-string'?: boolean;
  'x-kubernetes-list-type'?: string;
  'x-kubernetes-list-map-keys'?: string[];
}

export interface Finding {
  path: string;
  message: string;
}

const TYPES = new Set(['object', 'array', 'string', 'integer', 'number', 'boolean']);

function child(path: string, key: string): string {
  return path === '' ? key : `${path}.${key}`;
}

function isIntOrStringAnyOf(branches: Schema[] | undefined): boolean {
  if (!branches || branches.length !== 2) return false;
  const types = branches.map((b) => (Object.keys(b).length === 1 ? b.type : undefined));
  return types[0] === 'integer' && types[1] === 'string';
}

/** Violations of the structural-schema rules of apiextensions.k8s.io/v1 (those our CRD could break). */
export function structuralViolations(schema: Schema, path = '', root = true): Finding[] {
  const out: Finding[] = [];
  const add = (message: string): void => {
    out.push({ path: path || '(root)', message });
  };
  const intOrString = schema['x-kubernetes-int-or-string'] === true;
  const preserve = schema['x-kubernetes-preserve-unknown-fields'] === true;

  if (schema.$ref !== undefined) add('$ref is not allowed');
  if (schema.type === undefined) {
    if (!intOrString && !preserve)
      add('type is required (or x-kubernetes-int-or-string / preserve-unknown-fields)');
  } else if (!TYPES.has(schema.type)) {
    add(`unknown type "${schema.type}"`);
  }
  if (intOrString && schema.type !== undefined) add('x-kubernetes-int-or-string must not declare a type');
  if (schema.anyOf !== undefined && !(intOrString && isIntOrStringAnyOf(schema.anyOf))) {
    add('anyOf is only used here for the int-or-string pattern [integer, string]');
  }
  if (schema.oneOf !== undefined || schema.allOf !== undefined || schema.not !== undefined) {
    add('oneOf/allOf/not are not used by this CRD');
  }
  if (schema.properties !== undefined && schema.additionalProperties !== undefined) {
    add('properties and additionalProperties are mutually exclusive');
  }
  if (schema.additionalProperties === false) add('additionalProperties: false is forbidden');
  if (schema.additionalProperties === true) add('additionalProperties: true is not structural');
  if ((schema.properties || schema.additionalProperties) && schema.type !== 'object') {
    add('properties/additionalProperties need type object');
  }
  if (schema.type === 'array' && schema.items === undefined) add('an array needs items');
  if (schema.items !== undefined && schema.type !== 'array') add('items needs type array');
  if (schema.pattern !== undefined) {
    try {
      new RegExp(schema.pattern);
    } catch (err) {
      add(`invalid pattern: ${(err as Error).message}`);
    }
  }
  for (const key of schema.required ?? []) {
    if (!schema.properties?.[key]) add(`required field "${key}" is not declared`);
  }
  if (schema['x-kubernetes-list-type'] === 'map') {
    const item = schema.items;
    for (const key of schema['x-kubernetes-list-map-keys'] ?? []) {
      if (!item?.required?.includes(key)) add(`list-map key "${key}" must be required in items`);
    }
  }

  if (root && schema.properties?.metadata) {
    const meta = schema.properties.metadata;
    const extra = Object.keys(meta.properties ?? {}).filter((k) => k !== 'name' && k !== 'generateName');
    if (extra.length > 0) add(`metadata may only constrain name/generateName, found ${extra.join(', ')}`);
  }

  for (const [key, sub] of Object.entries(schema.properties ?? {})) {
    out.push(...structuralViolations(sub, child(path, key), false));
  }
  if (typeof schema.additionalProperties === 'object') {
    out.push(...structuralViolations(schema.additionalProperties, `${path}[*]`, false));
  }
  if (schema.items) out.push(...structuralViolations(schema.items, `${path}[*]`, false));
  return out;
}

function typeOf(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'array';
  if (typeof value === 'number') return Number.isInteger(value) ? 'integer' : 'number';
  return typeof value;
}

function matchesType(declared: string, actual: string): boolean {
  return declared === actual || (declared === 'number' && actual === 'integer');
}

/** Errors of `value` against the declared types of `schema`; unknown fields are never errors here. */
export function validate(schema: Schema, value: unknown, path = ''): Finding[] {
  const out: Finding[] = [];
  const add = (message: string): void => {
    out.push({ path: path || '(root)', message });
  };
  const actual = typeOf(value);

  // The API server drops a null of a field that is not nullable (the key counts as unset), and keeps
  // it where nullable is true: neither is an error.
  if (value === null) return out;
  if (schema['x-kubernetes-int-or-string'] === true) {
    if (actual !== 'integer' && actual !== 'string') {
      add(`must be an integer or a string, got ${actual}`);
      return out;
    }
  } else if (schema.type !== undefined && !matchesType(schema.type, actual)) {
    add(`must be of type ${schema.type}, got ${actual}`);
    return out;
  }

  if (schema.enum !== undefined && !schema.enum.includes(value)) {
    add(`must be one of ${schema.enum.map((v) => JSON.stringify(v)).join(', ')}`);
  }
  if (typeof value === 'number') {
    if (schema.minimum !== undefined && value < schema.minimum) add(`must be >= ${schema.minimum}`);
    if (schema.maximum !== undefined && value > schema.maximum) add(`must be <= ${schema.maximum}`);
  }
  if (typeof value === 'string' && schema.pattern !== undefined && !new RegExp(schema.pattern).test(value)) {
    add(`must match ${schema.pattern}`);
  }

  if (actual === 'object') {
    const obj = value as Record<string, unknown>;
    for (const key of schema.required ?? []) {
      if (!(key in obj)) out.push({ path: child(path, key), message: 'is required' });
    }
    for (const [key, sub] of Object.entries(obj)) {
      const declared = schema.properties?.[key];
      if (declared) out.push(...validate(declared, sub, child(path, key)));
      else if (typeof schema.additionalProperties === 'object') {
        out.push(...validate(schema.additionalProperties, sub, child(path, key)));
      }
    }
  }
  if (actual === 'array' && schema.items) {
    (value as unknown[]).forEach((item, i) =>
      out.push(...validate(schema.items as Schema, item, `${path}[${i}]`)),
    );
  }
  return out;
}

/** Paths of the nulls in `value` that the API server keeps (nullable: true); other nulls it drops. */
export function nullsKept(schema: Schema | undefined, value: unknown, path = ''): string[] {
  if (value === null) return schema?.nullable === true ? [path] : [];
  if (schema === undefined || typeof value !== 'object') return [];
  if (Array.isArray(value)) return value.flatMap((item, i) => nullsKept(schema.items, item, `${path}[${i}]`));
  return Object.entries(value as Record<string, unknown>).flatMap(([key, sub]) => {
    const declared =
      schema.properties?.[key] ??
      (typeof schema.additionalProperties === 'object' ? schema.additionalProperties : undefined);
    // Unknown fields kept by x-kubernetes-preserve-unknown-fields keep their nulls too.
    if (declared === undefined) return sub === null ? [child(path, key)] : [];
    return nullsKept(declared, sub, child(path, key));
  });
}

/** Dotted paths of the leaves of `value` (scalars, empty objects/arrays) that the schema does not declare. */
export function undeclaredLeaves(schema: Schema | undefined, value: unknown, path = ''): string[] {
  if (schema === undefined) return [path];
  if (value !== null && typeof value === 'object' && !Array.isArray(value)) {
    if (typeof schema.additionalProperties === 'object') return [];
    return Object.entries(value as Record<string, unknown>).flatMap(([key, sub]) =>
      undeclaredLeaves(schema.properties?.[key], sub, child(path, key)),
    );
  }
  if (Array.isArray(value)) {
    return value.flatMap((item, i) => undeclaredLeaves(schema.items, item, `${path}[${i}]`));
  }
  return [];
}

/** The sub-schema at a dotted path, e.g. `status.conditions[*].status`. */
export function schemaAt(schema: Schema, path: string): Schema | undefined {
  let node: Schema | undefined = schema;
  for (const part of path.split('.').filter(Boolean)) {
    const [name, ...rest] = part.split('[*]');
    node = node?.properties?.[name as string];
    for (let i = 0; i < rest.length; i++) node = node?.items;
  }
  return node;
}
