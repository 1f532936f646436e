import { describe, expect, it } from '@jest/globals';
import yaml from 'js-yaml';
import { createEnvironment } from '../../../src/render/environment.js';

const env = createEnvironment(null);
const render = (source: string, context: object = {}): string => env.renderString(source, context);

describe('Jinja2 default semantics', () => {
  it('replaces only undefined values', () => {
    expect(render('{{ missing | default("d") }}')).toBe('d');
    expect(render('{{ v | default("d") | yaml }}', { v: null })).toBe('null');
    expect(render('{{ v | default("d") | yaml }}', { v: '' })).toBe('""');
    expect(render('{{ v | default("d") | yaml }}', { v: 0 })).toBe('0');
    expect(render('{{ v | default("d") | yaml }}', { v: false })).toBe('false');
  });

  it('with boolean=true also replaces Python-falsy values, including empty lists and maps', () => {
    for (const v of [null, '', 0, false, [], {}]) {
      expect(render('{{ v | default("d", true) }}', { v })).toBe('d');
    }
    expect(render('{{ v | default("d", boolean=true) }}', { v: [] })).toBe('d');
    expect(render('{{ v | default("d", true) | yaml }}', { v: [1] })).toBe('[1]');
    expect(render('{{ v | default("d", true) }}', { v: '0' })).toBe('0');
  });

  it('keeps chained access on undefined parents undefined, like Ansible', () => {
    expect(render('{{ a.b.c.d | default("deep") }}')).toBe('deep');
    expect(render('{{ a.b.c.d | default("deep") }}', { a: { b: null } })).toBe('deep');
  });

  it('tests defined_not_none', () => {
    const out = render(
      '{{ a is defined_not_none }} {{ b is defined_not_none }} {{ c is defined_not_none }} {{ defined_not_none(d) }}',
      {
        a: {},
        b: null,
        d: [],
      },
    );
    expect(out).toBe('true false false true');
  });

  it('knows the Python constants', () => {
    expect(render('{{ True }} {{ False }} {{ None | yaml }}')).toBe('true false null');
  });
});

describe('indent', () => {
  it('does not indent the first line or blank lines by default, and keeps a trailing newline', () => {
    expect(render('{{ s | indent(2) }}', { s: 'a\nb\n\nc\n' })).toBe('a\n  b\n\n  c\n');
  });

  it('defaults to 4 spaces', () => {
    expect(render('{{ s | indent }}', { s: 'a\nb' })).toBe('a\n    b');
  });

  it('indents the first line with first=true and blank lines with blank=true', () => {
    expect(render('{{ s | indent(2, first=true) }}', { s: 'a\n\nb' })).toBe('  a\n\n  b');
    expect(render('{{ s | indent(2, true, true) }}', { s: 'a\n\nb' })).toBe('  a\n  \n  b');
  });

  it('accepts a string as the indentation', () => {
    expect(render('{{ s | indent("> ") }}', { s: 'a\nb' })).toBe('a\n> b');
  });
});

describe('YAML and JSON serializers', () => {
  const value = { b: [1, { c: 'yes' }], d: 'x\ny', e: null };

  it('to_nice_yaml writes block YAML with an indent of 2 that round-trips', () => {
    const out = render('{{ v | to_nice_yaml }}', { v: value });
    expect(out).toContain('\n  - 1\n');
    expect(yaml.load(out)).toEqual(value);
  });

  it('to_nice_yaml does not fold long lines', () => {
    const long = 'word '.repeat(60).trim();
    const out = render('{{ v | to_nice_yaml }}', { v: { long } });
    expect(out.trim().split('\n')).toHaveLength(1);
    expect(yaml.load(out)).toEqual({ long });
  });

  it('to_nice_yaml | indent nests under a key', () => {
    const out = render('spec:\n  x:\n    {{ v | to_nice_yaml | indent(4) }}', { v: value });
    expect(yaml.load(out)).toEqual({ spec: { x: value } });
  });

  it('to_yaml round-trips and quotes YAML 1.1 booleans', () => {
    const out = render('{{ v | to_yaml }}', { v: { a: 'on', b: 'no' } });
    expect(out).toContain("'on'");
    expect(yaml.load(out)).toEqual({ a: 'on', b: 'no' });
  });

  it('json and to_json write one line of JSON', () => {
    expect(JSON.parse(render('{{ v | json }}', { v: value }))).toEqual(value);
    expect(render('{{ v | to_json }}', { v: value })).not.toContain('\n');
  });
});

describe('string filters', () => {
  it('replace replaces every occurrence, or the first count ones', () => {
    expect(render("{{ 'v1.2.3' | replace('v', '') }}")).toBe('1.2.3');
    expect(render("{{ 'aaa' | replace('a', 'b', 2) }}")).toBe('bba');
  });

  it('b64encode and b64decode are UTF-8 base64 and inverse', () => {
    expect(render('{{ s | b64encode }}', { s: 'héllo: x' })).toBe(Buffer.from('héllo: x').toString('base64'));
    expect(render('{{ s | b64encode | b64decode }}', { s: 'héllo\nworld' })).toBe('héllo\nworld');
  });

  it('b64encode refuses an undefined value instead of writing an empty string', () => {
    expect(() => render('{{ missing | b64encode }}')).toThrow(/b64encode/);
  });
});

describe('version test and version_compare', () => {
  it('compares loosely, ignoring a leading v and vendor suffixes', () => {
    expect(render("{{ 'v1.34.4-eks.1' is version('1.25.0', '>=') }}")).toBe('true');
    expect(render("{{ 'v1.24.17+k3s1' is version('1.25.0', '>=') }}")).toBe('false');
    expect(render("{{ 'v1.25.0' is version('1.25.0', 'ge') }}")).toBe('true');
    expect(render("{{ 'v1.9.0' is version('1.10.0', '<') }}")).toBe('true');
  });

  it('defaults to equality', () => {
    expect(render("{{ 'v1.25' is version('1.25.0') }}")).toBe('true');
    expect(render("{{ 'v1.25.1' is version('1.25.0') }}")).toBe('false');
  });

  it('works as a filter', () => {
    expect(render("{{ k | version_compare('1.25.0', 'lt') }}", { k: 'v1.24.0' })).toBe('true');
  });

  it('works inside if', () => {
    const source = "{% if k is version('1.25.0', '>=') %}policy/v1{% else %}policy/v1beta1{% endif %}";
    expect(render(source, { k: 'v1.34.4' })).toBe('policy/v1');
    expect(render(source, { k: 'v1.23.7' })).toBe('policy/v1beta1');
  });

  it('rejects an unknown operator', () => {
    expect(() => render("{{ '1.0' is version('1.0', '~=') }}")).toThrow(/operator/);
  });
});

describe('environment settings', () => {
  it('does not autoescape', () => {
    expect(render('{{ s }}', { s: '<a & "b">' })).toBe('<a & "b">');
  });

  it('trims and lstrips block tags', () => {
    expect(render('a:\n  {% if true %}\n  b: 1\n  {% endif %}\nc: 2\n')).toBe('a:\n  b: 1\nc: 2\n');
  });

  it('has an is truthy test with Python truthiness', () => {
    expect(render('{{ v is truthy }} {{ w is truthy }}', { v: [], w: { a: 1 } })).toBe('false true');
  });
});
