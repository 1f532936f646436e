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
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import type { ClusterFacts } from '../../src/config/facts.js';
import { ORIGINAL_PROMETHEUS_SECURITY_CONTEXT } from '../../src/config/prometheus-security.js';
import type { ClusterConfiguration } from '../../src/api/cluster-configuration.js';
import { PROMETHEUS_PVC, WEBHOOK_SECRET } from '../../src/facts/live.js';
import { issueWebhookTls } from '../../src/facts/webhook-tls.js';
import { conversionStanza } from '../../src/installer/plan/crd-conversion.js';
import { HELM_RELEASE_SECRET_TYPE } from '../../src/installer/steps/remove-helm-release.js';
import type { Plan } from '../../src/installer/model.js';
import { makePlan } from '../../src/installer/plan/make-plan.js';
import { ROLES } from '../../src/installer/catalog.js';
import {
  HELM_RELEASE_ANNOTATION,
  LAST_APPLIED_ANNOTATION,
  ORIGINAL_MANAGERS,
  type FieldSet,
  type ManagedFieldsEntry,
} from '../../src/kube/client-side-apply.js';
import { ApiError, type KubeClient, type KubeObject } from '../../src/kube/client.js';
import { waitForCrdsEstablished } from '../../src/kube/crd.js';
import { RestMapper } from '../../src/kube/discovery.js';
import { createRenderer } from '../../src/render/renderer.js';
import { GLOBAL_RULE_GROUPS, installGlobalRuleGroupCrd, removeGlobalRuleGroupCrd } from './alerting-crd.js';
import {
  ccPath,
  clusterEvents,
  createClusterConfiguration,
  createPrometheusPvc,
  deleteAndWait,
  deletePvc,
  ensureMonitoringCrds,
  kubectlApply,
  mergePatch,
  MONITORING_NS,
  prepareOperatorTest,
  ROOT,
  sampleClusterConfiguration,
  startOperatorFor,
  type Obj,
} from './fixtures.js';
import type { OperatorProcess } from './operator-process.js';

const SECRETS = `/api/v1/namespaces/${MONITORING_NS}/secrets`;
const PVC_PATH = `/api/v1/namespaces/${MONITORING_NS}/persistentvolumeclaims/${PROMETHEUS_PVC}`;
const CONVERTED = ['configs.notification.kubesphere.io', 'receivers.notification.kubesphere.io'];
const RELEASE_SECRETS = [1, 2].map((v) => `sh.helm.release.v1.notification-manager.v${v}`);
const OTHER_RELEASE = 'sh.helm.release.v1.other.v1';
/** Groups the original never applied (kube-prometheus's two; thanos-rule only with alerting, which is off here): ours only. */
const NOT_ORIGINAL_GROUPS = ['general-rules', 'node-network', 'thanos-rule'];
const HELM_LABELS = { 'app.kubernetes.io/managed-by': 'Helm', 'helm.sh/chart': 'notification-manager-2.3.0' };
const HELM_ANNOTATIONS = {
  [HELM_RELEASE_ANNOTATION]: 'notification-manager',
  'meta.helm.sh/release-namespace': MONITORING_NS,
};

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

  /** A create the way Helm makes it: field manager `helm`, its labels and release annotations. */
  async function helmCreate(o: Obj): Promise<void> {
    o.metadata.labels = { ...o.metadata.labels, ...HELM_LABELS };
    o.metadata.annotations = { ...o.metadata.annotations, ...HELM_ANNOTATIONS };
    const p = await pathOf(o);
    await admin.request('POST', p.slice(0, p.lastIndexOf('/')), { query: { fieldManager: 'helm' }, body: o });
  }

  beforeAll(async () => {
    ({ admin, ns } = await prepareOperatorTest('upgrade'));
    mapper = new RestMapper(admin);
    await ensureMonitoringCrds(admin);
    await installGlobalRuleGroupCrd(admin);
    const webhookTls = await issueWebhookTls();
    const facts: ClusterFacts = {
      nodeCount: 1,
      kubernetesVersion: (await admin.get<{ gitVersion: string }>('/version')).gitVersion,
      servedApiVersions: await mapper.servedGroupVersions(),
      live: { etcdClientCertsSecret: false },
      webhookTls,
    };
    plan = await makePlan(sampleClusterConfiguration(ns).spec ?? {}, facts, {
      renderer: createRenderer(path.join(ROOT, 'templates')),
      crdsRoot: path.join(ROOT, 'crds'),
      roles: ROLES,
    });
    expect(plan.values.alerts.form).toBe('GlobalRuleGroup');

    // Start from nothing of ours: every rendered object goes, but the namespaces, the prometheus-operator CRDs (kept, other
    // files' objects live in them) and the notification CRDs' stored objects (the CRDs go, as in notification-crds).
    const crds = objects().filter((o) => o.kind === 'CustomResourceDefinition');
    const notificationCrds = crds.filter((o) => o.spec.group === 'notification.kubesphere.io');
    // Namespaces stay too: nothing finalizes their deletion on this control plane.
    for (const o of objects()) {
      if (o.kind === 'CustomResourceDefinition' || o.kind === 'Namespace') continue;
      const p = await pathOf(o).catch((e: unknown) => {
        if (e instanceof ApiError && e.notFound) return undefined; // a kind not served: no such object
        throw e;
      });
      if (p) await deleteAndWait(admin, p);
    }
    for (const o of notificationCrds) await deleteAndWait(admin, await pathOf(o));
    for (const s of [...RELEASE_SECRETS, OTHER_RELEASE]) await deleteAndWait(admin, `${SECRETS}/${s}`);
    await deletePvc(admin, PROMETHEUS_PVC);

    // notification-manager's CRDs: `kubectl apply -f crds/` with the chart's static CA, then the hook's patch.
    const staticCa = Buffer.from((await issueWebhookTls()).caCert).toString('base64');
    kubectlApply(
      notificationCrds.map((c) => {
        const crd = structuredClone(c);
        if (CONVERTED.includes(crd.metadata.name))
          crd.spec.conversion = {
            strategy: 'Webhook',
            webhook: {
              conversionReviewVersions: ['v1', 'v1beta1'],
              clientConfig: {
                caBundle: staticCa,
                service: { name: 'notification-manager-webhook', namespace: 'default', path: '/convert' },
              },
            },
          };
        return crd;
      }),
    );
    await waitForCrdsEstablished(
      admin,
      notificationCrds.map((c) => c.metadata.name),
    );
    const hookCa = Buffer.from(webhookTls.caCert).toString('base64');
    for (const name of CONVERTED)
      await admin.request('PATCH', await pathOf(crds.find((c) => c.metadata.name === name)!), {
        query: { fieldManager: 'kubectl-patch' },
        contentType: 'application/merge-patch+json',
        body: {
          spec: {
            conversion: {
              webhook: { clientConfig: { caBundle: hookCa, service: { namespace: MONITORING_NS } } },
            },
          },
        },
      });

    // The chart's objects, created by Helm, with what the chart has and we do not render.
    const notification = plan.roles.find((r) => r.role.name === 'notification-manager')!;
    for (const m of notification.manifests) {
      const o = structuredClone(m.object) as Obj;
      if (o.kind === 'CustomResourceDefinition') continue;
      delete o.metadata.labels?.['app.kubernetes.io/managed-by'];
      if (o.kind === 'Deployment') {
        o.spec.template.spec.volumes = [
          ...(o.spec.template.spec.volumes ?? []),
          { name: 'host-zoneinfo', hostPath: { path: '/usr/share/zoneinfo', type: '' } },
        ];
        const c = o.spec.template.spec.containers.at(-1);
        c.volumeMounts = [
          ...(c.volumeMounts ?? []),
          { name: 'host-zoneinfo', mountPath: '/usr/share/zoneinfo' },
        ];
      }
      if (o.kind === 'NotificationManager')
        Object.assign(o.spec, {
          // Not the schema's defaults (100, 1m, All), which the API server would put back.
          batchMaxSize: 50,
          batchMaxWait: '30s',
          routePolicy: 'RouterFirst',
          env: [{ name: 'TZ', value: 'Asia/Shanghai' }],
        });
      await helmCreate(o);
    }
    for (const [i, name] of RELEASE_SECRETS.entries())
      await admin.request('POST', SECRETS, {
        body: {
          apiVersion: 'v1',
          kind: 'Secret',
          type: HELM_RELEASE_SECRET_TYPE,
          metadata: {
            name,
            labels: { owner: 'helm', name: 'notification-manager', version: String(i + 1) },
          },
          data: { release: Buffer.from('H4sI').toString('base64') },
        },
      });
    await admin.request('POST', SECRETS, {
      body: {
        apiVersion: 'v1',
        kind: 'Secret',
        type: HELM_RELEASE_SECRET_TYPE,
        metadata: { name: OTHER_RELEASE, labels: { owner: 'helm', name: 'other', version: '1' } },
        data: { release: Buffer.from('H4sI').toString('base64') },
      },
    });

    // Everything else, client-side applied: Prometheus as root on a 20Gi volume, the groups with their own ids.
    const rest = plan.roles
      .filter((r) => r.role.name !== 'notification-manager')
      .flatMap((r) => r.manifests.map((m) => structuredClone(m.object) as Obj))
      .filter((o) => o.kind !== 'CustomResourceDefinition')
      .filter((o) => !(o.kind === 'GlobalRuleGroup' && NOT_ORIGINAL_GROUPS.includes(o.metadata.name)));
    for (const o of rest) {
      delete o.metadata.labels?.['app.kubernetes.io/managed-by'];
      if (o.kind === 'Prometheus') {
        o.spec.securityContext = { ...ORIGINAL_PROMETHEUS_SECURITY_CONTEXT };
        o.spec.storage.volumeClaimTemplate.spec.resources.requests.storage = '20Gi';
      }
      if (o.kind === 'GlobalRuleGroup')
        for (const [i, rule] of (o.spec.rules as { labels: Record<string, string> }[]).entries())
          rule.labels.rule_id = `${o.metadata.name.length.toString(16)}${i}`.padEnd(16, 'f');
    }
    kubectlApply(rest);
    const pvc = await createPrometheusPvc(admin, PROMETHEUS_PVC, '20Gi');
    pvcUid = pvc.metadata.uid;
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
