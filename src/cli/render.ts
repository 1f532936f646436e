/**
 * `ks-installer render -f <cc.yaml> [--nodes N] [--kubernetes-version vX.Y.Z] [--live objects.yaml]
 * [--api-versions group/version,...]`:
 * prints, offline, every manifest a run would apply, as one YAML stream in apply order. Facts come
 * from the flags and --live through the same extractor as a run (src/facts), and the same plan code
 * as `run` makes the list, so what this prints is what a run applies.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import yaml from 'js-yaml';
import { builtinApiVersions } from '../config/api-versions.js';
import { FileFactsSource } from '../facts/file.js';
import { projectRoot } from '../paths.js';
import { makePlan } from '../installer/plan/make-plan.js';
import type { KubeObject } from '../kube/client.js';
import { createRenderer } from '../render/renderer.js';
import { parseFlags, UsageError, type FlagSpec } from './flags.js';
import { loadWatches } from '../watches.js';

export const RENDER_FLAGS = {
  filename: { type: 'string', short: 'f', help: 'the ClusterConfiguration YAML (- for stdin)' },
  nodes: { type: 'string', default: '1', help: 'node count the replicas are picked from' },
  'kubernetes-version': {
    type: 'string',
    default: 'v1.34.0',
    help: 'API server version (picks API versions)',
  },
  live: {
    type: 'string',
    help: 'YAML of live objects carry-over reads (PVC, Prometheus k8s, Secrets, GlobalRuleGroups)',
  },
  'api-versions': {
    type: 'string',
    help: 'extra group versions the cluster serves, comma-separated, e.g. alerting.kubesphere.io/v2beta1 (built-in alerts as GlobalRuleGroups)',
  },
  help: { type: 'boolean', short: 'h', default: false, help: 'show this help' },
} satisfies Record<string, FlagSpec>;

function readYamlDocs(file: string): unknown[] {
  const text = readFileSync(file === '-' ? 0 : file, 'utf8');
  try {
    return yaml.loadAll(text).filter((d) => d != null);
  } catch (err) {
    throw new UsageError(`${file}: not valid YAML: ${(err as Error).message}`);
  }
}

/**
 * Like helm's --api-versions: what a cluster serves beyond the built-in groups. Offline, nothing else
 * is assumed, so without alerting.kubesphere.io/v2beta1 here the built-in alerts render as the
 * fallback PrometheusRules.
 */
function apiVersions(flag: string | undefined): string[] {
  const list = (flag ?? '')
    .split(',')
    .map((v) => v.trim())
    .filter(Boolean);
  const bad = list.find((v) => !/^([a-z0-9.-]+\/)?v\d+([a-z]+\d+)?$/.test(v));
  if (bad)
    throw new UsageError(
      `--api-versions: "${bad}" is not a group version like alerting.kubesphere.io/v2beta1`,
    );
  return list;
}

/** Returns the YAML stream; throws UsageError or PlanError for bad input. */
export async function render(argv: string[]): Promise<string> {
  const flags = parseFlags(argv, RENDER_FLAGS);
  if (!flags.filename) throw new UsageError('render needs -f <clusterconfiguration.yaml>');
  const docs = readYamlDocs(flags.filename) as KubeObject[];
  const cc = docs.find((d) => d.kind === 'ClusterConfiguration');
  if (!cc) throw new UsageError(`${flags.filename}: no ClusterConfiguration in the file`);
  const nodes = Number(flags.nodes);
  if (!Number.isInteger(nodes) || nodes < 0)
    throw new UsageError(`--nodes: "${flags.nodes}" is not a whole number`);
  const version = flags['kubernetes-version']!;
  if (!builtinApiVersions(version))
    throw new UsageError(`--kubernetes-version: "${version}" is not like v1.34.0`);
  const facts = await new FileFactsSource({
    nodeCount: nodes,
    kubernetesVersion: version,
    extraApiVersions: apiVersions(flags['api-versions']),
    liveObjects: flags.live ? (readYamlDocs(flags.live) as KubeObject[]) : [],
  }).gather();
  const root = projectRoot();
  const plan = await makePlan((cc.spec as Record<string, unknown>) ?? {}, facts, {
    renderer: createRenderer(path.join(root, 'templates')),
    crdsRoot: path.join(root, 'crds'),
    roles: (await loadWatches(root)).roles,
  });
  const out: string[] = [];
  for (const w of plan.warnings) out.push(`# warning ${w.type}: ${w.message.replace(/\n/g, ' ')}`);
  for (const rp of plan.roles) {
    if (rp.skip) {
      out.push(`# role ${rp.role.name}: skipped (${rp.skip})`);
      continue;
    }
    for (const m of rp.manifests) {
      out.push(
        `---\n# role: ${rp.role.name}, source: ${m.source}\n${yaml.dump(m.object, { noRefs: true, lineWidth: -1 })}`.trimEnd(),
      );
    }
  }
  return out.join('\n') + '\n';
}
