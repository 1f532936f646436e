/**
 * The Helm chart as helm sees it: `helm lint --strict`, `helm template` with default and edge values,
 * and the values schema refusing a typo. (The install on the API server: chart-install.test.ts.)
 */
import { beforeAll, describe, expect, it } from '@jest/globals';
import path from 'node:path';
import yaml from 'js-yaml';
import type { KubeObject } from '../../src/kube/client.js';
import { ENVTEST_VERSIONS } from '../../tools/envtest/versions.js';
import { CHART_DIR, findObject, helm, helmTemplate, readYaml, ROOT } from '../unit/chart/helm.js';
import { clusterInfo } from './cluster.js';

interface Container {
  args: string[];
  ports: { name: string; containerPort: number }[];
  securityContext: Record<string, unknown>;
  livenessProbe: { httpGet: { path: string; port: string } };
  readinessProbe: { httpGet: { path: string; port: string } };
  volumeMounts: { name: string; mountPath: string; readOnly?: boolean }[];
}
interface DeploymentLike extends KubeObject {
  spec: {
    replicas: number;
    strategy: { type: string; rollingUpdate?: { maxSurge: number; maxUnavailable: number } };
    template: {
      spec: {
        securityContext: Record<string, unknown>;
        containers: Container[];
        volumes: { name: string; emptyDir?: object; configMap?: object }[];
        serviceAccountName: string;
      };
    };
  };
}

const deployment = (objects: KubeObject[]) => findObject(objects, 'Deployment') as DeploymentLike;
const container = (objects: KubeObject[]) => deployment(objects).spec.template.spec.containers[0]!;

describe('helm chart ks-installer: lint, template, schema', () => {
  let bin: string;
  beforeAll(() => {
    bin = clusterInfo().binaries.helm!;
  });

  it.each([
    ['default values', []],
    [
      'edge values',
      [
        '--set',
        'replicas=3',
        '--set',
        'crds.enabled=false',
        '--set',
        'clusterConfiguration.create=true',
        '--set',
        'metrics.serviceMonitor.enabled=true',
      ],
    ],
  ])('helm lint --strict passes with %s', async (_what, extra) => {
    const r = await helm(bin, [
      'lint',
      '--strict',
      '--kube-version',
      ENVTEST_VERSIONS.kubernetes,
      CHART_DIR,
      ...extra,
    ]);
    expect({ exitCode: r.exitCode, stderr: r.stderr }).toEqual({ exitCode: 0, stderr: '' });
    expect(r.stdout).toContain('1 chart(s) linted, 0 chart(s) failed');
  });

  describe('default values', () => {
    let objects: KubeObject[];
    beforeAll(async () => {
      objects = await helmTemplate(bin);
    });

    it('render the operator, its identity and permissions, the metrics Service and the CRD, and no ClusterConfiguration', () => {
      expect(objects.map((o) => `${o.kind} ${o.metadata.name}`).sort()).toEqual([
        'ClusterRole ks-installer',
        'ClusterRoleBinding ks-installer',
        'CustomResourceDefinition clusterconfigurations.installer.kubesphere.io',
        'Deployment ks-installer',
        'Role ks-installer',
        'RoleBinding ks-installer',
        'Service ks-installer-metrics',
        'ServiceAccount ks-installer',
      ]);
      const crd = findObject(objects, 'CustomResourceDefinition')!;
      expect(crd.metadata.annotations).toEqual({ 'helm.sh/resource-policy': 'keep' });
    });

    it('run one replica with strategy Recreate, without leader election, mapping values to flags', () => {
      const d = deployment(objects);
      expect(d.spec.replicas).toBe(1);
      expect(d.spec.strategy).toEqual({ type: 'Recreate' });
      expect(d.spec.template.spec.serviceAccountName).toBe('ks-installer');
      expect(container(objects).args).toEqual([
        'run',
        '--namespace=kubesphere-system',
        '--name=ks-installer',
        '--health-addr=:8081',
        '--metrics-addr=:8080',
        '--log-level=info',
        '--log-format=text',
      ]);
    });

    it('run under a restricted security context with a writable /tmp only', () => {
      const pod = deployment(objects).spec.template.spec;
      expect(pod.securityContext).toMatchObject({
        runAsNonRoot: true,
        runAsUser: 65532,
        seccompProfile: { type: 'RuntimeDefault' },
      });
      const c = container(objects);
      expect(c.securityContext).toMatchObject({
        runAsNonRoot: true,
        runAsUser: 65532,
        readOnlyRootFilesystem: true,
        allowPrivilegeEscalation: false,
        capabilities: { drop: ['ALL'] },
        seccompProfile: { type: 'RuntimeDefault' },
      });
      expect(c.volumeMounts).toEqual([{ name: 'tmp', mountPath: '/tmp' }]);
      expect(pod.volumes).toEqual([{ name: 'tmp', emptyDir: expect.any(Object) }]);
    });

    it('probe /healthz and /readyz on the health port and expose the metrics port', () => {
      const c = container(objects);
      expect(c.ports).toEqual([
        expect.objectContaining({ name: 'health', containerPort: 8081 }),
        expect.objectContaining({ name: 'metrics', containerPort: 8080 }),
      ]);
      expect(c.livenessProbe.httpGet).toEqual({ path: '/healthz', port: 'health' });
      expect(c.readinessProbe.httpGet).toEqual({ path: '/readyz', port: 'health' });
      const svc = findObject(objects, 'Service') as KubeObject & {
        spec: { ports: { targetPort: string }[] };
      };
      expect(svc.spec.ports.map((p) => p.targetPort)).toEqual(['metrics']);
    });
  });

  it('replicas 3 turn leader election on and update with maxSurge 0', async () => {
    const objects = await helmTemplate(bin, {
      set: {
        replicas: '3',
        'leaderElection.leaseDuration': '30s',
        'log.level': 'debug',
        'log.format': 'json',
      },
    });
    const d = deployment(objects);
    expect(d.spec.replicas).toBe(3);
    expect(d.spec.strategy).toEqual({
      type: 'RollingUpdate',
      rollingUpdate: { maxSurge: 0, maxUnavailable: 1 },
    });
    expect(container(objects).args).toEqual(
      expect.arrayContaining([
        '--leader-elect',
        '--lease-duration=30s',
        '--renew-deadline=10s',
        '--retry-period=2s',
        '--log-level=debug',
        '--log-format=json',
      ]),
    );
  });

  it('crds.enabled false leaves the CRD out, crds.keep false drops the keep policy', async () => {
    const without = await helmTemplate(bin, { set: { 'crds.enabled': 'false' } });
    expect(findObject(without, 'CustomResourceDefinition')).toBeUndefined();
    const notKept = await helmTemplate(bin, { set: { 'crds.keep': 'false' } });
    expect(findObject(notKept, 'CustomResourceDefinition')!.metadata.annotations).toBeUndefined();
  });

  it('clusterConfiguration.create hands the operator the sample ClusterConfiguration of the release namespace to create', async () => {
    const objects = await helmTemplate(bin, {
      namespace: 'ops',
      set: { 'clusterConfiguration.create': 'true', resyncPeriod: '10m' },
    });
    expect(findObject(objects, 'ClusterConfiguration')).toBeUndefined();
    const cm = findObject(objects, 'ConfigMap', 'ks-installer-cluster-configuration') as KubeObject & {
      data: Record<string, string>;
    };
    const cc = yaml.load(cm.data['cluster-configuration.yaml']!) as KubeObject & { spec: unknown };
    const sample = readYaml<{ spec: unknown }>(path.join(ROOT, 'examples', 'cluster-configuration.yaml'));
    expect(cc).toEqual({
      apiVersion: 'installer.kubesphere.io/v1alpha1',
      kind: 'ClusterConfiguration',
      metadata: { name: 'ks-installer', namespace: 'ops' },
      spec: sample.spec,
    });
    const c = container(objects);
    expect(c.args).toEqual(
      expect.arrayContaining([
        '--namespace=ops',
        '--resync-period=10m',
        '--create-cluster-configuration=/etc/ks-installer/cluster-configuration.yaml',
      ]),
    );
    expect(c.volumeMounts).toContainEqual({
      name: 'cluster-configuration',
      mountPath: '/etc/ks-installer',
      readOnly: true,
    });
    expect(deployment(objects).spec.template.spec.volumes).toContainEqual({
      name: 'cluster-configuration',
      configMap: { name: cm.metadata.name },
    });
    const role = findObject(objects, 'Role') as KubeObject & {
      rules: { resources?: string[]; verbs: string[] }[];
    };
    expect(
      role.rules
        .filter((r) => r.resources?.includes('clusterconfigurations'))
        .flatMap((r) => r.verbs)
        .sort(),
    ).toEqual(['create', 'get', 'list', 'patch', 'watch']);
  });

  /**
   * The oldest Kubernetes the chart declares (`kubeVersion`): helm accepts it, and every object
   * renders with an API group/version that 1.19 serves (its discovery, as of Kubernetes 1.19.0).
   */
  it('installs on Kubernetes 1.19: helm accepts the version and renders only APIs 1.19 serves', async () => {
    const served119 = new Set([
      'v1',
      'apps/v1',
      'rbac.authorization.k8s.io/v1',
      'apiextensions.k8s.io/v1',
      'coordination.k8s.io/v1',
      'policy/v1beta1',
      'monitoring.coreos.com/v1', // the CRD the monitoring stack installs
    ]);
    const objects = await helmTemplate(bin, {
      kubeVersion: 'v1.19.0',
      set: {
        replicas: '2',
        'clusterConfiguration.create': 'true',
        'metrics.serviceMonitor.enabled': 'true',
      },
    });
    expect(objects.map((o) => o.apiVersion).filter((v) => !served119.has(v))).toEqual([]);
    const tooOld = await helm(bin, ['template', 'ks-installer', CHART_DIR, '--kube-version', 'v1.18.20']);
    expect(tooOld.exitCode).not.toBe(0);
    expect(tooOld.stderr).toContain('chart requires kubeVersion: >=1.19.0-0');
  });

  it('metrics.serviceMonitor.enabled renders a ServiceMonitor selecting the metrics Service by its port name', async () => {
    const objects = await helmTemplate(bin, {
      set: { 'metrics.serviceMonitor.enabled': 'true', 'metrics.serviceMonitor.labels.release': 'prom' },
    });
    const sm = findObject(objects, 'ServiceMonitor') as KubeObject & {
      spec: {
        selector: { matchLabels: Record<string, string> };
        endpoints: { port: string; path: string }[];
      };
    };
    const svc = findObject(objects, 'Service') as KubeObject & { spec: { ports: { name: string }[] } };
    expect(sm.metadata.labels).toMatchObject({ release: 'prom' });
    expect(svc.metadata.labels).toMatchObject(sm.spec.selector.matchLabels);
    expect(sm.spec.endpoints).toEqual([expect.objectContaining({ port: 'metrics', path: '/metrics' })]);
    expect(svc.spec.ports.map((p) => p.name)).toContain(sm.spec.endpoints[0]!.port);
  });

  it.each([
    ['iamge.tag=x', /additional properties 'iamge' not allowed/],
    ['image.pullpolicy=Always', /additional properties 'pullpolicy' not allowed/],
    ['log.level=verbose', /\/log\/level/],
    ['leaderElection.leaseDuration=15', /\/leaderElection\/leaseDuration/],
  ])('the values schema rejects --set %s', async (set, message) => {
    const r = await helm(bin, [
      'template',
      'ks-installer',
      CHART_DIR,
      '--kube-version',
      ENVTEST_VERSIONS.kubernetes,
      '--set',
      set,
    ]);
    expect(r.exitCode).not.toBe(0);
    expect(r.stderr).toContain("values don't meet the specifications of the schema");
    expect(r.stderr).toMatch(message);
    expect(r.stdout).toBe('');
  });
});
