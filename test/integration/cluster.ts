/** Access to the run's shared control plane from an integration test file. */
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import type { ControlPlaneInfo } from '../../tools/envtest/control-plane.js';
import { KubeClient, type KubeObject } from '../../src/kube/client.js';

export function clusterInfo(): ControlPlaneInfo {
  const file = process.env.KS_ENVTEST_INFO;
  if (!file) throw new Error('KS_ENVTEST_INFO is not set: integration tests run under the jest global setup');
  return JSON.parse(readFileSync(file, 'utf8')) as ControlPlaneInfo;
}

export function adminClient(): KubeClient {
  return KubeClient.fromKubeconfig(clusterInfo().kubeconfig);
}

export function userClient(name: string): KubeClient {
  const file = clusterInfo().users[name];
  if (!file) throw new Error(`no test user ${name}`);
  return KubeClient.fromKubeconfig(file);
}

/** A fresh namespace for one test file, so files never see each other's objects. */
export async function createTestNamespace(client: KubeClient, prefix: string): Promise<string> {
  const name = `${prefix}-${randomBytes(3).toString('hex')}`;
  await client.request('POST', '/api/v1/namespaces', {
    body: {
      apiVersion: 'v1',
      kind: 'Namespace',
      metadata: { name, labels: { 'ks-installer.test/suite': prefix } },
    },
  });
  return name;
}

export function configMap(namespace: string, name: string, data: Record<string, string> = {}): KubeObject {
  return { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name, namespace }, data };
}
