/**
 * Facts read from the cluster, once per run and in parallel: the node count (one metadata-only
 * request of one item and the list's remainingItemCount, see countItems), the server version and served APIs, and the live objects of live.ts, each read
 * by name (get is all the operator's RBAC allows on Secrets and GlobalRuleGroups).
 */
import { ALERTING_API_VERSION, GLOBAL_RULE_GROUP } from '../rules/package.js';
import type { ClusterFacts } from '../config/facts.js';
import { MONITORING_NAMESPACE } from '../config/values.js';
import { ACCEPT_METADATA, type KubeClient, type KubeObject } from '../kube/client.js';
import type { RestMapper } from '../kube/discovery.js';
import { countItems } from '../kube/list.js';
import { extractLiveFacts, LIVE_OBJECTS, WEBHOOK_SECRET } from './live.js';
import type { FactsSource } from './source.js';
import { issueWebhookTls } from './webhook-tls.js';

function pathOf(kind: string, name: string, namespace: string): string {
  switch (kind) {
    case 'PersistentVolumeClaim':
      return `/api/v1/namespaces/${namespace}/persistentvolumeclaims/${name}`;
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
  constructor(
    private readonly client: KubeClient,
    private readonly mapper: RestMapper,
    private readonly namespace = MONITORING_NAMESPACE,
  ) {}

  async gather(): Promise<ClusterFacts> {
    const [nodes, version, served] = await Promise.all([
      countItems(this.client, '/api/v1/nodes'),
      this.client.get<{ gitVersion: string }>('/version'),
      this.mapper.servedGroupVersions(),
    ]);
    const wanted = LIVE_OBJECTS.filter(
      (o) => o.kind !== GLOBAL_RULE_GROUP || served.includes(ALERTING_API_VERSION),
    );
    const found = await Promise.all(wanted.map((o) => this.read(o.kind, o.name)));
    const { live, webhookTls } = extractLiveFacts(
      found.filter((o): o is KubeObject => o !== undefined),
      this.namespace,
    );
    return {
      nodeCount: nodes.count,
      kubernetesVersion: version.gitVersion,
      servedApiVersions: served,
      live,
      webhookTls: webhookTls ?? (await issueWebhookTls()),
    };
  }

  /** One live object, or undefined when it (or its API, e.g. no Prometheus CRD yet) does not exist. */
  private async read(kind: string, name: string): Promise<KubeObject | undefined> {
    // The etcd client certificates are only checked for presence: their metadata is enough.
    const metadataOnly = kind === 'Secret' && name !== WEBHOOK_SECRET;
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
        metadata: { ...object.metadata, namespace: object.metadata.namespace ?? this.namespace },
      }
    );
  }
}
