/**
 * watches.yaml: the one object the operator watches, the selection of it whose change starts a run,
 * the drift-check schedule, the roles a run applies, in order, and the kinds of our objects watched
 * for drift (`owns`, as the Ansible operator's watchDependentResources). Validated on load; an error names
 * the file, the field and what is allowed.
 */
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import yaml from 'js-yaml';
import { API_VERSION, GROUP, KIND, VERSION, type ObjectKey } from './api/cluster-configuration.js';
import { isPlainJqPath } from './hooks/bindings.js';
import { parseCron } from './hooks/cron.js';
import { ROLES } from './installer/catalog.js';
import type { Role } from './installer/model.js';

const WATCHES_FILE = 'watches.yaml';

export interface Watch {
  target: ObjectKey;
  jqFilter: string;
  /** A crontab, as the schedule bindings of hooks write them. */
  resync: string;
  roles: Role[];
  /** Kinds of our objects in the monitoring namespace watched for drift (src/controller/drift.ts). */
  owns: OwnedResource[];
}

/** A kind the operator watches by its label: group ('' for core), version, kind and its plural resource. */
export interface OwnedResource {
  group: string;
  version: string;
  kind: string;
  resource: string;
}

/** The collection path prefix of a resource's group version: /api/v1 or /apis/<group>/<version>. */
export function resourceBase(r: Pick<OwnedResource, 'group' | 'version'>): string {
  return r.group ? `/apis/${r.group}/${r.version}` : `/api/${r.version}`;
}

class WatchesError extends Error {
  override readonly name = 'WatchesError';
  constructor(file: string, field: string, reason: string) {
    super(`${file}: ${field}: ${reason}`);
  }
}

const NAME = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;

/** Parses and checks the text of a watches file. */
export function parseWatches(text: string, file = WATCHES_FILE): Watch {
  const doc = yaml.load(text, { schema: yaml.CORE_SCHEMA }) as unknown;
  if (!Array.isArray(doc) || doc.length !== 1 || typeof doc[0] !== 'object' || doc[0] === null) {
    throw new WatchesError(
      file,
      '(top level)',
      'must be a list of exactly one watch (this operator serves one object)',
    );
  }
  const w = doc[0] as Record<string, unknown>;
  const known = new Set([
    'group',
    'version',
    'kind',
    'namespace',
    'name',
    'jqFilter',
    'resync',
    'roles',
    'owns',
  ]);
  for (const key of Object.keys(w)) {
    if (!known.has(key))
      throw new WatchesError(file, `[0].${key}`, `unknown key (known: ${[...known].join(', ')})`);
  }
  const expect = (field: string, value: string) => {
    if (w[field] !== value)
      throw new WatchesError(
        file,
        `[0].${field}`,
        `must be ${value} (${API_VERSION} ${KIND} is what this operator reconciles)`,
      );
  };
  expect('group', GROUP);
  expect('version', VERSION);
  expect('kind', KIND);
  for (const field of ['namespace', 'name']) {
    if (typeof w[field] !== 'string' || !NAME.test(w[field])) {
      throw new WatchesError(
        file,
        `[0].${field}`,
        `must be a lower-case DNS label, got ${JSON.stringify(w[field])}`,
      );
    }
  }
  const jqFilter = w.jqFilter ?? '.spec';
  if (typeof jqFilter !== 'string' || !isPlainJqPath(jqFilter)) {
    throw new WatchesError(
      file,
      '[0].jqFilter',
      `only a plain dotted path such as ".spec" is supported, got ${JSON.stringify(jqFilter)}`,
    );
  }
  const resync = w.resync;
  if (typeof resync !== 'string')
    throw new WatchesError(file, '[0].resync', 'must be a crontab such as "*/5 * * * *"');
  try {
    parseCron(resync);
  } catch (err) {
    throw new WatchesError(file, '[0].resync', (err as Error).message);
  }
  if (!Array.isArray(w.roles) || w.roles.length === 0) {
    throw new WatchesError(
      file,
      '[0].roles',
      `must list the roles to run, from: ${ROLES.map((r) => r.name).join(', ')}`,
    );
  }
  const roles = w.roles.map((name, i) => {
    const role = ROLES.find((r) => r.name === name);
    if (!role) {
      throw new WatchesError(
        file,
        `[0].roles[${i}]`,
        `unknown role ${JSON.stringify(name)} (known: ${ROLES.map((r) => r.name).join(', ')})`,
      );
    }
    return role;
  });
  const dup = roles.find((r, i) => roles.indexOf(r) !== i);
  if (dup) throw new WatchesError(file, '[0].roles', `role ${dup.name} is listed twice`);
  return {
    target: { namespace: w.namespace as string, name: w.name as string },
    jqFilter,
    resync,
    roles,
    owns: parseOwns(w.owns, file),
  };
}

const OWNED_KEYS = ['group', 'version', 'kind', 'resource'];
const KIND_NAME = /^[A-Z][A-Za-z0-9]*$/;
const LOWER = /^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$/;

/** `owns`: a list of {group (optional, core when absent), version, kind, resource}, none twice. */
function parseOwns(value: unknown, file: string): OwnedResource[] {
  if (value === undefined) return [];
  const example = '{group: apps, version: v1, kind: Deployment, resource: deployments}';
  if (!Array.isArray(value))
    throw new WatchesError(file, '[0].owns', `must be a list of kinds such as ${example}`);
  const owns = value.map((entry: unknown, i) => {
    const field = `[0].owns[${i}]`;
    if (typeof entry !== 'object' || entry === null || Array.isArray(entry))
      throw new WatchesError(file, field, `must be a mapping such as ${example}`);
    const e = entry as Record<string, unknown>;
    for (const key of Object.keys(e))
      if (!OWNED_KEYS.includes(key))
        throw new WatchesError(file, `${field}.${key}`, `unknown key (known: ${OWNED_KEYS.join(', ')})`);
    const group = e.group ?? '';
    const check = (name: string, v: unknown, re: RegExp, what: string) => {
      if (typeof v !== 'string' || !re.test(v))
        throw new WatchesError(file, `${field}.${name}`, `must be ${what}, got ${JSON.stringify(v)}`);
      return v;
    };
    const r: OwnedResource = {
      group: group === '' ? '' : check('group', group, LOWER, 'an API group such as apps'),
      version: check('version', e.version, /^v\d+((alpha|beta)\d+)?$/, 'an API version such as v1'),
      kind: check('kind', e.kind, KIND_NAME, 'a Kind such as Deployment'),
      resource: check('resource', e.resource, LOWER, 'the plural resource such as deployments'),
    };
    return r;
  });
  const seen = new Set<string>();
  for (const [i, r] of owns.entries()) {
    const key = `${r.group}/${r.kind}`;
    if (seen.has(key))
      throw new WatchesError(
        file,
        `[0].owns[${i}]`,
        `${r.kind} of group ${r.group || 'core'} is listed twice`,
      );
    seen.add(key);
  }
  return owns;
}

/** Reads `<root>/watches.yaml`. */
export async function loadWatches(root: string): Promise<Watch> {
  const file = path.join(root, WATCHES_FILE);
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (err) {
    throw new Error(`${file} cannot be read: ${(err as Error).message}`);
  }
  return parseWatches(text, file);
}
