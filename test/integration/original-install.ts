/**
 * A cluster in the shape KubeSphere 3.4's installer leaves it, written from our own plan the way the
 * original wrote each object (see upgrade-from-original.test.ts for what that shape is): client-side
 * `kubectl apply` for the monitoring objects and built-in GlobalRuleGroups, notification-manager's chart
 * created by Helm with its release Secrets, the conversion CRDs patched by the chart's hook, a root
 * Prometheus on a 20Gi volume. The ClusterConfiguration is not touched here.
 */
import path from 'node:path';
import type { ClusterFacts } from '../../src/config/facts.js';
import { ORIGINAL_PROMETHEUS_SECURITY_CONTEXT } from '../../src/config/prometheus-security.js';
import { PROMETHEUS_PVC } from '../../src/facts/live.js';
import { issueWebhookTls } from '../../src/facts/webhook-tls.js';
import { HELM_RELEASE_SECRET_TYPE } from '../../src/installer/steps/remove-helm-release.js';
import type { Plan } from '../../src/installer/model.js';
import { makePlan } from '../../src/installer/plan/make-plan.js';
import { ROLES } from '../../src/installer/catalog.js';
import { HELM_RELEASE_ANNOTATION } from '../../src/kube/client-side-apply.js';
import { ApiError, type KubeClient, type KubeObject } from '../../src/kube/client.js';
import { waitForCrdsEstablished } from '../../src/kube/crd.js';
import { RestMapper } from '../../src/kube/discovery.js';
import { createRenderer } from '../../src/render/renderer.js';
import { installGlobalRuleGroupCrd } from './alerting-crd.js';
import {
  createPrometheusPvc,
  deleteAndWait,
  deletePvc,
  ensureMonitoringCrds,
  kubectlApply,
  MONITORING_NS,
  ROOT,
  sampleClusterConfiguration,
  type Obj,
} from './fixtures.js';

export const SECRETS = `/api/v1/namespaces/${MONITORING_NS}/secrets`;
export const CONVERTED = ['configs.notification.kubesphere.io', 'receivers.notification.kubesphere.io'];
export const RELEASE_SECRETS = [1, 2].map((v) => `sh.helm.release.v1.notification-manager.v${v}`);
export const OTHER_RELEASE = 'sh.helm.release.v1.other.v1';
/** Groups the original never applied (kube-prometheus's two; thanos-rule only with alerting, which is off here): ours only. */
export const NOT_ORIGINAL_GROUPS = ['general-rules', 'node-network', 'thanos-rule'];
export const HELM_LABELS = {
  'app.kubernetes.io/managed-by': 'Helm',
  'helm.sh/chart': 'notification-manager-2.3.0',
};
export const HELM_ANNOTATIONS = {
  [HELM_RELEASE_ANNOTATION]: 'notification-manager',
  'meta.helm.sh/release-namespace': MONITORING_NS,
};

export interface OriginalPlan {
  plan: Plan;
  mapper: RestMapper;
  /** The webhook serving pair the chart's hook made (kept by our run: it is usable). */
  webhookTls: ClusterFacts['webhookTls'];
  /** Every object the plan renders. */
  objects(): Obj[];
}

/**
 * Our plan of the sample ClusterConfiguration of `ns` on this cluster (1 node, the alerting API served),
 * the objects the original's shape is written from. Installs the CRDs it needs first.
 */
export async function planForOriginal(admin: KubeClient, ns: string): Promise<OriginalPlan> {
  const mapper = new RestMapper(admin);
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
  const plan = await makePlan(sampleClusterConfiguration(ns).spec ?? {}, facts, {
    renderer: createRenderer(path.join(ROOT, 'templates')),
    crdsRoot: path.join(ROOT, 'crds'),
    roles: ROLES,
  });
  return {
    plan,
    mapper,
    webhookTls,
    objects: () => plan.roles.flatMap((r) => r.manifests.map((m) => m.object as Obj)),
  };
}

/**
 * Removes what a previous install left of ours and writes the original's shape; returns the uid of
 * the Prometheus volume it created.
 */
export async function shapeOriginalInstall(admin: KubeClient, original: OriginalPlan): Promise<string> {
  const { plan, mapper, webhookTls, objects } = original;
  const pathOf = (o: KubeObject) => mapper.objectPath(o);
  /** A create the way Helm makes it: field manager `helm`, its labels and release annotations. */
  const helmCreate = async (o: Obj): Promise<void> => {
    o.metadata.labels = { ...o.metadata.labels, ...HELM_LABELS };
    o.metadata.annotations = { ...o.metadata.annotations, ...HELM_ANNOTATIONS };
    const p = await pathOf(o);
    await admin.request('POST', p.slice(0, p.lastIndexOf('/')), { query: { fieldManager: 'helm' }, body: o });
  };

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
  return pvc.metadata.uid!;
}
