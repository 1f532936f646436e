/**
 * Jinja2/Ansible filters and tests the templates rely on, with Jinja2's semantics where nunjucks's
 * builtins differ (Python truthiness in `default(x, true)`, `indent` blank-line and `first` rules).
 */
import yaml from 'js-yaml';
import nunjucks from 'nunjucks';
import { toInlineYaml } from './inline-yaml.js';
import { versionSatisfies } from './version.js';

type KeywordArgs = Record<string, unknown> & { __keywords: true };

function isKeywordArgs(value: unknown): value is KeywordArgs {
  return typeof value === 'object' && value !== null && Object.hasOwn(value, '__keywords');
}

/** Splits nunjucks call arguments into positional ones and the trailing keyword-argument object. */
function splitArgs(args: unknown[]): { positional: unknown[]; keywords: Record<string, unknown> } {
  const last = args[args.length - 1];
  if (isKeywordArgs(last)) {
    const { __keywords: _ignored, ...keywords } = last;
    return { positional: args.slice(0, -1), keywords };
  }
  return { positional: args, keywords: {} };
}

/** Unwraps nunjucks's SafeString so serializers see the plain string. */
function plain(value: unknown): unknown {
  return value instanceof nunjucks.runtime.SafeString ? value.valueOf() : value;
}

/** Python truthiness: None, False, 0, "", empty list and empty dict are false. */
function pythonTruthy(value: unknown): boolean {
  const v = plain(value);
  if (v === undefined || v === null || v === false || v === 0 || v === '') return false;
  if (typeof v === 'number' && Number.isNaN(v)) return false;
  if (Array.isArray(v)) return v.length > 0;
  if (v instanceof Map || v instanceof Set) return v.size > 0;
  if (typeof v === 'object' && Object.getPrototypeOf(v) === Object.prototype)
    return Object.keys(v).length > 0;
  return true;
}

/** Jinja2 `default(value, default_value='', boolean=False)`: replaces only undefined unless boolean. */
function defaultFilter(value: unknown, ...args: unknown[]): unknown {
  const { positional, keywords } = splitArgs(args);
  const fallback = positional[0] ?? keywords.default_value ?? '';
  const boolean = positional[1] ?? keywords.boolean ?? false;
  if (value === undefined) return fallback;
  if (boolean === true && !pythonTruthy(value)) return fallback;
  return value;
}

/** Jinja2 `indent(s, width=4, first=False, blank=False)`; blank lines stay empty unless blank=True. */
function indentFilter(value: unknown, ...args: unknown[]): string {
  const { positional, keywords } = splitArgs(args);
  const width = positional[0] ?? keywords.width ?? 4;
  const first = positional[1] ?? keywords.first ?? keywords.indentfirst ?? false;
  const blank = positional[2] ?? keywords.blank ?? false;
  const indention = typeof width === 'string' ? width : ' '.repeat(Number(width));
  const text = value === undefined || value === null ? '' : String(plain(value));
  // Python's str.splitlines() after appending a newline: a trailing newline survives, unindented.
  const lines = `${text}\n`.split(/\r\n|\r|\n/).slice(0, -1);
  let result: string;
  if (blank === true) {
    result = lines.join(`\n${indention}`);
  } else {
    const [head = '', ...rest] = lines;
    result = head;
    if (rest.length > 0) result += `\n${rest.map((line) => (line ? indention + line : line)).join('\n')}`;
  }
  return first === true ? indention + result : result;
}

function dumpYaml(value: unknown, indent: number): string {
  return yaml.dump(plain(value) ?? null, { indent, lineWidth: -1, noRefs: true, skipInvalid: true });
}

/** Ansible `to_yaml`: block YAML (ends with a newline); only safe inline when followed by `indent`. */
function toYamlFilter(value: unknown): string {
  return dumpYaml(value, 2);
}

/** Ansible `to_nice_yaml`, with an indent of 2 and no line folding. */
function toNiceYamlFilter(value: unknown, ...args: unknown[]): string {
  const { positional, keywords } = splitArgs(args);
  const indent = Number(positional[0] ?? keywords.indent ?? 2);
  return dumpYaml(value, indent);
}

/** `yaml`, `json`, `to_json`: one line of JSON that is safe after `key: `. */
function inlineYamlFilter(value: unknown): string {
  return toInlineYaml(plain(value));
}

function requireString(filter: string, value: unknown): string {
  const v = plain(value);
  if (v === undefined || v === null) throw new Error(`${filter}: the value is undefined or null`);
  return String(v);
}

function b64encodeFilter(value: unknown): string {
  return Buffer.from(requireString('b64encode', value), 'utf8').toString('base64');
}

function b64decodeFilter(value: unknown): string {
  return Buffer.from(requireString('b64decode', value), 'base64').toString('utf8');
}

/** Ansible `version` test / `version_compare` filter: `value is version('1.25.0', '>=')`. */
function versionTest(value: unknown, ...args: unknown[]): boolean {
  const { positional, keywords } = splitArgs(args);
  const other = positional[0] ?? keywords.version;
  const operator = positional[1] ?? keywords.operator ?? 'eq';
  return versionSatisfies(requireString('version', value), requireString('version', other), String(operator));
}

/** The original's "is defined and is not none". */
export function definedNotNone(value: unknown): boolean {
  return value !== undefined && value !== null;
}

export const FILTERS: Record<string, (value: unknown, ...args: unknown[]) => unknown> = {
  default: defaultFilter,
  d: defaultFilter,
  indent: indentFilter,
  to_yaml: toYamlFilter,
  to_nice_yaml: toNiceYamlFilter,
  yaml: inlineYamlFilter,
  json: inlineYamlFilter,
  to_json: inlineYamlFilter,
  b64encode: b64encodeFilter,
  b64decode: b64decodeFilter,
  version_compare: versionTest,
  version: versionTest,
};

export const TESTS: Record<string, (value: unknown, ...args: unknown[]) => boolean> = {
  version: versionTest,
  version_compare: versionTest,
  defined_not_none: definedNotNone,
  truthy: pythonTruthy,
};
