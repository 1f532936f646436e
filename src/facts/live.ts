/**
 * The one extractor of live facts: what carries over from the objects a cluster (or a file of them,
 * for `render --live`) holds — the Prometheus volume size, retention, nodeSelector and security
 * context, whether the etcd client certificates exist, the built-in GlobalRuleGroups' console toggles —
 * and the notification-manager webhook's serving pair when it can be kept. Pure: no cluster access.
 */
import { GRAFANA_ADMIN_SECRET, ISTIO_NAMESPACE } from '../config/console-parts.js';
import { BUILTIN_ALERT_GROUP_NAMES, GLOBAL_RULE_GROUP, liveToggles } from '../rules/package.js';
import { ETCD_CLIENT_CERTS_SECRET } from '../config/etcd.js';
import type { ClusterFacts, LiveFacts } from '../config/facts.js';
import { liveSecurityContext } from '../config/prometheus-security.js';
import { MONITORING_NAMESPACE } from '../config/values.js';
import type { KubeObject } from '../kube/client.js';
import { isUsableServingPair } from '../pki/inspect.js';

export const PROMETHEUS_PVC = 'prometheus-k8s-db-prometheus-k8s-0';
export const WEBHOOK_SECRET = 'notification-manager-webhook-server-cert';
const WEBHOOK_DNS_NAME = `notification-manager-webhook.${MONITORING_NAMESPACE}.svc`;
/** A kept webhook certificate must stay valid at least this long. */
const WEBHOOK_MIN_VALID_DAYS = 30;

export type WebhookTls = ClusterFacts['webhookTls'];

/** Which live objects the facts come from: kind, name and, for namespaced ones, the monitoring namespace. */
export const LIVE_OBJECTS = [
  { kind: 'PersistentVolumeClaim', name: PROMETHEUS_PVC },
  { kind: 'Prometheus', name: 'k8s' },
  { kind: 'Secret', name: ETCD_CLIENT_CERTS_SECRET },
  { kind: 'Secret', name: WEBHOOK_SECRET },
  ...BUILTIN_ALERT_GROUP_NAMES.map((name) => ({ kind: GLOBAL_RULE_GROUP, name })),
] as const;

/** Read only when the spec turns on what needs them (servicemesh, Grafana). */
export const OPTIONAL_LIVE_OBJECTS = {
  istioNamespace: { kind: 'Namespace', name: ISTIO_NAMESPACE },
  grafanaAdmin: { kind: 'Secret', name: GRAFANA_ADMIN_SECRET },
} as const;

interface PrometheusObject {
  spec?: {
    retention?: string;
    nodeSelector?: Record<string, string>;
    securityContext?: Record<string, unknown>;
    storage?: { volumeClaimTemplate?: { spec?: { resources?: { requests?: { storage?: string } } } } };
  };
}

interface LiveExtract {
  live: LiveFacts;
  /** The live webhook pair when it is valid for the webhook's name long enough; else a new one is issued. */
  webhookTls?: WebhookTls;
  /** The live Grafana admin password, when Secret grafana-admin holds one. */
  grafanaAdminPassword?: string;
}

export function extractLiveFacts(objects: KubeObject[], namespace = MONITORING_NAMESPACE): LiveExtract {
  const find = <T>(kind: string, name: string) =>
    objects.find(
      (o) =>
        o.kind === kind &&
        o.metadata?.name === name &&
        (kind === GLOBAL_RULE_GROUP || (o.metadata.namespace ?? namespace) === namespace),
    ) as (KubeObject & T) | undefined;

  const live: LiveFacts = { etcdClientCertsSecret: find('Secret', ETCD_CLIENT_CERTS_SECRET) !== undefined };
  const pvc = find<{ spec?: { resources?: { requests?: { storage?: string } } } }>(
    'PersistentVolumeClaim',
    PROMETHEUS_PVC,
  );
  const pvcSize = pvc?.spec?.resources?.requests?.storage;
  if (pvcSize) live.prometheusPvcSize = pvcSize;

  const prometheus = find<PrometheusObject>('Prometheus', 'k8s');
  const spec = prometheus?.spec;
  if (spec?.retention) live.prometheusRetention = spec.retention;
  // An empty nodeSelector carries nothing over.
  if (spec?.nodeSelector && Object.keys(spec.nodeSelector).length > 0)
    live.prometheusNodeSelector = spec.nodeSelector;
  const securityContext = liveSecurityContext(prometheus);
  if (securityContext) live.prometheusSecurityContext = securityContext;
  const request = spec?.storage?.volumeClaimTemplate?.spec?.resources?.requests?.storage;
  if (request) live.prometheusStorageRequest = request;

  const groups = BUILTIN_ALERT_GROUP_NAMES.flatMap((name) => find(GLOBAL_RULE_GROUP, name) ?? []);
  if (groups.length > 0)
    live.builtinAlertToggles = Object.fromEntries(groups.map((g) => [g.metadata.name, liveToggles(g)]));

  const secret = find<{ data?: Record<string, string> }>('Secret', WEBHOOK_SECRET);
  const decode = (v?: string) => (v ? Buffer.from(v, 'base64').toString('utf8') : '');
  const pair = secret?.data && {
    caCert: decode(secret.data['ca.crt']),
    tlsCert: decode(secret.data['tls.crt']),
    tlsKey: decode(secret.data['tls.key']),
  };
  const usable = pair && isUsableServingPair(pair, WEBHOOK_DNS_NAME, WEBHOOK_MIN_VALID_DAYS);

  if (find('Namespace', ISTIO_NAMESPACE)) live.istioNamespaceExists = true;
  const grafana = find<{ data?: Record<string, string> }>('Secret', GRAFANA_ADMIN_SECRET);
  const grafanaAdminPassword = decode(grafana?.data?.['admin-password']);
  return {
    live,
    ...(usable ? { webhookTls: pair } : {}),
    ...(grafanaAdminPassword ? { grafanaAdminPassword } : {}),
  };
}
