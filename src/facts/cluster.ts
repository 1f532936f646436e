/**
 * Facts read from the cluster, once per run and in parallel: the node count (one metadata-only
 * request of one item and the list's remainingItemCount, see countItems), the server version and served APIs, and the live objects of live.ts, each read
 * by name (get is all the operator's RBAC allows on Secrets and GlobalRuleGroups).
 */
import { GRAFANA_ENABLED_KEY, isEnabled, SERVICEMESH_ENABLED_KEY } from '../config/console-parts.js';
import { ALERTING_API_VERSION, GLOBAL_RULE_GROUP } from '../rules/package.js';
import type { ClusterFacts } from '../config/facts.js';
import { MONITORING_NAMESPACE } from '../config/values.js';
import { ACCEPT_METADATA, type KubeClient, type KubeObject } from '../kube/client.js';
import type { RestMapper } from '../kube/discovery.js';
import { countItems } from '../kube/list.js';
import { generateGrafanaPassword } from './grafana-password.js';
import { extractLiveFacts, LIVE_OBJECTS, OPTIONAL_LIVE_OBJECTS, WEBHOOK_SECRET } from './live.js';
import type { FactsSource } from './source.js';
import { issueWebhookTls } from './webhook-tls.js';

function pathOf(kind: string, name: string, namespace: string): string {
  switch (kind) {
    case 'PersistentVolumeClaim':
      return `/api/v1/namespaces/${namespace}/persistentvolumeclaims/${name}`;
    case 'Namespace':
      return `/api/v1/namespaces/${name}`;
    case 'Secret':
      return `/api/v1/namespaces/${namespace}/secrets/${name}`;
    case 'Prometheus':
      return `/apis/monitoring.coreos.com/v1/namespaces/${namespace}/prometheuses/${name}`;
    case GLOBAL_RULE_GROUP:
      return `/apis/${ALERTING_API_VERSION}/globalrulegroups/${name}`;
    default:
      throw new Error(`no path for live ${kind}`);
  }
}

export class ClusterFactsSource implements FactsSource {
  /** Generated once per process while Grafana's Secret does not exist yet (grafana-password.ts). */
  private generatedGrafanaPassword?: string;

  constructor(
    private readonly client: KubeClient,
    private readonly mapper: RestMapper,
    private readonly namespace = MONITORING_NAMESPACE,
  ) {}

  async gather(spec: Record<string, unknown> = {}): Promise<ClusterFacts> {
    const [nodes, version, served] = await Promise.all([
      countItems(this.client, '/api/v1/nodes'),
      this.client.get<{ gitVersion: string }>('/version'),
      this.mapper.servedGroupVersions(),
    ]);
    const grafana = isEnabled(spec, GRAFANA_ENABLED_KEY);
    const wanted = [
      ...LIVE_OBJECTS.filter((o) => o.kind !== GLOBAL_RULE_GROUP || served.includes(ALERTING_API_VERSION)),
      ...(isEnabled(spec, SERVICEMESH_ENABLED_KEY) ? [OPTIONAL_LIVE_OBJECTS.istioNamespace] : []),
      ...(grafana ? [OPTIONAL_LIVE_OBJECTS.grafanaAdmin] : []),
    ];
    const found = await Promise.all(wanted.map((o) => this.read(o.kind, o.name)));
    const { live, webhookTls, grafanaAdminPassword } = extractLiveFacts(
      found.filter((o): o is KubeObject => o !== undefined),
      this.namespace,
    );
    const password = grafana
      ? (grafanaAdminPassword ?? (this.generatedGrafanaPassword ??= generateGrafanaPassword()))
      : undefined;
    return {
      nodeCount: nodes.count,
      kubernetesVersion: version.gitVersion,
      servedApiVersions: served,
      live,
      webhookTls: webhookTls ?? (await issueWebhookTls()),
      ...(password === undefined ? {} : { grafanaAdminPassword: password }),
    };
  }

  /** One live object, or undefined when it (or its API, e.g. no Prometheus CRD yet) does not exist. */
  private async read(kind: string, name: string): Promise<KubeObject | undefined> {
    // The etcd client certificates and istio-system are only checked for presence: metadata is enough.
    const metadataOnly =
      (kind === 'Secret' && name !== WEBHOOK_SECRET && name !== OPTIONAL_LIVE_OBJECTS.grafanaAdmin.name) ||
      kind === 'Namespace';
    const object = await this.client
      .getOrUndefined<KubeObject>(
        pathOf(kind, name, this.namespace),
        metadataOnly ? { accept: ACCEPT_METADATA } : {},
      )
      .catch(() => undefined);
    return (
      object && {
        ...object,
        kind,
        metadata:
          kind === 'Namespace'
            ? object.metadata
            : { ...object.metadata, namespace: object.metadata.namespace ?? this.namespace },
      }
    );
  }
}
