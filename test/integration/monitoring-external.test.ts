/**
 * `common.monitoring.type: external` on the real API server: the run installs nothing but the dashboard
 * CRDs KubeSphere's console needs whatever the monitoring (no other object of ours appears or changes,
 * whatever earlier runs left in the shared cluster, and objects a stack install would create stay absent),
 * says so in the log, and still sets status.monitoring.
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import type { ClusterConfiguration } from '../../src/api/cluster-configuration.js';
import { ApiError, type KubeClient, type KubeObject } from '../../src/kube/client.js';
import { listAll } from '../../src/kube/list.js';
import {
  ccPath,
  createClusterConfiguration,
  deleteAndWait,
  MONITORING_NS,
  prepareOperatorTest,
  sampleClusterConfiguration,
  startOperatorFor,
} from './fixtures.js';
import { waitUntil, type OperatorProcess } from './operator-process.js';
import { runOutcomeOf } from './run-outcome.js';

const MANAGED_BY = 'app.kubernetes.io/managed-by=ks-installer';
const NS_KINDS = [
  '/api/v1/namespaces/NS/services',
  '/api/v1/namespaces/NS/serviceaccounts',
  '/api/v1/namespaces/NS/secrets',
  '/api/v1/namespaces/NS/configmaps',
  '/apis/apps/v1/namespaces/NS/deployments',
  '/apis/apps/v1/namespaces/NS/daemonsets',
  '/apis/policy/v1/namespaces/NS/poddisruptionbudgets',
  '/apis/rbac.authorization.k8s.io/v1/namespaces/NS/roles',
  '/apis/monitoring.coreos.com/v1/namespaces/NS/prometheuses',
  '/apis/monitoring.coreos.com/v1/namespaces/NS/alertmanagers',
  '/apis/monitoring.coreos.com/v1/namespaces/NS/servicemonitors',
  '/apis/monitoring.coreos.com/v1/namespaces/NS/prometheusrules',
];
const CLUSTER_KINDS = [
  '/api/v1/namespaces',
  '/apis/rbac.authorization.k8s.io/v1/clusterroles',
  '/apis/rbac.authorization.k8s.io/v1/clusterrolebindings',
  '/apis/apiextensions.k8s.io/v1/customresourcedefinitions',
  '/apis/admissionregistration.k8s.io/v1/validatingwebhookconfigurations',
  '/apis/notification.kubesphere.io/v2beta2/notificationmanagers',
];

/** What the role monitoring-dashboard applies also with external monitoring. */
const DASHBOARD_CRDS = [
  '/apis/apiextensions.k8s.io/v1/customresourcedefinitions/clusterdashboards.monitoring.kubesphere.io',
  '/apis/apiextensions.k8s.io/v1/customresourcedefinitions/dashboards.monitoring.kubesphere.io',
];

const SENTINELS = [
  `/apis/apps/v1/namespaces/${MONITORING_NS}/deployments/kube-state-metrics`,
  `/apis/monitoring.coreos.com/v1/namespaces/${MONITORING_NS}/servicemonitors/ks-apiserver`,
  `/api/v1/namespaces/${MONITORING_NS}/configmaps/zh-cn`,
  '/api/v1/namespaces/kube-system/services/kube-scheduler-svc',
  '/apis/rbac.authorization.k8s.io/v1/clusterroles/kubesphere-node-exporter',
];

function ignoreNotFound(e: unknown): void {
  if (!(e instanceof ApiError && e.notFound)) throw e;
}

/**
 * Everything the operator could have written: every object in the monitoring namespaces and
 * kube-system of the kinds the roles render, and every cluster-scoped object labelled as ours
 * (plus all CRDs and namespaces), by path → resourceVersion. A kind not served yet lists as empty.
 */
async function snapshot(admin: KubeClient): Promise<Map<string, string>> {
  const out = new Map<string, string>();
  const collect = async (p: string, labelSelector?: string) => {
    const { items } = await listAll<KubeObject>(admin, p, { metadataOnly: true, labelSelector }).catch(
      (e: unknown) => {
        ignoreNotFound(e);
        return { items: [] as KubeObject[] };
      },
    );
    for (const i of items) out.set(`${p}/${i.metadata.name}`, i.metadata.resourceVersion ?? '');
  };
  for (const namespace of [MONITORING_NS, 'kubesphere-monitoring-federated', 'kube-system'])
    for (const p of NS_KINDS) await collect(p.replace('NS', namespace));
  for (const p of CLUSTER_KINDS) {
    const all = p.endsWith('/namespaces') || p.endsWith('/customresourcedefinitions');
    await collect(p, all ? undefined : MANAGED_BY);
  }
  return out;
}

describe('external monitoring', () => {
  let admin: KubeClient;
  let ns: string;
  let op: OperatorProcess;
  let before: Map<string, string>;

  beforeAll(async () => {
    ({ admin, ns } = await prepareOperatorTest('mon-external'));
    // Objects a stack install would create: whatever earlier files left, these start absent.
    for (const p of SENTINELS) await admin.request('DELETE', p).catch(ignoreNotFound);
    for (const p of DASHBOARD_CRDS) await deleteAndWait(admin, p);
    before = await snapshot(admin);
    op = await startOperatorFor(ns);
    const cc = sampleClusterConfiguration(ns);
    cc.spec = {
      ...cc.spec,
      common: { monitoring: { type: 'external', endpoint: 'http://prometheus.example:9090' } },
    };
    expect((await runOutcomeOf(admin, await createClusterConfiguration(admin, cc))).succeeded).toBe(true);
  });

  afterAll(async () => {
    expect(await op?.stop()).toBe(0);
  });

  it('creates and changes nothing in the cluster but the dashboard CRDs', async () => {
    const after = await snapshot(admin);
    const added = [...after.keys()].filter((k) => !before.has(k) && !DASHBOARD_CRDS.includes(k));
    for (const p of DASHBOARD_CRDS) expect(after.has(p)).toBe(true);
    const changed = [...before].filter(([k, rv]) => after.has(k) && after.get(k) !== rv).map(([k]) => k);
    expect({ added, changed }).toEqual({ added: [], changed: [] });
    // The snapshot really covers the stack's kinds: the namespaces exist or not exactly as before.
    for (const name of [MONITORING_NS, 'kubesphere-monitoring-federated'])
      expect(after.has(`/api/v1/namespaces/${name}`)).toBe(before.has(`/api/v1/namespaces/${name}`));
  });

  it('a few of the stack objects, absent before, are still absent', async () => {
    for (const p of SENTINELS)
      expect({ p, found: await admin.getOrUndefined(p) }).toEqual({ p, found: undefined });
  });

  it('says so in the log, skips every stack role, and still sets status.monitoring', async () => {
    expect(op.lines.some((l) => l.includes('common.monitoring.type is external'))).toBe(true);
    const roleLines = op.lines.filter((l) => /\[\d+\/15\] [a-z-]+: /.test(l));
    expect(roleLines).toHaveLength(15);
    // metrics-server is not part of the monitoring stack: skipped only because the sample leaves it off.
    expect(roleLines[0]).toMatch(/\[1\/15\] metrics-server: skipped: metrics_server\.enabled is not true/);
    const stack = roleLines.filter(
      (l) => !/\] (metrics-server|monitoring-dashboard|gpu-monitoring|istio-monitoring): /.test(l),
    );
    expect(stack).toHaveLength(11);
    expect(stack.every((l) => /skipped: common\.monitoring\.type is external/.test(l))).toBe(true);
    expect(roleLines.some((l) => /\] monitoring-dashboard: 2 objects/.test(l))).toBe(true);
    const cc = await waitUntil('status.monitoring', async () => {
      const c = await admin.get<ClusterConfiguration>(ccPath(ns));
      return c.status?.monitoring?.status === 'enabled' ? c : undefined;
    });
    expect(cc.status?.conditions?.find((c) => c.type === 'Ready')).toMatchObject({
      status: 'True',
      message:
        "external monitoring: no in-cluster stack; 2 objects (the console's dashboard CRDs and the monitors switched on)",
    });
  });
});
