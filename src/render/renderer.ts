/**
 * Renders one role's template folder into Kubernetes objects. Every `*.yaml.njk` and `*.yaml` file
 * directly in `<templatesRoot>/<folder>` is a template, rendered in lexical (code point) order.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type nunjucks from 'nunjucks';
import { createEnvironment } from './environment.js';
import { RenderError } from './errors.js';
import type { ManifestObject } from './manifests.js';
import { parseManifests } from './manifests.js';

interface RenderedObject {
  /** `folder/file`, relative to the templates root. */
  template: string;
  /** Position of the object among the objects of its template, from 0. */
  index: number;
  object: ManifestObject;
}

export interface Renderer {
  renderFolder(folder: string, context: object): RenderedObject[];
  /** The template files of a folder, as `folder/file`, in render order. */
  listTemplates(folder: string): string[];
}

const TEMPLATE_FILE = /\.yaml(\.njk)?$/;

interface NunjucksError extends Error {
  lineno?: number;
  colno?: number;
  cause?: unknown;
}

/** Nunjucks's own message without its `(path) [Line n, Column m]` prefix. */
function nunjucksReason(error: NunjucksError): string {
  return error.message
    .replace(/^\([^)]*\)(?: \[Line \d+(?:, Column \d+)?\])?\n\s*/, '')
    .replace(/^Error: /, '');
}

/** Nunjucks gives no position for an unknown filter; the first line using it is the likely culprit. */
function unknownFilterLine(templatesRoot: string, template: string, reason: string): number | undefined {
  const filter = /^filter not found: (\w+)/.exec(reason)?.[1];
  if (filter === undefined) return undefined;
  try {
    const lines = readFileSync(join(templatesRoot, template), 'utf8').split('\n');
    const index = lines.findIndex((line) => new RegExp(`\\|\\s*${filter}\\b`).test(line));
    return index < 0 ? undefined : index + 1;
  } catch {
    return undefined;
  }
}

/**
 * Nunjucks reports parse errors with 1-based lines but runtime errors (which carry a `cause`)
 * with 0-based ones, and 0/0 when it never tracked a position.
 */
function nunjucksLine(error: NunjucksError): number | undefined {
  const { lineno, colno } = error;
  if (typeof lineno !== 'number') return undefined;
  if (error.cause !== undefined) return lineno === 0 && !colno ? undefined : lineno + 1;
  return lineno > 0 ? lineno : undefined;
}

function renderTemplate(env: nunjucks.Environment, root: string, template: string, context: object): string {
  try {
    return env.render(template, context);
  } catch (error) {
    if (error instanceof Error) {
      const nj = error as NunjucksError;
      const reason = nunjucksReason(nj);
      const line = nunjucksLine(nj) ?? unknownFilterLine(root, template, reason);
      throw new RenderError(template, 'template', reason, line);
    }
    throw new RenderError(template, 'template', String(error));
  }
}

export function createRenderer(templatesRoot: string): Renderer {
  const env = createEnvironment(templatesRoot);

  function listTemplates(folderPath: string): string[] {
    const folder = folderPath.replace(/\/+$/, '');
    let names: string[];
    try {
      names = readdirSync(join(templatesRoot, folder), { withFileTypes: true })
        .filter((entry) => entry.isFile() && TEMPLATE_FILE.test(entry.name))
        .map((entry) => entry.name);
    } catch (error) {
      const reason = error instanceof Error ? error.message : String(error);
      throw new RenderError(folder, 'template', `cannot read the template folder: ${reason}`);
    }
    return names.sort((a, b) => (a < b ? -1 : a > b ? 1 : 0)).map((name) => `${folder}/${name}`);
  }

  function renderFolder(folder: string, context: object): RenderedObject[] {
    const rendered: RenderedObject[] = [];
    for (const template of listTemplates(folder)) {
      const text = renderTemplate(env, templatesRoot, template, context);
      parseManifests(text, template).forEach((object, index) => rendered.push({ template, index, object }));
    }
    return rendered;
  }

  return { renderFolder, listTemplates };
}
