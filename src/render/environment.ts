/**
 * The Nunjucks environment the role templates render in: Jinja2-like settings (no autoescape,
 * trim/lstrip blocks, undefined values print empty and chained access on them stays undefined,
 * like Ansible) plus the filters and tests of ./filters.ts.
 */
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
  return env;
}
