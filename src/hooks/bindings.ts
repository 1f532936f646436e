/**
 * Hook binding configurations in shell-operator's format: what a hook prints on `--config`, and
 * what the built-in binding files (hooks/install.config.yaml, hooks/resync.config.yaml) contain.
 * Both `configVersion: v1` and the older v0 form (`onKubernetesEvent`, `schedule`, `onStartup`)
 * are read and normalised into one shape. Errors name the file and the field.
 *
 * There is no jq here: a `jqFilter` must be a plain dotted path such as `.spec` or `.spec.monitoring`.
 */
import yaml from 'js-yaml';
import { nextRun, parseCron } from './cron.js';

export type WatchEvent = 'Added' | 'Modified' | 'Deleted';
const WATCH_EVENTS: readonly WatchEvent[] = ['Added', 'Modified', 'Deleted'];

interface NameSelector {
  matchNames: string[];
}

/** A `kubernetes` binding (v1), or a v0 `onKubernetesEvent` binding normalised to the v1 shape. */
export interface KubernetesBinding {
  name: string;
  apiVersion?: string;
  kind: string;
  executeHookOnEvent: WatchEvent[];
  executeHookOnSynchronization: boolean;
  nameSelector?: NameSelector;
  namespace?: { nameSelector: NameSelector };
  /** A plain dotted path; Modified events fire only when the selected value changes. */
  jqFilter?: string;
  allowFailure: boolean;
}

interface ScheduleBinding {
  name: string;
  crontab: string;
  allowFailure: boolean;
}

export interface HookConfig {
  configVersion: 'v0' | 'v1';
  /** onStartup order: hooks with it run once when the operator starts, lowest first. */
  onStartup?: number;
  kubernetes: KubernetesBinding[];
  schedule: ScheduleBinding[];
  /** Our extension: run after each successful install run. */
  afterInstall: boolean;
}

export class BindingConfigError extends Error {
  constructor(
    readonly file: string,
    readonly field: string,
    readonly reason: string,
  ) {
    super(`${file}: ${field}: ${reason}`);
    this.name = 'BindingConfigError';
  }
}

type Obj = Record<string, unknown>;

/** Reads typed fields of one object, naming `<file>: <path>.<key>` in every error. */
class FieldReader {
  constructor(
    readonly file: string,
    readonly path: string,
    readonly obj: Obj,
  ) {}

  static of(file: string, path: string, value: unknown): FieldReader {
    if (value === null || typeof value !== 'object' || Array.isArray(value)) {
      throw new BindingConfigError(file, path || '(document)', `must be a mapping, got ${describe(value)}`);
    }
    return new FieldReader(file, path, value as Obj);
  }

  field(key: string): string {
    return this.path === '' ? key : `${this.path}.${key}`;
  }

  error(key: string, reason: string): BindingConfigError {
    return new BindingConfigError(this.file, this.field(key), reason);
  }

  fail(key: string, reason: string): never {
    throw this.error(key, reason);
  }

  /** Rejects unknown keys; `unsupported` keys get their own explanation, `ignored` keys are accepted. */
  checkKeys(
    known: readonly string[],
    unsupported: Record<string, string> = {},
    ignored: readonly string[] = [],
  ): void {
    for (const key of Object.keys(this.obj)) {
      if (key in unsupported) this.fail(key, `not supported: ${unsupported[key]}`);
      if (!known.includes(key) && !ignored.includes(key)) {
        this.fail(key, `unknown field (known: ${known.join(', ')})`);
      }
    }
  }

  has(key: string): boolean {
    return this.obj[key] !== undefined && this.obj[key] !== null;
  }

  string(key: string): string | undefined {
    const v = this.obj[key];
    if (v === undefined || v === null) return undefined;
    if (typeof v !== 'string' || v === '') this.fail(key, `must be a non-empty string, got ${describe(v)}`);
    return v;
  }

  requiredString(key: string): string {
    const v = this.string(key);
    if (v === undefined) this.fail(key, 'is required');
    return v;
  }

  boolean(key: string, fallback: boolean): boolean {
    const v = this.obj[key];
    if (v === undefined || v === null) return fallback;
    if (typeof v !== 'boolean') this.fail(key, `must be true or false, got ${describe(v)}`);
    return v;
  }

  number(key: string): number | undefined {
    const v = this.obj[key];
    if (v === undefined || v === null) return undefined;
    if (typeof v !== 'number' || !Number.isFinite(v)) this.fail(key, `must be a number, got ${describe(v)}`);
    return v;
  }

  stringList(key: string): string[] | undefined {
    const v = this.obj[key];
    if (v === undefined || v === null) return undefined;
    if (!Array.isArray(v)) this.fail(key, `must be a list of strings, got ${describe(v)}`);
    return (v as unknown[]).map((item, i) => {
      if (typeof item !== 'string' || item === '')
        this.fail(`${key}[${i}]`, `must be a non-empty string, got ${describe(item)}`);
      return item;
    });
  }

  list(key: string): FieldReader[] {
    const v = this.obj[key];
    if (v === undefined || v === null) return [];
    if (!Array.isArray(v)) this.fail(key, `must be a list, got ${describe(v)}`);
    return (v as unknown[]).map((item, i) => FieldReader.of(this.file, `${this.field(key)}[${i}]`, item));
  }

  child(key: string): FieldReader | undefined {
    return this.has(key) ? FieldReader.of(this.file, this.field(key), this.obj[key]) : undefined;
  }
}

function describe(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'a list';
  if (typeof value === 'object') return 'a mapping';
  return `${typeof value} ${JSON.stringify(value)}`;
}

const PLAIN_PATH = /^\.(?:[A-Za-z_][A-Za-z0-9_]*(?:\.[A-Za-z_][A-Za-z0-9_]*)*)?$/;

/** True for the jq filters this project evaluates: `.` or a dotted path of plain keys (`.spec.monitoring`). */
export function isPlainJqPath(filter: string): boolean {
  return PLAIN_PATH.test(filter.trim());
}

/**
 * Evaluates a plain dotted jq path. Like jq, a missing key (or indexing null) gives null; indexing
 * anything that is not a mapping also gives null here instead of a jq error.
 */
export function selectByJqPath(obj: unknown, path: string): unknown {
  const trimmed = path.trim();
  if (!isPlainJqPath(trimmed)) throw new Error(`"${path}" is not a plain dotted path such as ".spec"`);
  let node: unknown = obj;
  for (const key of trimmed.split('.').filter(Boolean)) {
    if (node === null || typeof node !== 'object' || Array.isArray(node)) return null;
    node = (node as Obj)[key];
    if (node === undefined) return null;
  }
  return node === undefined ? null : node;
}

function jqFilter(r: FieldReader): string | undefined {
  const filter = r.string('jqFilter');
  if (filter !== undefined && !isPlainJqPath(filter)) {
    r.fail(
      'jqFilter',
      `only a plain dotted path such as ".spec" is supported, got ${JSON.stringify(filter)}`,
    );
  }
  return filter?.trim();
}

function crontab(r: FieldReader): string {
  const expr = r.requiredString('crontab');
  try {
    nextRun(parseCron(expr), new Date(0));
  } catch (err) {
    r.fail('crontab', (err as Error).message);
  }
  return expr;
}

const UNSUPPORTED_SELECTORS: Record<string, string> = {
  labelSelector: 'the only watched object is selected by name',
  fieldSelector: 'the only watched object is selected by name',
  includeSnapshotsFrom: 'snapshots are not kept',
};
const IGNORED_BINDING_KEYS = ['queue', 'group'];

function scheduleBindingV1(r: FieldReader): ScheduleBinding {
  r.checkKeys(['name', 'crontab', 'allowFailure'], UNSUPPORTED_SELECTORS, IGNORED_BINDING_KEYS);
  const tab = crontab(r);
  return { name: r.string('name') ?? tab, crontab: tab, allowFailure: r.boolean('allowFailure', false) };
}

function nameSelector(r: FieldReader, key: string): NameSelector | undefined {
  const sel = r.child(key);
  if (!sel) return undefined;
  sel.checkKeys(['matchNames']);
  const matchNames = sel.stringList('matchNames');
  if (!matchNames || matchNames.length === 0) throw sel.error('matchNames', 'must list at least one name');
  return { matchNames };
}

function kubernetesBindingV1(r: FieldReader): KubernetesBinding {
  r.checkKeys(
    [
      'name',
      'apiVersion',
      'kind',
      'executeHookOnEvent',
      'executeHookOnSynchronization',
      'nameSelector',
      'namespace',
      'jqFilter',
      'allowFailure',
    ],
    UNSUPPORTED_SELECTORS,
    [...IGNORED_BINDING_KEYS, 'waitForSynchronization', 'keepFullObjectsInMemory'],
  );
  const kind = r.requiredString('kind');
  const events = r.stringList('executeHookOnEvent') ?? [...WATCH_EVENTS];
  events.forEach((e, i) => {
    if (!(WATCH_EVENTS as readonly string[]).includes(e)) {
      r.fail(
        `executeHookOnEvent[${i}]`,
        `must be one of ${WATCH_EVENTS.join(', ')}, got ${JSON.stringify(e)}`,
      );
    }
  });
  const binding: KubernetesBinding = {
    name: r.string('name') ?? kind,
    kind,
    executeHookOnEvent: events as WatchEvent[],
    executeHookOnSynchronization: r.boolean('executeHookOnSynchronization', true),
    allowFailure: r.boolean('allowFailure', false),
  };
  const apiVersion = r.string('apiVersion');
  if (apiVersion !== undefined) binding.apiVersion = apiVersion;
  const names = nameSelector(r, 'nameSelector');
  if (names) binding.nameSelector = names;
  const ns = r.child('namespace');
  if (ns) {
    ns.checkKeys(['nameSelector'], { labelSelector: 'select the namespace by name' });
    const nsNames = nameSelector(ns, 'nameSelector');
    if (!nsNames) throw ns.error('nameSelector', 'is required');
    binding.namespace = { nameSelector: nsNames };
  }
  const filter = jqFilter(r);
  if (filter !== undefined) binding.jqFilter = filter;
  return binding;
}

const V0_EVENTS: Record<string, WatchEvent> = { add: 'Added', update: 'Modified', delete: 'Deleted' };

function kubernetesBindingV0(r: FieldReader): KubernetesBinding {
  r.checkKeys(['name', 'kind', 'event', 'objectName', 'namespaceSelector', 'jqFilter', 'allowFailure'], {
    selector: 'the only watched object is selected by objectName',
  });
  const kind = r.requiredString('kind');
  const events = (r.stringList('event') ?? Object.keys(V0_EVENTS)).map((e, i) => {
    const mapped = V0_EVENTS[e];
    if (!mapped)
      r.fail(`event[${i}]`, `must be one of ${Object.keys(V0_EVENTS).join(', ')}, got ${JSON.stringify(e)}`);
    return mapped;
  });
  const binding: KubernetesBinding = {
    name: r.string('name') ?? kind,
    kind,
    executeHookOnEvent: events,
    executeHookOnSynchronization: true,
    allowFailure: r.boolean('allowFailure', false),
  };
  const objectName = r.string('objectName');
  if (objectName !== undefined) binding.nameSelector = { matchNames: [objectName] };
  const ns = r.child('namespaceSelector');
  if (ns) {
    ns.checkKeys(['matchNames', 'any']);
    const matchNames = ns.stringList('matchNames');
    const any = ns.boolean('any', false);
    if (matchNames && matchNames.length > 0 && !any) binding.namespace = { nameSelector: { matchNames } };
    else if (!any) ns.fail('matchNames', 'must list at least one namespace (or set any: true)');
  }
  const filter = jqFilter(r);
  if (filter !== undefined) binding.jqFilter = filter;
  return binding;
}

function scheduleBindingV0(r: FieldReader): ScheduleBinding {
  r.checkKeys(['name', 'crontab', 'allowFailure']);
  const tab = crontab(r);
  return { name: r.string('name') ?? tab, crontab: tab, allowFailure: r.boolean('allowFailure', false) };
}

const UNSUPPORTED_V1_TOP: Record<string, string> = {
  kubernetesValidating: 'admission webhooks are not served',
  kubernetesMutating: 'admission webhooks are not served',
  kubernetesCustomResourceConversion: 'conversion webhooks are not served',
};

/** Validates an already parsed binding configuration. */
function validateHookConfig(raw: unknown, file: string): HookConfig {
  const r = FieldReader.of(file, '', raw);
  const version = r.obj.configVersion;
  if (version !== undefined && version !== null) {
    if (version !== 'v1')
      r.fail('configVersion', `must be "v1" (or absent for v0), got ${describe(version)}`);
    r.checkKeys(
      ['configVersion', 'onStartup', 'kubernetes', 'schedule', 'afterInstall'],
      UNSUPPORTED_V1_TOP,
      ['settings'],
    );
    const config: HookConfig = {
      configVersion: 'v1',
      kubernetes: r.list('kubernetes').map(kubernetesBindingV1),
      schedule: r.list('schedule').map(scheduleBindingV1),
      afterInstall: r.boolean('afterInstall', false),
    };
    const onStartup = r.number('onStartup');
    if (onStartup !== undefined) config.onStartup = onStartup;
    return config;
  }
  if (r.has('kubernetes')) r.fail('kubernetes', 'needs configVersion: v1 (the v0 form is onKubernetesEvent)');
  r.checkKeys(['onStartup', 'onKubernetesEvent', 'schedule', 'afterInstall']);
  const config: HookConfig = {
    configVersion: 'v0',
    kubernetes: r.list('onKubernetesEvent').map(kubernetesBindingV0),
    schedule: r.list('schedule').map(scheduleBindingV0),
    afterInstall: r.boolean('afterInstall', false),
  };
  const onStartup = r.number('onStartup');
  if (onStartup !== undefined) config.onStartup = onStartup;
  return config;
}

/** Parses a binding configuration written as YAML or JSON. */
export function parseHookConfig(text: string, file: string): HookConfig {
  let raw: unknown;
  try {
    raw = yaml.load(text, { filename: file });
  } catch (err) {
    throw new BindingConfigError(file, '(document)', `not valid YAML or JSON: ${(err as Error).message}`);
  }
  if (raw === undefined || raw === null) throw new BindingConfigError(file, '(document)', 'is empty');
  return validateHookConfig(raw, file);
}
