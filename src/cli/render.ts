/**
 * `ks-installer render -f <cc.yaml> [--nodes N] [--kubernetes-version vX.Y.Z] [--live objects.yaml]
 * [--api-versions group/version,...]`:
 * prints, offline, every manifest a run would apply, as one YAML stream in apply order. Facts come
 * from the flags; carry-over reads the live PVC, Prometheus and Secrets from --live. The same plan
 * code as `run` makes the list, so what this prints is what a run applies.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import yaml from 'js-yaml';
import { GLOBAL_RULE_GROUP, liveToggles } from '../alerts/builtin.js';
import type { ClusterFacts, LiveFacts } from '../config/facts.js';
import { MONITORING_NAMESPACE } from '../config/values.js';
import { ETCD_CLIENT_CERTS_SECRET } from '../config/etcd.js';
import { liveSecurityContext } from '../config/prometheus-security.js';
import { PROMETHEUS_PVC } from '../installer/facts.js';
import { projectRoot } from '../installer/manifests.js';
import { makePlan } from '../installer/plan.js';
import { issueWebhookTls, WEBHOOK_SECRET } from '../installer/webhook-tls.js';
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

function servedFor(version: string): string[] {
  const minor = Number(/^v?\d+\.(\d+)/.exec(version)?.[1] ?? NaN);
  if (!Number.isFinite(minor)) throw new UsageError(`--kubernetes-version: "${version}" is not like v1.34.0`);
  return [
    'v1',
    'apps/v1',
    'rbac.authorization.k8s.io/v1',
    ...(minor >= 21 ? ['policy/v1'] : []),
    ...(minor < 25 ? ['policy/v1beta1'] : []),
  ];
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

function liveFacts(objects: KubeObject[]): { live: LiveFacts; webhook?: ClusterFacts['webhookTls'] } {
  const find = (kind: string, name: string) =>
    objects.find(
      (o) =>
        o.kind === kind &&
        o.metadata?.name === name &&
        (o.metadata.namespace ?? MONITORING_NAMESPACE) === MONITORING_NAMESPACE,
    ) as (KubeObject & Record<string, never>) | undefined;
  const live: LiveFacts = { etcdClientCertsSecret: find('Secret', ETCD_CLIENT_CERTS_SECRET) !== undefined };
  const pvc = find('PersistentVolumeClaim', PROMETHEUS_PVC) as
    { spec?: { resources?: { requests?: { storage?: string } } } } | undefined;
  if (pvc?.spec?.resources?.requests?.storage) live.prometheusPvcSize = pvc.spec.resources.requests.storage;
  const prom = find('Prometheus', 'k8s') as
    | {
        spec?: {
          retention?: string;
          nodeSelector?: Record<string, string>;
          securityContext?: Record<string, unknown>;
          storage?: { volumeClaimTemplate?: { spec?: { resources?: { requests?: { storage?: string } } } } };
        };
      }
    | undefined;
  if (prom?.spec?.retention) live.prometheusRetention = prom.spec.retention;
  if (prom?.spec?.nodeSelector) live.prometheusNodeSelector = prom.spec.nodeSelector;
  const securityContext = liveSecurityContext(prom);
  if (securityContext) live.prometheusSecurityContext = securityContext;
  const req = prom?.spec?.storage?.volumeClaimTemplate?.spec?.resources?.requests?.storage;
  if (req) live.prometheusStorageRequest = req;
  const groups = objects.filter((o) => o.kind === GLOBAL_RULE_GROUP);
  if (groups.length > 0)
    live.builtinAlertToggles = Object.fromEntries(groups.map((g) => [g.metadata.name, liveToggles(g)]));
  const secret = find('Secret', WEBHOOK_SECRET) as { data?: Record<string, string> } | undefined;
  const dec = (v?: string) => (v ? Buffer.from(v, 'base64').toString('utf8') : '');
  const webhook = secret?.data
    ? {
        caCert: dec(secret.data['ca.crt']),
        tlsCert: dec(secret.data['tls.crt']),
        tlsKey: dec(secret.data['tls.key']),
      }
    : undefined;
  return { live, webhook };
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
  const { live, webhook } = liveFacts(flags.live ? (readYamlDocs(flags.live) as KubeObject[]) : []);
  const facts: ClusterFacts = {
    nodeCount: nodes,
    kubernetesVersion: version,
    servedApiVersions: [...servedFor(version), ...apiVersions(flags['api-versions'])],
    live,
    webhookTls: webhook ?? (await issueWebhookTls()),
  };
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
