/**
 * The chart on the real API server: `helm install`, then the chart's RBAC judged by the API server
 * (SubjectAccessReview for every request a full plan and the code make, and no rule left unused),
 * then the operator run AS the chart's ServiceAccount with the Deployment's own args until
 * monitoring is enabled, requests outside the rules denied, and `helm upgrade` / `helm uninstall`
 * leaving the CRD and the ClusterConfiguration in place. KubeSphere core's GlobalRuleGroup API is
 * served here (test-only CRD), so the plan and the run install the built-in alerts as GlobalRuleGroups
 * and delete the fallback PrometheusRules: the one delete the chart grants.
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import yaml from 'js-yaml';
import type { ClusterFacts } from '../../src/config/facts.js';
import { ROLES } from '../../src/installer/catalog.js';
import type { Plan } from '../../src/installer/model.js';
import { makePlan } from '../../src/installer/plan/make-plan.js';
import type { ClusterConfiguration } from '../../src/api/cluster-configuration.js';
import { issueWebhookTls } from '../../src/facts/webhook-tls.js';
import { applyObjects } from '../../tools/apply-objects.js';
import { ApiError, KubeClient, type KubeObject } from '../../src/kube/client.js';
import { RestMapper } from '../../src/kube/discovery.js';
import { createRenderer } from '../../src/render/renderer.js';
import {
  applyAccesses,
  codeAccesses,
  removalAccesses,
  describeAccess,
  rbacAccesses,
  unusedGrants,
  type Access,
} from '../unit/chart/access.js';
import { CHART_DIR, helm, ROOT, rulesOf, type HelmResult } from '../unit/chart/helm.js';
import { installGlobalRuleGroupCrd, removeGlobalRuleGroupCrd } from './alerting-crd.js';
import { adminClient, clusterInfo, createTestNamespace } from './cluster.js';
import {
  ccPath,
  clusterEvents,
  ensureMonitoringNamespace,
  mergePatch,
  MONITORING_NS,
  sampleClusterConfiguration,
} from './fixtures.js';
import { startOperatorProcess, type OperatorProcess } from './operator-process.js';

const CRD_PATH =
  '/apis/apiextensions.k8s.io/v1/customresourcedefinitions/clusterconfigurations.installer.kubesphere.io';
const RBAC = '/apis/rbac.authorization.k8s.io/v1';
const CREATE_FLAG = '--create-cluster-configuration';

interface DeploymentLike extends KubeObject {
  spec: {
    template: {
      metadata: { labels?: Record<string, string> };
      spec: { containers: { args: string[] }[]; [key: string]: unknown };
    };
  };
}

/** A spec that turns every role and every option with objects of its own on. */
function everythingEnabled(): Record<string, unknown> {
  const spec = structuredClone(sampleClusterConfiguration('x').spec!) as Record<
    string,
    Record<string, unknown>
  >;
  spec.etcd = { monitoring: true, endpointIps: '10.0.0.11,10.0.0.12,10.0.0.13', port: 2379, tlsEnable: true };
  spec.alerting = { enabled: true };
  spec.monitoring!.gpu = { nvidia_dcgm_exporter: { enabled: true } };
  spec.monitoring!.grafana = { enabled: true };
  spec.servicemesh = { enabled: true };
  spec.metrics_server = { enabled: true };
  spec.monitoring!.prometheus = { shards: 2 };
  spec.monitoring!.thanos = {
    enabled: true,
    objectStorageConfig: { name: 'thanos-objstore', key: 'objstore.yml' },
  };
  return spec;
}

/**
 * Polls the ClusterConfiguration; fails at once with the log when a run is refused by the API server
 * (403: the chart's RBAC is short) or the operator exits. Other failed runs are retried by the operator.
 */
async function untilMonitoringEnabled(
  op: OperatorProcess,
  ns: string,
  timeoutMs: number,
): Promise<ClusterConfiguration> {
  const admin = adminClient();
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const cc = await admin.getOrUndefined<ClusterConfiguration>(ccPath(ns));
    if (cc?.status?.monitoring?.status === 'enabled') return cc;
    const degraded = cc?.status?.conditions?.find((c) => c.type === 'Degraded' && c.status === 'True');
    const failed = degraded && /forbidden/i.test(degraded.message) ? degraded.message : undefined;
    if (failed || op.child.exitCode !== null || Date.now() > deadline) {
      const why = failed
        ? `a run was refused: ${failed}`
        : op.child.exitCode !== null
          ? 'the operator exited'
          : 'timed out';
      throw new Error(`monitoring not enabled, ${why}; last log lines:\n${op.lines.slice(-30).join('\n')}`);
    }
    await new Promise((r) => setTimeout(r, 500));
  }
}

const statusOf = (p: Promise<unknown>): Promise<number> =>
  p.then(
    () => 200,
    (e: unknown) => (e instanceof ApiError ? e.status : -1),
  );

describe('helm chart ks-installer on the API server', () => {
  let admin: KubeClient;
  let mapper: RestMapper;
  let bin: string;
  let kubeconfig: string;
  let ns: string;
  let release: string;
  let tmp: string;
  let saKubeconfig: string | undefined;
  let installed = false;
  let op: OperatorProcess | undefined;
  let planPromise: Promise<Plan> | undefined;

  const helmIn = (args: string[]): Promise<HelmResult> =>
    helm(bin, [...args, '--namespace', ns, '--kubeconfig', kubeconfig]);
  const serviceAccountUser = () => ({
    user: `system:serviceaccount:${ns}:${release}`,
    groups: ['system:serviceaccounts', `system:serviceaccounts:${ns}`, 'system:authenticated'],
  });

  /** A full plan: 3 nodes, etcd monitoring with TLS and member IPs, every role on. */
  const fullPlan = () =>
    (planPromise ??= (async () => {
      const facts: ClusterFacts = {
        nodeCount: 3,
        kubernetesVersion: (await admin.get<{ gitVersion: string }>('/version')).gitVersion,
        servedApiVersions: await mapper.servedGroupVersions(),
        live: { etcdClientCertsSecret: true, istioNamespaceExists: true },
        webhookTls: await issueWebhookTls(),
        grafanaAdminPassword: 'chart-test',
      };
      return makePlan(everythingEnabled(), facts, {
        roles: ROLES,
        renderer: createRenderer(path.join(ROOT, 'templates')),
        crdsRoot: path.join(ROOT, 'crds'),
      });
    })());

  async function denied(accesses: Access[]): Promise<string[]> {
    const { user, groups } = serviceAccountUser();
    const seen = new Set<string>();
    const out: string[] = [];
    for (const a of accesses) {
      const key = `${a.verb}|${a.group}|${a.resource}|${a.namespace ?? ''}|${a.name ?? ''}`;
      if (seen.has(key)) continue;
      seen.add(key);
      const review = await admin.request<{ status: { allowed: boolean } }>(
        'POST',
        '/apis/authorization.k8s.io/v1/subjectaccessreviews',
        {
          body: {
            apiVersion: 'authorization.k8s.io/v1',
            kind: 'SubjectAccessReview',
            spec: {
              user,
              groups,
              resourceAttributes: {
                verb: a.verb,
                group: a.group,
                resource: a.resource,
                namespace: a.namespace,
                name: a.name,
              },
            },
          },
        },
      );
      if (!review.status.allowed) out.push(describeAccess(a));
    }
    return out;
  }

  /** A kubeconfig holding a TokenRequest token of the chart's ServiceAccount (no controller needed). */
  async function serviceAccountKubeconfig(): Promise<string> {
    if (saKubeconfig) return saKubeconfig;
    const tr = await admin.request<{ status: { token: string } }>(
      'POST',
      `/api/v1/namespaces/${ns}/serviceaccounts/${release}/token`,
      {
        body: {
          apiVersion: 'authentication.k8s.io/v1',
          kind: 'TokenRequest',
          spec: { expirationSeconds: 3600 },
        },
      },
    );
    const adminConfig = yaml.load(readFileSync(kubeconfig, 'utf8')) as {
      clusters: { name: string; cluster: Record<string, unknown> }[];
    };
    const file = path.join(tmp, 'service-account.kubeconfig');
    const config = {
      apiVersion: 'v1',
      kind: 'Config',
      clusters: [{ name: 'envtest', cluster: adminConfig.clusters[0]!.cluster }],
      users: [{ name: release, user: { token: tr.status.token } }],
      contexts: [{ name: release, context: { cluster: 'envtest', user: release } }],
      'current-context': release,
    };
    writeFileSync(file, yaml.dump(config), { mode: 0o600 });
    return (saKubeconfig = file);
  }

  /** The ClusterConfiguration the chart hands the operator (ConfigMap <release>-cluster-configuration). */
  async function chartClusterConfiguration(): Promise<ClusterConfiguration> {
    const cm = await admin.get<KubeObject & { data: Record<string, string> }>(
      `/api/v1/namespaces/${ns}/configmaps/${release}-cluster-configuration`,
    );
    return yaml.load(cm.data['cluster-configuration.yaml']!) as ClusterConfiguration;
  }

  /** The installed Deployment's args after `run`, without the listen addresses (the test binds loopback ports). */
  async function deploymentArgs(): Promise<string[]> {
    const deployment = await admin.get<DeploymentLike>(
      `/apis/apps/v1/namespaces/${ns}/deployments/${release}`,
    );
    const args = deployment.spec.template.spec.containers[0]!.args;
    expect(args[0]).toBe('run');
    return args.slice(1).filter((a) => !/^--(health|metrics)-addr=/.test(a));
  }

  beforeAll(async () => {
    admin = adminClient();
    mapper = new RestMapper(admin);
    bin = clusterInfo().binaries.helm!;
    kubeconfig = clusterInfo().kubeconfig;
    ns = await createTestNamespace(admin, 'chart');
    release = `ks-installer-${ns.slice('chart-'.length)}`;
    tmp = mkdtempSync(path.join(tmpdir(), 'ks-installer-chart-'));
    await installGlobalRuleGroupCrd(admin);
    // takeover.enabled=true below: its Role lives in the monitoring namespace, which must exist.
    await ensureMonitoringNamespace(admin);
  });

  afterAll(async () => {
    await op?.stop();
    if (installed) await helmIn(['uninstall', release]);
    rmSync(tmp, { recursive: true, force: true });
    await removeGlobalRuleGroupCrd(admin);
  });

  it('helm install creates the CRD, the operator, its permissions and the ClusterConfiguration file', async () => {
    // The CRD is cluster-wide and another test file may have created it already: hand it over to
    // this release the way Helm documents for adopting an existing object.
    if (await admin.getOrUndefined(CRD_PATH)) {
      await mergePatch(admin, CRD_PATH, {
        metadata: {
          labels: { 'app.kubernetes.io/managed-by': 'Helm' },
          annotations: { 'meta.helm.sh/release-name': release, 'meta.helm.sh/release-namespace': ns },
        },
      });
    }
    const r = await helmIn([
      'install',
      release,
      CHART_DIR,
      '--set',
      'clusterConfiguration.create=true',
      '--set',
      'leaderElection.enabled=true',
      '--set',
      'resyncPeriod=1h',
      '--set',
      'takeover.enabled=true',
    ]);
    expect({ exitCode: r.exitCode, stderr: r.stderr }).toEqual({ exitCode: 0, stderr: '' });
    installed = true;
    expect(r.stdout).toContain(`kubectl logs -n ${ns} deploy/${release} -f`);
    expect(r.stdout).toContain(`kubectl edit cc -n ${ns} ks-installer`);

    const crd = await admin.get<KubeObject>(CRD_PATH);
    expect(crd.metadata.annotations).toMatchObject({ 'helm.sh/resource-policy': 'keep' });
    await admin.get(`/api/v1/namespaces/${ns}/serviceaccounts/${release}`);
    await admin.get(`${RBAC}/clusterroles/${release}`);
    await admin.get(`${RBAC}/namespaces/${ns}/roles/${release}`);
    // Helm does not create the ClusterConfiguration: the operator does, from this file.
    expect(await statusOf(admin.get(ccPath(ns)))).toBe(404);
    const cc = await chartClusterConfiguration();
    expect(cc.metadata).toEqual({ name: 'ks-installer', namespace: ns });
    expect(cc.spec).toEqual(sampleClusterConfiguration(ns).spec);
  });

  it('allows the ServiceAccount every request of a full plan and of the code, and grants nothing they do not need', async () => {
    const plan = await fullPlan();
    expect(plan.roles.filter((r) => r.skip).map((r) => r.role.name)).toEqual([]);
    expect(plan.values.alerts.form).toBe('GlobalRuleGroup');
    const manifests = plan.roles.flatMap((r) => r.manifests);
    // Discovery must know the plan's custom kinds: install their CRDs as the operator would.
    const crds = manifests.filter((m) => m.object.kind === 'CustomResourceDefinition').map((m) => m.object);
    await applyObjects(admin, mapper, crds, { fieldManager: 'ks-installer', force: true });

    const needed = [
      ...(await applyAccesses(manifests, mapper)),
      ...rbacAccesses(manifests),
      ...(await removalAccesses(plan.roles, mapper)),
      ...codeAccesses(ns, 'ks-installer', {
        leaderElect: true,
        createClusterConfiguration: true,
        takeover: true,
      }),
    ];
    expect(needed.length).toBeGreaterThan(100);
    expect(await denied(needed)).toEqual([]);

    // The check can fail: a kind no template renders is refused.
    expect(
      await denied([
        { verb: 'create', group: 'apps', resource: 'statefulsets', namespace: MONITORING_NS, why: 'probe' },
      ]),
    ).toHaveLength(1);

    // Least privilege: every grant of the installed ClusterRole and Role is needed by some request.
    const clusterRole = await admin.get<KubeObject>(`${RBAC}/clusterroles/${release}`);
    const role = await admin.get<KubeObject>(`${RBAC}/namespaces/${ns}/roles/${release}`);
    const takeover = await admin.get<KubeObject>(
      `${RBAC}/namespaces/${MONITORING_NS}/roles/${release}-takeover`,
    );
    const takeoverMetricsServer = await admin.get<KubeObject>(
      `${RBAC}/namespaces/kube-system/roles/${release}-takeover-metrics-server`,
    );
    expect(
      unusedGrants(
        [...rulesOf(clusterRole), ...rulesOf(role), ...rulesOf(takeover), ...rulesOf(takeoverMetricsServer)],
        needed,
      ),
    ).toEqual([]);
    // Secrets in the monitoring namespace are deleted as a collection only: never listed, read or deleted by name.
    expect(
      await denied(
        ['list', 'get', 'delete'].map((verb) => ({
          verb,
          group: '',
          resource: 'secrets',
          namespace: MONITORING_NS,
          name: verb === 'list' ? undefined : 'sh.helm.release.v1.notification-manager.v1',
          why: 'probe',
        })),
      ),
    ).toHaveLength(3);
  });

  it('names in escalate and bind exactly the roles the templates render and bind', async () => {
    const objects = (await fullPlan()).roles.flatMap((r) => r.manifests.map((m) => m.object));
    const sorted = (names: string[]) => [...new Set(names)].sort();
    const rendered = (kind: string) =>
      sorted(objects.filter((o) => o.kind === kind).map((o) => o.metadata.name));
    const referenced = (bindingKind: string, roleKind: string) =>
      sorted(
        objects
          .filter((o) => o.kind === bindingKind)
          .map((o) => (o as KubeObject & { roleRef: { kind: string; name: string } }).roleRef)
          .filter((ref) => ref.kind === roleKind)
          .map((ref) => ref.name),
      );
    const rules = rulesOf(await admin.get<KubeObject>(`${RBAC}/clusterroles/${release}`));
    const named = (resource: string, verb: string) =>
      sorted(
        rules
          .filter((r) => r.resources?.includes(resource) && r.verbs.includes(verb))
          .flatMap((r) => r.resourceNames ?? []),
      );
    expect(named('clusterroles', 'escalate')).toEqual(rendered('ClusterRole'));
    expect(named('roles', 'escalate')).toEqual(rendered('Role'));
    expect(named('clusterroles', 'bind')).toEqual(
      sorted([
        ...referenced('ClusterRoleBinding', 'ClusterRole'),
        ...referenced('RoleBinding', 'ClusterRole'),
      ]),
    );
    expect(named('roles', 'bind')).toEqual(referenced('RoleBinding', 'Role'));
  });

  it("runs the operator as the chart's ServiceAccount with the Deployment's args until monitoring is enabled", async () => {
    // The ClusterConfiguration as a user would apply it (the chart's own file: see the next test).
    await admin.request('POST', ccPath(ns).replace(/\/[^/]+$/, ''), {
      body: await chartClusterConfiguration(),
    });
    const args = await deploymentArgs();
    expect(args).toEqual(
      expect.arrayContaining([`--namespace=${ns}`, '--leader-elect', '--resync-period=1h']),
    );
    op = startOperatorProcess([
      ...args.filter((a) => !a.startsWith(`${CREATE_FLAG}=`)),
      '--kubeconfig',
      await serviceAccountKubeconfig(),
    ]);
    const running = op;
    const cc = await untilMonitoringEnabled(running, ns, 240_000);
    expect(cc.status?.conditions?.find((c) => c.type === 'Ready')?.status).toBe('True');
    // The run writes the status, then posts RunSucceeded, then logs its success line: wait for the line.
    await running.waitFor(/run succeeded/, 10_000);
    // Best-effort writes (status, Events) and the Lease went through too.
    expect(running.lines.filter((l) => /forbidden/i.test(l))).toEqual([]);
    const events = await clusterEvents(admin, ns, 'ks-installer');
    expect(events.map((e) => e.reason)).toEqual(expect.arrayContaining(['RunStarted', 'RunSucceeded']));
    const lease = await admin.get<KubeObject & { spec: { holderIdentity?: string } }>(
      `/apis/coordination.k8s.io/v1/namespaces/${ns}/leases/ks-installer`,
    );
    expect(lease.spec.holderIdentity).toBeTruthy();
  }, 300_000);

  it('with clusterConfiguration.create the operator creates the missing ClusterConfiguration from the chart file', async () => {
    await op?.stop();
    op = undefined;
    const before = await admin.getOrUndefined<ClusterConfiguration>(ccPath(ns));
    if (before) await admin.request('DELETE', ccPath(ns));
    const file = path.join(tmp, 'cluster-configuration.yaml');
    writeFileSync(file, yaml.dump(await chartClusterConfiguration()));
    const args = (await deploymentArgs()).map((a) =>
      a.startsWith(`${CREATE_FLAG}=`) ? `${CREATE_FLAG}=${file}` : a,
    );
    expect(args).toContain(`${CREATE_FLAG}=${file}`);
    op = startOperatorProcess([...args, '--kubeconfig', await serviceAccountKubeconfig()]);
    try {
      const cc = await untilMonitoringEnabled(op, ns, 240_000);
      expect(cc.metadata.uid).not.toBe(before?.metadata.uid);
      expect(cc.spec).toEqual(sampleClusterConfiguration(ns).spec);
      expect(
        op.lines.some((l) => l.includes(`created ClusterConfiguration ${ns}/ks-installer from ${file}`)),
      ).toBe(true);
    } finally {
      // Later tests need the object whatever happened here.
      if (!(await admin.getOrUndefined(ccPath(ns)))) {
        await admin.request('POST', ccPath(ns).replace(/\/[^/]+$/, ''), {
          body: await chartClusterConfiguration(),
        });
      }
    }
  }, 300_000);

  it("the Deployment's pod is admitted under the restricted Pod Security Standard", async () => {
    // Pods are what PodSecurity admission judges; without controllers, create the Deployment's pod as a dry run.
    const restricted = await createTestNamespace(admin, 'chart-psa');
    await mergePatch(admin, `/api/v1/namespaces/${restricted}`, {
      metadata: { labels: { 'pod-security.kubernetes.io/enforce': 'restricted' } },
    });
    await admin.request('POST', `/api/v1/namespaces/${restricted}/serviceaccounts`, {
      body: { apiVersion: 'v1', kind: 'ServiceAccount', metadata: { name: release } },
    });
    const template = (
      await admin.get<DeploymentLike>(`/apis/apps/v1/namespaces/${ns}/deployments/${release}`)
    ).spec.template;
    const pod = (name: string, spec: Record<string, unknown>) => ({
      apiVersion: 'v1',
      kind: 'Pod',
      metadata: { name, labels: template.metadata.labels },
      spec,
    });
    const create = (body: unknown) =>
      statusOf(
        admin.request('POST', `/api/v1/namespaces/${restricted}/pods`, { query: { dryRun: 'All' }, body }),
      );
    expect(await create(pod('operator', template.spec))).toBe(200);
    // The namespace does enforce: a privileged container is refused.
    const privileged = structuredClone(template.spec) as { containers: Record<string, unknown>[] };
    privileged.containers[0]!.securityContext = { privileged: true };
    expect(await create(pod('privileged', privileged))).toBe(403);
  });

  it('denies the ServiceAccount what its rules do not grant', async () => {
    const sa = KubeClient.fromKubeconfig(await serviceAccountKubeconfig());
    const dryRun = { dryRun: 'All' };
    // Authenticated and allowed where the rules say so …
    expect(await statusOf(sa.get(ccPath(ns)))).toBe(200);
    // … and refused elsewhere (403, not 401: the token is valid).
    expect(await statusOf(sa.request('DELETE', `/api/v1/namespaces/${ns}`, { query: dryRun }))).toBe(403);
    expect(await statusOf(sa.get('/api/v1/secrets'))).toBe(403);
    expect(await statusOf(sa.get(`/api/v1/namespaces/${MONITORING_NS}/secrets`))).toBe(403);
    expect(await statusOf(sa.get('/api/v1/namespaces/kube-system/secrets/any-token'))).toBe(403);
    expect(await statusOf(sa.get('/apis/installer.kubesphere.io/v1alpha1/clusterconfigurations'))).toBe(403);
    expect(
      await statusOf(
        sa.request('DELETE', `/apis/apps/v1/namespaces/${MONITORING_NS}/deployments/kube-state-metrics`, {
          query: dryRun,
        }),
      ),
    ).toBe(403);
    // Deletes by name only: the fallback alert PrometheusRules and a turned-off role's objects, never
    // our other recording rules or a user's.
    const rules = `/apis/monitoring.coreos.com/v1/namespaces/${MONITORING_NS}/prometheusrules`;
    expect(await statusOf(sa.request('DELETE', `${rules}/prometheus-k8s-rules`, { query: dryRun }))).toBe(
      403,
    );
    expect(await statusOf(sa.request('DELETE', `${rules}/team-alerts`, { query: dryRun }))).toBe(403);
    expect([200, 404]).toContain(
      await statusOf(sa.request('DELETE', `${rules}/builtin-alerts-etcd`, { query: dryRun })),
    );
    expect([200, 404]).toContain(
      await statusOf(sa.request('DELETE', `${rules}/prometheus-k8s-etcd-rules`, { query: dryRun })),
    );
    expect(
      await statusOf(
        sa.request('DELETE', `/api/v1/namespaces/${MONITORING_NS}/services/prometheus-k8s`, {
          query: dryRun,
        }),
      ),
    ).toBe(403);
    // Creating bindings is allowed, but not to a role outside the named ones: no escalation.
    expect(
      await statusOf(
        sa.request('POST', `${RBAC}/clusterrolebindings`, {
          query: dryRun,
          body: {
            apiVersion: 'rbac.authorization.k8s.io/v1',
            kind: 'ClusterRoleBinding',
            metadata: { name: `${release}-escalation-probe` },
            roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: 'cluster-admin' },
            subjects: [{ kind: 'ServiceAccount', name: release, namespace: ns }],
          },
        }),
      ),
    ).toBe(403);
  });

  it('helm upgrade changes the Deployment and leaves the CRD and an edited ClusterConfiguration as they were', async () => {
    await op?.stop();
    op = undefined;
    const crdBefore = await admin.get<KubeObject>(CRD_PATH);
    // An edit made with `kubectl edit cc`.
    await mergePatch(admin, ccPath(ns), { spec: { etcd: { port: 2380 } } });
    const ccBefore = await admin.get<ClusterConfiguration>(ccPath(ns));

    const r = await helmIn(['upgrade', release, CHART_DIR, '--reuse-values', '--set', 'log.level=debug']);
    expect({ exitCode: r.exitCode, stderr: r.stderr }).toEqual({ exitCode: 0, stderr: '' });
    const deployment = await admin.get<DeploymentLike>(
      `/apis/apps/v1/namespaces/${ns}/deployments/${release}`,
    );
    expect(deployment.spec.template.spec.containers[0]!.args).toContain('--log-level=debug');

    const crdAfter = await admin.get<KubeObject>(CRD_PATH);
    expect(crdAfter.metadata.uid).toBe(crdBefore.metadata.uid);
    const ccAfter = await admin.get<ClusterConfiguration>(ccPath(ns));
    expect(ccAfter.metadata.uid).toBe(ccBefore.metadata.uid);
    expect(ccAfter.metadata.resourceVersion).toBe(ccBefore.metadata.resourceVersion);
    expect((ccAfter.spec?.etcd as { port?: number }).port).toBe(2380);
  });

  it('helm uninstall removes the operator and keeps the CRD and the ClusterConfiguration', async () => {
    const crdBefore = await admin.get<KubeObject>(CRD_PATH);
    const ccBefore = await admin.get<ClusterConfiguration>(ccPath(ns));
    const r = await helmIn(['uninstall', release]);
    expect(r.exitCode).toBe(0);
    installed = false;
    expect(r.stdout).toContain('kept due to the resource policy');

    expect((await admin.get<KubeObject>(CRD_PATH)).metadata.uid).toBe(crdBefore.metadata.uid);
    const ccAfter = await admin.get<ClusterConfiguration>(ccPath(ns));
    expect(ccAfter.metadata.uid).toBe(ccBefore.metadata.uid);
    expect(ccAfter.status).toEqual(ccBefore.status);
    expect(await statusOf(admin.get(`/apis/apps/v1/namespaces/${ns}/deployments/${release}`))).toBe(404);
    expect(await statusOf(admin.get(`${RBAC}/clusterroles/${release}`))).toBe(404);
    expect(await statusOf(admin.get(`/api/v1/namespaces/${ns}/serviceaccounts/${release}`))).toBe(404);
  });
});
