/**
 * `run --create-cluster-configuration <file>`: creates the watched ClusterConfiguration from a file
 * when it does not exist (the chart's clusterConfiguration.create). An existing object is never
 * touched: once created, it belongs to whoever edits it.
 */
import { readFile } from 'node:fs/promises';
import yaml from 'js-yaml';
import { ApiError, type KubeClient } from '../kube/client.js';
import type { Logger } from '../observe/logger.js';
import {
  API_VERSION,
  collectionPath,
  GROUP,
  KIND,
  type ClusterConfiguration,
  type ObjectKey,
} from '../api/cluster-configuration.js';

export async function createClusterConfigurationIfMissing(
  client: KubeClient,
  file: string,
  target: ObjectKey,
  logger: Logger,
): Promise<'created' | 'exists'> {
  const cc = yaml.load(await readFile(file, 'utf8')) as ClusterConfiguration | undefined;
  if (cc?.kind !== KIND || !cc.apiVersion?.startsWith(`${GROUP}/`)) {
    throw new Error(`${file}: not an ${API_VERSION} ${KIND}`);
  }
  const collection = collectionPath(target.namespace);
  try {
    await client.request('POST', collection, {
      body: { ...cc, metadata: { ...cc.metadata, name: target.name, namespace: target.namespace } },
    });
  } catch (err) {
    if (err instanceof ApiError && err.conflict) return 'exists';
    throw err;
  }
  logger.info(`created ClusterConfiguration ${target.namespace}/${target.name} from ${file}`);
  return 'created';
}
