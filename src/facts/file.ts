/**
 * Facts for `render`: the node count, Kubernetes version and extra served group versions from the
 * flags, the live objects from a file (`--live`), through the same extractor as a run.
 */
import { builtinApiVersions } from '../config/api-versions.js';
import type { ClusterFacts } from '../config/facts.js';
import type { KubeObject } from '../kube/client.js';
import { extractLiveFacts } from './live.js';
import type { FactsSource } from './source.js';
import { issueWebhookTls } from './webhook-tls.js';

interface FileFactsOptions {
  nodeCount: number;
  kubernetesVersion: string;
  /** Group versions served beyond the built-in ones (helm's --api-versions). */
  extraApiVersions: string[];
  liveObjects: KubeObject[];
}

export class FileFactsSource implements FactsSource {
  constructor(private readonly options: FileFactsOptions) {}

  async gather(): Promise<ClusterFacts> {
    const { nodeCount, kubernetesVersion, extraApiVersions, liveObjects } = this.options;
    const builtin = builtinApiVersions(kubernetesVersion);
    if (!builtin) throw new Error(`Kubernetes version "${kubernetesVersion}" is not like v1.34.0`);
    const { live, webhookTls } = extractLiveFacts(liveObjects);
    return {
      nodeCount,
      kubernetesVersion,
      servedApiVersions: [...builtin, ...extraApiVersions],
      live,
      webhookTls: webhookTls ?? (await issueWebhookTls()),
    };
  }
}
