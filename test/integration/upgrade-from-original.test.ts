/**
 * The whole upgrade from KubeSphere 3.4's installer, in the shape it leaves a cluster: every object our plan
 * renders is first written the way the original wrote it, then our operator runs once.
 *
 * - client-side `kubectl apply` for the monitoring objects and the 17 built-in GlobalRuleGroups it applies
 *   (with rule_ids of its own), Prometheus as root with a 20Gi volume, `status.monitoring: enabled`;
 * - notification-manager's chart: the CRDs client-side applied with a static conversion caBundle that the
 *   chart's post-install hook then patches (field manager `kubectl-patch`), the chart's objects created by
 *   Helm (field manager `helm`, Helm's labels and release annotations, a hostPath volume on the operator,
 *   NotificationManager fields we do not render) and two release Secrets of notification-manager.
 *
 * One run must succeed, leave no field of those managers on any object we render, remove the release
 * Secrets (and only those), keep the volume and the root Prometheus; a second run must change nothing.
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { ORIGINAL_PROMETHEUS_SECURITY_CONTEXT } from '../../src/config/prometheus-security.js';
import type { ClusterConfiguration } from '../../src/api/cluster-configuration.js';
import { PROMETHEUS_PVC, WEBHOOK_SECRET } from '../../src/facts/live.js';
import { conversionStanza } from '../../src/installer/plan/crd-conversion.js';
import type { Plan } from '../../src/installer/model.js';
import {
  LAST_APPLIED_ANNOTATION,
  ORIGINAL_MANAGERS,
  type FieldSet,
  type ManagedFieldsEntry,
} from '../../src/kube/client-side-apply.js';
import type { KubeClient, KubeObject } from '../../src/kube/client.js';
import type { RestMapper } from '../../src/kube/discovery.js';
import { GLOBAL_RULE_GROUPS, removeGlobalRuleGroupCrd } from './alerting-crd.js';
import {
  ccPath,
  clusterEvents,
  createClusterConfiguration,
  deleteAndWait,
  deletePvc,
  mergePatch,
  MONITORING_NS,
  prepareOperatorTest,
  sampleClusterConfiguration,
  startOperatorFor,
  type Obj,
} from './fixtures.js';
import type { OperatorProcess } from './operator-process.js';
import {
  CONVERTED,
  HELM_ANNOTATIONS,
  NOT_ORIGINAL_GROUPS,
  OTHER_RELEASE,
  planForOriginal,
  RELEASE_SECRETS,
  SECRETS,
  shapeOriginalInstall,
  type OriginalPlan,
} from './original-install.js';

const PVC_PATH = `/api/v1/namespaces/${MONITORING_NS}/persistentvolumeclaims/${PROMETHEUS_PVC}`;

const isOriginal = (e: ManagedFieldsEntry) => ORIGINAL_MANAGERS.includes(e.manager ?? '') && !e.subresource;

/** Every leaf path of a field set (a field someone owns). */
function leaves(set: FieldSet, prefix = ''): string[] {
  const keys = Object.keys(set).filter((k) => k !== '.');
  if (keys.length === 0) return [prefix];
  return keys.flatMap((k) => leaves(set[k]!, `${prefix}/${k}`));
}

const ownedBy = (o: KubeObject, pick: (e: ManagedFieldsEntry) => boolean) =>
  new Set(
    ((o.metadata.managedFields ?? []) as ManagedFieldsEntry[])
      .filter(pick)
      .flatMap((e) => leaves(e.fieldsV1 ?? {})),
  );

describe('upgrade from the original installer', () => {
  let admin: KubeClient;
  let mapper: RestMapper;
  let ns: string;
  let op: OperatorProcess | undefined;
  let plan: Plan;
  let pvcUid: string | undefined;
  let enabledTime: string;
  /** API path → the leaf fields the original's managers owned before the run. */
  const originalFields = new Map<string, Set<string>>();
  const objects = () => plan.roles.flatMap((r) => r.manifests.map((m) => m.object as Obj));
  const pathOf = (o: KubeObject) => mapper.objectPath(o);
  let original: OriginalPlan;

  beforeAll(async () => {
    ({ admin, ns } = await prepareOperatorTest('upgrade'));
    original = await planForOriginal(admin, ns);
    ({ plan, mapper } = original);
    expect(plan.values.alerts.form).toBe('GlobalRuleGroup');
    pvcUid = await shapeOriginalInstall(admin, original);
    await createClusterConfiguration(admin, sampleClusterConfiguration(ns));
    enabledTime = '2024-05-01T10:20:30CST';
    await mergePatch(admin, ccPath(ns), { status: { monitoring: { status: 'enabled', enabledTime } } });

    for (const o of objects()) {
      const p = await pathOf(o);
      const live = await admin.getOrUndefined<KubeObject>(p);
      if (live) originalFields.set(p, ownedBy(live, isOriginal));
    }
  });

  afterAll(async () => {
    if (op) expect(await op.stop()).toBe(0);
    // No volume, root Prometheus or alerting API left for the next file.
    await deletePvc(admin, PROMETHEUS_PVC);
    await deleteAndWait(admin, `/apis/monitoring.coreos.com/v1/namespaces/${MONITORING_NS}/prometheuses/k8s`);
    await deleteAndWait(admin, `${SECRETS}/${OTHER_RELEASE}`);
    await removeGlobalRuleGroupCrd(admin);
  });

  /** CRDs the simulated original did not apply here: prometheus-operator's and the dashboard CRDs. */
  const CRD_GROUPS_WITHOUT_ORIGINAL = ['monitoring.coreos.com', 'monitoring.kubesphere.io'];

  it("starts in the original's shape: its managers on every object but the 3 groups it never applied", () => {
    const shaped = [...originalFields.values()].filter((f) => f.size > 0).length;
    const crdsOfOurs = objects().filter(
      (o) => o.kind === 'CustomResourceDefinition' && CRD_GROUPS_WITHOUT_ORIGINAL.includes(o.spec.group),
    ).length;
    const oursOnly = objects().filter(
      (o) => o.kind === 'GlobalRuleGroup' && NOT_ORIGINAL_GROUPS.includes(o.metadata.name),
    ).length;
    expect(shaped).toBe(objects().length - oursOnly - crdsOfOurs);
  });

  it('takes over in one successful run: no field of the original managers left, nothing left behind', async () => {
    op = await startOperatorFor(ns);
    const end = await op.waitFor(/run (succeeded|failed)/, 150_000);
    expect(op.lines.filter((l) => /conflict|run failed/i.test(l))).toEqual([]);
    // The dry run checked every object before the first write, the notification CRDs' takeover included
    // (the prometheus-operator CRDs have nothing of the original here, so they stay aside).
    const aside = objects().filter(
      (o) => o.kind === 'CustomResourceDefinition' && CRD_GROUPS_WITHOUT_ORIGINAL.includes(o.spec.group),
    ).length;
    expect(op.lines.find((l) => /dry run: \d+ objects checked/.test(l))).toContain(
      `dry run: ${objects().length - aside} objects checked`,
    );
    expect(op.count(/run succeeded/)).toBe(1);
    const cc = await admin.get<ClusterConfiguration>(ccPath(ns));
    expect(cc.status?.conditions?.find((c) => c.type === 'Ready')?.status).toBe('True');
    expect(cc.status?.monitoring).toEqual({ status: 'enabled', enabledTime });

    const left: string[] = [];
    let removed = 0;
    for (const o of objects()) {
      const p = await pathOf(o);
      const live = await admin.get<Obj>(p);
      const what = `${o.kind} ${o.metadata.name}`;
      const managers = ((live.metadata.managedFields ?? []) as ManagedFieldsEntry[]).filter(isOriginal);
      if (managers.length) left.push(`${what}: ${managers.map((m) => m.manager).join(', ')}`);
      for (const a of [LAST_APPLIED_ANNOTATION, ...Object.keys(HELM_ANNOTATIONS)])
        if (live.metadata.annotations?.[a] !== undefined) left.push(`${what}: annotation ${a}`);
      if (live.metadata.labels?.['helm.sh/chart'] !== undefined) left.push(`${what}: label helm.sh/chart`);
      const now = ownedBy(live, () => true);
      removed += [...(originalFields.get(p) ?? [])].filter((f) => !now.has(f)).length;
    }
    expect(left).toEqual([]);
    const deploy = await admin.get<Obj>(
      `/apis/apps/v1/namespaces/${MONITORING_NS}/deployments/notification-manager-operator`,
    );
    expect(JSON.stringify(deploy.spec.template.spec)).not.toContain('host-zoneinfo');
    const nm = await admin.get<Obj>(
      '/apis/notification.kubesphere.io/v2beta2/notificationmanagers/notification-manager',
    );
    // Back to the schema's defaults, and no env.
    expect([nm.spec.batchMaxSize, nm.spec.batchMaxWait, nm.spec.routePolicy, nm.spec.env]).toEqual([
      100,
      '1m',
      'All',
      undefined,
    ]);
    console.log(
      `takeover: ${originalFields.size} objects of the original's managers, ${removed} of their fields removed; ${end}`,
    );
  });

  it('leaves the conversion of configs and receivers whole: our webhook with the CA of the webhook Secret', async () => {
    const secret = await admin.get<Obj>(`${SECRETS}/${WEBHOOK_SECRET}`);
    const expected = conversionStanza(
      { crds: CONVERTED, service: 'notification-manager-webhook', path: '/convert' },
      {
        ...plan.values,
        notificationManager: {
          ...plan.values.notificationManager,
          webhookTls: {
            ...plan.values.notificationManager.webhookTls,
            caCert: Buffer.from(secret.data['ca.crt'] as string, 'base64').toString('utf8'),
          },
        },
      },
    );
    for (const name of CONVERTED) {
      const crd = await admin.get<Obj>(`/apis/apiextensions.k8s.io/v1/customresourcedefinitions/${name}`);
      expect({ name, conversion: crd.spec.conversion }).toEqual({ name, conversion: expected });
    }
  });

  it("removes Helm's release Secrets of notification-manager, and only those, with an Event", async () => {
    const list = await admin.get<{ items: Obj[] }>(SECRETS, {
      query: { labelSelector: 'owner=helm' },
    });
    expect(list.items.map((s) => s.metadata.name)).toEqual([OTHER_RELEASE]);
    const events = await clusterEvents(admin, ns, 'ks-installer');
    expect(events.filter((e) => e.reason === 'HelmReleaseRemoved').map((e) => e.message)).toEqual([
      expect.stringContaining(RELEASE_SECRETS.join(', ')),
    ]);
  });

  it('keeps the volume, its size and the root Prometheus; the groups are ours with our rule_ids', async () => {
    const pvc = await admin.get<Obj>(PVC_PATH);
    expect([pvc.metadata.uid, pvc.spec.resources.requests.storage]).toEqual([pvcUid, '20Gi']);
    const prom = await admin.get<Obj>(
      `/apis/monitoring.coreos.com/v1/namespaces/${MONITORING_NS}/prometheuses/k8s`,
    );
    expect(prom.spec.securityContext).toEqual(ORIGINAL_PROMETHEUS_SECURITY_CONTEXT);
    expect(prom.spec.storage.volumeClaimTemplate.spec.resources.requests.storage).toBe('20Gi');
    for (const o of objects().filter((x) => x.kind === 'GlobalRuleGroup')) {
      const live = await admin.get<Obj>(`${GLOBAL_RULE_GROUPS}/${o.metadata.name}`);
      expect(live.spec.rules.map((r: Obj) => r.labels.rule_id)).toEqual(
        o.spec.rules.map((r: Obj) => r.labels.rule_id),
      );
    }
  });

  it('a second run changes nothing', async () => {
    const from = op!.lines.length;
    await mergePatch(admin, ccPath(ns), { status: { monitoring: null } });
    const end = await op!.waitFor(/run succeeded/, 120_000, from);
    const run = op!.lines.slice(from, op!.lines.indexOf(end, from) + 1);
    const roleLines = run.filter((l) => /\] [a-z-]+: \d+ objects/.test(l));
    expect(roleLines.length).toBeGreaterThan(0);
    expect(roleLines.filter((l) => !/ \(0 changed, \d+ unchanged\)/.test(l))).toEqual([]);
  });
});
