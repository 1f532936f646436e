/**
 * The one serializer a template uses to print a value: any value (scalar, map, list) becomes one
 * line of JSON, which is also valid YAML and can stand after `key: ` or `- ` without ever changing
 * the structure around it. Strings are always quoted, so `yes`, `on`, `1e3`, `=`, `a: b` or
 * `x # y` stay strings, and a newline stays inside its string.
 */

/**
 * Characters that JSON leaves raw but some YAML readers treat as line breaks or reject as
 * non-printable: DEL and C1 controls (U+0085 is a line break in YAML 1.1), the Unicode line and
 * paragraph separators, the byte order mark and the two non-characters.
 */
const UNSAFE_CHARS = /[\u007f-\u009f\u2028\u2029\ufeff\ufffe\uffff]/g;

function escapeChar(char: string): string {
  return `\\u${char.charCodeAt(0).toString(16).padStart(4, '0')}`;
}

function replacer(this: unknown, key: string, value: unknown): unknown {
  if (typeof value === 'function') {
    throw new Error(`cannot serialize a function${key ? ` at key ${JSON.stringify(key)}` : ''}`);
  }
  if (typeof value === 'bigint') return value.toString();
  if (typeof value === 'number' && !Number.isFinite(value)) {
    throw new Error(
      `cannot serialize the number ${String(value)}${key ? ` at key ${JSON.stringify(key)}` : ''}`,
    );
  }
  return value;
}

/** Serializes a value as single-line YAML (JSON); `undefined` becomes `null`. */
export function toInlineYaml(value: unknown): string {
  const json = JSON.stringify(value === undefined ? null : value, replacer);
  return (json ?? 'null').replace(UNSAFE_CHARS, escapeChar);
}
