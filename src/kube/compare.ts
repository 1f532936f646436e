/**
 * Whether a server-side apply of `desired` would change the live object: the test that lets a run
 * with nothing to change send no write at all. An apply by our field manager is a no-op when
 * 1. our manager already applied the object (its Apply entry exists) and no field of the original
 *    installer's managers is left to take over (client-side-apply.ts);
 * 2. every field we set has that value live (desired ⊆ live), normalised for what the API server does
 *    to what it stores: fields it defaults are extra, not different; an empty object or list may be
 *    dropped; quantities are canonicalised (`1000m` is stored as `1`); a Secret's `stringData` is
 *    stored base64 in `data`;
 * 3. every field our manager owns is still one we set (owned ⊆ desired): a field we set once and no
 *    longer render would be removed by the apply.
 * Lists compare element by element and must have the same length: an item added by someone else to a
 * list we set is a difference (an apply of an atomic list would remove it; of an associative list it
 * would only re-assert ours, a write that changes nothing, which is the safe side).
 * Returns why the apply would change the object (the first difference found), or undefined. The
 * reason names paths, never a value that may be a credential: the data of a Secret and fields named
 * like credentials (isCredentialField: passwords, tokens, basicAuth, private keys) show as "differs".
 */
import { tryParseQuantity } from '../config/quantity.js';
import { isCredentialField } from '../observe/redact.js';
import type { KubeObject } from './client.js';
import { clientSideApplyUpgradePatch, type FieldSet, type ManagedFieldsEntry } from './client-side-apply.js';

type Json = null | boolean | number | string | Json[] | { [key: string]: Json };
type JsonObject = { [key: string]: Json };

const isObject = (v: unknown): v is JsonObject => typeof v === 'object' && v !== null && !Array.isArray(v);
const isEmpty = (v: unknown) =>
  (Array.isArray(v) && v.length === 0) || (isObject(v) && Object.keys(v).length === 0);

function show(v: unknown): string {
  const s = JSON.stringify(v) ?? 'absent';
  return s.length > 60 ? `${s.slice(0, 57)}...` : s;
}

function scalarsEqual(d: Json, l: unknown): boolean {
  if (d === l) return true;
  // Quantities are stored canonically (e.g. 1000m → 1, 0.5 → 500m, 1024Mi stays): equal by value.
  if ((typeof d === 'string' || typeof d === 'number') && (typeof l === 'string' || typeof l === 'number')) {
    const a = tryParseQuantity(d);
    const b = tryParseQuantity(l);
    // Relative tolerance: 300m is 300 × 0.001, not exactly 0.3 in binary floating point.
    return (
      a !== undefined &&
      b !== undefined &&
      typeof l === 'string' &&
      Math.abs(a - b) <= 1e-9 * Math.max(Math.abs(a), Math.abs(b))
    );
  }
  return false;
}

/**
 * The first path where `desired` is not in `live`, with both values; undefined when it all is. Under a
 * `secret` path the values are not shown, only that they differ (or that one side is absent).
 */
function subsetDifference(desired: Json, live: unknown, path: string, secret = false): string | undefined {
  const value = (v: unknown) => (secret ? (v === undefined ? 'absent' : 'a value') : show(v));
  if (desired === null) return undefined;
  if (live === undefined || live === null) {
    return isEmpty(desired)
      ? undefined
      : `${path || '.'}: ${secret ? 'a value' : show(desired)} wanted, absent live`;
  }
  if (Array.isArray(desired)) {
    if (!Array.isArray(live) || live.length !== desired.length)
      return `${path}: ${desired.length} items wanted, ${Array.isArray(live) ? live.length : value(live)} live`;
    for (const [i, d] of desired.entries()) {
      const diff = subsetDifference(d, live[i], `${path}[${i}]`, secret);
      if (diff) return diff;
    }
    return undefined;
  }
  if (isObject(desired)) {
    if (!isObject(live)) return `${path}: an object wanted, ${value(live)} live`;
    for (const [k, d] of Object.entries(desired)) {
      const diff = subsetDifference(d, live[k], path ? `${path}.${k}` : k, secret || isCredentialField(k));
      if (diff) return diff;
    }
    return undefined;
  }
  if (scalarsEqual(desired, live)) return undefined;
  return secret
    ? `${path}: differs (value not shown)`
    : `${path}: ${show(desired)} wanted, ${show(live)} live`;
}

/** Whether list `items` has an element matching a managedFields key `k:{...}` (absent key fields match). */
function findKeyed(items: Json[], key: JsonObject): Json | undefined {
  return items.find(
    (item) =>
      isObject(item) &&
      Object.entries(key).every(
        ([f, v]) => item[f] === undefined || item[f] === v || String(item[f]) === String(v),
      ),
  );
}

/** The first field our manager owns that `desired` no longer sets (owned ⊆ desired), or undefined. */
function ownedNotDesired(fields: FieldSet, desired: Json | undefined, path: string): string | undefined {
  for (const [key, sub] of Object.entries(fields)) {
    if (key === '.') continue;
    const kind = key.slice(0, 2);
    const rest = key.slice(2);
    let next: Json | undefined;
    let where: string;
    if (kind === 'f:') {
      next = isObject(desired) ? desired[rest] : undefined;
      where = path ? `${path}.${rest}` : rest;
      if (isObject(desired) && rest === 'stringData' && next === undefined) next = desired['data'];
    } else if (kind === 'k:') {
      next = Array.isArray(desired) ? findKeyed(desired, JSON.parse(rest) as JsonObject) : undefined;
      where = `${path}[${rest}]`;
    } else if (kind === 'v:') {
      const value = JSON.stringify(JSON.parse(rest));
      next = Array.isArray(desired) ? desired.find((x) => JSON.stringify(x) === value) : undefined;
      where = `${path}[${rest}]`;
    } else if (kind === 'i:') {
      next = Array.isArray(desired) ? desired[Number(rest)] : undefined;
      where = `${path}[${rest}]`;
    } else {
      continue;
    }
    if (next === undefined || next === null) return `${where}: owned by us, no longer set`;
    const deeper = ownedNotDesired(sub, next, where);
    if (deeper) return deeper;
  }
  return undefined;
}

/** `desired` as the API server stores it: stringData folded into data (base64). */
function stored(desired: KubeObject): JsonObject {
  const d = desired as unknown as JsonObject;
  if (desired.kind !== 'Secret' || desired.apiVersion !== 'v1' || !isObject(d['stringData'])) return d;
  const data: JsonObject = { ...(isObject(d['data']) ? d['data'] : {}) };
  for (const [k, v] of Object.entries(d['stringData']))
    if (typeof v === 'string') data[k] = Buffer.from(v, 'utf8').toString('base64');
  const { stringData: _omitted, ...rest } = d;
  return { ...rest, data };
}

/** Why an apply of `desired` by `fieldManager` would change `live`; undefined when it would not. */
export function applyWouldChange(
  desired: KubeObject,
  live: KubeObject,
  fieldManager: string,
): string | undefined {
  const entries = (live.metadata.managedFields ?? []) as ManagedFieldsEntry[];
  const ours = entries.find((e) => e.manager === fieldManager && e.operation === 'Apply' && !e.subresource);
  if (!ours) return `not applied by ${fieldManager} yet`;
  if (clientSideApplyUpgradePatch(live, fieldManager))
    return "fields of the original installer's managers to take over";
  const want = stored(desired);
  const { metadata, status: _status, ...body } = want;
  const meta = metadata as JsonObject;
  const wantedMeta: JsonObject = {};
  for (const k of ['labels', 'annotations'] as const) if (meta[k] !== undefined) wantedMeta[k] = meta[k];
  const { metadata: liveMeta, ...liveBody } = live as unknown as JsonObject;
  const secret = desired.kind === 'Secret';
  const { data, binaryData, ...rest } = body;
  const { data: liveData, binaryData: liveBinary, ...liveRest } = liveBody;
  return (
    subsetDifference(wantedMeta, liveMeta, 'metadata') ??
    // A Secret's data is all secret, whatever its keys are called.
    (data === undefined ? undefined : subsetDifference(data, liveData, 'data', secret)) ??
    (binaryData === undefined ? undefined : subsetDifference(binaryData, liveBinary, 'binaryData', secret)) ??
    subsetDifference(rest, liveRest, '') ??
    (ours.apiVersion === desired.apiVersion ? ownedNotDesired(ours.fieldsV1 ?? {}, want, '') : undefined)
  );
}
