/**
 * Adoption of a cluster the original installer set up: its objects were written by client-side
 * `kubectl apply` (last-applied annotation, managedFields manager kubectl-client-side-apply with
 * operation Update), and status.monitoring is already enabled. The first run must converge without
 * conflicts, keep the data settings (PVC size, retention), and leave nothing of the old ownership;
 * a second run must change nothing.
 */
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { ORIGINAL_PROMETHEUS_SECURITY_CONTEXT } from '../../src/config/prometheus-security.js';
import { makePlan } from '../../src/installer/plan/make-plan.js';
import { ROLES } from '../../src/installer/catalog.js';
import type { ClusterConfiguration } from '../../src/api/cluster-configuration.js';
import type { KubeClient } from '../../src/kube/client.js';
import { createRenderer } from '../../src/render/renderer.js';
import {
  ccPath,
  createClusterConfiguration,
  createPrometheusPvc,
  deleteAndWait,
  deletePvc,
  ensureMonitoringNamespace,
  kubectlApply,
  ensureMonitoringCrds,
  mergePatch,
  MONITORING_NS,
  ONE_NODE_FACTS,
  prepareOperatorTest,
  ROOT,
  sampleClusterConfiguration,
  type Obj,
} from './fixtures.js';
import { startOperatorProcess, type OperatorProcess } from './operator-process.js';

const LAST_APPLIED = 'kubectl.kubernetes.io/last-applied-configuration';
const CSA_MANAGER = 'kubectl-client-side-apply';
const PVC = 'prometheus-k8s-db-prometheus-k8s-0';
const M = `/apis/monitoring.coreos.com/v1/namespaces/${MONITORING_NS}`;

/** The adopted objects: API path → what the original had that our templates do not set. */
const ADOPTED = {
  operator: `/apis/apps/v1/namespaces/${MONITORING_NS}/deployments/prometheus-operator`,
  nodeExporter: `/apis/apps/v1/namespaces/${MONITORING_NS}/daemonsets/node-exporter`,
  prometheus: `${M}/prometheuses/k8s`,
  service: `/api/v1/namespaces/${MONITORING_NS}/services/prometheus-k8s`,
  serviceMonitor: `${M}/servicemonitors/node-exporter`,
};

interface Container {
  name: string;
  env?: { name: string; value: string }[];
  ports?: { containerPort: number; hostPort?: number }[];
}

/** Our own rendering of a few roles, the base the "original" objects are shaped from. */
async function rendered(): Promise<Map<string, Obj>> {
  const plan = await makePlan(sampleClusterConfiguration('x').spec ?? {}, ONE_NODE_FACTS, {
    renderer: createRenderer(path.join(ROOT, 'templates')),
    crdsRoot: path.join(ROOT, 'crds'),
    roles: ROLES.filter((r) => r.name === 'prometheus-stack' || r.name === 'node-exporter'),
  });
  const out = new Map<string, Obj>();
  for (const rp of plan.roles)
    for (const m of rp.manifests)
      out.set(`${m.object.kind}/${m.object.metadata.name}`, structuredClone(m.object));
  return out;
}

/** What the original installer would have left: our objects without our label, plus its own extras. */
function originals(objects: Map<string, Obj>): Obj[] {
  const take = (key: string): Obj => {
    const o = objects.get(key);
    if (!o) throw new Error(`nothing rendered as ${key}`);
    delete o.metadata.labels?.['app.kubernetes.io/managed-by'];
    o.metadata.labels = { ...o.metadata.labels, 'original-installer': 'true' };
    return o;
  };
  const operator = take('Deployment/prometheus-operator');
  (operator.spec.template.spec.containers as Container[])[0]!.env = [{ name: 'ORIGINAL_ONLY', value: '1' }];
  const ds = take('DaemonSet/node-exporter');
  const containers = ds.spec.template.spec.containers as Container[];
  const proxy = containers.find((c) => c.ports?.some((p) => p.hostPort === 9100));
  if (!proxy) throw new Error('the rendered node-exporter has no container with hostPort 9100');
  containers[0]!.env = [{ name: 'ORIGINAL_ONLY', value: '1' }];
  ds.spec.template.metadata.labels['original-pod-label'] = 'true';
  const prom = take('Prometheus/k8s');
  prom.spec.retention = '15d';
  prom.spec.storage.volumeClaimTemplate.spec.resources.requests.storage = '50Gi';
  prom.spec.walCompression = true;
  // The original ran Prometheus as root: its TSDB on the volume is root's.
  prom.spec.securityContext = { ...ORIGINAL_PROMETHEUS_SECURITY_CONTEXT };
  const svc = take('Service/prometheus-k8s');
  const sm = take('ServiceMonitor/node-exporter');
  return [operator, ds, prom, svc, sm];
}

describe('adopting a cluster set up by the original installer', () => {
  let admin: KubeClient;
  let ns: string;
  let op: OperatorProcess | undefined;
  let pvcUid: string | undefined;
  const getCc = () => admin.get<ClusterConfiguration>(ccPath(ns));

  beforeAll(async () => {
    ({ admin, ns } = await prepareOperatorTest('mon-adopt'));
    await ensureMonitoringNamespace(admin);
    // The original installed the prometheus-operator CRDs too; here they only have to exist.
    await ensureMonitoringCrds(admin);
    // Start from the original's objects only: whatever an earlier test left under these names goes.
    for (const p of Object.values(ADOPTED)) await deleteAndWait(admin, p);
    await deletePvc(admin, PVC);
    const out = kubectlApply(originals(await rendered()));
    expect(out.split('\n').filter((l) => / created$/.test(l))).toHaveLength(5);
    const pvc = await createPrometheusPvc(admin, PVC, '50Gi');
    pvcUid = pvc.metadata.uid;
    const cc = await createClusterConfiguration(admin, sampleClusterConfiguration(ns));
    expect(cc.metadata.uid).toBeDefined();
    await mergePatch(admin, ccPath(ns), {
      status: { monitoring: { status: 'enabled', enabledTime: '2024-05-01T10:20:30CST' } },
    });
  });

  afterAll(async () => {
    if (op) expect(await op.stop()).toBe(0);
    // No volume and no root Prometheus left for the next file to carry over.
    await deletePvc(admin, PVC);
    await deleteAndWait(admin, ADOPTED.prometheus);
  });

  it('the simulated original objects are client-side applied', async () => {
    for (const p of Object.values(ADOPTED)) {
      const o = await admin.get<Obj>(p);
      expect(o.metadata.annotations?.[LAST_APPLIED]).toBeDefined();
      expect(o.metadata.managedFields).toEqual([
        expect.objectContaining({ manager: CSA_MANAGER, operation: 'Update' }),
      ]);
    }
  });

  it('the first run converges without conflicts and keeps the volume size, the retention and the user', async () => {
    op = startOperatorProcess(['--namespace', ns, '--name', 'ks-installer', '--resync-period', '1h']);
    await op.waitFor(/run (succeeded|failed)/, 120_000);
    expect(op.lines.filter((l) => /conflict/i.test(l))).toEqual([]);
    expect(op.count(/run succeeded/)).toBe(1);
    const cc = await getCc();
    expect(cc.status?.conditions?.find((c) => c.type === 'Ready')?.status).toBe('True');
    expect(cc.status?.monitoring).toEqual({ status: 'enabled', enabledTime: '2024-05-01T10:20:30CST' });

    const prom = await admin.get<Obj>(ADOPTED.prometheus);
    expect(prom.spec.retention).toBe('15d');
    expect(prom.spec.storage.volumeClaimTemplate.spec.resources.requests.storage).toBe('50Gi');
    // Still root, the owner of the data on the volume (src/config/prometheus-security.ts).
    expect(prom.spec.securityContext).toEqual(ORIGINAL_PROMETHEUS_SECURITY_CONTEXT);
    const pvc = await admin.get<Obj>(`/api/v1/namespaces/${MONITORING_NS}/persistentvolumeclaims/${PVC}`);
    expect(pvc.metadata.uid).toBe(pvcUid);
    expect(pvc.spec.resources.requests.storage).toBe('50Gi');
  });

  it('the objects are now managed by ks-installer, with nothing of the old ownership left', async () => {
    const left: string[] = [];
    for (const [what, p] of Object.entries(ADOPTED)) {
      const o = await admin.get<Obj>(p);
      if (o.metadata.labels?.['app.kubernetes.io/managed-by'] !== 'ks-installer')
        left.push(`${what}: no managed-by label`);
      if (o.metadata.annotations?.[LAST_APPLIED] !== undefined) left.push(`${what}: last-applied annotation`);
      const managers = (o.metadata.managedFields ?? []).map((f) => `${f.manager}/${f.operation}`);
      if (managers.join() !== 'ks-installer/Apply') left.push(`${what}: managers ${managers.join(', ')}`);
      // What only the original set is gone: the run converged on our templates.
      if (o.metadata.labels?.['original-installer'] !== undefined)
        left.push(`${what}: label original-installer`);
    }
    const ds = await admin.get<Obj>(ADOPTED.nodeExporter);
    const containers = ds.spec.template.spec.containers as Container[];
    if (containers.some((c) => c.env?.some((e) => e.name === 'ORIGINAL_ONLY')))
      left.push('nodeExporter: env ORIGINAL_ONLY');
    if (ds.spec.template.metadata.labels['original-pod-label'] !== undefined)
      left.push('nodeExporter: pod label');
    const deploy = await admin.get<Obj>(ADOPTED.operator);
    if ((deploy.spec.template.spec.containers as Container[]).some((c) => c.env?.length))
      left.push('operator: env ORIGINAL_ONLY');
    const prom = await admin.get<Obj>(ADOPTED.prometheus);
    if (prom.spec.walCompression !== undefined) left.push('prometheus: spec.walCompression');
    expect(left).toEqual([]);
    // What both set stays: node-exporter still publishes host port 9100.
    expect(containers.flatMap((c) => c.ports ?? []).map((port) => port.hostPort)).toContain(9100);
  });

  it('a second run changes nothing', async () => {
    const before = new Map<string, string>();
    for (const p of Object.values(ADOPTED))
      before.set(p, (await admin.get<Obj>(p)).metadata.resourceVersion!);
    const from = op!.lines.length;
    await mergePatch(admin, ccPath(ns), { status: { monitoring: null } });
    const end = await op!.waitFor(/run succeeded/, 120_000, from);
    const run = op!.lines.slice(from, op!.lines.indexOf(end, from) + 1);
    const roleLines = run.filter((l) => /\] [a-z-]+: \d+ objects/.test(l));
    expect(roleLines).toHaveLength(7);
    expect(roleLines.filter((l) => !/ \(0 changed, \d+ unchanged\)/.test(l))).toEqual([]);
    for (const p of Object.values(ADOPTED)) {
      expect({ p, rv: (await admin.get<Obj>(p)).metadata.resourceVersion }).toEqual({ p, rv: before.get(p) });
    }
  });
});
