import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { RenderError } from '../../../src/render/errors.js';
import { createRenderer } from '../../../src/render/renderer.js';

let root: string;

function writeTemplates(folder: string, files: Record<string, string>): void {
  mkdirSync(join(root, folder), { recursive: true });
  for (const [name, text] of Object.entries(files)) writeFileSync(join(root, folder, name), text);
}

function renderError(folder: string, context: object = {}): RenderError {
  try {
    createRenderer(root).renderFolder(folder, context);
  } catch (error) {
    if (error instanceof RenderError) return error;
    throw error;
  }
  throw new Error(`rendering ${folder} did not fail`);
}

beforeAll(() => {
  root = mkdtempSync(join(tmpdir(), 'ks-render-'));
});

afterAll(() => {
  rmSync(root, { recursive: true, force: true });
});

describe('renderFolder', () => {
  it('renders *.yaml.njk and *.yaml in lexical order and ignores other files', () => {
    writeTemplates('order', {
      'b-second.yaml.njk': 'apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: {{ names.b | yaml }}\n',
      'a-first.yaml': 'apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: {{ names.a | yaml }}\n',
      'README.md': 'not a template {{',
      'c.njk': 'apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: ignored\n',
    });
    const rendered = createRenderer(root).renderFolder('order', { names: { a: 'first', b: 'second' } });
    expect(rendered.map((r) => [r.template, r.index, r.object.metadata.name])).toEqual([
      ['order/a-first.yaml', 0, 'first'],
      ['order/b-second.yaml.njk', 0, 'second'],
    ]);
  });

  it('splits multi-document streams, drops empty documents and numbers objects per template', () => {
    writeTemplates('multi', {
      'objects.yaml.njk': [
        '---',
        '# only a comment',
        '---',
        'apiVersion: v1',
        'kind: ServiceAccount',
        'metadata: {name: one}',
        '---',
        '{% if false %}',
        'apiVersion: v1',
        'kind: ServiceAccount',
        'metadata: {name: skipped}',
        '{% endif %}',
        '---',
        'apiVersion: v1',
        'kind: ServiceAccount',
        'metadata: {name: two}',
        '',
      ].join('\n'),
    });
    const rendered = createRenderer(root).renderFolder('multi', {});
    expect(rendered.map((r) => [r.index, r.object.metadata.name])).toEqual([
      [0, 'one'],
      [1, 'two'],
    ]);
  });

  it('expands kind: List and *List items', () => {
    writeTemplates('lists', {
      'list.yaml': [
        'apiVersion: v1',
        'kind: List',
        'items:',
        '- {apiVersion: v1, kind: ConfigMap, metadata: {name: a}}',
        '- {apiVersion: v1, kind: ConfigMap, metadata: {name: b}}',
        '---',
        'apiVersion: v1',
        'kind: ConfigMapList',
        'items:',
        '- {apiVersion: v1, kind: ConfigMap, metadata: {name: c}}',
      ].join('\n'),
    });
    const rendered = createRenderer(root).renderFolder('lists', {});
    expect(rendered.map((r) => [r.index, r.object.kind, r.object.metadata.name])).toEqual([
      [0, 'ConfigMap', 'a'],
      [1, 'ConfigMap', 'b'],
      [2, 'ConfigMap', 'c'],
    ]);
  });

  it('reads YAML 1.2 core schema: a bare = is a string, dates and yes stay strings', () => {
    writeTemplates('core', {
      'crd.yaml': [
        'apiVersion: v1',
        'kind: ConfigMap',
        'metadata: {name: core}',
        'data:',
        '  enum:',
        '  - =',
        '  - "!="',
        '  - =~',
        '  date: 2024-01-01',
        '  word: yes',
      ].join('\n'),
    });
    const [rendered] = createRenderer(root).renderFolder('core', {});
    expect(rendered?.object.data).toEqual({ enum: ['=', '!=', '=~'], date: '2024-01-01', word: 'yes' });
  });

  it('keeps a hostile value one string through the yaml filter', () => {
    writeTemplates('hostile', {
      'cm.yaml.njk': [
        'apiVersion: v1',
        'kind: ConfigMap',
        'metadata:',
        '  name: hostile',
        '  labels: {{ labels | yaml }}',
        'data:',
        '  value: {{ value | yaml }}',
        '  list: {{ list | yaml }}',
        '  number: {{ number | yaml }}',
        '',
      ].join('\n'),
    });
    const value = 'x\nkind: Secret\nmetadata: {name: evil}  # comment\n---\napiVersion: v1\n\u2028"\'\\ yes';
    const labels = { 'a: b': 'c\n- d', on: 'off' };
    const list = ['=', 'yes', '1e3', '#', '- x', { 'k: v': null }];
    const rendered = createRenderer(root).renderFolder('hostile', { value, labels, list, number: 12.5 });
    expect(rendered).toHaveLength(1);
    expect(rendered[0]?.object.kind).toBe('ConfigMap');
    expect(rendered[0]?.object.metadata.labels).toEqual(labels);
    expect(rendered[0]?.object.data).toEqual({ value, list, number: 12.5 });
  });

  it('reports a nunjucks error with the template and its line', () => {
    writeTemplates('bad-template', {
      'broken.yaml.njk': 'apiVersion: v1\nkind: ConfigMap\n{% if %}\n',
    });
    const error = renderError('bad-template');
    expect(error.template).toBe('bad-template/broken.yaml.njk');
    expect(error.stage).toBe('template');
    expect(error.line).toBe(3);
    expect(error.message).toMatch(/^bad-template\/broken\.yaml\.njk:3: /);
  });

  it('reports a runtime template error with its 1-based line', () => {
    writeTemplates('bad-call', {
      'call.yaml.njk': 'a: 1\nb: 2\nc: {{ missing.split(",") | yaml }}\n',
    });
    const error = renderError('bad-call');
    expect(error.line).toBe(3);
    expect(error.message).toContain('bad-call/call.yaml.njk:3');
    expect(error.message).toContain('missing');
  });

  it('reports an unknown filter with the line that uses it', () => {
    writeTemplates('bad-filter', { 'f.yaml.njk': 'a: 1\nb: {{ y | nofilter }}\n' });
    const error = renderError('bad-filter');
    expect(error.line).toBe(2);
    expect(error.message).toBe('bad-filter/f.yaml.njk:2: filter not found: nofilter');
  });

  it('reports invalid YAML with the line of the rendered output', () => {
    writeTemplates('bad-yaml', {
      'dup.yaml.njk': 'apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: x\n  name: y\n',
    });
    const error = renderError('bad-yaml');
    expect(error.template).toBe('bad-yaml/dup.yaml.njk');
    expect(error.stage).toBe('yaml');
    expect(error.line).toBe(5);
    expect(error.message).toMatch(/duplicated mapping key/);
    expect(error.message).toContain('name: y');
  });

  it('reports an object without apiVersion, kind or metadata.name', () => {
    writeTemplates('bad-object', {
      'cm.yaml': 'apiVersion: v1\nkind: ConfigMap\nmetadata:\n  namespace: x\n',
    });
    const error = renderError('bad-object');
    expect(error.stage).toBe('object');
    expect(error.message).toContain('bad-object/cm.yaml');
    expect(error.message).toMatch(/kind ConfigMap.*metadata\.name/);

    writeTemplates('bad-item', {
      'list.yaml': 'apiVersion: v1\nkind: List\nitems:\n- {kind: ConfigMap, metadata: {name: a}}\n',
    });
    expect(renderError('bad-item').message).toMatch(/item 1.*apiVersion/);

    writeTemplates('bad-scalar', { 'scalar.yaml': 'just a string\n' });
    expect(renderError('bad-scalar').message).toMatch(/not a mapping/);
  });

  it('reports a missing folder', () => {
    const error = renderError('no-such-folder');
    expect(error.template).toBe('no-such-folder');
    expect(error.message).toMatch(/cannot read the template folder/);
  });

  it('lists the templates of a folder in render order', () => {
    writeTemplates('listing', { 'b.yaml': '', 'a.yaml.njk': '', 'B.yaml': '', 'x.txt': '' });
    expect(createRenderer(root).listTemplates('listing/')).toEqual([
      'listing/B.yaml',
      'listing/a.yaml.njk',
      'listing/b.yaml',
    ]);
  });
});

describe('dashboard_files', () => {
  it("gives a folder's JSON files by name, text unchanged (braces too), without its SOURCE.json", () => {
    writeTemplates('data/boards', {
      'b.json': '{"title": "B", "legend": "{{pod}}"}\n',
      'a.json': '{"title": "A"}\n',
      'SOURCE.json': '{"about": "provenance"}\n',
      'notes.md': 'not data',
    });
    writeTemplates('uses', {
      'maps.yaml.njk': [
        "{% for d in dashboard_files('data/boards') %}",
        '---',
        'apiVersion: v1',
        'kind: ConfigMap',
        'metadata:',
        "  name: {{ ('board-' + d.name) | yaml }}",
        'data:',
        '  {{ d.file | yaml }}: {{ d.content | yaml }}',
        '{% endfor %}',
        '',
      ].join('\n'),
    });
    const rendered = createRenderer(root).renderFolder('uses', {});
    expect(rendered.map((r) => [r.object.metadata.name, r.object.data])).toEqual([
      ['board-a', { 'a.json': '{"title": "A"}\n' }],
      ['board-b', { 'b.json': '{"title": "B", "legend": "{{pod}}"}\n' }],
    ]);
  });
});
