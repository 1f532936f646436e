/**
 * GPU monitoring's node labels: every run that applies the gpu-monitoring role labels each Node whose
 * status.allocatable has `nvidia.com/gpu` (any value: the device plugin advertises the resource) with
 * `nvidia.com/gpu.present=true`, the label the DCGM exporter's DaemonSet requires. Nodes that gain a GPU
 * later are labelled by the next run; nodes without the resource are never labelled. A node that already
 * carries the label is not written to, so a settled run sends no write. The labels stay when GPU monitoring
 * is turned off: another component (NVIDIA's GPU feature discovery) sets the same label, so a run cannot
 * know which are ours (docs/differences.md#the-consoles-parts). RBAC: list and patch on nodes, nothing else.
 */
import { CONTENT_TYPE, type KubeClient } from '../../kube/client.js';
import { listAll } from '../../kube/list.js';
import { JSON_ONLY } from '../../observe/logger.js';
import type { AfterApplyStep } from '../model.js';

export const GPU_RESOURCE = 'nvidia.com/gpu';
export const GPU_PRESENT_LABEL = 'nvidia.com/gpu.present';

interface NodeObject {
  metadata: { name: string; labels?: Record<string, string> };
  status?: { allocatable?: Record<string, string> };
}

/** The names of the nodes to label: GPU nodes without `nvidia.com/gpu.present=true`. Pure. */
export function gpuNodesToLabel(nodes: readonly NodeObject[]): string[] {
  return nodes
    .filter((n) => n.status?.allocatable?.[GPU_RESOURCE] !== undefined)
    .filter((n) => n.metadata.labels?.[GPU_PRESENT_LABEL] !== 'true')
    .map((n) => n.metadata.name)
    .sort();
}

/** Labels the GPU nodes that lack the label; the number labelled. */
export async function labelGpuNodes(client: KubeClient): Promise<{ gpuNodes: number; labelled: string[] }> {
  // Full objects: allocatable is in the status, which a metadata-only list leaves out. Paged.
  const { items } = await listAll<NodeObject>(client, '/api/v1/nodes', { limit: 500 });
  const labelled = gpuNodesToLabel(items);
  for (const name of labelled) {
    await client.request('PATCH', `/api/v1/nodes/${encodeURIComponent(name)}`, {
      contentType: CONTENT_TYPE.merge,
      body: { metadata: { labels: { [GPU_PRESENT_LABEL]: 'true' } } },
    });
  }
  const gpuNodes = items.filter((n) => n.status?.allocatable?.[GPU_RESOURCE] !== undefined).length;
  return { gpuNodes, labelled };
}

export const labelGpuNodesStep: AfterApplyStep = async ({ client, logger }) => {
  const { gpuNodes, labelled } = await labelGpuNodes(client);
  logger.info(
    `gpu nodes: ${gpuNodes} with ${GPU_RESOURCE}${labelled.length ? `, labelled ${GPU_PRESENT_LABEL}=true: ${labelled.join(', ')}` : ', all labelled'}`,
    { [JSON_ONLY]: { gpuNodes, labelled } },
  );
  return { warnings: [], changed: labelled.length };
};
