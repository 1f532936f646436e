/**
 * ClusterConfiguration spec + cluster facts → the values every template renders from
 * (docs/original-installer.md). Precedence everywhere: spec > live cluster > default. Each deliberate
 * difference from the original is marked "Correction:" (or "Addition:") next to the code.
 */
import { ALERTING_API_VERSION } from '../rules/package.js';
import type { PlacedWorkload } from './defaults.js';
import {
  CONTAINER_RESOURCES,
  DEFAULT_NODE_EXPORTER_PORT,
  DEFAULT_REPLICAS,
  SMALL_CLUSTER_NODES,
} from './defaults.js';
import {
  alertingEnabled,
  alertmanagersUrl,
  MONITORING_ENDPOINT_KEY,
  queryEndpoint,
  THANOS_RULER_REPLICAS_KEY,
} from './alerting.js';
import { resolveEtcd } from './etcd.js';
import type { ClusterFacts, LiveFacts } from './facts.js';
import {
  asNonNegativeInteger,
  durationReason,
  labelKeyReason,
  labelValueReason,
  quantityReason,
} from './field-checks.js';
import { resolveImages, resolveVersions } from './images.js';
import { resolvePlacement } from './placement.js';
import type { FieldProblem } from './problems.js';
import { ConfigError } from './problems.js';
import { resolvePrometheusSecurityContext } from './prometheus-security.js';
import { resolveRetention, resolveStorageClass, resolveStorageSize } from './prometheus-storage.js';
import { resolveResources } from './resources.js';
import type { Spec } from './spec-path.js';
import { firstSet, get, isSetScalar } from './spec-path.js';
import { validateSpec } from './validate.js';
import type { MonitoringValues, Resources, ValueWarning } from './values.js';
import { FEDERATED_NAMESPACE, METRICS_SERVER_NAMESPACE, MONITORING_NAMESPACE } from './values.js';
import { builtinApiVersions } from './api-versions.js';
import {
  additionalScrapeConfigs,
  objectStorageConfig,
  remoteWrite,
  shards as shardCount,
  THANOS_QUERY_REPLICAS_KEY,
  THANOS_RULER_REPLICAS_KEY as RULES_RULER_REPLICAS_KEY,
  THANOS_STORE_REPLICAS_KEY,
  thanosEnabled,
  thanosQueryUrl,
} from './scale.js';
import { ISTIO_MONITORS_WAITING, ISTIO_NAMESPACE, resolveConsoleParts } from './console-parts.js';

interface ResolvedValues {
  values: MonitoringValues;
  warnings: ValueWarning[];
}

/** Explicit keys first (null means unset), else the node-count rule (fewer than 3 nodes → small). */
// Correction: an explicit null no longer renders `replicas: None`; it falls back to the node-count rule.
function replicas(
  spec: Spec,
  keys: string[],
  rule: { small: number; large: number },
  nodeCount: number,
): number {
  const found = firstSet(spec, keys);
  const explicit = found ? asNonNegativeInteger(found.value) : undefined;
  if (explicit !== undefined) return explicit;
  return nodeCount < SMALL_CLUSTER_NODES ? rule.small : rule.large;
}

// Correction: policy/v1 whenever the server serves it (the original switched on a string compare at 1.25);
// without discovery the Kubernetes version decides (builtinApiVersions).
function pdbApiVersion(facts: ClusterFacts): MonitoringValues['apiVersions']['podDisruptionBudget'] {
  const served =
    facts.servedApiVersions.length > 0
      ? facts.servedApiVersions
      : (builtinApiVersions(facts.kubernetesVersion) ?? ['policy/v1']);
  return served.includes('policy/v1') ? 'policy/v1' : 'policy/v1beta1';
}

// Addition: the built-in alerts as GlobalRuleGroups only where KubeSphere core serves their API (the original
// applied them unconditionally and failed without it); elsewhere as PrometheusRules our Prometheus evaluates.
function alertForm(facts: ClusterFacts): MonitoringValues['alerts']['form'] {
  return facts.servedApiVersions.includes(ALERTING_API_VERSION) ? 'GlobalRuleGroup' : 'PrometheusRule';
}

/** The warning condition while Thanos is on and common.monitoring.endpoint names something else. */
export const ENDPOINT_NOT_THANOS_QUERY = 'MonitoringEndpointNotThanosQuery';

/** The warning condition of live values that are not carried over because the API server would refuse them. */
export const LIVE_VALUE_DROPPED = 'LiveValueDropped';

/**
 * The live values carry-over may use: one the API server would refuse (a nodeSelector label, a
 * retention or a size that does not parse) is dropped, with a warning naming it, so that a bad value
 * once written on the live Prometheus never comes back after the spec is fixed.
 */
function usableLiveFacts(live: LiveFacts): { live: LiveFacts; warning?: ValueWarning } {
  const usable: LiveFacts = { ...live };
  const dropped: string[] = [];
  const selector = live.prometheusNodeSelector;
  const badLabel =
    selector &&
    Object.entries(selector).find(
      ([k, v]) =>
        labelKeyReason(k) !== undefined || typeof v !== 'string' || labelValueReason(v) !== undefined,
    );
  if (badLabel) {
    delete usable.prometheusNodeSelector;
    dropped.push(`spec.nodeSelector ${JSON.stringify(selector)} (label ${JSON.stringify(badLabel[0])})`);
  }
  if (live.prometheusRetention !== undefined && durationReason(live.prometheusRetention) !== undefined) {
    delete usable.prometheusRetention;
    dropped.push(`spec.retention ${JSON.stringify(live.prometheusRetention)}`);
  }
  for (const key of ['prometheusPvcSize', 'prometheusStorageRequest'] as const) {
    const value = live[key];
    if (value !== undefined && quantityReason(value, { positive: true }) !== undefined) {
      delete usable[key];
      dropped.push(`the storage request ${JSON.stringify(value)}`);
    }
  }
  if (dropped.length === 0) return { live: usable };
  return {
    live: usable,
    warning: {
      type: LIVE_VALUE_DROPPED,
      reason: 'RefusedByApiServer',
      message: `not carried over from the live Prometheus k8s, as the API server would refuse it: ${dropped.join('; ')}; the spec or the default applies`,
    },
  };
}

export function resolveValues(spec: Record<string, unknown>, facts: ClusterFacts): ResolvedValues {
  const problems = validateSpec(spec);
  if (problems.length > 0) throw new ConfigError(problems);

  const warnings: ValueWarning[] = [];
  const carried = usableLiveFacts(facts.live);
  if (carried.warning) warnings.push(carried.warning);
  const resourceProblems: FieldProblem[] = [];
  const resources = (container: keyof typeof CONTAINER_RESOURCES): Resources => {
    const resolved = resolveResources(spec, CONTAINER_RESOURCES[container]);
    resourceProblems.push(...resolved.problems);
    return resolved.resources;
  };
  const placement = (workload: PlacedWorkload) => resolvePlacement(spec, workload);
  const { nodeCount } = facts;
  const { live } = carried;

  const storage = resolveStorageSize(spec, live);
  if (storage.warning) warnings.push(storage.warning);
  const storageClassName = resolveStorageClass(spec);
  const etcd = resolveEtcd(spec, live);
  warnings.push(...etcd.warnings);
  const images = resolveImages(spec);
  const nodeExporterPort = get(spec, 'monitoring.node_exporter.port');
  // kube-rbac-proxy resources are resolved once per container that runs one (they share the chain).
  const kubeRbacProxy = () => resources('kubeRbacProxy');

  const external = get(spec, 'common.monitoring.type') === 'external';
  const thanosOn = thanosEnabled(spec);
  const shards = shardCount(spec);
  const scrapeConfigs = additionalScrapeConfigs(spec);
  const objstore = objectStorageConfig(spec);
  const values: MonitoringValues = {
    namespace: MONITORING_NAMESPACE,
    federatedNamespace: FEDERATED_NAMESPACE,
    external,
    nodeCount,
    kubernetesVersion: facts.kubernetesVersion,
    apiVersions: { podDisruptionBudget: pdbApiVersion(facts) },
    images,
    versions: resolveVersions(images),
    prometheus: {
      replicas: replicas(
        spec,
        ['monitoring.prometheus.replicas', 'monitoring.prometheusReplicas'],
        DEFAULT_REPLICAS.prometheus,
        nodeCount,
      ),
      retention: resolveRetention(spec, live),
      storage:
        storageClassName === undefined ? { size: storage.size } : { size: storage.size, storageClassName },
      resources: resources('prometheus'),
      // Correction: the live Prometheus nodeSelector is carried over (the original collected it and never used it).
      placement: resolvePlacement(spec, 'prometheus', live.prometheusNodeSelector),
      secrets: etcd.prometheusSecrets,
      // Correction: an adopted install keeps running Prometheus as the user that owns its TSDB (root for
      // the original's); only a fresh install runs as uid 1000.
      ...prometheusSecurity(live),
      shards,
      remoteWrite: remoteWrite(spec),
      ...(scrapeConfigs ? { additionalScrapeConfigs: scrapeConfigs } : {}),
      evaluatesRules: shards === 1,
    },
    // Addition: Thanos (the original has no such keys).
    thanos: {
      enabled: thanosOn,
      ...(objstore ? { objectStorageConfig: objstore } : {}),
      sidecarResources: resources('thanosSidecar'),
      query: {
        replicas: replicas(spec, [THANOS_QUERY_REPLICAS_KEY], DEFAULT_REPLICAS.thanosQuery, nodeCount),
        resources: resources('thanosQuery'),
        placement: placement('thanosQuery'),
      },
      store: {
        replicas: replicas(spec, [THANOS_STORE_REPLICAS_KEY], DEFAULT_REPLICAS.thanosStore, nodeCount),
        resources: resources('thanosStore'),
        placement: placement('thanosStore'),
      },
      ruler: {
        enabled: thanosOn && shards > 1,
        replicas: replicas(spec, [RULES_RULER_REPLICAS_KEY], DEFAULT_REPLICAS.rulesRuler, nodeCount),
        resources: resources('rulesRuler'),
        placement: placement('rulesRuler'),
      },
      queryUrl: thanosQueryUrl(MONITORING_NAMESPACE),
    },
    prometheusOperator: {
      resources: resources('prometheusOperator'),
      proxyResources: kubeRbacProxy(),
      placement: placement('prometheusOperator'),
    },
    nodeExporter: {
      port: isSetScalar(nodeExporterPort) ? Number(nodeExporterPort) : DEFAULT_NODE_EXPORTER_PORT,
      resources: resources('nodeExporter'),
      proxyResources: kubeRbacProxy(),
    },
    kubeStateMetrics: {
      resources: resources('kubeStateMetrics'),
      proxyMainResources: kubeRbacProxy(),
      proxySelfResources: kubeRbacProxy(),
      placement: placement('kubeStateMetrics'),
    },
    alertmanager: {
      replicas: replicas(
        spec,
        ['monitoring.alertmanager.replicas', 'monitoring.alertmanagerReplicas'],
        DEFAULT_REPLICAS.alertmanager,
        nodeCount,
      ),
      resources: resources('alertmanager'),
      placement: placement('alertmanager'),
    },
    notificationManager: {
      // Addition: monitoring.notification_manager.replicas (the original had no key).
      replicas: replicas(
        spec,
        ['monitoring.notification_manager.replicas'],
        DEFAULT_REPLICAS.notificationManager,
        nodeCount,
      ),
      resources: resources('notificationManager'),
      operatorResources: resources('notificationManagerOperator'),
      proxyResources: resources('notificationManagerProxy'),
      placement: placement('notificationManager'),
      webhookTls: { ...facts.webhookTls },
    },
    alerts: { form: alertForm(facts), toggles: { ...live.builtinAlertToggles } },
    metricsServer: {
      enabled: get(spec, 'metrics_server.enabled') === true,
      namespace: METRICS_SERVER_NAMESPACE,
      placement: placement('metricsServer'),
    },
    // Correction: reconciled on every run like the rest (the original applied it once, guarded by status.alerting).
    alerting: {
      enabled: alertingEnabled(spec),
      replicas: replicas(spec, [THANOS_RULER_REPLICAS_KEY], DEFAULT_REPLICAS.thanosRuler, nodeCount),
      resources: resources('thanosRuler'),
      placement: placement('thanosRuler'),
      // Addition: with Thanos on, the ruler reads Thanos Query, the one complete view (a shard holds part
      // of the series); a common.monitoring.endpoint naming anything else is reported (below).
      queryEndpoint:
        thanosOn && !external
          ? thanosQueryUrl(MONITORING_NAMESPACE).replace(/^http:\/\//, '')
          : queryEndpoint(spec, MONITORING_NAMESPACE),
      alertmanagersUrl: alertmanagersUrl(MONITORING_NAMESPACE),
    },
    etcd: etcd.etcd,
    ...resolveConsoleParts(spec, facts, external, resources('dcgmExporter')),
  };
  // Addition: the original applied its Istio monitors into istio-system blindly; we wait for it, and say so.
  if (values.servicemesh.enabled && !values.servicemesh.istioNamespaceExists && values.monitorsServed)
    warnings.push({
      type: ISTIO_MONITORS_WAITING,
      reason: 'NamespaceMissing',
      message: `servicemesh.enabled is true but the namespace ${ISTIO_NAMESPACE} does not exist yet: the Istio monitors are applied by the first run after it is created (Istio's installation creates it)`,
    });

  const endpoint = get(spec, MONITORING_ENDPOINT_KEY);
  if (thanosOn && !external && isSetScalar(endpoint) && endpoint !== values.thanos.queryUrl)
    warnings.push({
      type: ENDPOINT_NOT_THANOS_QUERY,
      reason: 'ThanosQueryNotRead',
      message: `monitoring.thanos.enabled is true, but ${MONITORING_ENDPOINT_KEY} is ${JSON.stringify(endpoint)}: KubeSphere should read Thanos Query, set ${MONITORING_ENDPOINT_KEY} to ${values.thanos.queryUrl} (KubeSphere's own configuration takes it from there)`,
    });

  if (resourceProblems.length > 0) throw new ConfigError(dedupe(resourceProblems));
  return { values, warnings };
}

function prometheusSecurity(live: ClusterFacts['live']) {
  const { securityContext, source } = resolvePrometheusSecurityContext(live);
  return { securityContext, securityContextSource: source };
}

/** kube-rbac-proxy is resolved for several containers; report each problem once. */
function dedupe(problems: FieldProblem[]): FieldProblem[] {
  const seen = new Set<string>();
  return problems.filter((p) => {
    const key = `${p.field}\n${p.message}`;
    if (seen.has(key)) return false;
    seen.add(key);
    return true;
  });
}
