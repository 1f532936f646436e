/** Cluster facts fixed for renders in tests: 3 nodes, Kubernetes 1.34, the etcd certificates present, a stand-in webhook pair. */
import type { ClusterFacts } from '../src/config/facts.js';

export const FIXED_FACTS: ClusterFacts = {
  nodeCount: 3,
  kubernetesVersion: 'v1.34.4',
  servedApiVersions: [
    'v1',
    'apps/v1',
    'policy/v1',
    'rbac.authorization.k8s.io/v1',
    'monitoring.coreos.com/v1',
  ],
  live: { etcdClientCertsSecret: true },
  webhookTls: {
    caCert: '-----BEGIN CERTIFICATE-----\nFIXED-CA\n-----END CERTIFICATE-----\n',
    tlsCert: '-----BEGIN CERTIFICATE-----\nFIXED-SERVING\n-----END CERTIFICATE-----\n',
    tlsKey: '-----BEGIN PRIVATE KEY-----\nFIXED-KEY\n-----END PRIVATE KEY-----\n',
  },
};
