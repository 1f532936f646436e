/**
 * Images → tools: which image (by its last path segment, without tag or digest) runs as which binary
 * built from its pinned Go module (tools/envtest/test-tools.ts, or a prebuilt TEST_ASSET_<TOOL>). A Pod
 * with an image that has none stays Pending.
 */
import { TEST_TOOLS, resolveTestTool, type TestToolName } from '../envtest/test-tools.js';
import { resolveGoTool, type GoToolSpec } from '../envtest/go-tools.js';

/** Image name (last path segment, no tag) → the tool that stands for it. */
export const IMAGE_TOOLS: Record<string, string> = {
  prometheus: 'prometheus',
  'prometheus-operator': 'prometheus-operator',
  'prometheus-config-reloader': 'prometheus-config-reloader',
  alertmanager: 'alertmanager',
  'node-exporter': 'node-exporter',
  'kube-state-metrics': 'kube-state-metrics',
  'kube-rbac-proxy': 'kube-rbac-proxy',
  thanos: 'thanos',
};

/**
 * Whether an Alertmanager binary can be had: a test tool of that name, or TEST_ASSET_ALERTMANAGER. Without
 * one, Alertmanager's Pod stays Pending and what needs it is left out (and said so).
 */
export function alertmanagerAvailable(env: NodeJS.ProcessEnv = process.env): boolean {
  return Boolean((TEST_TOOLS as Record<string, GoToolSpec>).alertmanager || env.TEST_ASSET_ALERTMANAGER);
}

export function imageName(image: string): string {
  const last = image.split('/').pop() ?? image;
  return last.split('@')[0]!.split(':')[0]!;
}

/** The binary of a tool, built when needed; undefined when it has none. */
export async function resolveTool(tool: string): Promise<string | undefined> {
  const spec = (TEST_TOOLS as Record<string, GoToolSpec>)[tool];
  if (spec) return (await resolveTestTool(tool as TestToolName)).path;
  // Not (yet) one of our test tools: a prebuilt binary named by TEST_ASSET_<TOOL>.
  const env = `TEST_ASSET_${tool.toUpperCase().replace(/-/g, '_')}`;
  if (process.env[env]) return (await resolveGoTool({ name: tool, assetEnv: env, pkg: '.' })).path;
  return undefined;
}
