/**
 * The metrics-server role against the facts of the original's metrics-server (docs/metrics-server.md):
 * object by object, field by field, plus the placement chain rooted at metrics_server, the image through
 * the registry rules and the refusal of bad input before anything renders.
 */
import { describe, expect, it } from '@jest/globals';
import type { IDeployment } from 'kubernetes-models/apps/v1/Deployment';
import type { IClusterRole } from 'kubernetes-models/rbac.authorization.k8s.io/v1/ClusterRole';
import type { IClusterRoleBinding } from 'kubernetes-models/rbac.authorization.k8s.io/v1/ClusterRoleBinding';
import type { IRoleBinding } from 'kubernetes-models/rbac.authorization.k8s.io/v1/RoleBinding';
import type { IService } from 'kubernetes-models/v1/Service';
import yaml from 'js-yaml';
import { ConfigError } from '../../../src/config/problems.js';
import { resolveValues } from '../../../src/config/resolve.js';
import { ROLES } from '../../../src/installer/catalog.js';
import type { KubeObject } from '../../../src/kube/client.js';
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
} from './golden.js';

const NS = 'kube-system';

/** The sample spec with metrics-server on; `metricsServer` keys and top-level keys added. */
function spec(
  metricsServer: Record<string, unknown> = {},
  top: Record<string, unknown> = {},
): Record<string, unknown> {
  return { ...sampleSpec(), ...top, metrics_server: { enabled: true, ...metricsServer } };
}

const render = (s: Record<string, unknown>): KubeObject[] => renderRole('metrics-server', s);
const deployment = (objects: KubeObject[]) =>
  findObject<IDeployment>(objects, 'Deployment', 'metrics-server');
const podSpec = (objects: KubeObject[]) => deployment(objects).spec!.template.spec!;

/** The problems resolveValues reports for a spec, as `field: fix`. */
function problems(s: Record<string, unknown>): string[] {
  try {
    resolveValues(s, FIXED_FACTS);
  } catch (err) {
    if (err instanceof ConfigError) return err.problems.map((p) => `${p.field}: ${p.message} ${p.fix}`);
    throw err;
  }
  return [];
}

const TLS_CIPHER_SUITES = [
  'TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256',
  'TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384',
  'TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305',
  'TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA',
  'TLS_ECDHE_RSA_WITH_AES_256_CBC_SHA',
  'TLS_RSA_WITH_AES_128_GCM_SHA256',
  'TLS_RSA_WITH_AES_256_GCM_SHA384',
  'TLS_RSA_WITH_AES_128_CBC_SHA',
  'TLS_RSA_WITH_AES_256_CBC_SHA',
];

describe('role metrics-server', () => {
  const text = renderRoleText('metrics-server', spec());
  const objects = yaml.loadAll(text) as KubeObject[];

  it('renders metrics_server.enabled: true as in the golden file', () => {
    expectGolden('metrics-server', text);
  });

  it('runs first, before the monitoring roles, and only when metrics_server.enabled is true', () => {
    expect(ROLES[0]!.name).toBe('metrics-server');
    const role = ROLES[0]!;
    const when = (s: Record<string, unknown>) => role.when(resolveValues(s, FIXED_FACTS).values);
    expect(when(spec())).toEqual({ run: true });
    expect(when(sampleSpec())).toEqual({
      run: false,
      reason: 'metrics_server.enabled is not true',
      remove: true,
    });
    expect(when(spec({ enabled: false }))).toMatchObject({ run: false });
    // Not part of the monitoring stack: installed with an external Prometheus too.
    expect(when(spec({}, { common: { monitoring: { type: 'external' } } }))).toEqual({ run: true });
  });

  it('renders the objects of the original, in kube-system, labelled k8s-app: metrics-server', () => {
    expect(objectIds(objects)).toEqual([
      `v1 ServiceAccount ${NS}/metrics-server`,
      'rbac.authorization.k8s.io/v1 ClusterRole -/system:aggregated-metrics-reader',
      'rbac.authorization.k8s.io/v1 ClusterRole -/system:metrics-server',
      `rbac.authorization.k8s.io/v1 RoleBinding ${NS}/metrics-server-auth-reader`,
      'rbac.authorization.k8s.io/v1 ClusterRoleBinding -/metrics-server:system:auth-delegator',
      'rbac.authorization.k8s.io/v1 ClusterRoleBinding -/system:metrics-server',
      `v1 Service ${NS}/metrics-server`,
      `apps/v1 Deployment ${NS}/metrics-server`,
      'apiregistration.k8s.io/v1 APIService -/v1beta1.metrics.k8s.io',
    ]);
    for (const o of objects)
      expect([o.kind, o.metadata.labels?.['k8s-app']]).toEqual([o.kind, 'metrics-server']);
  });

  it('grants what the facts table says: the aggregated reader and metrics-server own reads', () => {
    const reader = findObject<IClusterRole>(objects, 'ClusterRole', 'system:aggregated-metrics-reader');
    expect(reader.metadata!.labels).toMatchObject({
      'rbac.authorization.k8s.io/aggregate-to-admin': 'true',
      'rbac.authorization.k8s.io/aggregate-to-edit': 'true',
      'rbac.authorization.k8s.io/aggregate-to-view': 'true',
    });
    expect(reader.rules).toEqual([
      { apiGroups: ['metrics.k8s.io'], resources: ['pods', 'nodes'], verbs: ['get', 'list', 'watch'] },
    ]);
    const own = findObject<IClusterRole>(objects, 'ClusterRole', 'system:metrics-server');
    expect(own.rules).toEqual([
      {
        apiGroups: [''],
        resources: ['pods', 'nodes', 'nodes/stats', 'namespaces', 'configmaps'],
        verbs: ['get', 'list', 'watch'],
      },
    ]);
    const subject = [{ kind: 'ServiceAccount', name: 'metrics-server', namespace: NS }];
    const reader2 = findObject<IRoleBinding>(objects, 'RoleBinding', 'metrics-server-auth-reader');
    expect([reader2.roleRef, reader2.subjects]).toEqual([
      {
        apiGroup: 'rbac.authorization.k8s.io',
        kind: 'Role',
        name: 'extension-apiserver-authentication-reader',
      },
      subject,
    ]);
    const delegator = findObject<IClusterRoleBinding>(
      objects,
      'ClusterRoleBinding',
      'metrics-server:system:auth-delegator',
    );
    expect([delegator.roleRef.name, delegator.roleRef.kind, delegator.subjects]).toEqual([
      'system:auth-delegator',
      'ClusterRole',
      subject,
    ]);
    const binding = findObject<IClusterRoleBinding>(objects, 'ClusterRoleBinding', 'system:metrics-server');
    expect([binding.roleRef.name, binding.subjects]).toEqual(['system:metrics-server', subject]);
  });

  it('serves https 443 to the https port, from a Deployment on the host network with the original arguments', () => {
    const service = findObject<IService>(objects, 'Service', 'metrics-server');
    expect(service.spec).toEqual({
      selector: { 'k8s-app': 'metrics-server' },
      ports: [{ name: 'https', port: 443, protocol: 'TCP', targetPort: 'https' }],
    });
    const d = deployment(objects);
    expect(d.spec!.replicas).toBeUndefined();
    expect(d.spec!.strategy).toEqual({ rollingUpdate: { maxUnavailable: 0 } });
    const pod = podSpec(objects);
    expect(pod).toMatchObject({
      serviceAccountName: 'metrics-server',
      hostNetwork: true,
      priorityClassName: 'system-cluster-critical',
      volumes: [{ name: 'tmp-dir', emptyDir: {} }],
    });
    const c = containerOf<NonNullable<typeof pod.containers>[number]>(d, 'metrics-server');
    expect(c.image).toBe('kubesphere/metrics-server:v0.4.2');
    expect(c.imagePullPolicy).toBe('IfNotPresent');
    expect(c.args).toEqual([
      '--cert-dir=/tmp',
      '--secure-port=4443',
      '--kubelet-preferred-address-types=InternalIP,ExternalIP,Hostname',
      '--kubelet-use-node-status-port',
      '--kubelet-insecure-tls',
      `--tls-cipher-suites=${TLS_CIPHER_SUITES.join(',')}`,
    ]);
    expect(c.ports).toEqual([{ name: 'https', containerPort: 4443, protocol: 'TCP' }]);
    for (const [probe, path] of [
      [c.livenessProbe, '/livez'],
      [c.readinessProbe, '/readyz'],
    ] as const) {
      expect(probe).toEqual({
        httpGet: { path, port: 'https', scheme: 'HTTPS' },
        periodSeconds: 10,
        failureThreshold: 3,
      });
    }
    expect(c.securityContext).toEqual({ readOnlyRootFilesystem: true, runAsNonRoot: true, runAsUser: 1000 });
    expect(c.volumeMounts).toEqual([{ name: 'tmp-dir', mountPath: '/tmp' }]);
    expect(c.resources).toBeUndefined();
  });

  it('registers v1beta1.metrics.k8s.io on the Service, TLS unverified, priorities 100', () => {
    const api = findObject<KubeObject & { spec: unknown }>(objects, 'APIService', 'v1beta1.metrics.k8s.io');
    expect(api.spec).toEqual({
      group: 'metrics.k8s.io',
      version: 'v1beta1',
      service: { name: 'metrics-server', namespace: NS },
      insecureSkipTLSVerify: true,
      groupPriorityMinimum: 100,
      versionPriority: 100,
    });
  });

  it('places with one nodeSelector from the chain metrics_server → top level → kubernetes.io/os: linux', () => {
    expect(text.match(/nodeSelector:/g)).toHaveLength(1);
    expect(podSpec(objects)).toMatchObject({
      nodeSelector: { 'kubernetes.io/os': 'linux' },
      tolerations: [],
      affinity: {},
    });
    const top = { nodeSelector: { role: 'top' }, tolerations: [{ operator: 'Exists' }] };
    expect(podSpec(render(spec({}, top)))).toMatchObject({
      nodeSelector: { role: 'top' },
      tolerations: [{ operator: 'Exists' }],
    });
    const own = podSpec(
      render(
        spec(
          {
            nodeSelector: { 'node-role.kubernetes.io/edge-proxy': '' },
            affinity: {
              nodeAffinity: { requiredDuringSchedulingIgnoredDuringExecution: { nodeSelectorTerms: [] } },
            },
          },
          top,
        ),
      ),
    );
    expect(own.nodeSelector).toEqual({ 'node-role.kubernetes.io/edge-proxy': '' });
    expect(own.affinity).toHaveProperty('nodeAffinity');
    // An empty mapping is a value: no nodeSelector constraint at all.
    expect(podSpec(render(spec({ nodeSelector: {} }))).nodeSelector).toEqual({});
    // The monitoring stack's chain is not metrics-server's.
    const monitoring: Record<string, unknown> = { ...sampleSpec(), metrics_server: { enabled: true } };
    (monitoring.monitoring as Record<string, unknown>).nodeSelector = { role: 'monitoring' };
    expect(podSpec(render(monitoring)).nodeSelector).toEqual({ 'kubernetes.io/os': 'linux' });
  });

  it('names the image by the registry rules and the metrics_server_repo / _tag overrides', () => {
    const image = (top: Record<string, unknown>) =>
      containerOf<{ name: string; image?: string }>(deployment(render(spec({}, top))), 'metrics-server')
        .image;
    expect(image({ local_registry: 'registry.example.com:5000' })).toBe(
      'registry.example.com:5000/kubesphere/metrics-server:v0.4.2',
    );
    expect(image({ zone: 'cn' })).toBe('registry.cn-beijing.aliyuncs.com/kubesphereio/metrics-server:v0.4.2');
    expect(image({ metrics_server_repo: 'mirror.example.com/ms', metrics_server_tag: 'v0.4.3' })).toBe(
      'mirror.example.com/ms:v0.4.3',
    );
  });

  it('refuses a quoted "true" and placement values of the wrong type, naming the field and the fix', () => {
    expect(problems(spec({ enabled: 'true' }))).toEqual([
      'spec.metrics_server.enabled: spec.metrics_server.enabled: "true" is not true or false. Set spec.metrics_server.enabled to true or false (without quotes).',
    ]);
    expect(problems({ ...sampleSpec(), metrics_server: 'on' })).toEqual([
      'spec.metrics_server: spec.metrics_server: "on" is not a mapping. Write spec.metrics_server as a mapping, e.g. {enabled: true}, or remove it.',
    ]);
    expect(problems(spec({ nodeSelector: 'linux' }))).toEqual([
      'spec.metrics_server.nodeSelector: spec.metrics_server.nodeSelector: "linux" is not a mapping. Write spec.metrics_server.nodeSelector as a mapping of node labels, e.g. {kubernetes.io/os: linux}.',
    ]);
    expect(problems(spec({ nodeSelector: { 'kubernetes.io/os': true } }))[0]).toContain(
      'spec.metrics_server.nodeSelector["kubernetes.io/os"]',
    );
    expect(problems(spec({ tolerations: { key: 'edge' } }))[0]).toMatch(
      /^spec\.metrics_server\.tolerations: .* is not a list\. Write spec\.metrics_server\.tolerations as a list/,
    );
    expect(problems(spec({ affinity: [] }))[0]).toMatch(
      /^spec\.metrics_server\.affinity: .* is not a mapping/,
    );
    expect(problems(spec({ enabled: false, nodeSelector: 3 }))).toHaveLength(1);
  });

  it('declares for its removal every kind it renders, in apply order, and the APIService first', () => {
    const removal = ROLES[0]!.removal!;
    const kinds = objects
      .map((o) => `${o.apiVersion} ${o.kind} ${o.metadata.namespace ?? '-'}`)
      .filter((k, i, all) => all.indexOf(k) === i);
    expect(removal.owns.map((k) => `${k.apiVersion} ${k.kind} ${k.namespace ?? '-'}`)).toEqual(kinds);
    expect(removal.first).toEqual([
      { apiVersion: 'apiregistration.k8s.io/v1', kind: 'APIService', name: 'v1beta1.metrics.k8s.io' },
    ]);
  });

  it('prints every template value through a serializing filter', () => {
    expect(unsafeOutputsOf('metrics-server').filter((t) => t.unsafe.length > 0)).toEqual([]);
  });
});
