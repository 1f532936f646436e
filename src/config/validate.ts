/**
 * Validation of every ClusterConfiguration key the monitoring stack reads (docs/original-installer.md#keys), before any
 * value is resolved: each problem names the field, the bad value and the fix. `null` (and "" for
 * scalar keys) means "unset" everywhere and is never a problem.
 */
import { CONSOLE_PART_MAPPINGS, CONSOLE_PART_SWITCHES } from './console-parts.js';
import { CONTAINER_RESOURCES } from './defaults.js';
import { splitEndpointIps } from './etcd.js';
import {
  asNonNegativeInteger,
  dnsSubdomainReason,
  durationReason,
  endpointIpReason,
  imageRepositoryReason,
  imageTagReason,
  labelKeyReason,
  labelValueReason,
  portReason,
  quantityReason,
  registryNamespaceReason,
  registryReason,
} from './field-checks.js';
import {
  ALERTING_ENABLED_KEY,
  endpointReason,
  MONITORING_ENDPOINT_KEY,
  THANOS_RULER_REPLICAS_KEY,
} from './alerting.js';
import { IMAGE_NAMES } from './images.js';
import { PLACEMENT_ROOTS, placementKeys } from './placement.js';
import type { Placement } from './values.js';
import { STORAGE_CLASS_KEYS, VOLUME_SIZE_KEYS } from './prometheus-storage.js';
import type { FieldProblem } from './problems.js';
import { describeValue } from './problems.js';
import { resourceKeys } from './resources.js';
import {
  ADDITIONAL_SCRAPE_CONFIGS_KEY,
  additionalScrapeConfigsProblems,
  objectStorageProblems,
  REMOTE_WRITE_KEY,
  remoteWriteProblems,
  SHARDS_KEY,
  THANOS_ENABLED_KEY,
  THANOS_MAPPINGS,
  THANOS_OBJECT_STORAGE_KEY,
  THANOS_QUERY_REPLICAS_KEY,
  THANOS_RULER_REPLICAS_KEY as SHARDED_RULER_REPLICAS_KEY,
  THANOS_STORE_REPLICAS_KEY,
  type ScaleProblem,
} from './scale.js';
import { isMapping, isSetScalar, lookup } from './spec-path.js';

export type { FieldProblem } from './problems.js';
export { ConfigError } from './problems.js';

class SpecChecker {
  readonly problems: FieldProblem[] = [];
  private readonly reportedParents = new Set<string>();

  constructor(private readonly spec: Record<string, unknown>) {}

  /** The value at `path` (no `spec.` prefix); a parent that is not a mapping is reported once. */
  read(path: string): unknown {
    const { value, blockedAt } = lookup(this.spec, path);
    if (blockedAt !== undefined && !this.reportedParents.has(blockedAt)) {
      this.reportedParents.add(blockedAt);
      this.report(
        blockedAt,
        lookup(this.spec, blockedAt).value,
        'is not a mapping',
        `Write spec.${blockedAt} as a mapping of keys, or remove it.`,
      );
    }
    return value;
  }

  report(path: string, value: unknown, reason: string, fix: string): void {
    const field = `spec.${path}`;
    this.problems.push({ field, message: `${field}: ${describeValue(field, value)} ${reason}.`, fix });
  }

  /** Reports `reason(value)` when the value is set (not null, not ""). */
  check(path: string, reason: (value: unknown) => string | undefined, fix: string): unknown {
    const value = this.read(path);
    if (!isSetScalar(value)) return undefined;
    const why = reason(value);
    if (why !== undefined) this.report(path, value, why, fix);
    return value;
  }

  /** Reports a set value that is not a mapping; returns the mapping or undefined. */
  mapping(path: string, fix: string): Record<string, unknown> | undefined {
    const value = this.read(path);
    if (value === undefined || value === null) return undefined;
    if (isMapping(value)) return value;
    if (!this.reportedParents.has(path)) this.report(path, value, 'is not a mapping', fix);
    this.reportedParents.add(path);
    return undefined;
  }
}

function checkReplicas(v: SpecChecker): void {
  const keys: [string, string][] = [
    ['monitoring.prometheus.replicas', '1 below 3 nodes, else 2'],
    ['monitoring.prometheusReplicas', '1 below 3 nodes, else 2'],
    ['monitoring.alertmanager.replicas', '1 below 3 nodes, else 3'],
    ['monitoring.alertmanagerReplicas', '1 below 3 nodes, else 3'],
    ['monitoring.notification_manager.replicas', '1 below 3 nodes, else 2'],
    [THANOS_RULER_REPLICAS_KEY, '1 below 3 nodes, else 2'],
    [THANOS_QUERY_REPLICAS_KEY, '1 below 3 nodes, else 2'],
    [THANOS_STORE_REPLICAS_KEY, '1 below 3 nodes, else 2'],
    [SHARDED_RULER_REPLICAS_KEY, '1 below 3 nodes, else 2'],
  ];
  for (const [path, defaults] of keys) {
    v.check(
      path,
      (value) =>
        asNonNegativeInteger(value) === undefined ? 'is not a whole number of 0 or more' : undefined,
      `Set spec.${path} to a whole number such as 2, or remove it for the default (${defaults}).`,
    );
  }
}

function checkPrometheusStorage(v: SpecChecker): void {
  for (const path of VOLUME_SIZE_KEYS) {
    v.check(
      path,
      (value) => quantityReason(value, { positive: true }),
      `Set spec.${path} to a size such as 20Gi or 100Gi, or remove it for the default (20Gi).`,
    );
  }
  v.check(
    'monitoring.prometheus.retention',
    durationReason,
    'Set spec.monitoring.prometheus.retention to a Prometheus duration such as 7d, 12h, 1w or 30d12h, or remove it for the default (7d).',
  );
  for (const path of STORAGE_CLASS_KEYS) {
    v.check(
      path,
      (value) => (typeof value === 'string' ? dnsSubdomainReason(value) : 'is not a string'),
      `Set spec.${path} to the name of a StorageClass (kubectl get storageclass), or to "" for the cluster default.`,
    );
  }
}

function checkResources(v: SpecChecker): void {
  for (const { base, container } of Object.values(CONTAINER_RESOURCES)) {
    const groupFix = (path: string) =>
      `Write spec.${path} as a mapping with cpu and memory, e.g. {cpu: 500m, memory: 1Gi}.`;
    v.mapping(`${base}.resources`, `Write spec.${base}.resources as a mapping with limits and requests.`);
    for (const kind of ['limits', 'requests'] as const) {
      v.mapping(`${base}.resources.${kind}`, groupFix(`${base}.resources.${kind}`));
      v.mapping(`${base}.${kind}`, groupFix(`${base}.${kind}`));
      for (const resource of ['cpu', 'memory'] as const) {
        const example = resource === 'cpu' ? '500m or 1' : '512Mi or 2Gi';
        for (const path of resourceKeys(base, kind, resource)) {
          v.check(
            path,
            (value) => quantityReason(value),
            `Set spec.${path} to a Kubernetes quantity such as ${example} for the ${container} container, or remove it for the default.`,
          );
        }
      }
    }
  }
}

const TOLERATION_OPERATORS = ['Exists', 'Equal'];
const TAINT_EFFECTS = ['NoSchedule', 'PreferNoSchedule', 'NoExecute'];
const AFFINITY_KEYS = ['nodeAffinity', 'podAffinity', 'podAntiAffinity'];

function checkToleration(v: SpecChecker, path: string, item: unknown): void {
  if (!isMapping(item)) {
    v.report(
      path,
      item,
      'is not a mapping',
      `Write each toleration as a mapping, e.g. {key: dedicated, operator: Equal, value: monitoring, effect: NoSchedule}.`,
    );
    return;
  }
  const { key, operator, value, effect, tolerationSeconds } = item;
  if (key !== undefined && key !== null && typeof key !== 'string') {
    v.report(`${path}.key`, key, 'is not a string', `Quote the taint key in spec.${path}.key.`);
  } else if (typeof key === 'string' && key !== '' && labelKeyReason(key) !== undefined) {
    v.report(
      `${path}.key`,
      key,
      labelKeyReason(key)!,
      `Set spec.${path}.key to the taint key as kubectl describe node shows it, e.g. node-role.kubernetes.io/monitoring.`,
    );
  }
  if (isSetScalar(operator) && !TOLERATION_OPERATORS.includes(operator as string)) {
    v.report(
      `${path}.operator`,
      operator,
      'is not a toleration operator',
      `Set spec.${path}.operator to Exists or Equal.`,
    );
  }
  if (value !== undefined && value !== null && typeof value !== 'string') {
    v.report(`${path}.value`, value, 'is not a string', `Quote the taint value in spec.${path}.value.`);
  } else if (typeof value === 'string' && labelValueReason(value) !== undefined) {
    v.report(
      `${path}.value`,
      value,
      labelValueReason(value)!,
      `Set spec.${path}.value to the taint value as kubectl describe node shows it.`,
    );
  }
  if (operator === 'Exists' && isSetScalar(value)) {
    v.report(
      `${path}.value`,
      value,
      'is set although the operator is Exists',
      `Remove spec.${path}.value, or use operator Equal.`,
    );
  }
  if (isSetScalar(effect) && !TAINT_EFFECTS.includes(effect as string)) {
    v.report(
      `${path}.effect`,
      effect,
      'is not a taint effect',
      `Set spec.${path}.effect to NoSchedule, PreferNoSchedule or NoExecute, or remove it to match every effect.`,
    );
  }
  if (tolerationSeconds !== undefined && tolerationSeconds !== null && !Number.isInteger(tolerationSeconds)) {
    v.report(
      `${path}.tolerationSeconds`,
      tolerationSeconds,
      'is not a whole number',
      `Set spec.${path}.tolerationSeconds to a number of seconds.`,
    );
  }
}

/** Every key of the placement chains of `key` (`monitoring.X`, `metrics_server.X`, top-level `X`). */
function placementPaths(key: keyof Placement): string[] {
  return [...new Set(PLACEMENT_ROOTS.flatMap((root) => placementKeys(key, root)))];
}

function checkPlacement(v: SpecChecker): void {
  for (const path of placementPaths('nodeSelector')) {
    const selector = v.mapping(
      path,
      `Write spec.${path} as a mapping of node labels, e.g. {kubernetes.io/os: linux}.`,
    );
    for (const [label, value] of Object.entries(selector ?? {})) {
      const keyReason = labelKeyReason(label);
      if (keyReason !== undefined) {
        v.report(
          `${path}["${label}"]`,
          label,
          keyReason,
          `Use a node label key in spec.${path}, as kubectl get nodes --show-labels shows them, e.g. kubernetes.io/os.`,
        );
      }
      if (typeof value !== 'string') {
        v.report(
          `${path}["${label}"]`,
          value,
          'is not a string',
          `Quote the label value of ${label} in spec.${path}, e.g. "${String(value)}".`,
        );
      } else if (labelValueReason(value) !== undefined) {
        v.report(
          `${path}["${label}"]`,
          value,
          labelValueReason(value)!,
          `Set the label value of ${label} in spec.${path} to a node label value (kubectl get nodes --show-labels), or set spec.${path} to null.`,
        );
      }
    }
  }
  for (const path of placementPaths('tolerations')) {
    const tolerations = v.read(path);
    if (tolerations === undefined || tolerations === null) continue;
    if (!Array.isArray(tolerations)) {
      v.report(
        path,
        tolerations,
        'is not a list',
        `Write spec.${path} as a list of tolerations, or [] for none.`,
      );
      continue;
    }
    tolerations.forEach((item, index) => checkToleration(v, `${path}[${index}]`, item));
  }
  for (const path of placementPaths('affinity')) {
    const affinity = v.mapping(
      path,
      `Write spec.${path} as a Kubernetes affinity mapping (nodeAffinity, podAffinity, podAntiAffinity), or {} for none.`,
    );
    for (const [key, value] of Object.entries(affinity ?? {})) {
      if (!AFFINITY_KEYS.includes(key)) {
        v.report(
          `${path}.${key}`,
          value,
          'is not an affinity kind',
          `Use nodeAffinity, podAffinity or podAntiAffinity in spec.${path}.`,
        );
      } else if (value !== null && !isMapping(value)) {
        v.report(
          `${path}.${key}`,
          value,
          'is not a mapping',
          `Write spec.${path}.${key} as a Kubernetes ${key} mapping.`,
        );
      }
    }
  }
}

function checkEtcd(v: SpecChecker): void {
  for (const path of ['etcd.monitoring', 'etcd.tlsEnable']) {
    v.check(
      path,
      (value) => (typeof value === 'boolean' ? undefined : 'is not true or false'),
      `Set spec.${path} to true or false (without quotes).`,
    );
  }
  v.check('etcd.port', portReason, 'Set spec.etcd.port to the etcd client port, usually 2379.');
  if (v.read('etcd.monitoring') !== true) return;
  const path = 'etcd.endpointIps';
  const fix =
    'Set spec.etcd.endpointIps to the IP addresses of the etcd nodes (the node IPs, e.g. "192.168.0.2,192.168.0.3"); ' +
    'localhost and 127.0.0.1 cannot be used, Kubernetes refuses them in Endpoints.';
  const raw = v.read(path);
  if (
    Array.isArray(raw)
      ? raw.some((item) => typeof item !== 'string')
      : isSetScalar(raw) && typeof raw !== 'string'
  ) {
    v.report(path, raw, 'is not a comma-separated list of IP addresses', fix);
    return;
  }
  const addresses = splitEndpointIps(raw);
  if (addresses.length === 0) {
    v.report(path, raw, 'is empty, but etcd.monitoring is true', fix);
    return;
  }
  for (const address of addresses) {
    const reason = endpointIpReason(address);
    if (reason === undefined) continue;
    v.report(path, raw, address === raw ? reason : `has "${address}", which ${reason}`, fix);
  }
}

// Addition: metrics_server.enabled must be a boolean (the original compared it with `== true`, so a
// quoted "true" silently installed nothing).
function checkMetricsServer(v: SpecChecker): void {
  v.mapping('metrics_server', 'Write spec.metrics_server as a mapping, e.g. {enabled: true}, or remove it.');
  v.check(
    'metrics_server.enabled',
    (value) => (typeof value === 'boolean' ? undefined : 'is not true or false'),
    'Set spec.metrics_server.enabled to true or false (without quotes).',
  );
}

/** The values of common.monitoring.type: external, or the in-cluster stack (also when unset). */
const MONITORING_TYPES = ['external', 'internal'];

function checkSwitches(v: SpecChecker): void {
  v.check(
    'monitoring.node_exporter.port',
    portReason,
    'Set spec.monitoring.node_exporter.port to a free host port (1-65535), or remove it for the default (9100).',
  );
  // Correction: the original installed the in-cluster stack for any value but "external", so a typo
  // such as "externel" silently installed a second Prometheus; any other value is refused.
  v.check(
    'common.monitoring.type',
    (value) =>
      typeof value !== 'string'
        ? 'is not a string'
        : MONITORING_TYPES.includes(value)
          ? undefined
          : `is not a monitoring type (${MONITORING_TYPES.join(' or ')})`,
    'Set spec.common.monitoring.type to "external" to use an external Prometheus, or remove it (or set "internal") for the in-cluster stack.',
  );
}

// Addition: the alerting keys are checked (the original printed any value into the ThanosRuler, or
// skipped the module for "yes").
function checkAlerting(v: SpecChecker): void {
  v.mapping('alerting', 'Write spec.alerting as a mapping, e.g. {enabled: true}.');
  v.mapping(
    'alerting.thanosruler',
    'Write spec.alerting.thanosruler as a mapping with replicas and resources.',
  );
  v.check(
    ALERTING_ENABLED_KEY,
    (value) => (typeof value === 'boolean' ? undefined : 'is not true or false'),
    `Set spec.${ALERTING_ENABLED_KEY} to true or false (without quotes).`,
  );
  v.check(
    MONITORING_ENDPOINT_KEY,
    endpointReason,
    `Set spec.${MONITORING_ENDPOINT_KEY} to the Prometheus query endpoint, e.g. http://prometheus-operated.kubesphere-monitoring-system.svc:9090, or remove it for our Prometheus.`,
  );
}

/** The switches of GPU monitoring, the Istio monitors and Grafana, and the mappings holding them. */
function checkConsoleParts(v: SpecChecker): void {
  for (const path of CONSOLE_PART_MAPPINGS)
    v.mapping(path, `Write spec.${path} as a mapping of settings, e.g. {enabled: true}, or remove it.`);
  for (const path of CONSOLE_PART_SWITCHES) {
    v.check(
      path,
      (value) => (typeof value === 'boolean' ? undefined : 'is not true or false'),
      `Set spec.${path} to true or false (without quotes), or remove it (off).`,
    );
  }
}

function checkRegistry(v: SpecChecker): void {
  const stringFix: Record<string, string> = {
    local_registry:
      'Set spec.local_registry to a registry host such as "registry.example.com:5000", without http://.',
    zone: 'Set spec.zone to "cn" to pull from the Aliyun mirror, or remove it.',
    namespace_override:
      'Set spec.namespace_override to the registry namespace (organization) holding every image, e.g. "kubesphereio".',
  };
  for (const [path, fix] of Object.entries(stringFix)) {
    v.check(path, (value) => (typeof value === 'string' ? undefined : 'is not a string'), fix);
  }
  v.check(
    'local_registry',
    (value) => (typeof value === 'string' ? registryReason(value) : undefined),
    stringFix.local_registry as string,
  );
  v.check(
    'namespace_override',
    (value) => (typeof value === 'string' ? registryNamespaceReason(value) : undefined),
    stringFix.namespace_override as string,
  );
  for (const name of IMAGE_NAMES) {
    v.check(
      `${name}_repo`,
      imageRepositoryReason,
      `Set spec.${name}_repo to an image repository without tag, e.g. "registry.example.com/prom/prometheus", and the tag in spec.${name}_tag.`,
    );
    v.check(`${name}_tag`, imageTagReason, `Set spec.${name}_tag to an image tag in quotes, e.g. "v1.0.0".`);
  }
}

// Addition: shards, remote write, additional scrape configurations and Thanos (the original has none of
// these keys; docs/install.md#outgrowing-one-prometheus).
function checkScale(v: SpecChecker): void {
  const report = (problems: ScaleProblem[]) => {
    for (const p of problems) v.report(p.path, p.value, p.reason, p.fix);
  };
  for (const path of THANOS_MAPPINGS)
    v.mapping(path, `Write spec.${path} as a mapping of settings, e.g. {enabled: true}, or remove it.`);
  const thanosOn = v.check(
    THANOS_ENABLED_KEY,
    (value) => (typeof value === 'boolean' ? undefined : 'is not true or false'),
    `Set spec.${THANOS_ENABLED_KEY} to true or false (without quotes), or remove it (off).`,
  );
  const storage = v.read(THANOS_OBJECT_STORAGE_KEY);
  report(objectStorageProblems(storage, thanosOn === true));
  const shards = v.check(
    SHARDS_KEY,
    (value) =>
      typeof value !== 'number' || !Number.isInteger(value)
        ? 'is not a whole number'
        : value < 1
          ? 'is less than 1'
          : value > 2 ** 31 - 1
            ? 'is out of range'
            : undefined,
    `Set spec.${SHARDS_KEY} to the number of Prometheus shards, a whole number of 1 or more (1 is one Prometheus), or remove it.`,
  );
  // Rules that aggregate across the cluster cannot be evaluated per shard: with more than one shard they
  // move to a ThanosRuler that queries Thanos Query, so shards need Thanos (docs/architecture.md).
  if (typeof shards === 'number' && Number.isInteger(shards) && shards > 1 && thanosOn !== true)
    v.report(
      SHARDS_KEY,
      shards,
      'needs Thanos: each shard holds part of the series, and the recording rules and alerts are then evaluated by a ThanosRuler querying Thanos Query',
      `Set spec.${THANOS_ENABLED_KEY}: true with spec.${THANOS_OBJECT_STORAGE_KEY}, or set spec.${SHARDS_KEY} to 1.`,
    );
  const remote = v.read(REMOTE_WRITE_KEY);
  if (remote !== undefined && remote !== null) report(remoteWriteProblems(remote));
  const scrape = v.read(ADDITIONAL_SCRAPE_CONFIGS_KEY);
  if (scrape !== undefined && scrape !== null) report(additionalScrapeConfigsProblems(scrape));
}

// Addition: the spec is validated before anything renders (the original failed mid-playbook, e.g. on etcd.endpointIps: localhost).
/** Every problem of the keys the monitoring stack reads; empty when the spec is usable. */
export function validateSpec(spec: unknown): FieldProblem[] {
  if (spec === undefined || spec === null) return [];
  if (!isMapping(spec)) {
    return [
      {
        field: 'spec',
        message: `spec: ${describeValue('spec', spec)} is not a mapping.`,
        fix: 'Write the ClusterConfiguration spec as a mapping of settings.',
      },
    ];
  }
  const v = new SpecChecker(spec);
  v.mapping('monitoring', 'Write spec.monitoring as a mapping of settings.');
  checkMetricsServer(v);
  checkReplicas(v);
  checkPrometheusStorage(v);
  checkResources(v);
  checkPlacement(v);
  checkSwitches(v);
  checkEtcd(v);
  checkAlerting(v);
  checkConsoleParts(v);
  checkRegistry(v);
  checkScale(v);
  return v.problems;
}
