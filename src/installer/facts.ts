/**
 * Gathers, once per run and in parallel, what the values depend on besides the spec: the node count
 * (a paginated metadata-only list), the server version and served APIs, and the live objects whose
 * settings carry over (Prometheus PVC size, retention, nodeSelector) or that must exist (etcd certs).
 */
import { ALERTING_API_VERSION, BUILTIN_ALERT_GROUPS, liveToggles } from '../alerts/builtin.js';
import type { BuiltinAlertToggles, ClusterFacts, LiveFacts } from '../config/facts.js';
import { ETCD_CLIENT_CERTS_SECRET } from '../config/etcd.js';
import { liveSecurityContext } from '../config/prometheus-security.js';
import { MONITORING_NAMESPACE } from '../config/values.js';
import type { KubeClient, KubeObject } from '../kube/client.js';
import type { RestMapper } from '../kube/discovery.js';
import { listAll } from '../kube/list.js';

export const PROMETHEUS_PVC = 'prometheus-k8s-db-prometheus-k8s-0';

interface PrometheusLive {
  spec?: {
    retention?: string;
    nodeSelector?: Record<string, string>;
    securityContext?: Record<string, unknown>;
    storage?: { volumeClaimTemplate?: { spec?: { resources?: { requests?: { storage?: string } } } } };
  };
}

export async function readLiveFacts(
  client: KubeClient,
  namespace = MONITORING_NAMESPACE,
): Promise<LiveFacts> {
  const ns = `/api/v1/namespaces/${namespace}`;
  const [pvc, prometheus, etcdSecret] = await Promise.all([
    client.getOrUndefined<KubeObject & { spec?: { resources?: { requests?: { storage?: string } } } }>(
      `${ns}/persistentvolumeclaims/${PROMETHEUS_PVC}`,
    ),
    client
      .getOrUndefined<KubeObject & PrometheusLive>(
        `/apis/monitoring.coreos.com/v1/namespaces/${namespace}/prometheuses/k8s`,
      )
      .catch(() => undefined),
    client.getOrUndefined(`${ns}/secrets/${ETCD_CLIENT_CERTS_SECRET}`, {
      accept: 'application/json;as=PartialObjectMetadata;g=meta.k8s.io;v=v1',
    }),
  ]);
  const live: LiveFacts = { etcdClientCertsSecret: etcdSecret !== undefined };
  const pvcSize = pvc?.spec?.resources?.requests?.storage;
  if (pvcSize) live.prometheusPvcSize = pvcSize;
  const spec = prometheus?.spec;
  const securityContext = liveSecurityContext(prometheus);
  if (securityContext) live.prometheusSecurityContext = securityContext;
  if (spec?.retention) live.prometheusRetention = spec.retention;
  if (spec?.nodeSelector && Object.keys(spec.nodeSelector).length > 0)
    live.prometheusNodeSelector = spec.nodeSelector;
  const request = spec?.storage?.volumeClaimTemplate?.spec?.resources?.requests?.storage;
  if (request) live.prometheusStorageRequest = request;
  return live;
}

/** The built-in GlobalRuleGroups that exist, by name (read one by name each: get is all the RBAC allows). */
async function readBuiltinAlertToggles(client: KubeClient): Promise<Record<string, BuiltinAlertToggles>> {
  const found = await Promise.all(
    BUILTIN_ALERT_GROUPS.map(({ group }) =>
      client.getOrUndefined(`/apis/${ALERTING_API_VERSION}/globalrulegroups/${group.name}`),
    ),
  );
  return Object.fromEntries(found.flatMap((o) => (o ? [[o.metadata.name, liveToggles(o)] as const] : [])));
}

export type GatheredFacts = Omit<ClusterFacts, 'webhookTls'>;

export async function gatherFacts(client: KubeClient, mapper: RestMapper): Promise<GatheredFacts> {
  const [nodes, version, served, live] = await Promise.all([
    listAll(client, '/api/v1/nodes', { metadataOnly: true, limit: 500 }),
    client.get<{ gitVersion: string }>('/version'),
    mapper.servedGroupVersions(),
    readLiveFacts(client),
  ]);
  if (served.includes(ALERTING_API_VERSION)) live.builtinAlertToggles = await readBuiltinAlertToggles(client);
  return {
    nodeCount: nodes.items.length,
    kubernetesVersion: version.gitVersion,
    servedApiVersions: served,
    live,
  };
}
