import type { ClusterFacts, LiveFacts } from '../../../src/config/facts.js';

export function facts(
  overrides: Partial<Omit<ClusterFacts, 'live'>> & { live?: Partial<LiveFacts> } = {},
): ClusterFacts {
  const { live, ...rest } = overrides;
  return {
    nodeCount: 3,
    kubernetesVersion: 'v1.34.4',
    servedApiVersions: ['v1', 'apps/v1', 'policy/v1'],
    webhookTls: { caCert: 'CA', tlsCert: 'CERT', tlsKey: 'KEY' },
    ...rest,
    live: { etcdClientCertsSecret: false, ...live },
  };
}
