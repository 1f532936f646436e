/**
 * The repository explains itself: no file points at notes kept outside it. Every fact the code and the
 * tests rely on is in docs/ (original-installer.md, scrape.md, rules.md, prior-art.md), and comments
 * point there. The patterns are built from pieces so that this file does not match itself.
 */
import { describe, expect, it } from '@jest/globals';
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { projectRoot } from '../../src/paths.js';

const SKIPPED_DIRS = new Set(['node_modules', '.git', 'dist', 'coverage']);

const OUTSIDE = [
  ['shared', 'spec'].join('/'),
  ['facts', '§'].join(' '),
  ['rules', 'contract.md'].join('-'),
  ['scrape', 'contract.md'].join('-'),
];

function* files(dir: string): Generator<string> {
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    if (SKIPPED_DIRS.has(entry.name)) continue;
    const full = path.join(dir, entry.name);
    if (entry.isDirectory()) yield* files(full);
    else if (entry.isFile()) yield full;
  }
}

/** Every `file:line: text` where a pattern occurs (binary files skipped). */
function pointersOutside(root: string, patterns: readonly string[]): string[] {
  const found: string[] = [];
  for (const file of files(root)) {
    const bytes = readFileSync(file);
    if (bytes.includes(0)) continue;
    const text = bytes.toString('utf8');
    if (!patterns.some((p) => text.includes(p))) continue;
    for (const [i, line] of text.split('\n').entries())
      if (patterns.some((p) => line.includes(p)))
        found.push(`${path.relative(root, file)}:${i + 1}: ${line.trim().slice(0, 120)}`);
  }
  return found;
}

/** GitHub's anchor of a Markdown heading. */
function slug(heading: string): string {
  return heading
    .trim()
    .toLowerCase()
    .replace(/[^\p{L}\p{N}\s-]/gu, '')
    .replace(/\s/g, '-');
}

/** Every `docs/<file>.md#<anchor>` (or `(<file>.md#<anchor>` inside docs/) whose file exists and has no such heading. */
function brokenAnchors(root: string): string[] {
  const anchors = new Map<string, Set<string>>();
  const anchorsOf = (file: string): Set<string> | undefined => {
    if (!anchors.has(file)) {
      let text: string;
      try {
        text = readFileSync(path.join(root, 'docs', file), 'utf8');
      } catch {
        return undefined;
      }
      anchors.set(file, new Set([...text.matchAll(/^#+\s+(.*)$/gm)].map((m) => slug(m[1]!))));
    }
    return anchors.get(file);
  };
  const broken: string[] = [];
  for (const file of files(root)) {
    if (!/\.(ts|md|njk|yaml|json)$/.test(file)) continue;
    const text = readFileSync(file, 'utf8');
    const inDocs = path.relative(root, file).startsWith('docs' + path.sep);
    const re = inDocs ? /(?:docs\/|\()([\w-]+\.md)#([\w-]+)/g : /docs\/([\w-]+\.md)#([\w-]+)/g;
    for (const [, target, anchor] of text.matchAll(re)) {
      const known = anchorsOf(target!);
      if (known && !known.has(anchor!)) broken.push(`${path.relative(root, file)}: ${target}#${anchor}`);
    }
  }
  return broken;
}

describe('the repository stands alone', () => {
  it('no file points at notes outside the repository', () => {
    expect(pointersOutside(projectRoot(), OUTSIDE)).toEqual([]);
  });

  it('every pointer to a section of docs/ names a heading that exists', () => {
    expect(brokenAnchors(projectRoot())).toEqual([]);
  });

  it('the check finds such a pointer', () => {
    // The same walk over this test's own directory, with a pattern this file holds: it must be found.
    const hits = pointersOutside(path.join(projectRoot(), 'test', 'unit'), ["['rules', 'contract.md']"]);
    expect(hits.some((h) => h.startsWith('self-contained.test.ts:'))).toBe(true);
  });
});
