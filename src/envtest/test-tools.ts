/**
 * The Prometheus tools the tests run for real, pinned to the releases the operator installs:
 * - promtool of Prometheus v2.39.1 (Go module github.com/prometheus/prometheus v0.39.1): `check rules`,
 *   `test rules`, `check config`;
 * - prometheus of the same release: the integration test runs the configuration prometheus-operator
 *   generates, to see the targets it discovers and the rule groups it loads;
 * - rules-eval (`test/tools/rules-eval`, ours): the same release's rules engine evaluating rule groups
 *   over a series file, every interval, each rule's output stored before the next one runs;
 * - prometheus-operator: v0.55.1 is what the operator installs, but the Go module proxy does not
 *   serve that version (403), so the tests build v0.55.0, the nearest one it serves.
 */
import { resolveGoTool, type GoToolSpec, type ResolvedTool } from './go-tools.js';

export const PROMETHEUS_MODULE_VERSION = 'v0.39.1';
export const PROMETHEUS_OPERATOR_TEST_VERSION = 'v0.55.0';

export const TEST_TOOLS = {
  promtool: {
    name: 'promtool',
    assetEnv: 'TEST_ASSET_PROMTOOL',
    module: 'github.com/prometheus/prometheus',
    version: PROMETHEUS_MODULE_VERSION,
    pkg: 'github.com/prometheus/prometheus/cmd/promtool',
    ldflags: '-X github.com/prometheus/common/version.Version=2.39.1',
  },
  prometheus: {
    name: 'prometheus',
    assetEnv: 'TEST_ASSET_PROMETHEUS',
    module: 'github.com/prometheus/prometheus',
    version: PROMETHEUS_MODULE_VERSION,
    pkg: 'github.com/prometheus/prometheus/cmd/prometheus',
    ldflags: '-X github.com/prometheus/common/version.Version=2.39.1',
  },
  'rules-eval': {
    name: 'rules-eval',
    assetEnv: 'TEST_ASSET_RULES_EVAL',
    localDir: 'test/tools/rules-eval',
    pkg: '.',
  },
  'prometheus-operator': {
    name: 'prometheus-operator',
    assetEnv: 'TEST_ASSET_PROMETHEUS_OPERATOR',
    module: 'github.com/prometheus-operator/prometheus-operator',
    version: PROMETHEUS_OPERATOR_TEST_VERSION,
    pkg: 'github.com/prometheus-operator/prometheus-operator/cmd/operator',
    ldflags: `-X github.com/prometheus/common/version.Version=${PROMETHEUS_OPERATOR_TEST_VERSION.slice(1)}`,
  },
} as const satisfies Record<string, GoToolSpec>;

export type TestToolName = keyof typeof TEST_TOOLS;

export function resolveTestTool(
  name: TestToolName,
  options: { env?: NodeJS.ProcessEnv; progress?: (line: string) => void } = {},
): Promise<ResolvedTool> {
  return resolveGoTool(TEST_TOOLS[name], options);
}

/** Resolves (building when needed) every test tool, one after another: builds share two cores. */
export async function resolveAllTestTools(
  options: { env?: NodeJS.ProcessEnv; progress?: (line: string) => void } = {},
): Promise<Record<TestToolName, string>> {
  const out = {} as Record<TestToolName, string>;
  for (const name of Object.keys(TEST_TOOLS) as TestToolName[]) {
    out[name] = (await resolveTestTool(name, options)).path;
  }
  return out;
}
