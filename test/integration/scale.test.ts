/**
 * Shards and Thanos on the embedded control plane, with the real prometheus-operator (v0.55.0, see
 * prometheus-operator.ts) turning our objects into StatefulSets, configuration and rule files
 * (docs/architecture.md#rules-when-sharded):
 *   - 2 shards with Thanos: each shard's StatefulSet has the sidecar with the user's object-storage
 *     Secret, scrapes its half of the targets ($(SHARD) of 2), and is given no rule at all; the
 *     ThanosRuler k8s is given every group of every PrometheusRule Prometheus k8s selected with one shard,
 *     and queries Thanos Query;
 *   - back to 1 shard: the second shard's StatefulSet and the ruler go, Prometheus k8s has its rules
 *     again, and the first shard's volume stays;
 *   - Thanos off: Store, Query, their Services, budgets and monitors go, the sidecar leaves the
 *     StatefulSet; the volume and the user's Secret stay; nothing labelled for the two roles is left.
 */
import { gunzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import yaml from 'js-yaml';
import type { ClusterConfiguration } from '../../src/api/cluster-configuration.js';
import { ApiError, type KubeClient } from '../../src/kube/client.js';
import { listAll } from '../../src/kube/list.js';
import {
  ccPath,
  createClusterConfiguration,
  createPrometheusPvc,
  deletePvc,
  ensureMonitoringCrds,
  ensureMonitoringNamespace,
  mergePatch,
  MONITORING_NS,
  prepareOperatorTest,
  sampleClusterConfiguration,
  startOperatorFor,
  type Obj,
} from './fixtures.js';
import { waitUntil, type OperatorProcess } from './operator-process.js';
import {
  deleteOperatorGenerated,
  serviceAccountKubeconfig,
  startPrometheusOperator,
  type ToolProcess,
} from './prometheus-operator.js';

const M = `/apis/monitoring.coreos.com/v1/namespaces/${MONITORING_NS}`;
const CORE = `/api/v1/namespaces/${MONITORING_NS}`;
const APPS = `/apis/apps/v1/namespaces/${MONITORING_NS}`;
const OBJSTORE_SECRET = 'ks-test-thanos-objstore';
const OBJSTORE = { name: OBJSTORE_SECRET, key: 'objstore.yml' };
const PVC0 = 'prometheus-k8s-db-prometheus-k8s-0';
const PVC1 = 'prometheus-k8s-db-prometheus-k8s-shard-1-0';
const RULE_LABELS = 'prometheus=k8s,role=alert-rules';
const ROLES = ['thanos', 'sharded-rules'];

function ignoreNotFound(e: unknown): void {
  if (!(e instanceof ApiError && e.notFound)) throw e;
}

interface RuleFile {
  groups: { name: string }[];
}

describe('shards and Thanos with the real prometheus-operator', () => {
  let admin: KubeClient;
  let ns: string;
  let op: OperatorProcess;
  let po: ToolProcess | undefined;

  const getOrUndefined = (p: string) => admin.getOrUndefined<Obj>(p);
  const statefulSet = (name: string) => getOrUndefined(`${APPS}/statefulsets/${name}`);
  const container = (sts: Obj, name: string) =>
    (sts.spec.template.spec.containers as Obj[]).find((c) => c.name === name);

  /** The rule group names in the rule-file ConfigMaps `<prefix>-rulefiles-<n>`. */
  async function ruleGroups(prefix: string): Promise<string[]> {
    const { items } = await listAll<Obj>(admin, `${CORE}/configmaps`);
    return items
      .filter((c) => new RegExp(`^${prefix}-rulefiles-\\d+$`).test(c.metadata.name))
      .flatMap((c) => Object.values((c.data ?? {}) as Record<string, string>))
      .flatMap((text) => (yaml.load(text) as RuleFile | null)?.groups ?? [])
      .map((g) => g.name)
      .sort();
  }

  /** Every group of every PrometheusRule labelled for Prometheus k8s, in every namespace. */
  async function selectedGroups(): Promise<string[]> {
    const { items } = await listAll<Obj>(admin, '/apis/monitoring.coreos.com/v1/prometheusrules', {
      labelSelector: RULE_LABELS,
    });
    return items.flatMap((r) => (r.spec.groups as { name: string }[]).map((g) => g.name)).sort();
  }

  async function generatedConfig(): Promise<{ scrape_configs: Obj[]; rule_files?: string[] }> {
    const secret = await admin.get<Obj>(`${CORE}/secrets/prometheus-k8s`);
    return yaml.load(
      gunzipSync(Buffer.from(secret.data['prometheus.yaml.gz'] as string, 'base64')).toString('utf8'),
    ) as { scrape_configs: Obj[]; rule_files?: string[] };
  }

  /** What our two roles left: every object labelled with one of them, of the kinds they render. */
  async function leftOfRoles(): Promise<string[]> {
    const selector = `installer.kubesphere.io/role in (${ROLES.join(',')})`;
    const kinds = [
      `${APPS}/deployments`,
      `${CORE}/services`,
      `/apis/policy/v1/namespaces/${MONITORING_NS}/poddisruptionbudgets`,
      `${M}/servicemonitors`,
      `${M}/thanosrulers`,
    ];
    const found: string[] = [];
    for (const kind of kinds) {
      const { items } = await listAll<Obj>(admin, kind, { labelSelector: selector });
      found.push(...items.map((o) => `${o.kind}/${o.metadata.name}`));
    }
    return found;
  }

  const setSpec = (monitoring: Record<string, unknown>) =>
    op.runAfter(() => mergePatch(admin, ccPath(ns), { spec: { monitoring } }));

  beforeAll(async () => {
    ({ admin, ns } = await prepareOperatorTest('scale'));
    await ensureMonitoringCrds(admin);
    await ensureMonitoringNamespace(admin);
    // What a garbage collector would have finished: the second shard's foreground deletion.
    const shard1 = `${APPS}/statefulsets/prometheus-k8s-shard-1`;
    if (await getOrUndefined(shard1)) {
      await mergePatch(admin, shard1, { metadata: { finalizers: null } });
      await admin.request('DELETE', shard1).catch(ignoreNotFound);
    }
    await deleteOperatorGenerated(admin);
    await admin.request('DELETE', `${M}/prometheuses/k8s`).catch(ignoreNotFound);
    await waitUntil('no Prometheus k8s', async () => !(await getOrUndefined(`${M}/prometheuses/k8s`)));
    for (const pvc of [PVC0, PVC1]) await deletePvc(admin, pvc);
    // The user's Secret: a filesystem bucket (the live test runs one; here nothing reads it).
    await admin.request('DELETE', `${CORE}/secrets/${OBJSTORE_SECRET}`).catch(ignoreNotFound);
    await admin.request('POST', `${CORE}/secrets`, {
      body: {
        apiVersion: 'v1',
        kind: 'Secret',
        metadata: { name: OBJSTORE_SECRET },
        stringData: { 'objstore.yml': 'type: FILESYSTEM\nconfig:\n  directory: /tmp/ks-test-bucket\n' },
      },
    });
    // The first shard's volume, as the StatefulSet controller would create it (none runs here).
    await createPrometheusPvc(admin, PVC0, '20Gi');

    op = await startOperatorFor(ns);
    const cc: ClusterConfiguration = sampleClusterConfiguration(ns);
    const spec = cc.spec as { monitoring: Record<string, unknown> };
    spec.monitoring = {
      ...spec.monitoring,
      prometheus: { replicas: 1, shards: 2 },
      thanos: { enabled: true, objectStorageConfig: OBJSTORE },
    };
    await op.runAfter(() => createClusterConfiguration(admin, cc), 180_000);

    const deployment = await admin.get<Obj>(`${APPS}/deployments/prometheus-operator`);
    const args = (deployment.spec.template.spec.containers as Obj[]).find(
      (c) => c.name === 'prometheus-operator',
    )!.args as string[];
    po = await startPrometheusOperator(
      args,
      await serviceAccountKubeconfig(admin, MONITORING_NS, 'prometheus-operator'),
    );
    await waitUntil(
      'StatefulSets of both shards and of the ThanosRuler k8s',
      async () =>
        (await statefulSet('prometheus-k8s')) !== undefined &&
        (await statefulSet('prometheus-k8s-shard-1')) !== undefined &&
        (await statefulSet('thanos-ruler-k8s')) !== undefined,
      120_000,
      1000,
    );
  }, 300_000);

  afterAll(async () => {
    const lines = po?.lines ?? [];
    const sample = sampleClusterConfiguration(ns).spec as Record<string, Obj>;
    await op
      .runAfter(() =>
        mergePatch(admin, ccPath(ns), {
          spec: { monitoring: { ...sample.monitoring, prometheus: null, thanos: null } },
        }),
      )
      .catch(() => undefined);
    await po?.stop();
    if (process.env.KS_TEST_OPERATOR_LOGS === '1') process.stderr.write(`${lines.join('\n')}\n`);
    expect(await op?.stop()).toBe(0);
    // What a garbage collector would have finished: the second shard's foreground deletion.
    const shard1 = `${APPS}/statefulsets/prometheus-k8s-shard-1`;
    if (await getOrUndefined(shard1)) {
      await mergePatch(admin, shard1, { metadata: { finalizers: null } });
      await admin.request('DELETE', shard1).catch(ignoreNotFound);
    }
    await deleteOperatorGenerated(admin);
    await admin.request('DELETE', `${M}/prometheuses/k8s`).catch(ignoreNotFound);
    for (const pvc of [PVC0, PVC1]) await deletePvc(admin, pvc);
    await admin.request('DELETE', `${CORE}/secrets/${OBJSTORE_SECRET}`).catch(ignoreNotFound);
    await admin.request('DELETE', ccPath(ns)).catch(ignoreNotFound);
  }, 180_000);

  it('each shard has the sidecar with the named object storage and scrapes its part of the targets', async () => {
    for (const [name, shard] of [
      ['prometheus-k8s', '0'],
      ['prometheus-k8s-shard-1', '1'],
    ] as const) {
      const sts = (await statefulSet(name))!;
      expect(sts.metadata.labels?.['operator.prometheus.io/shard']).toBe(shard);
      const sidecar = container(sts, 'thanos-sidecar');
      expect(sidecar?.image).toBe('thanosio/thanos:v0.31.0');
      expect(sidecar?.env).toContainEqual({
        name: 'OBJSTORE_CONFIG',
        valueFrom: { secretKeyRef: OBJSTORE },
      });
      // Blocks are cut every 2 hours and left to the bucket (no local compaction), as the sidecar needs.
      expect(container(sts, 'prometheus')?.args).toContain('--storage.tsdb.max-block-duration=2h');
      expect(container(sts, 'config-reloader')?.env).toContainEqual({ name: 'SHARD', value: shard });
    }
    const config = await generatedConfig();
    expect(config.scrape_configs.length).toBeGreaterThan(5);
    for (const job of config.scrape_configs) {
      expect([job.job_name, job.relabel_configs]).toEqual([
        job.job_name,
        expect.arrayContaining([
          expect.objectContaining({ action: 'hashmod', modulus: 2 }),
          expect.objectContaining({ action: 'keep', regex: '$(SHARD)' }),
        ]),
      ]);
    }
    // prometheus-operated lists every shard's pods with the sidecar's gRPC port, as Thanos Query finds them.
    const governing = await admin.get<Obj>(`${CORE}/services/prometheus-operated`);
    expect(governing.spec.ports).toContainEqual(expect.objectContaining({ name: 'grpc', port: 10901 }));
  });

  it('no shard evaluates a rule; the ThanosRuler k8s has every group Prometheus k8s had, over Thanos Query', async () => {
    const selected = await selectedGroups();
    expect(selected.length).toBeGreaterThan(10);
    await waitUntil(
      "the ruler's rule files",
      async () => JSON.stringify(await ruleGroups('thanos-ruler-k8s')) === JSON.stringify(selected),
      60_000,
      1000,
    );
    expect(await ruleGroups('prometheus-k8s')).toEqual([]);
    const config = await generatedConfig();
    expect(config.rule_files ?? []).toEqual(expect.not.arrayContaining([expect.stringContaining('.yaml')]));
    const ruler = (await statefulSet('thanos-ruler-k8s'))!;
    const args = container(ruler, 'thanos-ruler')!.args as string[];
    expect(args).toContain(`--query=thanos-query.${MONITORING_NS}.svc:9090`);
    expect(args).toContain(`--objstore.config=$(OBJSTORE_CONFIG)`);
    // The status and the log name the endpoint KubeSphere should read.
    const cc = await admin.get<ClusterConfiguration>(ccPath(ns));
    const endpoint = cc.status?.conditions?.find((c) => c.type === 'QueryEndpoint');
    expect(endpoint).toMatchObject({ status: 'True', reason: 'ThanosQuery' });
    expect(endpoint?.message).toContain(`http://thanos-query.${MONITORING_NS}.svc:9090`);
    expect(
      op.lines.some((l) => l.includes(`KubeSphere should read Thanos Query at http://thanos-query.`)),
    ).toBe(true);
  });

  it('back to 1 shard: the second shard and the ruler go, the rules return to Prometheus, the volume stays', async () => {
    const pvc0 = await admin.get<Obj>(`${CORE}/persistentvolumeclaims/${PVC0}`);
    await setSpec({ prometheus: { replicas: 1, shards: null } });
    // prometheus-operator deletes the second shard's StatefulSet with foreground propagation; no garbage
    // collector runs here to finish it, so its deletion started is what is checked.
    await waitUntil(
      'the second shard deleted',
      async () => {
        const sts = await statefulSet('prometheus-k8s-shard-1');
        return sts === undefined || sts.metadata.deletionTimestamp !== undefined;
      },
      60_000,
      1000,
    );
    expect(await getOrUndefined(`${M}/thanosrulers/k8s`)).toBeUndefined();
    const selected = await selectedGroups();
    await waitUntil(
      "Prometheus k8s's rule files",
      async () => JSON.stringify(await ruleGroups('prometheus-k8s')) === JSON.stringify(selected),
      60_000,
      1000,
    );
    expect((await statefulSet('prometheus-k8s')) !== undefined).toBe(true);
    const kept = await admin.get<Obj>(`${CORE}/persistentvolumeclaims/${PVC0}`);
    expect(kept.metadata.uid).toBe(pvc0.metadata.uid);
    expect(await leftOfRoles()).toEqual(
      expect.not.arrayContaining([expect.stringMatching(/ThanosRuler|thanos-ruler-k8s/)]),
    );
  });

  it('Thanos off: Store, Query and the sidecar go, the volume and the Secret stay, nothing of the roles is left', async () => {
    const pvc0 = await admin.get<Obj>(`${CORE}/persistentvolumeclaims/${PVC0}`);
    await setSpec({ thanos: { enabled: false, objectStorageConfig: null } });
    expect(await leftOfRoles()).toEqual([]);
    expect((await admin.get<Obj>(`${M}/prometheuses/k8s`)).spec.thanos).toBeUndefined();
    await waitUntil(
      'the sidecar gone from the StatefulSet',
      async () => {
        const sts = await statefulSet('prometheus-k8s');
        return sts !== undefined && container(sts, 'thanos-sidecar') === undefined;
      },
      60_000,
      1000,
    );
    expect((await admin.get<Obj>(`${CORE}/persistentvolumeclaims/${PVC0}`)).metadata.uid).toBe(
      pvc0.metadata.uid,
    );
    expect(await getOrUndefined(`${CORE}/secrets/${OBJSTORE_SECRET}`)).toBeDefined();
    const cc = await admin.get<ClusterConfiguration>(ccPath(ns));
    expect(cc.status?.conditions?.find((c) => c.type === 'QueryEndpoint')).toMatchObject({
      status: 'False',
      reason: 'Prometheus',
    });
  });
});
