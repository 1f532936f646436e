/**
 * The chart against the repository it ships: the CRD copy is the repository's CRD, the default
 * ClusterConfiguration is the sample, the versions agree, and no RBAC rule holds a wildcard.
 */
import { beforeAll, describe, expect, it } from '@jest/globals';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { loadRuleCatalog } from '../../../src/rules/load.js';
import { FALLBACK_RULE_NAMES } from '../../../src/rules/package.js';
import { ROLES } from '../../../src/installer/catalog.js';
import type { KubeObject } from '../../../src/kube/client.js';
import { renderRole, withMonitoring } from '../roles/golden.js';
import {
  CHART_DIR,
  findObject,
  helmBinary,
  helmTemplate,
  readYaml,
  ROOT,
  rulesOf,
  type PolicyRule,
} from './helm.js';

const CRD_FILE = 'installer.kubesphere.io_clusterconfigurations.yaml';

/** Every field of a rule that could hold `*`. */
const ruleValues = (r: PolicyRule) => [
  ...(r.apiGroups ?? []),
  ...(r.resources ?? []),
  ...r.verbs,
  ...(r.resourceNames ?? []),
  ...(r.nonResourceURLs ?? []),
];

describe('charts/ks-installer', () => {
  let helm: string;
  // On a cold cache this builds helm from its pinned module first (minutes; `npm test` does it before).
  beforeAll(async () => {
    helm = await helmBinary();
  }, 20 * 60_000);

  it('keeps a byte-for-byte copy of the repository ClusterConfiguration CRD', () => {
    const chartCopy = readFileSync(path.join(CHART_DIR, 'files', 'crds', CRD_FILE), 'utf8');
    const repo = readFileSync(path.join(ROOT, 'crds', CRD_FILE), 'utf8');
    // On a difference: cp crds/installer.kubesphere.io_clusterconfigurations.yaml charts/ks-installer/files/crds/
    expect(chartCopy === repo).toBe(true);
  });

  it('renders the CRD with the content of crds/, adding only its labels and the keep policy', async () => {
    const objects = await helmTemplate(helm);
    const rendered = findObject(objects, 'CustomResourceDefinition');
    const repo = readYaml<KubeObject>(path.join(ROOT, 'crds', CRD_FILE));
    expect(rendered).toBeDefined();
    const { labels, annotations, ...renderedMeta } = rendered!.metadata;
    expect({ ...rendered, metadata: renderedMeta }).toEqual(repo);
    expect(annotations).toEqual({ 'helm.sh/resource-policy': 'keep' });
    expect(labels).toMatchObject({
      'app.kubernetes.io/name': 'ks-installer',
      'app.kubernetes.io/managed-by': 'Helm',
    });
  });

  it('defaults clusterConfiguration.spec to the sample examples/cluster-configuration.yaml', () => {
    const values = readYaml<{ clusterConfiguration: { spec: unknown } }>(path.join(CHART_DIR, 'values.yaml'));
    const sample = readYaml<{ spec: unknown }>(path.join(ROOT, 'examples', 'cluster-configuration.yaml'));
    expect(values.clusterConfiguration.spec).toEqual(sample.spec);
    expect(Object.keys(values.clusterConfiguration.spec as object)[0]).toBe('monitoring');
  });

  it('has the appVersion of the package it deploys', () => {
    const chart = readYaml<Record<string, string>>(path.join(CHART_DIR, 'Chart.yaml'));
    const pkg = JSON.parse(readFileSync(path.join(ROOT, 'package.json'), 'utf8')) as { version: string };
    expect(chart).toMatchObject({ apiVersion: 'v2', name: 'ks-installer', kubeVersion: '>=1.19.0-0' });
    expect(chart.appVersion).toBe(pkg.version);
  });

  describe.each([
    ['default values', {}, false],
    ['several replicas', { replicas: '3' }, true],
    [
      'leader election and a ClusterConfiguration',
      { 'leaderElection.enabled': 'true', 'clusterConfiguration.create': 'true' },
      true,
    ],
  ])('RBAC with %s', (_what, set, leaderElect) => {
    let objects: KubeObject[];
    beforeAll(async () => {
      objects = await helmTemplate(helm, { set });
    });

    it('has no wildcard in any rule of the ClusterRole or the Role', () => {
      const rules = [...rulesOf(findObject(objects, 'ClusterRole')), ...rulesOf(findObject(objects, 'Role'))];
      expect(rules.length).toBeGreaterThan(5);
      const wild = rules.filter((r) => ruleValues(r).some((v) => v.includes('*')));
      expect(wild).toEqual([]);
    });

    it('grants escalate and bind only on named ClusterRoles and Roles', () => {
      const rules = rulesOf(findObject(objects, 'ClusterRole'));
      const powerful = rules.filter((r) =>
        r.verbs.some((v) => ['escalate', 'bind', 'impersonate'].includes(v)),
      );
      expect(powerful.length).toBe(4);
      for (const r of powerful) {
        expect(r.resources?.every((x) => x === 'clusterroles' || x === 'roles')).toBe(true);
        expect(r.resourceNames?.length).toBeGreaterThan(0);
      }
    });

    it('never lists or watches Secrets, and deletes by name only: the fallback alert PrometheusRules, the Secrets and ConfigMaps it recreates when immutable, and what a role that can be turned off renders', () => {
      const rules = [...rulesOf(findObject(objects, 'ClusterRole')), ...rulesOf(findObject(objects, 'Role'))];
      const deletes = rules.filter((r) => r.verbs.some((v) => v === 'delete' || v === 'deletecollection'));
      expect(deletes).toContainEqual({
        apiGroups: ['monitoring.coreos.com'],
        resources: ['prometheusrules'],
        resourceNames: [...FALLBACK_RULE_NAMES],
        verbs: ['delete'],
      });
      const recreated = new Set([
        'alertmanager-main',
        'notification-manager-webhook-server-cert',
        'notification-manager-template',
        'zh-cn',
        'grafana-admin',
        'grafana-datasources',
        'grafana-dashboards',
      ]);
      const removable = new Set(
        ROLES.filter((r) => r.removal).flatMap((r) =>
          renderRole(
            r.name,
            withMonitoring(
              {},
              {
                etcd: { monitoring: true, endpointIps: '10.0.0.1' },
                alerting: { enabled: true },
                metrics_server: { enabled: true },
              },
            ),
          ).map((o) => o.metadata.name),
        ),
      );
      // The alert groups of those roles, in their GlobalRuleGroup form (named as the group).
      for (const e of loadRuleCatalog().alerts)
        if (ROLES.some((r) => r.removal && r.name === e.role)) removable.add(e.spec.name);
      for (const r of deletes) {
        expect(r.verbs).not.toContain('deletecollection');
        expect(r.resourceNames?.length).toBeGreaterThan(0);
        for (const name of r.resourceNames ?? [])
          expect([
            name,
            FALLBACK_RULE_NAMES.includes(name) || removable.has(name) || recreated.has(name),
          ]).toEqual([name, true]);
      }
      const secrets = rules.filter((r) => r.resources?.includes('secrets'));
      expect(secrets.flatMap((r) => r.verbs).filter((v) => ['list', 'watch'].includes(v))).toEqual([]);
    });

    it(`${leaderElect ? 'scopes the Lease to ks-installer except for create' : 'grants nothing on Leases'}`, () => {
      const leases = rulesOf(findObject(objects, 'Role')).filter((r) => r.resources?.includes('leases'));
      if (!leaderElect) {
        expect(leases).toEqual([]);
        return;
      }
      expect(leases).toEqual(
        expect.arrayContaining([
          { apiGroups: ['coordination.k8s.io'], resources: ['leases'], verbs: ['create'] },
          {
            apiGroups: ['coordination.k8s.io'],
            resources: ['leases'],
            resourceNames: ['ks-installer'],
            verbs: ['get', 'update'],
          },
        ]),
      );
      expect(leases).toHaveLength(2);
    });
  });

  describe('takeover of the original installer', () => {
    it('takeover.enabled=true: a Role in the monitoring namespace with deletecollection of Secrets, nothing else', async () => {
      const objects = await helmTemplate(helm, { set: { 'takeover.enabled': 'true' } });
      const roles = objects.filter(
        (o) => o.kind === 'Role' && o.metadata.namespace === 'kubesphere-monitoring-system',
      );
      expect(roles.map((r) => r.metadata.name)).toEqual(['ks-installer-takeover']);
      expect(rulesOf(roles[0])).toEqual([
        { apiGroups: [''], resources: ['secrets'], verbs: ['deletecollection'] },
      ]);
      const binding = findObject(objects, 'RoleBinding', 'ks-installer-takeover') as KubeObject & {
        roleRef: { kind: string; name: string };
      };
      expect(binding.metadata.namespace).toBe('kubesphere-monitoring-system');
      expect(binding.roleRef).toMatchObject({ kind: 'Role', name: 'ks-installer-takeover' });
    });

    it("takeover.enabled=true: a Role in kube-system for metrics-server's release, deletecollection of Secrets only", async () => {
      const objects = await helmTemplate(helm, { set: { 'takeover.enabled': 'true' } });
      const roles = objects.filter((o) => o.kind === 'Role' && o.metadata.namespace === 'kube-system');
      expect(roles.map((r) => r.metadata.name)).toEqual(['ks-installer-takeover-metrics-server']);
      expect(rulesOf(roles[0])).toEqual([
        { apiGroups: [''], resources: ['secrets'], verbs: ['deletecollection'] },
      ]);
      const binding = findObject(
        objects,
        'RoleBinding',
        'ks-installer-takeover-metrics-server',
      ) as KubeObject & {
        roleRef: { kind: string; name: string };
      };
      expect(binding.metadata.namespace).toBe('kube-system');
      expect(binding.roleRef).toMatchObject({ kind: 'Role', name: 'ks-installer-takeover-metrics-server' });
    });

    it.each(['false', 'auto'])('takeover.enabled=%s renders no such Role offline', async (value) => {
      const objects = await helmTemplate(helm, { set: { 'takeover.enabled': value } });
      expect(objects.filter((o) => o.metadata.name.startsWith('ks-installer-takeover'))).toEqual([]);
    });
  });
});
