import { describe, expect, it } from '@jest/globals';
import yaml from 'js-yaml';
import { toInlineYaml } from '../../../src/render/inline-yaml.js';
import { findUnsafeOutputs, scanOutputs } from '../../../tools/render-safety.js';

describe('toInlineYaml', () => {
  const hostile = [
    'plain',
    'yes',
    'on',
    'off',
    'no',
    '1e3',
    '0x10',
    '=',
    '~',
    'null',
    '',
    '- item',
    'a: b',
    'x # y',
    'line1\nline2: value\n---\n',
    '\u2028\u2029\u0085\ufeff\u007f',
    '"quoted" \'single\' \\backslash',
    '{{ not a template }}',
    '*anchor &ref !tag %directive @at `tick`',
  ];

  it.each(hostile)('keeps %j one string on one line', (value) => {
    const out = toInlineYaml(value);
    expect(out).not.toMatch(/[\n\r\u2028\u2029\u0085]/);
    expect(yaml.load(`key: ${out}\nother: 1\n`, { schema: yaml.CORE_SCHEMA })).toEqual({
      key: value,
      other: 1,
    });
  });

  it('serializes maps and lists as flow values that round-trip', () => {
    const value = { 'a: b': ['=', 'yes', { c: null, d: 1.5, e: true }], '#': {} };
    const out = toInlineYaml(value);
    expect(out).not.toContain('\n');
    expect(yaml.load(`- ${out}\n- next\n`, { schema: yaml.CORE_SCHEMA })).toEqual([value, 'next']);
  });

  it('writes numbers and booleans as such and undefined as null', () => {
    expect(toInlineYaml(3)).toBe('3');
    expect(toInlineYaml(false)).toBe('false');
    expect(toInlineYaml(undefined)).toBe('null');
  });

  it('refuses values YAML cannot carry', () => {
    expect(() => toInlineYaml(Number.NaN)).toThrow(/NaN/);
    expect(() => toInlineYaml({ f: () => 1 })).toThrow(/function/);
  });
});

describe('findUnsafeOutputs', () => {
  it('accepts the safe serializers as last filter', () => {
    const source = [
      'a: {{ a | yaml }}',
      'b: {{ b | default("x") | json }}',
      'c: {{- c | to_json -}}',
      'd: {{ d | b64encode }}',
      'e:',
      '  {{ e | to_nice_yaml | indent(2) }}',
      'f:',
      '  {{ f | to_yaml | indent(width=2, first=false) }}',
      "g: {{ g | default({'k': 'v|w'}) | yaml }}",
    ].join('\n');
    expect(findUnsafeOutputs(source)).toEqual([]);
  });

  it('lists outputs that a value could break', () => {
    const source = [
      'a: {{ a }}',
      'b: "{{ b | default("x") }}"',
      'c: {{ c | to_nice_yaml }}',
      'd: {{ d | indent(2) }}',
      'e: {{ e | yaml | replace("a", "b") }}',
      'f: {{ f | yaml if x else g }}',
      'g: {{ to_nice_yaml | indent(2) }}',
      'h: {{ h | yaml(1) + 1 }}',
    ].join('\n');
    expect(findUnsafeOutputs(source)).toEqual([
      '{{ a }}',
      '{{ b | default("x") }}',
      '{{ c | to_nice_yaml }}',
      '{{ d | indent(2) }}',
      '{{ e | yaml | replace("a", "b") }}',
      '{{ f | yaml if x else g }}',
      '{{ to_nice_yaml | indent(2) }}',
      '{{ h | yaml(1) + 1 }}',
    ]);
  });

  it('accepts bare literals and skips comments and raw blocks', () => {
    const source = [
      '{{ \'{{\' }} {{ 3 }} {{ "}}" }}',
      '{# {{ commented }} #}',
      '{% raw %}summary: {{ $labels.instance }}{% endraw %}',
      '{%- raw -%}{{ $value }}{%- endraw -%}',
      '{% if x %}{{ y }}{% endif %}',
    ].join('\n');
    expect(scanOutputs(source).map((o) => [o.expression, o.line, o.safe])).toEqual([
      ["{{ '{{' }}", 1, true],
      ['{{ 3 }}', 1, true],
      ['{{ "}}" }}', 1, true],
      ['{{ y }}', 5, false],
    ]);
  });

  it('does not end an expression at a }} inside a string', () => {
    expect(findUnsafeOutputs("{{ x | default('}}') | yaml }} {{ z }}")).toEqual(['{{ z }}']);
  });
});
