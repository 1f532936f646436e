/**
 * A static check that keeps templates injection-safe: every `{{ ... }}` output must end in a
 * serializer whose output cannot change the manifest's structure, whatever the value holds.
 *
 * Safe endings: `yaml`, `json`, `to_json`, `b64encode`, or `to_yaml`/`to_nice_yaml` followed by
 * `indent(...)`. A bare literal (`{{ '{{' }}`, `{{ 3 }}`) is safe too: no value reaches it.
 * `{# comments #}` and `{% raw %}`/`{% verbatim %}` blocks are skipped.
 */

export interface TemplateOutput {
  /** The expression as written, `{{ ... }}` included. */
  expression: string;
  /** 1-based line of the opening `{{`. */
  line: number;
  safe: boolean;
}

const SAFE_LAST_FILTERS = new Set(['yaml', 'json', 'to_json', 'b64encode']);
const BLOCK_YAML_FILTERS = new Set(['to_yaml', 'to_nice_yaml']);
const RAW_END = /\{%[-+]?\s*end(raw|verbatim)\s*[-+]?%\}/g;
const OPENERS: Record<string, string> = { '(': ')', '[': ']', '{': '}' };

/**
 * The characters of `text` from `from` on that stand outside string literals, each with the depth
 * of brackets open after it (a closer counts only when it matches the innermost opener).
 */
function* unquoted(text: string, from = 0): Generator<{ index: number; char: string; depth: number }> {
  const stack: string[] = [];
  let quote: string | undefined;
  for (let j = from; j < text.length; j += 1) {
    const char = text[j] as string;
    if (quote) {
      if (char === '\\') j += 1;
      else if (char === quote) quote = undefined;
      continue;
    }
    if (char === '"' || char === "'") {
      quote = char;
      continue;
    }
    if (OPENERS[char]) stack.push(OPENERS[char] as string);
    else if (char === stack[stack.length - 1]) stack.pop();
    yield { index: j, char, depth: stack.length };
  }
}

/** Index of `close` at or after `from`, outside string literals; the source length when missing. */
function findClose(source: string, from: number, close: string): number {
  for (const { index } of unquoted(source, from)) if (source.startsWith(close, index)) return index;
  return source.length;
}

/** Splits on `separator` outside strings and brackets. */
function splitTopLevel(text: string, separator: string): string[] {
  const parts: string[] = [];
  let start = 0;
  for (const { index, char, depth } of unquoted(text)) {
    if (char === separator && depth === 0) {
      parts.push(text.slice(start, index));
      start = index + 1;
    }
  }
  parts.push(text.slice(start));
  return parts.map((part) => part.trim());
}

function isLiteral(expression: string): boolean {
  return (
    /^'(?:[^'\\]|\\.)*'$/s.test(expression) ||
    /^"(?:[^"\\]|\\.)*"$/s.test(expression) ||
    /^-?\d+(?:\.\d+)?$/.test(expression) ||
    /^(?:true|false|none|null|True|False|None)$/.test(expression)
  );
}

/** Index just after the bracket group that opens at `start`, skipping string literals; -1 if unclosed. */
function groupEnd(text: string, start: number): number {
  for (const { index, depth } of unquoted(text, start)) if (depth === 0) return index + 1;
  return -1;
}

/** The filter name of `name` or `name(args)`; undefined when anything else follows. */
function filterName(segment: string): string | undefined {
  const match = /^([A-Za-z_]\w*)\s*/.exec(segment);
  if (!match) return undefined;
  const rest = segment.slice(match[0].length);
  if (rest === '') return match[1];
  return rest.startsWith('(') && groupEnd(rest, 0) === rest.length ? match[1] : undefined;
}

export function isSafeExpression(body: string): boolean {
  const expression = body.replace(/^[-+]/, '').replace(/-$/, '').trim();
  const segments = splitTopLevel(expression, '|');
  if (segments.length === 1) return isLiteral(expression);
  const last = filterName(segments[segments.length - 1] as string);
  if (last === undefined) return false;
  if (SAFE_LAST_FILTERS.has(last)) return true;
  if (last === 'indent' && segments.length >= 3) {
    const previous = filterName(segments[segments.length - 2] as string);
    return previous !== undefined && BLOCK_YAML_FILTERS.has(previous);
  }
  return false;
}

export function scanOutputs(source: string): TemplateOutput[] {
  const outputs: TemplateOutput[] = [];
  const lineAt = (index: number): number => source.slice(0, index).split('\n').length;
  let i = 0;
  while (i < source.length) {
    const next = source.indexOf('{', i);
    if (next < 0) break;
    const opener = source.slice(next, next + 2);
    if (opener === '{#') {
      const end = source.indexOf('#}', next + 2);
      i = end < 0 ? source.length : end + 2;
    } else if (opener === '{%') {
      const end = findClose(source, next + 2, '%}');
      const tag = /^[-+]?\s*(\w+)/.exec(source.slice(next + 2, end))?.[1];
      i = end + 2;
      if (tag === 'raw' || tag === 'verbatim') {
        RAW_END.lastIndex = i;
        const closing = RAW_END.exec(source);
        i = closing ? closing.index + closing[0].length : source.length;
      }
    } else if (opener === '{{') {
      const end = findClose(source, next + 2, '}}');
      outputs.push({
        expression: source.slice(next, Math.min(end + 2, source.length)),
        line: lineAt(next),
        safe: isSafeExpression(source.slice(next + 2, end)),
      });
      i = end + 2;
    } else {
      i = next + 1;
    }
  }
  return outputs;
}

/** The `{{ ... }}` expressions of a template whose output is not passed through a safe serializer. */
export function findUnsafeOutputs(templateSource: string): string[] {
  return scanOutputs(templateSource)
    .filter((output) => !output.safe)
    .map((output) => output.expression);
}
