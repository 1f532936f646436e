/**
 * etcd monitoring on the real API server: with TLS and the client certificate Secret, without TLS,
 * and with TLS but no Secret (reported, never mounted, so Prometheus can still start).
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import type { ClusterConfiguration } from '../../src/api/cluster-configuration.js';
import { ApiError, type KubeClient, type KubeObject } from '../../src/kube/client.js';
import {
  ccPath,
  createClusterConfiguration,
  ensureMonitoringNamespace,
  createEtcdClientCertsSecret,
  mergePatch,
  MONITORING_NS,
  prepareOperatorTest,
  sampleClusterConfiguration,
  startOperatorFor,
} from './fixtures.js';
import { type OperatorProcess } from './operator-process.js';

const SECRET = 'kube-etcd-client-certs';
const SECRET_PATH = `/api/v1/namespaces/${MONITORING_NS}/secrets/${SECRET}`;
const M = `/apis/monitoring.coreos.com/v1/namespaces/${MONITORING_NS}`;
const IPS = ['10.20.0.11', '10.20.0.12', '10.20.0.13'];
const PORT = 2381;
const CERT_DIR = `/etc/prometheus/secrets/${SECRET}`;

interface Endpoint {
  port: string;
  scheme?: string;
  tlsConfig?: { caFile?: string; certFile?: string; keyFile?: string };
}

describe('etcd monitoring', () => {
  let admin: KubeClient;
  let ns: string;
  let op: OperatorProcess;

  const runAfter = (change: () => Promise<unknown>) => op.runAfter(change);
  const etcdSpec = (tlsEnable: boolean) => ({
    etcd: { monitoring: true, endpointIps: IPS.join(','), port: PORT, tlsEnable },
  });
  const cc = () => admin.get<ClusterConfiguration>(ccPath(ns));
  const prometheusSecrets = async () =>
    (await admin.get<KubeObject & { spec: { secrets?: string[] } }>(`${M}/prometheuses/k8s`)).spec.secrets;
  const etcdEndpoints = async () =>
    (await admin.get<KubeObject & { spec: { endpoints: Endpoint[] } }>(`${M}/servicemonitors/etcd`)).spec
      .endpoints;
  const deleteSecret = () =>
    admin.request('DELETE', SECRET_PATH).catch((e: unknown) => {
      if (!(e instanceof ApiError && e.notFound)) throw e;
    });

  beforeAll(async () => {
    ({ admin, ns } = await prepareOperatorTest('mon-etcd'));
    await ensureMonitoringNamespace(admin);
    await createEtcdClientCertsSecret(admin);
    op = await startOperatorFor(ns);
  });

  afterAll(async () => {
    expect(await op?.stop()).toBe(0);
    await deleteSecret();
  });

  it('with TLS and the Secret: Prometheus mounts it, the ServiceMonitor uses https with its files', async () => {
    const sample = sampleClusterConfiguration(ns);
    sample.spec = { ...sample.spec, ...etcdSpec(true) };
    await runAfter(() => createClusterConfiguration(admin, sample));
    expect(await prometheusSecrets()).toEqual([SECRET]);
    expect(await etcdEndpoints()).toEqual([
      expect.objectContaining({
        port: 'metrics',
        scheme: 'https',
        tlsConfig: {
          caFile: `${CERT_DIR}/etcd-client-ca.crt`,
          certFile: `${CERT_DIR}/etcd-client.crt`,
          keyFile: `${CERT_DIR}/etcd-client.key`,
        },
      }),
    ]);
    const endpoints = await admin.get<
      KubeObject & { subsets: { addresses: { ip: string }[]; ports: { name: string; port: number }[] }[] }
    >('/api/v1/namespaces/kube-system/endpoints/etcd');
    expect(endpoints.subsets).toHaveLength(1);
    expect(endpoints.subsets[0]!.addresses.map((a) => a.ip).sort()).toEqual(IPS);
    expect(endpoints.subsets[0]!.ports).toEqual([expect.objectContaining({ name: 'metrics', port: PORT })]);
    const service = await admin.get<KubeObject & { spec: { clusterIP: string; selector?: unknown } }>(
      '/api/v1/namespaces/kube-system/services/etcd',
    );
    expect(service.spec.clusterIP).toBe('None');
    expect(service.spec.selector).toBeUndefined();
    expect((await cc()).status?.conditions?.find((c) => c.type === 'EtcdClientCertsMissing')).toBeUndefined();
  });

  it('without TLS: http, and Prometheus no longer lists the Secret', async () => {
    await runAfter(() => mergePatch(admin, ccPath(ns), { spec: etcdSpec(false) }));
    const [endpoint] = await etcdEndpoints();
    expect(endpoint?.scheme).toBe('http');
    expect(endpoint?.tlsConfig).toBeUndefined();
    expect((await prometheusSecrets()) ?? []).not.toContain(SECRET);
  });

  it('with TLS but no Secret: reported with the command to create it, not mounted, still enabled', async () => {
    await deleteSecret();
    await runAfter(() => mergePatch(admin, ccPath(ns), { spec: etcdSpec(true) }));
    const status = (await cc()).status;
    const missing = status?.conditions?.find((c) => c.type === 'EtcdClientCertsMissing');
    expect(missing).toMatchObject({ status: 'True', reason: 'SecretNotFound' });
    expect(missing?.message).toContain(
      `kubectl -n kubesphere-monitoring-system create secret generic ${SECRET}`,
    );
    expect((await prometheusSecrets()) ?? []).not.toContain(SECRET);
    expect((await etcdEndpoints())[0]?.scheme).toBe('https');
    expect(status?.monitoring?.status).toBe('enabled');
    expect(status?.conditions?.find((c) => c.type === 'Ready')?.status).toBe('True');
    expect(op.lines.some((l) => l.includes('EtcdClientCertsMissing'))).toBe(true);
  });

  it('creating the Secret later mounts it on the next run and clears the condition', async () => {
    await admin.request('POST', `/api/v1/namespaces/${MONITORING_NS}/secrets`, {
      body: {
        apiVersion: 'v1',
        kind: 'Secret',
        metadata: { name: SECRET },
        stringData: { 'etcd-client.crt': 'x' },
      },
    });
    await runAfter(() => mergePatch(admin, ccPath(ns), { status: { monitoring: null } }));
    expect(await prometheusSecrets()).toEqual([SECRET]);
    expect((await cc()).status?.conditions?.find((c) => c.type === 'EtcdClientCertsMissing')).toMatchObject({
      status: 'False',
      reason: 'Resolved',
    });
  });
});
