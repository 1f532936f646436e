/**
 * Outgrowing one Prometheus (docs/install.md#outgrowing-one-prometheus): what Prometheus k8s gets from
 * shards, remoteWrite, additionalScrapeConfigs and Thanos; the roles thanos (Store, Query) and
 * sharded-rules (ThanosRuler k8s); where the rules are evaluated (docs/architecture.md#rules-when-sharded);
 * on the in-memory API server: nothing applied on a bad value, the endpoint KubeSphere should read in
 * the status and the log, and the roles' objects removed when turned off (the first shard's volume kept).
 */
import { describe, expect, it } from '@jest/globals';
import { trigger } from '../../../src/reconcile/contract.js';
import { CONTENT_TYPE } from '../../../src/kube/client.js';
import type { KubeObject } from '../../../src/kube/client.js';
import { ROLES } from '../../../src/installer/catalog.js';
import { resolveValues } from '../../../src/config/resolve.js';
import { CC_PATH, KEY, currentCc, fakeCluster, fakeInstaller, observe } from '../../support/fake-cluster.js';
import {
  containerOf,
  expectGolden,
  findObject,
  FIXED_FACTS,
  objectIds,
  renderRole,
  renderRoleText,
  unsafeOutputsOf,
  withMonitoring,
} from './golden.js';

const NS = 'kubesphere-monitoring-system';
const OBJSTORE = { name: 'thanos-objstore', key: 'objstore.yml' };
const THANOS = { enabled: true, objectStorageConfig: OBJSTORE };
const NEVER = new AbortController().signal;

// eslint-disable-next-line @typescript-eslint/no-explicit-any -- rendered objects, read field by field
type Obj = KubeObject & { spec: Record<string, any> };
/** A Deployment of the role, as containerOf reads it. */
type Workload = Parameters<typeof containerOf>[0];

function scaled(prometheus: Record<string, unknown> = {}, thanos: Record<string, unknown> | null = THANOS) {
  const sample = withMonitoring({});
  const current = (sample.monitoring as Record<string, unknown>).prometheus as
    Record<string, unknown> | undefined;
  return withMonitoring({
    prometheus: { ...current, ...prometheus },
    ...(thanos ? { thanos } : {}),
  });
}

const prometheusOf = (spec: Record<string, unknown>) =>
  findObject<Obj>(renderRole('prometheus-stack', spec), 'Prometheus', 'k8s');

describe('Prometheus k8s with the scale keys', () => {
  it('is unchanged without them: no shards, remote write, scrape Secret nor sidecar; rules selected', () => {
    const p = prometheusOf(withMonitoring({}));
    for (const key of ['shards', 'remoteWrite', 'additionalScrapeConfigs', 'thanos'])
      expect([key, p.spec[key]]).toEqual([key, undefined]);
    expect(p.spec.ruleSelector).toEqual({ matchLabels: { prometheus: 'k8s', role: 'alert-rules' } });
  });

  it('takes remoteWrite and additionalScrapeConfigs as prometheus-operator does, with one shard', () => {
    const remoteWrite = [
      {
        url: 'http://receive.example:19291/api/v1/receive',
        name: 'receive',
        basicAuth: { username: { name: 'rw', key: 'user' }, password: { name: 'rw', key: 'password' } },
      },
    ];
    const p = prometheusOf(
      scaled(
        { remoteWrite, additionalScrapeConfigs: { name: 'extra', key: 'prometheus-additional.yaml' } },
        null,
      ),
    );
    expect(p.spec.remoteWrite).toEqual(remoteWrite);
    expect(p.spec.additionalScrapeConfigs).toEqual({ name: 'extra', key: 'prometheus-additional.yaml' });
    expect(p.spec.shards).toBeUndefined();
    expect(p.spec.ruleSelector).toBeDefined();
  });

  it('with Thanos: the sidecar with the named object storage, image through our registry rules', () => {
    const p = prometheusOf(scaled({}));
    expect(p.spec.thanos).toEqual({
      image: 'thanosio/thanos:v0.31.0',
      version: 'v0.31.0',
      objectStorageConfig: OBJSTORE,
      resources: { limits: { cpu: '1', memory: '1Gi' }, requests: { cpu: '50m', memory: '100Mi' } },
    });
    const local = findObject<Obj>(
      renderRole('prometheus-stack', { ...scaled({}), local_registry: 'registry.example.com:5000' }),
      'Prometheus',
      'k8s',
    );
    expect(local.spec.thanos.image).toBe('registry.example.com:5000/thanosio/thanos:v0.31.0');
    // One shard with Thanos: Prometheus still evaluates its rules (it holds every series).
    expect(p.spec.ruleSelector).toBeDefined();
  });

  it('with shards: the rules leave Prometheus (no ruleSelector: prometheus-operator selects none)', () => {
    const p = prometheusOf(scaled({ shards: 2 }));
    expect(p.spec.shards).toBe(2);
    expect(p.spec.ruleSelector).toBeUndefined();
    expect(p.spec.ruleNamespaceSelector).toBeUndefined();
    // The volume template is the same for every shard: shard 0 keeps prometheus-k8s-db-prometheus-k8s-0.
    expect(p.spec.storage).toEqual(prometheusOf(withMonitoring({})).spec.storage);
  });
});

describe('role thanos', () => {
  const text = renderRoleText('thanos', scaled({ shards: 2 }));
  const objects = renderRole('thanos', scaled({ shards: 2 }));

  it('renders as in the golden file', () => {
    expectGolden('thanos', text);
  });

  it('renders Store and Query: Deployments, Services, disruption budgets and monitors', () => {
    expect(objectIds(objects)).toEqual([
      `apps/v1 Deployment ${NS}/thanos-store`,
      `apps/v1 Deployment ${NS}/thanos-query`,
      `v1 Service ${NS}/thanos-store`,
      `v1 Service ${NS}/thanos-query`,
      `policy/v1 PodDisruptionBudget ${NS}/thanos-store`,
      `policy/v1 PodDisruptionBudget ${NS}/thanos-query`,
      `monitoring.coreos.com/v1 ServiceMonitor ${NS}/thanos-store`,
      `monitoring.coreos.com/v1 ServiceMonitor ${NS}/thanos-query`,
    ]);
    for (const o of objects) expect(o.metadata.labels?.['installer.kubesphere.io/role']).toBe('thanos');
    const removal = ROLES.find((r) => r.name === 'thanos')!.removal!;
    const kinds = [...new Set(objects.map((o) => `${o.apiVersion} ${o.kind}`))];
    expect(removal.owns.map((k) => `${k.apiVersion} ${k.kind}`)).toEqual(kinds);
  });

  it('reads the object storage from the named Secret key, never from a file we write', () => {
    const store = findObject<Workload & Obj>(objects, 'Deployment', 'thanos-store');
    const c = containerOf<{ name: string; args: string[]; env: unknown[]; image: string }>(
      store,
      'thanos-store',
    );
    expect(c.image).toBe('thanosio/thanos:v0.31.0');
    expect(c.args).toContain('--objstore.config=$(OBJSTORE_CONFIG)');
    expect(c.env).toEqual([{ name: 'OBJSTORE_CONFIG', valueFrom: { secretKeyRef: OBJSTORE } }]);
    expect(objects.some((o) => o.kind === 'Secret')).toBe(false);
  });

  it('queries every shard and replica, the Stores and the rulers, deduplicating the replica labels', () => {
    const query = findObject<Workload & Obj>(objects, 'Deployment', 'thanos-query');
    const { args } = containerOf<{ name: string; args: string[] }>(query, 'thanos-query');
    expect(args).toEqual(
      expect.arrayContaining([
        '--query.replica-label=prometheus_replica',
        '--query.replica-label=thanos_ruler_replica',
        `--endpoint=dnssrv+_grpc._tcp.prometheus-operated.${NS}.svc`,
        `--endpoint=dnssrv+_grpc._tcp.thanos-store.${NS}.svc`,
        `--endpoint=dnssrv+_grpc._tcp.thanos-ruler-operated.${NS}.svc`,
      ]),
    );
    const noRuler = renderRole('thanos', scaled({}));
    const oneShard = containerOf<{ name: string; args: string[] }>(
      findObject<Workload & Obj>(noRuler, 'Deployment', 'thanos-query'),
      'thanos-query',
    );
    expect(oneShard.args.some((a) => a.includes('thanos-ruler-operated'))).toBe(false);
    expect(findObject<Obj>(objects, 'Service', 'thanos-store').spec.clusterIP).toBe('None');
    expect(findObject<Obj>(objects, 'Service', 'thanos-query').spec.ports).toContainEqual(
      expect.objectContaining({ name: 'http', port: 9090 }),
    );
  });

  it('takes replicas from the node count, and placement and resources from their chains', () => {
    const deployments = (spec: Record<string, unknown>, nodes: number) =>
      renderRole('thanos', spec, { nodeCount: nodes })
        .filter((o) => o.kind === 'Deployment')
        .map((o) => (o as Obj).spec.replicas);
    expect(deployments(scaled({}), 1)).toEqual([1, 1]);
    expect(deployments(scaled({}), 3)).toEqual([2, 2]);
    expect(deployments(scaled({}, { ...THANOS, query: { replicas: 3 }, store: { replicas: 1 } }), 3)).toEqual(
      [1, 3],
    );
    const placed = renderRole('thanos', {
      ...scaled({}, { ...THANOS, query: { resources: { limits: { memory: '8Gi' } } } }),
      nodeSelector: { 'node-role.kubernetes.io/monitoring': '' },
    });
    const query = findObject<Workload & Obj>(placed, 'Deployment', 'thanos-query');
    expect((query as Obj).spec.template.spec.nodeSelector).toEqual({
      'node-role.kubernetes.io/monitoring': '',
    });
    expect(
      containerOf<{ name: string; resources: { limits: { memory: string } } }>(query, 'thanos-query')
        .resources.limits.memory,
    ).toBe('8Gi');
    const budgets = renderRole('thanos', scaled({}), { nodeCount: 3 }).filter(
      (o) => o.kind === 'PodDisruptionBudget',
    );
    expect(budgets.map((b) => (b as Obj).spec.minAvailable)).toEqual([1, 1]);
  });

  it('prints every value through a safe filter', () => {
    expect(unsafeOutputsOf('thanos').filter((t) => t.unsafe.length)).toEqual([]);
    expect(unsafeOutputsOf('sharded-rules').filter((t) => t.unsafe.length)).toEqual([]);
  });

  it('runs with monitoring.thanos.enabled only, and is removed when it turns off', () => {
    const role = ROLES.find((r) => r.name === 'thanos')!;
    const when = (spec: Record<string, unknown>) => role.when(resolveValues(spec, FIXED_FACTS).values);
    expect(when(scaled({}))).toEqual({ run: true });
    expect(when(withMonitoring({}))).toEqual({
      run: false,
      reason: 'monitoring.thanos.enabled is not true',
      remove: true,
    });
    expect(when({ ...scaled({}), common: { monitoring: { type: 'external' } } }).run).toBe(false);
  });
});

describe('role sharded-rules (docs/architecture.md#rules-when-sharded)', () => {
  const objects = renderRole('sharded-rules', scaled({ shards: 2 }));

  it('renders as in the golden file', () => {
    expectGolden('sharded-rules', renderRoleText('sharded-rules', scaled({ shards: 2 })));
  });

  it('a ThanosRuler k8s selecting what Prometheus k8s selected, querying Thanos Query', () => {
    expect(objectIds(objects)).toEqual([
      `monitoring.coreos.com/v1 ThanosRuler ${NS}/k8s`,
      `policy/v1 PodDisruptionBudget ${NS}/thanos-ruler-k8s`,
      `v1 Service ${NS}/thanos-ruler-k8s`,
      `monitoring.coreos.com/v1 ServiceMonitor ${NS}/thanos-ruler-k8s`,
    ]);
    const ruler = findObject<Obj>(objects, 'ThanosRuler', 'k8s');
    const oneShard = prometheusOf(scaled({}));
    expect(ruler.spec.ruleSelector).toEqual(oneShard.spec.ruleSelector);
    expect(ruler.spec.ruleNamespaceSelector).toEqual(oneShard.spec.ruleNamespaceSelector);
    expect(ruler.spec.queryEndpoints).toEqual([`thanos-query.${NS}.svc:9090`]);
    expect(ruler.spec.objectStorageConfig).toEqual(OBJSTORE);
    expect(ruler.spec.alertmanagersUrl).toEqual([`dnssrv+http://_web._tcp.alertmanager-operated.${NS}.svc`]);
    const removal = ROLES.find((r) => r.name === 'sharded-rules')!.removal!;
    expect(removal.owns.map((k) => k.kind)).toEqual([
      'ThanosRuler',
      'PodDisruptionBudget',
      'Service',
      'ServiceMonitor',
    ]);
  });

  it('runs only with more than one shard', () => {
    const role = ROLES.find((r) => r.name === 'sharded-rules')!;
    const when = (spec: Record<string, unknown>) => role.when(resolveValues(spec, FIXED_FACTS).values);
    expect(when(scaled({ shards: 2 }))).toEqual({ run: true });
    expect(when(scaled({ shards: 1 }))).toMatchObject({ run: false, remove: true });
    expect(when(scaled({}))).toMatchObject({ run: false, remove: true });
  });

  it('the alerting ruler also reads Thanos Query while Thanos is on', () => {
    const on = { ...scaled({ shards: 2 }), alerting: { enabled: true } };
    const ruler = findObject<Obj>(renderRole('alerting', on), 'ThanosRuler', 'kubesphere');
    expect(ruler.spec.queryEndpoints).toEqual([`thanos-query.${NS}.svc:9090`]);
    const { warnings } = resolveValues(on, FIXED_FACTS);
    // The sample names prometheus-operated in common.monitoring.endpoint: KubeSphere would read one shard.
    expect(warnings.map((w) => w.type)).toContain('MonitoringEndpointNotThanosQuery');
    expect(warnings.find((w) => w.type === 'MonitoringEndpointNotThanosQuery')?.message).toContain(
      `set common.monitoring.endpoint to http://thanos-query.${NS}.svc:9090`,
    );
  });
});

describe('Grafana with Thanos on', () => {
  it('reads Thanos Query, which answers for every shard', () => {
    const datasource = (spec: Record<string, unknown>) => {
      const secret = findObject<Obj & { data: Record<string, string> }>(
        renderRole(
          'grafana',
          { ...spec, monitoring: { ...(spec.monitoring as object), grafana: { enabled: true } } },
          {
            grafanaAdminPassword: 'x',
          },
        ),
        'Secret',
        'grafana-datasources',
      );
      const parsed = JSON.parse(Buffer.from(secret.data['datasources.yaml']!, 'base64').toString()) as {
        datasources: { url: string }[];
      };
      return parsed.datasources[0]!.url;
    };
    expect(datasource(scaled({ shards: 2 }))).toBe(`http://thanos-query.${NS}.svc:9090`);
    expect(datasource(withMonitoring({}))).toBe(`http://prometheus-k8s.${NS}.svc:9090`);
  });
});

describe('on the in-memory API server', () => {
  const applies = (kube: Awaited<ReturnType<typeof fakeCluster>>) =>
    kube.log.filter((r) => r.method === 'PATCH' && r.contentType === CONTENT_TYPE.apply);

  it('a bad value of a new key applies nothing and names the field and the fix', async () => {
    const kube = await fakeCluster(
      scaled({ remoteWrite: [{ url: 'https://m.example.com/write', bearerToken: 'tok' }] }),
    );
    const { installer, cache } = fakeInstaller(kube);
    observe(kube, cache);
    kube.clearLog();
    await expect(installer.reconcile(KEY, [trigger('first-sight', KEY)], NEVER)).rejects.toThrow(
      /spec\.monitoring\.prometheus\.remoteWrite\[0\]\.bearerToken/,
    );
    expect(applies(kube)).toEqual([]);
    const degraded = currentCc(kube).status?.conditions?.find((c) => c.type === 'Degraded');
    expect(degraded?.message).toContain('spec.monitoring.prometheus.remoteWrite[0].bearerToken');
    expect(JSON.stringify(currentCc(kube).status)).not.toContain('"tok"');
  });

  it('shards 1 → 2 → 1 and Thanos on → off: the ruler and Store/Query come and go, the status names the endpoint', async () => {
    const kube = await fakeCluster(scaled({}, null));
    const { installer, cache } = fakeInstaller(kube);
    const run = async (spec: Record<string, unknown> | undefined, why: string) => {
      if (spec) {
        await kube.request('PATCH', CC_PATH, {
          body: { spec: { monitoring: spec } },
          contentType: CONTENT_TYPE.merge,
          query: { fieldManager: 'kubectl-edit' },
        });
      }
      observe(kube, cache);
      await installer.reconcile(KEY, [trigger(spec ? 'spec-changed' : 'first-sight', why)], NEVER);
    };
    const names = (kind: string) =>
      kube
        .objects(kind)
        .map((o) => o.metadata.name)
        .sort();
    const endpoint = () => currentCc(kube).status?.conditions?.find((c) => c.type === 'QueryEndpoint');

    await run(undefined, 'first');
    expect(names('ThanosRuler')).toEqual([]);
    expect(endpoint()).toBeUndefined();

    await run({ thanos: THANOS, prometheus: { shards: 2 } }, 'shards 2');
    expect(names('ThanosRuler')).toEqual(['k8s']);
    expect(names('Deployment')).toEqual(expect.arrayContaining(['thanos-query', 'thanos-store']));
    expect((kube.objects('Prometheus')[0] as Obj).spec.shards).toBe(2);
    expect((kube.objects('Prometheus')[0] as Obj).spec.ruleSelector).toBeUndefined();
    expect(endpoint()).toMatchObject({ status: 'True', reason: 'ThanosQuery' });
    expect(endpoint()?.message).toContain(`http://thanos-query.${NS}.svc:9090`);

    // Settled: a resync with shards and Thanos on writes nothing.
    observe(kube, cache);
    kube.clearLog();
    await installer.reconcile(KEY, [trigger('resync')], NEVER);
    expect(kube.writes()).toEqual([]);

    await run({ prometheus: { shards: 1 } }, 'shards 1');
    expect(names('ThanosRuler')).toEqual([]);
    expect(names('Service')).not.toContain('thanos-ruler-k8s');
    const prometheus = kube.objects('Prometheus')[0] as Obj;
    expect(prometheus.spec.shards).toBeUndefined();
    expect(prometheus.spec.ruleSelector).toEqual({ matchLabels: { prometheus: 'k8s', role: 'alert-rules' } });
    expect(names('Deployment')).toEqual(expect.arrayContaining(['thanos-query', 'thanos-store']));

    await run({ thanos: { enabled: false } }, 'thanos off');
    const ours = (kind: string) =>
      kube.objects(kind).filter((o) => o.metadata.labels?.['installer.kubesphere.io/role'] === 'thanos');
    for (const kind of ['Deployment', 'Service', 'PodDisruptionBudget', 'ServiceMonitor'])
      expect([kind, ours(kind)]).toEqual([kind, []]);
    expect((kube.objects('Prometheus')[0] as Obj).spec.thanos).toBeUndefined();
    expect(endpoint()).toMatchObject({ status: 'False', reason: 'Prometheus' });
  }, 60_000);
});
