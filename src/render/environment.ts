/**
 * The Nunjucks environment the role templates render in: Jinja2-like settings (no autoescape,
 * trim/lstrip blocks, undefined values print empty and chained access on them stays undefined,
 * like Ansible) plus the filters and tests of ./filters.ts, and `dashboard_files(folder)`.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import nunjucks from 'nunjucks';
import { MANAGED_BY_VALUE } from '../config/ownership.js';
import { definedNotNone, FILTERS, TESTS } from './filters.js';
import { fixMultiArgumentTests } from './nunjucks-fixes.js';

export function createEnvironment(templatesRoot: string | null): nunjucks.Environment {
  fixMultiArgumentTests();
  const loader =
    templatesRoot === null ? null : new nunjucks.FileSystemLoader(templatesRoot, { watch: false });
  const env = new nunjucks.Environment(loader, {
    autoescape: false,
    trimBlocks: true,
    lstripBlocks: true,
    throwOnUndefined: false,
    // Keep nunjucks's own error objects (line and column) instead of flattened copies.
    dev: true,
  });
  for (const [name, filter] of Object.entries(FILTERS)) env.addFilter(name, filter);
  // addTest exists at runtime but is missing from @types/nunjucks 3.2.6.
  const withTests = env as nunjucks.Environment & {
    addTest(name: string, test: (...args: never[]) => boolean): void;
  };
  for (const [name, test] of Object.entries(TESTS)) withTests.addTest(name, test);
  // Python spellings of the constants; nunjucks itself knows true/false/none/null.
  env.addGlobal('True', true);
  env.addGlobal('False', false);
  env.addGlobal('None', null);
  env.addGlobal('defined_not_none', definedNotNone);
  // Our managed-by label's value, for labels below an object's own (a pod template's); the object's
  // own labels are stamped after rendering (src/installer/plan/role-objects.ts).
  env.addGlobal('managed_by', MANAGED_BY_VALUE);
  env.addGlobal('dashboard_files', (folder: string) =>
    templatesRoot === null ? [] : dashboardFiles(templatesRoot, folder),
  );
  return env;
}

/** A generated file a template ships as data (a Grafana dashboard): its name without `.json`, file name, text. */
export interface DashboardFile {
  name: string;
  file: string;
  content: string;
}

/** The provenance record next to generated files: not data to ship. */
const PROVENANCE_FILE = 'SOURCE.json';
const dashboardCache = new Map<string, DashboardFile[]>();

/**
 * `dashboard_files('grafana/dashboards')`: the `*.json` files of a folder under the templates root except
 * its provenance record, by name, read once per process (they change only with the program).
 */
export function dashboardFiles(templatesRoot: string, folder: string): DashboardFile[] {
  const dir = join(templatesRoot, folder);
  const cached = dashboardCache.get(dir);
  if (cached) return cached;
  const files = readdirSync(dir)
    .filter((f) => f.endsWith('.json') && f !== PROVENANCE_FILE)
    .sort()
    .map((file) => ({
      name: file.slice(0, -'.json'.length),
      file,
      content: readFileSync(join(dir, file), 'utf8'),
    }));
  dashboardCache.set(dir, files);
  return files;
}
