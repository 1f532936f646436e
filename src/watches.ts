/**
 * watches.yaml: the one object the operator watches, the selection of it whose change starts a run,
 * the drift-check schedule, and the roles a run applies, in order. Validated on load; an error names
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
  const known = new Set(['group', 'version', 'kind', 'namespace', 'name', 'jqFilter', 'resync', 'roles']);
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
  };
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
