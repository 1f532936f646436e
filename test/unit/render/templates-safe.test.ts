import { describe, expect, it } from '@jest/globals';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { scanOutputs } from '../../../tools/render-safety.js';

const TEMPLATES = fileURLToPath(new URL('../../../templates', import.meta.url));

function templateFiles(dir: string): string[] {
  if (!existsSync(dir)) return [];
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) return templateFiles(path);
    return /\.(njk|yaml|yml)$/.test(entry.name) ? [path] : [];
  });
}

describe('templates', () => {
  it('print every value through a safe serializer', () => {
    const unsafe = templateFiles(TEMPLATES).flatMap((file) =>
      scanOutputs(readFileSync(file, 'utf8'))
        .filter((output) => !output.safe)
        .map((output) => `${relative(TEMPLATES, file)}:${output.line}: ${output.expression}`),
    );
    expect(unsafe).toEqual([]);
  });
});
