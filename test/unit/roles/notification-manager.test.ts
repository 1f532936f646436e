import { describe, expect, it } from '@jest/globals';
import type { IValidatingWebhookConfiguration } from 'kubernetes-models/admissionregistration.k8s.io/v1/ValidatingWebhookConfiguration';
import type { IDeployment } from 'kubernetes-models/apps/v1/Deployment';
import type { IClusterRole } from 'kubernetes-models/rbac.authorization.k8s.io/v1/ClusterRole';
import type { IClusterRoleBinding } from 'kubernetes-models/rbac.authorization.k8s.io/v1/ClusterRoleBinding';
import type { IConfigMap } from 'kubernetes-models/v1/ConfigMap';
import type { IIoK8sApiCoreV1Container } from 'kubernetes-models/v1/Container';
import type { ISecret } from 'kubernetes-models/v1/Secret';
import type { IService } from 'kubernetes-models/v1/Service';
import { createPrivateKey, X509Certificate } from 'node:crypto';
import path from 'node:path';
import yaml from 'js-yaml';
import type { ClusterFacts } from '../../../src/config/facts.js';
import { resolveValues } from '../../../src/config/resolve.js';
import { projectRoot } from '../../../src/paths.js';
import { roleManifests } from '../../../src/installer/plan/role-objects.js';
import { ROLES } from '../../../src/installer/catalog.js';
import type { KubeObject } from '../../../src/kube/client.js';
import { checkServingPair, createServingBundle, serviceDnsNames } from '../../../src/pki/index.js';
import { createRenderer } from '../../../src/render/renderer.js';
import {
  containerOf,
  expectGolden,
  findObject,
  FIXED_FACTS,
  objectIds,
  renderRole,
  renderRoleText,
  sampleSpec,
  unsafeOutputsOf,
  withMonitoring,
} from './golden.js';

const root = projectRoot();
const NS = 'kubesphere-monitoring-system';
const SECRET = 'notification-manager-webhook-server-cert';
const WEBHOOK_HOST = 'notification-manager-webhook.kubesphere-monitoring-system.svc';

const render = (spec?: Record<string, unknown>, facts?: ClusterFacts): KubeObject[] =>
  renderRole('notification-manager', spec, facts);

const find = findObject;

interface NotificationManager {
  metadata: { name: string; namespace?: string };
  spec: {
    replicas?: number;
    image: string;
    imagePullPolicy: string;
    serviceAccountName: string;
    portName: string;
    nodeSelector: Record<string, string>;
    tolerations: unknown[];
    affinity: Record<string, unknown>;
    resources: unknown;
    defaultConfigSelector: unknown;
    defaultSecretNamespace: string;
    receivers: Record<string, unknown>;
    sidecars: { tenant: { name: string; type: string; image: string } };
    template: Record<string, unknown>;
    groupLabels: string[];
    volumes?: unknown;
    volumeMounts?: unknown;
    env?: unknown;
  };
}

const nmOf = (objects: KubeObject[]) =>
  find<NotificationManager>(objects, 'NotificationManager', 'notification-manager');
const operatorOf = (objects: KubeObject[]) =>
  find<IDeployment>(objects, 'Deployment', 'notification-manager-operator');
const webhookOf = (objects: KubeObject[]) =>
  find<IValidatingWebhookConfiguration>(
    objects,
    'ValidatingWebhookConfiguration',
    'notification-manager-validating-webhook',
  );

const container = (w: IDeployment, name: string): IIoK8sApiCoreV1Container => containerOf(w, name);

/** Every value under a key named `caBundle`, anywhere in the objects. */
function caBundles(value: unknown, found: string[] = []): string[] {
  if (Array.isArray(value)) for (const item of value) caBundles(item, found);
  else if (value && typeof value === 'object') {
    for (const [key, inner] of Object.entries(value)) {
      if (key === 'caBundle') found.push(String(inner));
      else caBundles(inner, found);
    }
  }
  return found;
}

const decode = (base64: string | undefined) => Buffer.from(base64 ?? '', 'base64').toString('utf8');

/** The whole role as it is applied: CRDs first, then the rendered templates. */
function wholeRole(spec: Record<string, unknown>, facts: ClusterFacts): KubeObject[] {
  const role = ROLES.find((r) => r.name === 'notification-manager');
  if (!role) throw new Error('no role notification-manager');
  const { values } = resolveValues(spec, facts);
  return roleManifests(
    role,
    values,
    createRenderer(path.join(root, 'templates')),
    path.join(root, 'crds'),
  ).map((m) => m.object);
}

describe('role notification-manager', () => {
  const text = renderRoleText('notification-manager', sampleSpec());
  const objects = yaml.loadAll(text) as KubeObject[];

  it('renders the sample spec as in the golden file', () => {
    expectGolden('notification-manager', text);
  });

  it('prints every template value through a safe serializer', () => {
    const templates = unsafeOutputsOf('notification-manager');
    expect(templates.length).toBeGreaterThan(0);
    expect(templates.filter((t) => t.unsafe.length > 0)).toEqual([]);
  });

  it('renders the original objects under their names and namespaces', () => {
    expect(objectIds(objects)).toEqual([
      `v1 ServiceAccount ${NS}/notification-manager-sa`,
      'rbac.authorization.k8s.io/v1 ClusterRole -/notification-manager-controller-role',
      'rbac.authorization.k8s.io/v1 ClusterRole -/notification-manager-metrics-reader',
      'rbac.authorization.k8s.io/v1 ClusterRole -/notification-manager-proxy-role',
      'rbac.authorization.k8s.io/v1 ClusterRole -/notification-manager-tenant-sidecar-role',
      'rbac.authorization.k8s.io/v1 ClusterRoleBinding -/notification-manager-controller-rolebinding',
      'rbac.authorization.k8s.io/v1 ClusterRoleBinding -/notification-manager-proxy-rolebinding',
      'rbac.authorization.k8s.io/v1 ClusterRoleBinding -/notification-manager-tenant-sidecar-rolebinding',
      `rbac.authorization.k8s.io/v1 Role ${NS}/notification-manager-leader-election-role`,
      `rbac.authorization.k8s.io/v1 RoleBinding ${NS}/notification-manager-leader-election-rolebinding`,
      `v1 Secret ${NS}/${SECRET}`,
      `apps/v1 Deployment ${NS}/notification-manager-operator`,
      `v1 Service ${NS}/notification-manager-controller-metrics`,
      `v1 Service ${NS}/notification-manager-webhook`,
      'admissionregistration.k8s.io/v1 ValidatingWebhookConfiguration -/notification-manager-validating-webhook',
      `v1 ConfigMap ${NS}/notification-manager-template`,
      `v1 ConfigMap ${NS}/zh-cn`,
      'notification.kubesphere.io/v2beta2 NotificationManager -/notification-manager',
    ]);
    for (const o of objects) expect(o.metadata.labels?.['app.kubernetes.io/managed-by']).toBe('ks-installer');
  });

  it('binds each role to notification-manager-sa and grants what the operator and the sidecar read', () => {
    for (const name of ['controller', 'proxy', 'tenant-sidecar']) {
      const binding = find<IClusterRoleBinding>(
        objects,
        'ClusterRoleBinding',
        `notification-manager-${name}-rolebinding`,
      );
      expect(binding.roleRef).toEqual({
        apiGroup: 'rbac.authorization.k8s.io',
        kind: 'ClusterRole',
        name: `notification-manager-${name}-role`,
      });
      expect(binding.subjects).toEqual([
        { kind: 'ServiceAccount', name: 'notification-manager-sa', namespace: NS },
      ]);
    }
    const can = (role: IClusterRole, group: string, resource: string, verb: string) =>
      (role.rules ?? []).some(
        (r) => r.apiGroups?.includes(group) && r.resources?.includes(resource) && r.verbs.includes(verb),
      );
    const controller = find<IClusterRole>(objects, 'ClusterRole', 'notification-manager-controller-role');
    for (const resource of ['notificationmanagers', 'configs', 'receivers', 'routers', 'silences']) {
      expect(can(controller, 'notification.kubesphere.io', resource, 'watch')).toBe(true);
    }
    expect(can(controller, 'notification.kubesphere.io', 'notificationmanagers/status', 'update')).toBe(true);
    expect(can(controller, 'apps', 'deployments', 'create')).toBe(true);
    expect(can(controller, '', 'services', 'create')).toBe(true);
    expect(can(controller, '', 'secrets', 'watch')).toBe(true);
    expect(can(controller, '', 'secrets', 'update')).toBe(false);
    expect(can(controller, 'iam.kubesphere.io', 'users', 'list')).toBe(true);
    const proxy = find<IClusterRole>(objects, 'ClusterRole', 'notification-manager-proxy-role');
    expect(can(proxy, 'authentication.k8s.io', 'tokenreviews', 'create')).toBe(true);
    expect(can(proxy, 'authorization.k8s.io', 'subjectaccessreviews', 'create')).toBe(true);
    const sidecar = find<IClusterRole>(objects, 'ClusterRole', 'notification-manager-tenant-sidecar-role');
    for (const resource of ['users', 'globalrolebindings', 'workspacerolebindings']) {
      expect(can(sidecar, 'iam.kubesphere.io', resource, 'list')).toBe(true);
    }
    expect(can(sidecar, 'tenant.kubesphere.io', 'workspacetemplates', 'list')).toBe(true);
    expect(can(sidecar, 'rbac.authorization.k8s.io', 'rolebindings', 'watch')).toBe(true);
  });

  describe('webhook certificate', () => {
    it('is held by exactly one Secret in the whole role, whose ca.crt is every caBundle', () => {
      const all = wholeRole(sampleSpec(), FIXED_FACTS);
      const secrets = all.filter((o) => o.kind === 'Secret' && o.metadata.name === SECRET);
      expect(secrets).toHaveLength(1);
      const secret = secrets[0] as unknown as ISecret;
      expect(secret.metadata?.namespace).toBe(NS);
      expect(secret.type).toBe('kubernetes.io/tls');
      expect(Object.keys(secret.data ?? {}).sort()).toEqual(['ca.crt', 'tls.crt', 'tls.key']);
      expect(decode(secret.data?.['ca.crt'])).toBe(FIXED_FACTS.webhookTls.caCert);
      expect(decode(secret.data?.['tls.crt'])).toBe(FIXED_FACTS.webhookTls.tlsCert);
      expect(decode(secret.data?.['tls.key'])).toBe(FIXED_FACTS.webhookTls.tlsKey);
      const bundles = caBundles(all);
      // Four validating webhooks, and the conversion webhook of the configs and receivers CRDs.
      expect(bundles).toHaveLength(6);
      for (const bundle of bundles) expect(decode(bundle)).toBe(decode(secret.data?.['ca.crt']));
    });

    it('works end to end with a real CA from src/pki', async () => {
      const tls = await createServingBundle({
        caCommonName: 'notification-manager-webhook-ca',
        commonName: 'notification-manager-webhook',
        dnsNames: serviceDnsNames('notification-manager-webhook', NS),
        days: 365,
      });
      const rendered = render(sampleSpec(), { ...FIXED_FACTS, webhookTls: tls });
      const secret = find<ISecret>(rendered, 'Secret', SECRET);
      const ca = new X509Certificate(decode(secret.data?.['ca.crt']));
      const cert = new X509Certificate(decode(secret.data?.['tls.crt']));
      expect(ca.ca).toBe(true);
      expect(cert.verify(ca.publicKey)).toBe(true);
      expect(cert.checkPrivateKey(createPrivateKey(decode(secret.data?.['tls.key'])))).toBe(true);
      expect(cert.checkHost(WEBHOOK_HOST)).toBeDefined();
      for (const hook of webhookOf(rendered).webhooks ?? []) {
        const bundle = new X509Certificate(decode(hook.clientConfig.caBundle));
        expect(bundle.fingerprint256).toBe(ca.fingerprint256);
        expect(cert.checkIssued(bundle)).toBe(true);
      }
      const stored = {
        caCert: decode(secret.data?.['ca.crt']),
        tlsCert: decode(secret.data?.['tls.crt']),
        tlsKey: decode(secret.data?.['tls.key']),
      };
      expect(checkServingPair(stored, WEBHOOK_HOST, 30)).toMatchObject({ usable: true });
    });

    it('validates the four v2beta2 kinds through the webhook Service', () => {
      const hooks = webhookOf(objects).webhooks ?? [];
      expect(hooks.map((h) => [h.name, h.clientConfig.service?.path, h.rules?.[0]?.resources])).toEqual([
        [
          'vconfig.notification.kubesphere.io',
          '/validate-notification-kubesphere-io-v2beta2-config',
          ['configs'],
        ],
        [
          'vreceiver.notification.kubesphere.io',
          '/validate-notification-kubesphere-io-v2beta2-receiver',
          ['receivers'],
        ],
        [
          'vrouter.notification.kubesphere.io',
          '/validate-notification-kubesphere-io-v2beta2-router',
          ['routers'],
        ],
        [
          'vsilence.notification.kubesphere.io',
          '/validate-notification-kubesphere-io-v2beta2-silence',
          ['silences'],
        ],
      ]);
      for (const hook of hooks) {
        expect(hook).toMatchObject({
          admissionReviewVersions: ['v1', 'v1beta1'],
          failurePolicy: 'Fail',
          sideEffects: 'None',
          clientConfig: { service: { name: 'notification-manager-webhook', namespace: NS, port: 443 } },
        });
        expect(hook.rules).toEqual([
          {
            apiGroups: ['notification.kubesphere.io'],
            apiVersions: ['v2beta2'],
            operations: ['CREATE', 'UPDATE'],
            resources: hook.rules?.[0]?.resources,
            scope: '*',
          },
        ]);
      }
      const service = find<IService>(objects, 'Service', 'notification-manager-webhook');
      expect(service.spec?.ports).toEqual([
        { name: 'webhook', port: 443, targetPort: 'webhook-server', protocol: 'TCP' },
      ]);
    });
  });

  describe('operator Deployment', () => {
    const operator = operatorOf(objects);

    it('keeps the original selector and one replica', () => {
      expect(operator.spec?.replicas).toBe(1);
      expect(operator.spec?.selector.matchLabels).toEqual({ 'control-plane': 'controller-manager' });
      expect(operator.spec?.template.metadata?.labels).toMatchObject({
        'control-plane': 'controller-manager',
        'app.kubernetes.io/name': 'notification-manager-operator',
        'app.kubernetes.io/version': '2.3.0',
      });
      for (const name of ['notification-manager-controller-metrics', 'notification-manager-webhook']) {
        const selector = find<IService>(objects, 'Service', name).spec?.selector ?? {};
        for (const [key, value] of Object.entries(selector)) {
          expect(operator.spec?.template.metadata?.labels?.[key]).toBe(value);
        }
      }
    });

    it('publishes metrics through kube-rbac-proxy and serves the webhook with the mounted certificate', () => {
      const pod = operator.spec?.template.spec;
      expect(pod?.serviceAccountName).toBe('notification-manager-sa');
      expect(pod?.containers.map((c) => c.name)).toEqual([
        'kube-rbac-proxy',
        'notification-manager-operator',
      ]);
      const proxy = container(operator, 'kube-rbac-proxy');
      expect(proxy.image).toBe('kubesphere/kube-rbac-proxy:v0.11.0');
      expect(proxy.args).toEqual(
        expect.arrayContaining(['--secure-listen-address=0.0.0.0:8443', '--upstream=http://127.0.0.1:8080/']),
      );
      expect(proxy.ports).toEqual([{ name: 'https', containerPort: 8443, protocol: 'TCP' }]);
      const main = container(operator, 'notification-manager-operator');
      expect(main.image).toBe('kubesphere/notification-manager-operator:v2.3.0');
      expect(main.args).toEqual(['--metrics-addr=127.0.0.1:8080', '--enable-leader-election']);
      expect(main.env).toEqual([
        { name: 'NAMESPACE', valueFrom: { fieldRef: { apiVersion: 'v1', fieldPath: 'metadata.namespace' } } },
      ]);
      expect(main.ports).toEqual([{ name: 'webhook-server', containerPort: 9443, protocol: 'TCP' }]);
      expect(main.volumeMounts).toEqual([
        { name: 'cert', mountPath: '/tmp/k8s-webhook-server/serving-certs', readOnly: true },
        { name: 'host-time', mountPath: '/etc/localtime', readOnly: true },
      ]);
      expect(pod?.volumes).toEqual([
        { name: 'cert', secret: { secretName: SECRET, defaultMode: 0o644 } },
        { name: 'host-time', hostPath: { path: '/etc/localtime', type: '' } },
      ]);
      expect(
        find<IService>(objects, 'Service', 'notification-manager-controller-metrics').spec?.ports,
      ).toEqual([{ name: 'https', port: 8443, targetPort: 'https', protocol: 'TCP' }]);
      expect(pod?.securityContext).toMatchObject({ runAsNonRoot: true, runAsUser: 65532 });
      for (const c of pod?.containers ?? []) {
        expect(c.securityContext).toMatchObject({
          allowPrivilegeEscalation: false,
          readOnlyRootFilesystem: true,
          capabilities: { drop: ['ALL'] },
        });
      }
      // The only host path is the node's time zone, read-only (node-exporter already makes the namespace
      // need the privileged Pod Security level).
      expect(pod?.volumes?.filter((v) => v.hostPath).map((v) => v.hostPath?.path)).toEqual([
        '/etc/localtime',
      ]);
    });
  });

  describe('NotificationManager', () => {
    it('carries the facts of the original CR, without the dead values', () => {
      const nm = nmOf(objects);
      expect(nm.metadata.namespace).toBeUndefined();
      // Empty placement is left out of the schemaless CR (server-side apply would turn a pruned {} into null).
      expect(['nodeSelector', 'tolerations', 'affinity'].filter((k) => k in nm.spec)).toEqual([]);
      expect(nm.spec).toMatchObject({
        image: 'kubesphere/notification-manager:v2.3.0',
        imagePullPolicy: 'IfNotPresent',
        serviceAccountName: 'notification-manager-sa',
        portName: 'webhook',
        defaultConfigSelector: { matchLabels: { type: 'default' } },
        defaultSecretNamespace: 'kubesphere-monitoring-federated',
        receivers: {
          tenantKey: 'user',
          globalReceiverSelector: { matchLabels: { type: 'global' } },
          tenantReceiverSelector: { matchLabels: { type: 'tenant' } },
          options: {
            email: { notificationTimeout: 5, deliveryType: 'bulk' },
            slack: { notificationTimeout: 5 },
            wechat: { notificationTimeout: 5 },
          },
        },
        sidecars: {
          tenant: {
            name: 'tenant',
            type: 'kubesphere',
            image: 'kubesphere/notification-tenant-sidecar:v3.2.0',
          },
        },
        template: {
          language: 'English',
          languagePack: [{ name: 'zh-cn', namespace: NS }],
          text: { name: 'notification-manager-template', namespace: NS },
        },
        groupLabels: ['alertname', 'namespace'],
      });
      expect(nm.spec.volumes).toBeUndefined();
      expect(nm.spec.volumeMounts).toBeUndefined();
      expect(nm.spec.env).toBeUndefined();
    });

    it('runs 1 replica below 3 nodes, else 2, unless monitoring.notification_manager.replicas says otherwise', () => {
      const replicas = (spec: Record<string, unknown>, nodeCount: number) =>
        nmOf(render(spec, { ...FIXED_FACTS, nodeCount })).spec.replicas;
      expect(replicas(sampleSpec(), 1)).toBe(1);
      expect(replicas(sampleSpec(), 2)).toBe(1);
      expect(replicas(sampleSpec(), 3)).toBe(2);
      expect(replicas(sampleSpec(), 10)).toBe(2);
      expect(replicas(withMonitoring({ notification_manager: { replicas: 3 } }), 1)).toBe(3);
      expect(replicas(withMonitoring({ notification_manager: { replicas: 1 } }), 10)).toBe(1);
      expect(replicas(withMonitoring({ notification_manager: { replicas: 0 } }), 10)).toBeUndefined();
      expect(operatorOf(render(sampleSpec(), { ...FIXED_FACTS, nodeCount: 10 })).spec?.replicas).toBe(1);
    });
  });

  describe('values', () => {
    const images = (spec: Record<string, unknown>) => {
      const rendered = render(spec);
      const operator = operatorOf(rendered);
      const nm = nmOf(rendered);
      return [
        container(operator, 'kube-rbac-proxy').image,
        container(operator, 'notification-manager-operator').image,
        nm.spec.image,
        nm.spec.sidecars.tenant.image,
      ];
    };

    it('follows the registry rules for all four images', () => {
      expect(images({ ...sampleSpec(), local_registry: 'registry.example.com:5000' })).toEqual([
        'registry.example.com:5000/kubesphere/kube-rbac-proxy:v0.11.0',
        'registry.example.com:5000/kubesphere/notification-manager-operator:v2.3.0',
        'registry.example.com:5000/kubesphere/notification-manager:v2.3.0',
        'registry.example.com:5000/kubesphere/notification-tenant-sidecar:v3.2.0',
      ]);
      expect(images({ ...sampleSpec(), zone: 'cn' })).toEqual([
        'registry.cn-beijing.aliyuncs.com/kubesphereio/kube-rbac-proxy:v0.11.0',
        'registry.cn-beijing.aliyuncs.com/kubesphereio/notification-manager-operator:v2.3.0',
        'registry.cn-beijing.aliyuncs.com/kubesphereio/notification-manager:v2.3.0',
        'registry.cn-beijing.aliyuncs.com/kubesphereio/notification-tenant-sidecar:v3.2.0',
      ]);
      const overridden = images({
        ...sampleSpec(),
        notification_manager_repo: 'mirror/nm',
        notification_manager_tag: 'v2.3.1',
      });
      expect(overridden[2]).toBe('mirror/nm:v2.3.1');
      expect(overridden[0]).toBe('kubesphere/kube-rbac-proxy:v0.11.0');
    });

    it('takes resources and placement from the ClusterConfiguration', () => {
      const nmResources = { limits: { cpu: '1', memory: '1Gi' }, requests: { cpu: '50m', memory: '64Mi' } };
      const operatorResources = {
        limits: { cpu: '100m', memory: '80Mi' },
        requests: { cpu: '10m', memory: '30Mi' },
      };
      const proxyResources = {
        limits: { cpu: '60m', memory: '60Mi' },
        requests: { cpu: '6m', memory: '12Mi' },
      };
      const tolerations = [
        { key: 'dedicated', operator: 'Equal', value: 'monitoring', effect: 'NoSchedule' },
      ];
      const spec = withMonitoring({
        notification_manager: {
          resources: nmResources,
          operator: { resources: operatorResources },
          proxy: { resources: proxyResources },
        },
        nodeSelector: { 'node-role.kubernetes.io/monitoring': '' },
        tolerations,
      });
      const rendered = render(spec);
      const operator = operatorOf(rendered);
      const nm = nmOf(rendered);
      expect(nm.spec.resources).toEqual(nmResources);
      expect(container(operator, 'notification-manager-operator').resources).toEqual(operatorResources);
      expect(container(operator, 'kube-rbac-proxy').resources).toEqual(proxyResources);
      for (const placed of [operator.spec?.template.spec, nm.spec]) {
        expect(placed?.nodeSelector).toEqual({ 'node-role.kubernetes.io/monitoring': '' });
        expect(placed?.tolerations).toEqual(tolerations);
      }
      expect(operator.spec?.template.spec?.affinity).toEqual({});
      expect(nm.spec.affinity).toBeUndefined();
    });

    it('uses the documented default resources', () => {
      const operator = operatorOf(objects);
      expect(nmOf(objects).spec.resources).toEqual({
        limits: { cpu: '500m', memory: '500Mi' },
        requests: { cpu: '5m', memory: '20Mi' },
      });
      expect(container(operator, 'notification-manager-operator').resources).toEqual({
        limits: { cpu: '50m', memory: '50Mi' },
        requests: { cpu: '5m', memory: '20Mi' },
      });
      expect(container(operator, 'kube-rbac-proxy').resources).toEqual({
        limits: { cpu: '50m', memory: '50Mi' },
        requests: { cpu: '5m', memory: '10Mi' },
      });
    });
  });

  describe('message templates and language pack', () => {
    it('define every template name the notifiers look up by default, in Go template syntax', () => {
      const template =
        find<IConfigMap>(objects, 'ConfigMap', 'notification-manager-template').data?.template ?? '';
      const defined = [...template.matchAll(/\{\{-? define "([^"]+)" -?\}\}/g)].map((m) => m[1]);
      expect(defined).toEqual(
        expect.arrayContaining([
          'nm.default.subject',
          'nm.default.text',
          'nm.default.markdown',
          'nm.default.html',
          'nm.feishu.post',
          'nm.feishu.text',
        ]),
      );
      // Every action closes before the next one opens, and every define/if/range/with block ends.
      for (const action of template.split('{{').slice(1)) expect(action).toContain('}}');
      const opened = template.match(/\{\{-?\s*(define|if|range|with)\b/g)?.length ?? 0;
      const closed = template.match(/\{\{-?\s*end\s*-?\}\}/g)?.length ?? 0;
      expect(closed).toBe(opened);
    });

    it('ship a zh-cn dictionary in the shape notification-manager parses', () => {
      const pack = yaml.load(find<IConfigMap>(objects, 'ConfigMap', 'zh-cn').data?.['zh-cn'] ?? '') as {
        name: string;
        dictionary: Record<string, string>;
      }[];
      expect(pack).toHaveLength(1);
      expect(pack[0]?.name).toBe('zh-cn');
      for (const word of [
        'firing',
        'resolved',
        'alerts',
        'severity',
        'critical',
        'warning',
        'namespace',
        'pod',
      ]) {
        expect(typeof pack[0]?.dictionary[word]).toBe('string');
      }
      for (const key of Object.keys(pack[0]?.dictionary ?? {})) expect(key).toBe(key.toLowerCase());
    });
  });
});
