/**
 * An in-memory API server behind the project's KubeClient, for unit tests that drive the pipeline
 * without a control plane (a settled resync of the whole plan takes about 0.1 s). It answers what the operator sends, the way kube-apiserver does, in the spirit of
 * controller-runtime's fake client:
 * - server-side apply (`application/apply-patch+yaml`): creates on first apply (201), merges the
 *   applied fields, records per field manager which fields it owns (managedFields, FieldsV1), removes
 *   the fields a manager stopped applying when nobody else owns them, refuses (409) a field another
 *   manager owns with a different value unless `force=true`, which takes it over;
 * - DELETE of one object or a collection (label and field selectors);
 * - merge patches, JSON patches, PUT (with resourceVersion precondition, 409) and POST (409
 *   AlreadyExists, generateName) as Update operations owned by their field manager;
 * - resourceVersion moves on every stored change and only then; metadata.generation moves when
 *   anything but metadata (and status, where status is a subresource) changes, for kinds that have one;
 * - `dryRun=All` computes the answer and stores nothing;
 * - lists with labelSelector and fieldSelector, `limit`/`continue` and `remainingItemCount`, and
 *   metadata-only reads (PartialObjectMetadata[List]) through the Accept headers the code uses;
 * - discovery (aggregated and per group version), `/version`, a namespaced object in a missing
 *   namespace is 404, an unknown resource is 404;
 * - CRDs: their kinds are served once Established; they become Established at once (a status write of
 *   the "apiextensions controller", so a watch sees it), or only when the test says so (`establish`);
 * - watches (from a resourceVersion, or the current state as ADDED events), by label and field selector;
 * - a request log, for assertions on what was sent.
 * No network: every request is answered here (the kubeconfig's server is never dialled).
 */
import { KubeConfig } from '@kubernetes/client-node/dist/config.js';
import { randomUUID } from 'node:crypto';
import yaml from 'js-yaml';
import {
  ACCEPT_METADATA,
  ACCEPT_METADATA_LIST,
  ApiError,
  CONTENT_TYPE,
  KubeClient,
  type Impersonation,
  type KubeObject,
  type RequestOptions,
  type WatchEnd,
  type WatchEvent,
  type WatchOptions,
} from '../../src/kube/client.js';

type Json = null | boolean | number | string | Json[] | { [key: string]: Json };
type JsonObject = { [key: string]: Json };
/** A managedFields field set: `f:<field>`, `k:{...}` (an item of a list keyed by name), `.` (the item itself). */
export type FieldSet = { [key: string]: FieldSet };

export interface ManagedFieldsEntry {
  manager: string;
  operation: 'Apply' | 'Update';
  apiVersion: string;
  time: string;
  fieldsType: 'FieldsV1';
  fieldsV1: FieldSet;
}

/** One request as the fake answered it. */
export interface LoggedRequest {
  method: string;
  path: string;
  query: Record<string, string>;
  contentType?: string;
  accept?: string;
  /** The HTTP status answered (an error's too). */
  status: number;
  dryRun: boolean;
  /** True for a request that stores something: not a read, a watch or a dry run. */
  write: boolean;
  body?: unknown;
}

interface ResourceType {
  group: string;
  versions: string[];
  resource: string;
  kind: string;
  namespaced: boolean;
  /** Status is a subresource: the main resource's writes leave it alone, and it does not move generation. */
  statusSubresource: boolean;
  /** metadata.generation is kept. */
  generation: boolean;
  /** Served only once its CRD is Established (custom resources). */
  crd?: string;
}

const BUILTIN: Omit<ResourceType, 'statusSubresource'>[] = [
  ...(
    [
      ['namespaces', 'Namespace', false, false],
      ['nodes', 'Node', false, false],
      ['services', 'Service', true, false],
      ['serviceaccounts', 'ServiceAccount', true, false],
      ['endpoints', 'Endpoints', true, false],
      ['configmaps', 'ConfigMap', true, false],
      ['secrets', 'Secret', true, false],
      ['events', 'Event', true, false],
      ['pods', 'Pod', true, false],
      ['persistentvolumeclaims', 'PersistentVolumeClaim', true, false],
    ] as const
  ).map(([resource, kind, namespaced, generation]) => ({
    group: '',
    versions: ['v1'],
    resource,
    kind,
    namespaced,
    generation,
  })),
  ...(
    [
      ['apps', 'deployments', 'Deployment', true],
      ['apps', 'daemonsets', 'DaemonSet', true],
      ['apps', 'statefulsets', 'StatefulSet', true],
      ['apps', 'replicasets', 'ReplicaSet', true],
      ['policy', 'poddisruptionbudgets', 'PodDisruptionBudget', true],
      ['coordination.k8s.io', 'leases', 'Lease', false],
      ['events.k8s.io', 'events', 'Event', false],
    ] as const
  ).map(([group, resource, kind, generation]) => ({
    group,
    versions: ['v1'],
    resource,
    kind,
    namespaced: true,
    generation,
  })),
  ...(
    [
      ['rbac.authorization.k8s.io', 'clusterroles', 'ClusterRole', false],
      ['rbac.authorization.k8s.io', 'clusterrolebindings', 'ClusterRoleBinding', false],
      [
        'admissionregistration.k8s.io',
        'validatingwebhookconfigurations',
        'ValidatingWebhookConfiguration',
        true,
      ],
      ['admissionregistration.k8s.io', 'mutatingwebhookconfigurations', 'MutatingWebhookConfiguration', true],
      ['apiextensions.k8s.io', 'customresourcedefinitions', 'CustomResourceDefinition', true],
      ['storage.k8s.io', 'storageclasses', 'StorageClass', false],
    ] as const
  ).map(([group, resource, kind, generation]) => ({
    group,
    versions: ['v1'],
    resource,
    kind,
    namespaced: false,
    generation,
  })),
  ...(
    [
      ['roles', 'Role'],
      ['rolebindings', 'RoleBinding'],
    ] as const
  ).map(([resource, kind]) => ({
    group: 'rbac.authorization.k8s.io',
    versions: ['v1'],
    resource,
    kind,
    namespaced: true,
    generation: false,
  })),
];

const isObject = (v: unknown): v is JsonObject => typeof v === 'object' && v !== null && !Array.isArray(v);
const clone = <T>(v: T): T => structuredClone(v);
const now = () => new Date().toISOString().replace(/\.\d{3}Z$/, 'Z');

function status(code: number, reason: string, message: string): ApiError {
  return new ApiError(code, reason, message);
}

// ---------------------------------------------------------------------------------------------------
// Field sets

/** Lists whose items all carry a string `name` merge item by item (as `k:{"name":…}`); others are atomic. */
function keyedByName(list: Json[]): boolean {
  return list.length > 0 && list.every((x) => isObject(x) && typeof x['name'] === 'string');
}

const itemKey = (item: JsonObject) => `k:${JSON.stringify({ name: item['name'] })}`;

function fieldsOfValue(value: Json): FieldSet {
  if (isObject(value)) {
    const out: FieldSet = {};
    for (const [k, v] of Object.entries(value)) out[`f:${k}`] = fieldsOfValue(v);
    return out;
  }
  if (Array.isArray(value) && keyedByName(value)) {
    const out: FieldSet = {};
    for (const item of value as JsonObject[]) out[itemKey(item)] = { '.': {}, ...fieldsOfValue(item) };
    return out;
  }
  return {};
}

/** The fields an object sets, as a managedFields entry records them (identity and bookkeeping left out). */
export function fieldsOf(obj: JsonObject): FieldSet {
  const out: FieldSet = {};
  for (const [k, v] of Object.entries(obj)) {
    if (k === 'apiVersion' || k === 'kind') continue;
    if (k === 'metadata' && isObject(v)) {
      const meta: FieldSet = {};
      for (const m of ['labels', 'annotations', 'ownerReferences', 'finalizers'])
        if (v[m] !== undefined) meta[`f:${m}`] = fieldsOfValue(v[m]);
      if (Object.keys(meta).length) out['f:metadata'] = meta;
      continue;
    }
    out[`f:${k}`] = fieldsOfValue(v);
  }
  return out;
}

function union(a: FieldSet, b: FieldSet): FieldSet {
  const out: FieldSet = clone(a);
  for (const [k, v] of Object.entries(b)) out[k] = out[k] ? union(out[k], v) : clone(v);
  return out;
}

/** The leaves of `a` that `b` does not hold, with the paths to them. */
function subtract(a: FieldSet, b: FieldSet): FieldSet {
  const out: FieldSet = {};
  for (const [k, v] of Object.entries(a)) {
    if (!(k in b)) out[k] = clone(v);
    else if (Object.keys(v).length && Object.keys(b[k]!).length) {
      const rest = subtract(v, b[k]!);
      if (Object.keys(rest).length) out[k] = rest;
    }
  }
  return out;
}

/** The leaf paths of a field set (a leaf: a member with no members of its own). */
function leaves(set: FieldSet, prefix: string[] = []): string[][] {
  const out: string[][] = [];
  for (const [k, v] of Object.entries(set)) {
    if (k === '.') continue;
    const sub = Object.keys(v).filter((x) => x !== '.');
    if (sub.length === 0) out.push([...prefix, k]);
    else out.push(...leaves(v, [...prefix, k]));
  }
  return out;
}

function has(set: FieldSet, path: string[]): boolean {
  let at: FieldSet | undefined = set;
  for (const k of path) {
    at = at?.[k];
    if (!at) return false;
  }
  return true;
}

/** The value at a field path (undefined when absent). */
function valueAt(obj: Json, path: string[]): Json | undefined {
  let at: Json | undefined = obj;
  for (const k of path) {
    if (k.startsWith('f:')) at = isObject(at) ? at[k.slice(2)] : undefined;
    else if (k.startsWith('k:')) {
      const key = JSON.parse(k.slice(2)) as JsonObject;
      at = Array.isArray(at) ? at.find((x) => isObject(x) && x['name'] === key['name']) : undefined;
    } else return undefined;
    if (at === undefined) return undefined;
  }
  return at;
}

/** Removes the fields of `set` from `obj`, and containers left empty that `keep` does not hold. */
function removeFields(obj: JsonObject | Json[], set: FieldSet, keep: FieldSet | undefined): void {
  for (const [k, sub] of Object.entries(set)) {
    if (k === '.') continue;
    const keepSub = keep?.[k];
    if (k.startsWith('f:') && isObject(obj)) {
      const name = k.slice(2);
      const leaf = Object.keys(sub).length === 0;
      if (leaf) {
        if (!keepSub) delete obj[name];
        continue;
      }
      const child = obj[name];
      if (isObject(child) || Array.isArray(child)) {
        removeFields(child, sub, keepSub);
        const empty = Array.isArray(child) ? child.length === 0 : Object.keys(child).length === 0;
        if (empty && !keepSub) delete obj[name];
      }
    } else if (k.startsWith('k:') && Array.isArray(obj)) {
      const key = JSON.parse(k.slice(2)) as JsonObject;
      const i = obj.findIndex((x) => isObject(x) && x['name'] === key['name']);
      if (i < 0) continue;
      if ('.' in sub && !keepSub) obj.splice(i, 1);
      else removeFields(obj[i] as JsonObject, sub, keepSub);
    }
  }
}

/** Merges applied values into `target`: maps field by field, name-keyed lists item by item, the rest replaced. */
function merge(target: JsonObject, applied: JsonObject): void {
  for (const [k, v] of Object.entries(applied)) {
    const t = target[k];
    if (isObject(v) && isObject(t)) merge(t, v);
    else if (Array.isArray(v) && Array.isArray(t) && keyedByName(v) && (t.length === 0 || keyedByName(t))) {
      const others = (t as JsonObject[]).filter(
        (x) => !(v as JsonObject[]).some((y) => y['name'] === x['name']),
      );
      target[k] = [
        ...(v as JsonObject[]).map((item) => {
          const live = (t as JsonObject[]).find((x) => x['name'] === item['name']);
          if (!live) return clone(item);
          const m = clone(live);
          merge(m, item);
          return m;
        }),
        ...others,
      ];
    } else target[k] = clone(v);
  }
}

/** RFC 7386 JSON merge patch. */
function mergePatch(target: Json, patch: Json): Json {
  if (!isObject(patch)) return clone(patch);
  const out: JsonObject = isObject(target) ? clone(target) : {};
  for (const [k, v] of Object.entries(patch)) {
    if (v === null) delete out[k];
    else out[k] = mergePatch(out[k] ?? null, v);
  }
  return out;
}

/** RFC 6902 JSON patch (add, replace, remove, test). */
function jsonPatch(target: JsonObject, ops: { op: string; path: string; value?: Json }[]): JsonObject {
  const out = clone(target);
  for (const op of ops) {
    const parts = op.path
      .split('/')
      .slice(1)
      .map((p) => p.replace(/~1/g, '/').replace(/~0/g, '~'));
    const last = parts.pop()!;
    let parent: Json = out;
    for (const p of parts) {
      parent = Array.isArray(parent) ? parent[Number(p)]! : isObject(parent) ? parent[p]! : null;
      if (parent === undefined || parent === null)
        throw status(422, 'Invalid', `the JSON patch path ${op.path} does not exist`);
    }
    if (op.op === 'test') {
      const v = Array.isArray(parent) ? parent[Number(last)] : (parent as JsonObject)[last];
      if (JSON.stringify(v) !== JSON.stringify(op.value))
        throw status(422, 'Invalid', `the JSON patch test at ${op.path} failed`);
    } else if (op.op === 'remove') {
      if (Array.isArray(parent)) parent.splice(Number(last), 1);
      else delete (parent as JsonObject)[last];
    } else if (op.op === 'add' || op.op === 'replace') {
      if (Array.isArray(parent)) {
        if (last === '-') parent.push(clone(op.value!));
        else if (op.op === 'add') parent.splice(Number(last), 0, clone(op.value!));
        else parent[Number(last)] = clone(op.value!);
      } else (parent as JsonObject)[last] = clone(op.value!);
    } else throw status(422, 'Invalid', `unsupported JSON patch operation ${op.op}`);
  }
  return out;
}

// ---------------------------------------------------------------------------------------------------
// Selectors

function matchesLabels(labels: Record<string, string> | undefined, selector: string | undefined): boolean {
  if (!selector) return true;
  const l = labels ?? {};
  // Split on commas outside parentheses.
  const terms = selector.match(/(?:[^,(]|\([^)]*\))+/g) ?? [];
  return terms.every((raw) => {
    const t = raw.trim();
    let m: RegExpMatchArray | null;
    if ((m = t.match(/^(\S+)\s+(in|notin)\s+\(([^)]*)\)$/))) {
      const values = m[3]!.split(',').map((s) => s.trim());
      const inSet = m[1]! in l && values.includes(l[m[1]!]!);
      return m[2] === 'in' ? inSet : !inSet;
    }
    if ((m = t.match(/^([^!=]+?)\s*!=\s*(.*)$/))) return l[m[1]!] !== m[2];
    if ((m = t.match(/^([^!=]+?)\s*==?\s*(.*)$/))) return l[m[1]!] === m[2];
    if (t.startsWith('!')) return !(t.slice(1) in l);
    return t in l;
  });
}

function matchesFields(obj: KubeObject, selector: string | undefined): boolean {
  if (!selector) return true;
  return selector.split(',').every((term) => {
    const m = term.match(/^([^!=]+?)(!=|==?)(.*)$/);
    if (!m) return false;
    // A field path such as metadata.name, metadata.namespace, type (Secrets) or status.phase.
    let at: unknown = obj;
    for (const k of m[1]!.split('.')) at = isObject(at) ? at[k] : undefined;
    const value = at === undefined || at === null ? '' : String(at as string);
    return m[2] === '!=' ? value !== m[3] : value === m[3];
  });
}

// ---------------------------------------------------------------------------------------------------

interface Watcher {
  type: ResourceType;
  namespace?: string;
  labelSelector?: string;
  fieldSelector?: string;
  send: (e: WatchEvent) => void;
}

interface Parsed {
  type: ResourceType;
  version: string;
  namespace?: string;
  name?: string;
}

export interface FakeKubeOptions {
  /** The API server's gitVersion. */
  gitVersion?: string;
  /** CRDs become Established as soon as they are stored (default), or only when `establish` says so. */
  establishCrds?: 'at-once' | 'manual';
  /** Namespaces that exist from the start. */
  namespaces?: string[];
}

export class FakeKube extends KubeClient {
  /** Every request answered, in order. */
  readonly log: LoggedRequest[] = [];
  private readonly types: ResourceType[] = BUILTIN.map((t) => ({
    ...t,
    statusSubresource: true,
  }));
  private readonly store = new Map<string, KubeObject>();
  private readonly history: { rv: number; key: string; event: WatchEvent }[] = [];
  private readonly watchers = new Set<Watcher>();
  private revision = 100;
  private readonly gitVersion: string;
  private readonly establishCrds: 'at-once' | 'manual';
  /** Requests sent and not answered yet, and the most there ever were at once. */
  inFlight = 0;
  maxInFlight = 0;
  /** Called before each request is answered; throw an ApiError to make it fail. */
  intercept: ((req: { method: string; path: string; query: Record<string, string> }) => void) | undefined;

  constructor(options: FakeKubeOptions = {}) {
    const kc = new KubeConfig();
    // Never dialled: every request is answered in memory.
    kc.loadFromOptions({
      clusters: [{ name: 'fake', server: 'https://127.0.0.1:1', skipTLSVerify: true }],
      users: [{ name: 'fake' }],
      contexts: [{ name: 'fake', cluster: 'fake', user: 'fake' }],
      currentContext: 'fake',
    });
    super(kc);
    this.gitVersion = options.gitVersion ?? 'v1.34.4';
    this.establishCrds = options.establishCrds ?? 'at-once';
    for (const ns of options.namespaces ?? ['default', 'kube-system', 'kube-public', 'kubesphere-system'])
      this.seed({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: ns } });
  }

  // ---- the test's side -----------------------------------------------------------------------------

  /** Stores an object as if created by `manager` (default `test-setup`), without logging a request. */
  seed(obj: KubeObject, manager = 'test-setup'): KubeObject {
    const type = this.typeOf(obj.apiVersion, obj.kind, true);
    const path = this.pathOf(type, obj.apiVersion, obj.metadata.namespace, obj.metadata.name);
    return this.apply(this.parse(path)!, obj as unknown as JsonObject, manager, true, false).object;
  }

  /** The stored object (as `apiVersion` serves it), or undefined. */
  stored(apiVersion: string, kind: string, name: string, namespace?: string): KubeObject | undefined {
    const type = this.typeOf(apiVersion, kind, false);
    const found = type && this.store.get(this.key(type, namespace, name));
    return found && { ...clone(found), apiVersion };
  }

  /** Every stored object of a kind. */
  objects(kind: string): KubeObject[] {
    return [...this.store.values()].filter((o) => o.kind === kind).map(clone);
  }

  /** Marks a CRD Established (with `establishCrds: 'manual'`). */
  establish(name: string): void {
    const crd = this.store.get(`apiextensions.k8s.io/customresourcedefinitions//${name}`);
    if (!crd) throw new Error(`no CRD ${name}`);
    this.setCrdConditions(crd, 'True');
  }

  /** The requests that stored something (no reads, watches or dry runs). */
  writes(): LoggedRequest[] {
    return this.log.filter((r) => r.write);
  }

  /** Forgets the requests logged so far. */
  clearLog(): void {
    this.log.length = 0;
  }

  // ---- KubeClient ----------------------------------------------------------------------------------

  override as(_impersonate: Impersonation): KubeClient {
    return this;
  }

  override async close(): Promise<void> {
    for (const w of this.watchers) this.watchers.delete(w);
  }

  override async getText(path: string): Promise<string> {
    throw status(404, 'NotFound', `GET ${path}: the fake API server serves no text`);
  }

  override async requestWithStatus<T = unknown>(
    method: string,
    path: string,
    options: RequestOptions = {},
  ): Promise<{ status: number; body: T }> {
    const m = method.toUpperCase();
    const query: Record<string, string> = {};
    for (const [k, v] of Object.entries(options.query ?? {})) if (v !== undefined) query[k] = String(v);
    const dryRun = query['dryRun'] === 'All';
    const entry: LoggedRequest = {
      method: m,
      path,
      query,
      ...(options.body !== undefined ? { contentType: options.contentType ?? CONTENT_TYPE.json } : {}),
      ...(options.accept ? { accept: options.accept } : {}),
      status: 0,
      dryRun,
      write: false,
      ...(options.body !== undefined ? { body: options.body } : {}),
    };
    this.log.push(entry);
    this.maxInFlight = Math.max(this.maxInFlight, ++this.inFlight);
    try {
      // Answered on a later tick, as a real request is: callers' concurrency shows.
      await new Promise((r) => setImmediate(r));
      this.intercept?.({ method: m, path, query });
      if (options.signal?.aborted) throw status(0, 'TransportError', `${m} ${path}: aborted`);
      const res = this.serve(m, path, query, options);
      entry.status = res.status;
      entry.write = m !== 'GET' && !dryRun && res.status < 400;
      return clone(res) as { status: number; body: T };
    } catch (err) {
      entry.status = err instanceof ApiError ? err.status : 500;
      throw err;
    } finally {
      this.inFlight--;
    }
  }

  override async watch<T = KubeObject>(
    path: string,
    onEvent: (e: WatchEvent<T>) => void,
    options: WatchOptions = {},
  ): Promise<WatchEnd> {
    const query: Record<string, string> = {};
    for (const [k, v] of Object.entries(options.query ?? {})) if (v !== undefined) query[k] = String(v);
    const entry: LoggedRequest = { method: 'WATCH', path, query, status: 200, dryRun: false, write: false };
    this.log.push(entry);
    await new Promise((r) => setImmediate(r));
    const parsed = this.parse(path);
    if (!parsed || parsed.name) {
      entry.status = 404;
      throw status(404, 'NotFound', `WATCH ${path}: the server could not find the requested resource`);
    }
    if (options.signal?.aborted) return 'aborted';
    const watcher: Watcher = {
      type: parsed.type,
      namespace: parsed.namespace,
      labelSelector: query['labelSelector'],
      fieldSelector: query['fieldSelector'],
      send: () => undefined,
    };
    const queue: WatchEvent[] = [];
    let flushing = false;
    const flush = () => {
      flushing = false;
      for (const e of queue.splice(0)) {
        if (options.signal?.aborted) return;
        onEvent({ type: e.type, object: { ...clone(e.object), apiVersion: apiVersionOf(parsed) } as T });
      }
    };
    watcher.send = (e) => {
      queue.push(e);
      if (!flushing) {
        flushing = true;
        setImmediate(flush);
      }
    };
    const from = query['resourceVersion'];
    if (from && Number(from) > 0) {
      if (this.history.length && Number(from) < this.history[0]!.rv - 1) {
        entry.status = 410;
        throw status(410, 'Expired', `too old resource version: ${from}`);
      }
      for (const h of this.history)
        if (h.rv > Number(from) && this.watches(watcher, h.event.object)) watcher.send(h.event);
    } else {
      for (const o of this.list(parsed))
        if (this.watches(watcher, o)) watcher.send({ type: 'ADDED', object: o });
    }
    this.watchers.add(watcher);
    return new Promise<WatchEnd>((resolve) => {
      const end = () => {
        this.watchers.delete(watcher);
        resolve('aborted');
      };
      if (options.signal) options.signal.addEventListener('abort', end, { once: true });
    });
  }

  // ---- the server ----------------------------------------------------------------------------------

  private serve(
    method: string,
    path: string,
    query: Record<string, string>,
    options: RequestOptions,
  ): { status: number; body: unknown } {
    const [bare] = path.split('?');
    if (bare === '/version') return { status: 200, body: { gitVersion: this.gitVersion, major: '1' } };
    if (bare === '/api' || bare === '/apis') return { status: 200, body: this.discovery(bare) };
    const gv = bare!.match(/^\/api\/(v1)$|^\/apis\/([^/]+)\/([^/]+)$/);
    if (gv && method === 'GET') {
      const [group, version] = gv[1] ? ['', gv[1]] : [gv[2]!, gv[3]!];
      const served = this.served().filter((t) => t.group === group && t.versions.includes(version));
      if (!served.length) throw status(404, 'NotFound', `the server could not find the requested resource`);
      return {
        status: 200,
        body: {
          kind: 'APIResourceList',
          groupVersion: group ? `${group}/${version}` : version,
          resources: served.map((t) => ({ name: t.resource, kind: t.kind, namespaced: t.namespaced })),
        },
      };
    }
    const parsed = this.parse(bare!);
    if (!parsed) throw status(404, 'NotFound', `the server could not find the requested resource (${path})`);
    const body = parseBody(options.body);
    switch (method) {
      case 'GET':
        return parsed.name
          ? this.read(parsed, options.accept)
          : this.listAnswer(parsed, query, options.accept);
      case 'POST':
        return this.create(parsed, body as JsonObject, query);
      case 'PUT':
        return this.update(parsed, body as JsonObject, query);
      case 'PATCH':
        return this.patch(parsed, body, query, options.contentType);
      case 'DELETE':
        return this.remove(parsed, query);
      default:
        throw status(405, 'MethodNotAllowed', `${method} is not supported`);
    }
  }

  private served(): ResourceType[] {
    return this.types.filter((t) => !t.crd || this.isEstablished(t.crd));
  }

  private discovery(root: '/api' | '/apis'): unknown {
    const groups = new Map<string, ResourceType[]>();
    for (const t of this.served())
      if ((root === '/api') === (t.group === '')) groups.set(t.group, [...(groups.get(t.group) ?? []), t]);
    return {
      apiVersion: 'apidiscovery.k8s.io/v2',
      kind: 'APIGroupDiscoveryList',
      items: [...groups].map(([group, types]) => ({
        metadata: { name: group },
        versions: [...new Set(types.flatMap((t) => t.versions))].map((version) => ({
          version,
          resources: types
            .filter((t) => t.versions.includes(version))
            .map((t) => ({
              resource: t.resource,
              responseKind: { group, version, kind: t.kind },
              scope: t.namespaced ? 'Namespaced' : 'Cluster',
            })),
        })),
      })),
    };
  }

  private parse(path: string): Parsed | undefined {
    const m = path.match(/^\/api\/(v1)\/(.*)$|^\/apis\/([^/]+)\/([^/]+)\/(.*)$/);
    if (!m) return undefined;
    const [group, version, rest] = m[1] ? ['', m[1], m[2]!] : [m[3]!, m[4]!, m[5]!];
    const parts = rest.split('/').map(decodeURIComponent);
    let namespace: string | undefined;
    if (parts[0] === 'namespaces' && parts.length >= 3) {
      namespace = parts[1];
      parts.splice(0, 2);
    }
    const [resource, name, sub] = parts;
    if (sub !== undefined) return undefined;
    const type = this.served().find(
      (t) => t.group === group && t.resource === resource && t.versions.includes(version),
    );
    if (!type || (namespace !== undefined && !type.namespaced)) return undefined;
    return { type, version, namespace, name };
  }

  private typeOf(apiVersion: string, kind: string, required: true): ResourceType;
  private typeOf(apiVersion: string, kind: string, required: boolean): ResourceType | undefined;
  private typeOf(apiVersion: string, kind: string, required: boolean): ResourceType | undefined {
    const [group, version] = apiVersion.includes('/') ? apiVersion.split('/') : ['', apiVersion];
    const t = this.types.find((x) => x.group === group && x.kind === kind && x.versions.includes(version!));
    if (!t && required) throw new Error(`the fake API server has no kind ${kind} in ${apiVersion}`);
    return t;
  }

  private pathOf(
    type: ResourceType,
    apiVersion: string,
    namespace: string | undefined,
    name: string,
  ): string {
    const base = type.group ? `/apis/${apiVersion}` : `/api/${apiVersion}`;
    return type.namespaced
      ? `${base}/namespaces/${namespace}/${type.resource}/${name}`
      : `${base}/${type.resource}/${name}`;
  }

  private key(type: ResourceType, namespace: string | undefined, name: string): string {
    return `${type.group}/${type.resource}/${type.namespaced ? (namespace ?? '') : ''}/${name}`;
  }

  private list(p: Parsed): KubeObject[] {
    const prefix = `${p.type.group}/${p.type.resource}/`;
    return [...this.store.entries()]
      .filter(
        ([k, o]) =>
          k.startsWith(prefix) && (p.namespace === undefined || o.metadata.namespace === p.namespace),
      )
      .sort(([a], [b]) => (a < b ? -1 : 1))
      .map(([, o]) => o);
  }

  private watches(w: Watcher, o: KubeObject): boolean {
    return (
      o.kind === w.type.kind &&
      (w.namespace === undefined || o.metadata.namespace === w.namespace) &&
      matchesLabels(o.metadata.labels, w.labelSelector) &&
      matchesFields(o, w.fieldSelector)
    );
  }

  private read(p: Parsed, accept: string | undefined): { status: number; body: unknown } {
    const found = this.store.get(this.key(p.type, p.namespace, p.name!));
    if (!found) throw notFound(p);
    const object = { ...found, apiVersion: apiVersionOf(p) };
    return { status: 200, body: accept === ACCEPT_METADATA ? partial(object) : object };
  }

  private listAnswer(
    p: Parsed,
    query: Record<string, string>,
    accept: string | undefined,
  ): { status: number; body: unknown } {
    const { labelSelector, fieldSelector } = query;
    const all = this.list(p).filter(
      (o) => matchesLabels(o.metadata.labels, labelSelector) && matchesFields(o, fieldSelector),
    );
    const offset = query['continue'] ? Number(Buffer.from(query['continue'], 'base64').toString()) : 0;
    const limit = query['limit'] ? Number(query['limit']) : Infinity;
    const page = all.slice(offset, offset + limit);
    const more = offset + page.length < all.length;
    const metadataOnly = accept === ACCEPT_METADATA_LIST;
    const apiVersion = apiVersionOf(p);
    return {
      status: 200,
      body: {
        apiVersion: metadataOnly ? 'meta.k8s.io/v1' : apiVersion,
        kind: metadataOnly ? 'PartialObjectMetadataList' : `${p.type.kind}List`,
        metadata: {
          resourceVersion: String(this.revision),
          ...(more ? { continue: Buffer.from(String(offset + page.length)).toString('base64') } : {}),
          // As the API server: no count with a selector.
          ...(more && !labelSelector && !fieldSelector
            ? { remainingItemCount: all.length - offset - page.length }
            : {}),
        },
        items: page.map((o) => {
          const object = { ...o, apiVersion };
          return metadataOnly ? partial(object) : object;
        }),
      },
    };
  }

  private checkNamespace(p: Parsed): void {
    if (!p.type.namespaced) return;
    if (!p.namespace)
      throw status(400, 'BadRequest', `${p.type.kind} is namespaced: a namespace is required`);
    if (!this.store.has(`/namespaces//${p.namespace}`))
      throw status(404, 'NotFound', `namespaces "${p.namespace}" not found`);
  }

  private checkIdentity(p: Parsed, body: JsonObject, name: string | undefined): void {
    const meta = isObject(body['metadata']) ? body['metadata'] : {};
    if (body['kind'] !== p.type.kind || body['apiVersion'] !== apiVersionOf(p))
      throw status(
        400,
        'BadRequest',
        `the body's ${String(body['apiVersion'])} ${String(body['kind'])} does not match ${apiVersionOf(p)} ${p.type.kind}`,
      );
    if (name !== undefined && meta['name'] !== undefined && meta['name'] !== name)
      throw status(
        400,
        'BadRequest',
        `the name of the object (${String(meta['name'])}) does not match the URL (${name})`,
      );
    if (p.type.namespaced && meta['namespace'] !== undefined && meta['namespace'] !== p.namespace)
      throw status(
        400,
        'BadRequest',
        `the namespace of the object does not match the namespace of the request`,
      );
  }

  /** Server-side apply by `manager`. */
  private apply(
    p: Parsed,
    config: JsonObject,
    manager: string,
    force: boolean,
    dryRun: boolean,
  ): { status: number; object: KubeObject } {
    this.checkNamespace(p);
    this.checkIdentity(p, config, p.name);
    const key = this.key(p.type, p.namespace, p.name!);
    const live = this.store.get(key);
    const applied = clone(config);
    if (p.type.statusSubresource) delete applied['status'];
    const fields = fieldsOf(applied);
    const entries = clone((live?.metadata.managedFields ?? []) as unknown as ManagedFieldsEntry[]);
    const mine = entries.find((e) => e.manager === manager && e.operation === 'Apply');
    const others = entries.filter((e) => e !== mine);
    // Conflicts: a field another manager owns, set here to another value (an equal value is shared).
    const conflicting = new Map<ManagedFieldsEntry, FieldSet>();
    const messages: string[] = [];
    if (live)
      for (const e of others)
        for (const path of leaves(e.fieldsV1))
          if (
            has(fields, path) &&
            JSON.stringify(valueAt(applied, path)) !== JSON.stringify(valueAt(live as never, path))
          ) {
            let at = conflicting.get(e) ?? {};
            conflicting.set(e, at);
            for (const k of path) at = at[k] ??= {};
            messages.push(`conflict with "${e.manager}": ${path.map((k) => k.slice(2)).join('.')}`);
          }
    if (messages.length && !force)
      throw new ApiError(
        409,
        'Conflict',
        `Apply failed with ${messages.length} conflicts: ${messages.join('; ')}`,
      );
    const next = (
      live ? clone(live) : { apiVersion: config['apiVersion'], kind: config['kind'], metadata: {} }
    ) as JsonObject;
    // Fields this manager applied before and neither it nor anyone else sets now: removed.
    if (mine) {
      const ownedByOthers = others.reduce<FieldSet>((s, e) => union(s, e.fieldsV1), {});
      const gone = subtract(subtract(mine.fieldsV1, fields), ownedByOthers);
      removeFields(next, gone, union(fields, ownedByOthers));
    }
    const { metadata: appliedMeta, ...appliedBody } = applied;
    merge(next, appliedBody as JsonObject);
    const meta = next['metadata'] as JsonObject;
    for (const k of ['labels', 'annotations', 'ownerReferences', 'finalizers'])
      if (isObject(appliedMeta) && appliedMeta[k] !== undefined) {
        if (isObject(appliedMeta[k]) && isObject(meta[k]))
          merge(meta[k] as JsonObject, appliedMeta[k] as JsonObject);
        else meta[k] = clone(appliedMeta[k]!);
      }
    // Ownership: this manager's entry is what it applied; forced fields leave the others' entries.
    const time = now();
    const kept = others
      .map((e) => ({ ...e, fieldsV1: subtract(e.fieldsV1, conflicting.get(e) ?? {}) }))
      .filter((e) => leaves(e.fieldsV1).length > 0);
    const entry: ManagedFieldsEntry = {
      manager,
      operation: 'Apply',
      apiVersion: apiVersionOf(p),
      time: mine && JSON.stringify(mine.fieldsV1) === JSON.stringify(fields) ? mine.time : time,
      fieldsType: 'FieldsV1',
      fieldsV1: fields,
    };
    meta['managedFields'] = [entry, ...kept] as unknown as Json;
    return this.commit(p, key, live, next, dryRun);
  }

  /** An Update (POST, PUT, merge or JSON patch) by `manager`: it owns the fields whose values it changed. */
  private updateOwnership(p: Parsed, live: KubeObject | undefined, next: JsonObject, manager: string): void {
    const meta = next['metadata'] as JsonObject;
    const before = (live ? clone(live) : {}) as JsonObject;
    const nextFields = fieldsOf(stripped(next));
    const changed: FieldSet = {};
    for (const path of leaves(nextFields))
      if (JSON.stringify(valueAt(next, path)) !== JSON.stringify(valueAt(before, path))) {
        let at = changed;
        for (const k of path) at = at[k] ??= {};
      }
    // Managed fields set explicitly (a JSON patch of /metadata/managedFields) are stored as given.
    if (live && JSON.stringify(meta['managedFields']) !== JSON.stringify(live.metadata.managedFields)) return;
    const entries = ((live?.metadata.managedFields ?? []) as unknown as ManagedFieldsEntry[])
      .map((e) => ({ ...e, fieldsV1: subtract(e.fieldsV1, changed) }))
      .filter((e) => leaves(e.fieldsV1).length > 0 || (e.manager === manager && e.operation === 'Update'));
    if (leaves(changed).length === 0) {
      meta['managedFields'] = entries as unknown as Json;
      return;
    }
    const mine = entries.find((e) => e.manager === manager && e.operation === 'Update');
    if (mine) {
      mine.fieldsV1 = union(mine.fieldsV1, changed);
      mine.time = now();
    } else
      entries.push({
        manager,
        operation: 'Update',
        apiVersion: apiVersionOf(p),
        time: now(),
        fieldsType: 'FieldsV1',
        fieldsV1: changed,
      });
    meta['managedFields'] = entries as unknown as Json;
  }

  private create(
    p: Parsed,
    body: JsonObject,
    query: Record<string, string>,
  ): { status: number; body: unknown } {
    if (p.name) throw status(405, 'MethodNotAllowed', 'POST to an object path');
    this.checkNamespace(p);
    const meta = clone(isObject(body['metadata']) ? body['metadata'] : {});
    if (!meta['name'] && typeof meta['generateName'] === 'string')
      meta['name'] = `${meta['generateName']}${randomUUID().slice(0, 5)}`;
    if (!meta['name']) throw status(422, 'Invalid', 'metadata.name: Required value');
    const named: Parsed = { ...p, name: String(meta['name']) };
    this.checkIdentity(named, body, named.name);
    const key = this.key(p.type, p.namespace, named.name!);
    if (this.store.has(key))
      throw status(409, 'AlreadyExists', `${p.type.resource} "${named.name}" already exists`);
    const next = { ...clone(body), metadata: { ...meta, managedFields: [] } } as JsonObject;
    this.updateOwnership(named, undefined, next, query['fieldManager'] ?? 'unknown');
    const r = this.commit(named, key, undefined, next, query['dryRun'] === 'All');
    return { status: 201, body: r.object };
  }

  private update(
    p: Parsed,
    body: JsonObject,
    query: Record<string, string>,
  ): { status: number; body: unknown } {
    if (!p.name) throw status(405, 'MethodNotAllowed', 'PUT to a collection');
    this.checkIdentity(p, body, p.name);
    const key = this.key(p.type, p.namespace, p.name);
    const live = this.store.get(key);
    if (!live) throw notFound(p);
    const meta = isObject(body['metadata']) ? body['metadata'] : {};
    if (meta['resourceVersion'] !== undefined && meta['resourceVersion'] !== live.metadata.resourceVersion)
      throw status(
        409,
        'Conflict',
        `Operation cannot be fulfilled on ${p.type.resource} "${p.name}": the object has been modified; please apply your changes to the latest version and try again`,
      );
    const next = clone(body);
    const nextMeta = next['metadata'] as JsonObject;
    if (nextMeta['managedFields'] === undefined)
      nextMeta['managedFields'] = clone(live.metadata.managedFields) as Json;
    if (p.type.statusSubresource) next['status'] = clone((live as JsonObject)['status'] ?? null);
    if (next['status'] === null) delete next['status'];
    this.updateOwnership(p, live, next, query['fieldManager'] ?? 'unknown');
    const r = this.commit(p, key, live, next, query['dryRun'] === 'All');
    return { status: 200, body: r.object };
  }

  private patch(
    p: Parsed,
    body: unknown,
    query: Record<string, string>,
    contentType: string | undefined,
  ): { status: number; body: unknown } {
    if (!p.name) throw status(405, 'MethodNotAllowed', 'PATCH to a collection');
    const dryRun = query['dryRun'] === 'All';
    if (contentType === CONTENT_TYPE.apply) {
      const manager = query['fieldManager'];
      if (!manager)
        throw status(
          422,
          'Invalid',
          'PatchOptions "" is invalid: fieldManager: Required value: is required for apply patch',
        );
      const r = this.apply(p, body as JsonObject, manager, query['force'] === 'true', dryRun);
      return { status: r.status, body: r.object };
    }
    const key = this.key(p.type, p.namespace, p.name);
    const live = this.store.get(key);
    if (!live) throw notFound(p);
    let next: JsonObject;
    if (contentType === CONTENT_TYPE.merge)
      next = mergePatch(clone(live) as never, body as Json) as JsonObject;
    else if (contentType === CONTENT_TYPE.jsonPatch) next = jsonPatch(clone(live) as never, body as never);
    else
      throw status(415, 'UnsupportedMediaType', `the fake API server does not take ${contentType} patches`);
    this.updateOwnership(p, live, next, query['fieldManager'] ?? 'unknown');
    const r = this.commit(p, key, live, next, dryRun);
    return { status: 200, body: r.object };
  }

  private remove(p: Parsed, query: Record<string, string>): { status: number; body: unknown } {
    if (!p.name) return this.removeCollection(p, query);
    const key = this.key(p.type, p.namespace, p.name);
    const live = this.store.get(key);
    if (!live) throw notFound(p);
    if (query['dryRun'] === 'All') return { status: 200, body: live };
    this.store.delete(key);
    this.record(key, {
      type: 'DELETED',
      object: { ...live, metadata: { ...live.metadata, resourceVersion: String(++this.revision) } },
    });
    if (p.type.kind === 'Namespace')
      for (const [k, o] of [...this.store]) if (o.metadata.namespace === p.name) this.store.delete(k);
    if (p.type.kind === 'CustomResourceDefinition') this.unregister(live);
    return { status: 200, body: live };
  }

  /** deletecollection: every object of the collection its selectors pick; answers them as a list. */
  private removeCollection(p: Parsed, query: Record<string, string>): { status: number; body: unknown } {
    const picked = this.list(p).filter(
      (o) =>
        matchesLabels(o.metadata.labels, query['labelSelector']) && matchesFields(o, query['fieldSelector']),
    );
    if (query['dryRun'] !== 'All')
      for (const o of picked)
        this.remove({ ...p, namespace: o.metadata.namespace, name: o.metadata.name }, {});
    return {
      status: 200,
      body: { apiVersion: apiVersionOf(p), kind: `${p.type.kind}List`, metadata: {}, items: picked },
    };
  }

  /** Stores `next` (unless a dry run) when it differs from `live`: resourceVersion, generation, uid. */
  private commit(
    p: Parsed,
    key: string,
    live: KubeObject | undefined,
    next: JsonObject,
    dryRun: boolean,
  ): { status: number; object: KubeObject } {
    const meta = next['metadata'] as JsonObject;
    if (p.type.kind === 'Secret' && isObject(next['stringData'])) {
      const data: JsonObject = isObject(next['data']) ? next['data'] : {};
      for (const [k, v] of Object.entries(next['stringData']))
        data[k] = Buffer.from(String(v), 'utf8').toString('base64');
      next['data'] = data;
      delete next['stringData'];
    }
    meta['name'] = p.name!;
    if (p.type.namespaced) meta['namespace'] = p.namespace!;
    else delete meta['namespace'];
    next['apiVersion'] = apiVersionOf(p);
    const spec = (o: JsonObject) => {
      const { metadata: _m, status: st, ...rest } = o;
      return JSON.stringify(p.type.statusSubresource ? rest : { ...rest, status: st });
    };
    const comparable = (o: JsonObject) => {
      const { metadata, ...rest } = o;
      const { resourceVersion: _rv, generation: _g, managedFields, ...m } = metadata as JsonObject;
      const mf = ((managedFields ?? []) as unknown as ManagedFieldsEntry[]).map(({ time: _t, ...e }) => e);
      return JSON.stringify([rest, m, mf]);
    };
    if (live) {
      meta['uid'] = live.metadata.uid!;
      meta['creationTimestamp'] = live.metadata.creationTimestamp!;
      if (live.metadata.generation !== undefined) meta['generation'] = live.metadata.generation;
      meta['resourceVersion'] = live.metadata.resourceVersion!;
      if (comparable(next) === comparable(live as never)) return { status: 200, object: live };
      if (p.type.generation && spec(next) !== spec(live as never))
        meta['generation'] = (live.metadata.generation ?? 1) + 1;
    } else {
      meta['uid'] = randomUUID();
      meta['creationTimestamp'] = now();
      if (p.type.generation) meta['generation'] = 1;
      else delete meta['generation'];
    }
    if (dryRun) {
      if (!live) delete meta['resourceVersion'];
      return { status: live ? 200 : 201, object: next as unknown as KubeObject };
    }
    meta['resourceVersion'] = String(++this.revision);
    const stored = next as unknown as KubeObject;
    this.store.set(key, stored);
    this.record(key, { type: live ? 'MODIFIED' : 'ADDED', object: stored });
    if (p.type.kind === 'CustomResourceDefinition') this.register(stored);
    return { status: live ? 200 : 201, object: stored };
  }

  private record(key: string, event: WatchEvent): void {
    this.history.push({ rv: this.revision, key, event: clone(event) });
    if (this.history.length > 10_000) this.history.splice(0, 1000);
    for (const w of this.watchers) if (this.watches(w, event.object)) w.send(clone(event));
  }

  // ---- CRDs ------------------------------------------------------------------------------------------

  private isEstablished(name: string): boolean {
    const crd = this.store.get(`apiextensions.k8s.io/customresourcedefinitions//${name}`) as
      (KubeObject & { status?: { conditions?: { type: string; status: string }[] } }) | undefined;
    return crd?.status?.conditions?.some((c) => c.type === 'Established' && c.status === 'True') ?? false;
  }

  /** Registers (or updates) the kinds a CRD defines; they are served once it is Established. */
  private register(crd: KubeObject): void {
    const spec = (
      crd as unknown as {
        spec: {
          group: string;
          scope: string;
          names: { plural: string; kind: string };
          versions: { name: string; served?: boolean; subresources?: { status?: unknown } }[];
        };
      }
    ).spec;
    this.unregister(crd);
    const versions = spec.versions.filter((v) => v.served !== false);
    this.types.push({
      group: spec.group,
      versions: versions.map((v) => v.name),
      resource: spec.names.plural,
      kind: spec.names.kind,
      namespaced: spec.scope !== 'Cluster',
      statusSubresource: versions.some((v) => v.subresources?.status !== undefined),
      generation: true,
      crd: crd.metadata.name,
    });
    if (!this.isEstablished(crd.metadata.name) && this.establishCrds === 'at-once') {
      const name = crd.metadata.name;
      // The apiextensions controller's status write, after the create (a watch sees both).
      setImmediate(() => {
        const live = this.store.get(`apiextensions.k8s.io/customresourcedefinitions//${name}`);
        if (live && !this.isEstablished(name)) this.setCrdConditions(live, 'True');
      });
    }
  }

  private unregister(crd: KubeObject): void {
    const i = this.types.findIndex((t) => t.crd === crd.metadata.name);
    if (i >= 0) this.types.splice(i, 1);
  }

  private setCrdConditions(crd: KubeObject, established: 'True' | 'False'): void {
    const key = `apiextensions.k8s.io/customresourcedefinitions//${crd.metadata.name}`;
    const next = clone(crd) as KubeObject & { status?: unknown };
    next.status = {
      conditions: [
        { type: 'NamesAccepted', status: 'True', reason: 'NoConflicts' },
        { type: 'Established', status: established, reason: 'InitialNamesAccepted' },
      ],
    };
    next.metadata.resourceVersion = String(++this.revision);
    this.store.set(key, next);
    this.record(key, { type: 'MODIFIED', object: next });
  }
}

function parseBody(body: unknown): unknown {
  if (typeof body !== 'string') return body === undefined ? undefined : clone(body);
  try {
    return JSON.parse(body);
  } catch {
    return yaml.load(body);
  }
}

function apiVersionOf(p: Parsed): string {
  return p.type.group ? `${p.type.group}/${p.version}` : p.version;
}

function notFound(p: Parsed): ApiError {
  const what = p.type.group ? `${p.type.resource}.${p.type.group}` : p.type.resource;
  return status(404, 'NotFound', `${what} "${p.name}" not found`);
}

function partial(o: KubeObject): KubeObject {
  return { apiVersion: 'meta.k8s.io/v1', kind: 'PartialObjectMetadata', metadata: clone(o.metadata) };
}

/** The object without what managedFields never records. */
function stripped(o: JsonObject): JsonObject {
  const { metadata, ...rest } = o;
  const m = isObject(metadata) ? metadata : {};
  const kept: JsonObject = {};
  for (const k of ['labels', 'annotations', 'ownerReferences', 'finalizers'])
    if (m[k] !== undefined) kept[k] = m[k];
  return { ...rest, metadata: kept };
}
