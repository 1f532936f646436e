/**
 * How one log event becomes one line: text (`time level message key=value …`) or JSON
 * (`{"time":…,"level":…,"msg":…,…}`). Fields are redacted here, so no caller can forget to.
 */
import { redact } from './redact.js';

export type LogLevel = 'error' | 'warn' | 'info' | 'debug';
export type LogFormat = 'text' | 'json';
export type LogFields = Record<string, unknown>;

export interface LogEvent {
  time: Date;
  level: LogLevel;
  msg: string;
  fields: LogFields;
}

interface FormatOptions {
  /** Print the stack of error fields (as `<key>Stack`); the logger does so at debug level. */
  stacks: boolean;
}

const RESERVED = new Set(['time', 'level', 'msg']);
const MAX_CAUSES = 5;

/** What an error says, with its causes (`fetch failed: connect ECONNREFUSED …`). */
export function errorMessage(err: Error): string {
  const parts: string[] = [];
  let current: unknown = err;
  for (let depth = 0; current != null && depth < MAX_CAUSES; depth++) {
    if (!(current instanceof Error)) {
      parts.push(String(current));
      break;
    }
    let text = current.message;
    if (current instanceof AggregateError && current.errors.length > 0) {
      const inner = current.errors.map((e: unknown) => (e instanceof Error ? e.message : String(e)));
      text = text ? `${text} (${inner.join('; ')})` : inner.join('; ');
    }
    if (!text) {
      const code = (current as { code?: unknown }).code;
      text = typeof code === 'string' ? code : current.name;
    }
    if (parts[parts.length - 1] !== text) parts.push(text);
    current = current.cause;
  }
  return parts.join(': ');
}

/** JSON.stringify replacer: errors as their message, bigints as strings, functions and symbols dropped. */
function plain(_key: string, value: unknown): unknown {
  if (value instanceof Error) return errorMessage(value);
  if (typeof value === 'bigint') return value.toString();
  if (typeof value === 'function' || typeof value === 'symbol') return undefined;
  return value;
}

/** The event's fields, redacted, with error fields expanded and names that clash with the line's own renamed. */
function prepareFields(fields: LogFields, options: FormatOptions): [string, unknown][] {
  const safe = redact(fields) as LogFields;
  const out: [string, unknown][] = [];
  for (const [key, value] of Object.entries(safe)) {
    if (value === undefined) continue;
    const name = RESERVED.has(key) ? `_${key}` : key;
    if (value instanceof Error) {
      out.push([name, errorMessage(value)]);
      if (options.stacks && value.stack) out.push([`${name}Stack`, value.stack]);
    } else {
      out.push([name, value]);
    }
  }
  return out;
}

/** A value in logfmt: bare when unambiguous, else a JSON-quoted string. */
function quoteIfNeeded(text: string): string {
  // eslint-disable-next-line no-control-regex
  return text === '' || /[\s"=\\\u0000-\u001f\u007f]/.test(text) ? JSON.stringify(text) : text;
}

function textValue(value: unknown): string {
  if (typeof value === 'string') return quoteIfNeeded(value);
  if (typeof value === 'number' || typeof value === 'boolean' || typeof value === 'bigint')
    return String(value);
  if (value === null) return 'null';
  if (value instanceof Date) return value.toISOString();
  return quoteIfNeeded(JSON.stringify(value, plain) ?? '');
}

function textKey(key: string): string {
  const clean = key.replace(/[^\w.\-/]/g, '_');
  return clean === '' ? '_' : clean;
}

const MAX_FLATTEN_DEPTH = 4;

/** `key=value` pairs; plain objects flatten to dotted keys (`role.name=x`), arrays print as JSON. */
function textPairs(key: string, value: unknown, depth: number): string[] {
  const isPlainObject =
    typeof value === 'object' &&
    value !== null &&
    !Array.isArray(value) &&
    !(value instanceof Date) &&
    !(value instanceof Error);
  if (isPlainObject && depth < MAX_FLATTEN_DEPTH) {
    const entries = Object.entries(value).filter(([, v]) => v !== undefined);
    if (entries.length > 0) return entries.flatMap(([k, v]) => textPairs(`${key}.${k}`, v, depth + 1));
  }
  return [`${textKey(key)}=${textValue(value)}`];
}

/**
 * Fields under this key are for machines: JSON lines carry them (spread into the record), text lines
 * leave them out because the message already says the same for people.
 */
export const JSON_ONLY = '$json';

/** `2026-11-22T10:00:00.123Z info  message key=value key2="value with spaces"` */
export function formatText(event: LogEvent, options: FormatOptions): string {
  const msg = event.msg.replace(/\r/g, '\\r').replace(/\n/g, '\\n');
  const parts = [`${event.time.toISOString()} ${event.level.padEnd(5)} ${msg}`];
  for (const [key, value] of prepareFields(event.fields, options)) {
    if (key !== JSON_ONLY) parts.push(...textPairs(key, value, 0));
  }
  return parts.join(' ');
}

/** `{"time":"2026-11-22T10:00:00.123Z","level":"info","msg":"message","key":"value"}` */
export function formatJson(event: LogEvent, options: FormatOptions): string {
  const record: LogFields = { time: event.time.toISOString(), level: event.level, msg: event.msg };
  for (const [key, value] of prepareFields(event.fields, options)) {
    if (key === JSON_ONLY && value && typeof value === 'object') Object.assign(record, value);
    else record[key] = value;
  }
  return JSON.stringify(record, plain);
}
