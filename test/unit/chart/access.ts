/**
 * The API requests the operator makes, as RBAC attributes (verb, group, resource, namespace, name),
 * derived from a plan's objects and from what the code reads; and the grants of RBAC rules, to find
 * the ones no request needs. Used by the chart's integration test, which asks the API server.
 */
import type { ManifestSource, RolePlan } from '../../../src/installer/model.js';
import { FALLBACK_RULE_NAMES } from '../../../src/rules/package.js';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { projectRoot } from '../../../src/paths.js';
import { parseWatches, type OwnedResource } from '../../../src/watches.js';
import { ETCD_CLIENT_CERTS_SECRET } from '../../../src/config/etcd.js';
import { OPTIONAL_LIVE_OBJECTS, PROMETHEUS_PVC, WEBHOOK_SECRET } from '../../../src/facts/live.js';
import { MONITORING_NAMESPACE } from '../../../src/config/values.js';
import type { KubeObject } from '../../../src/kube/client.js';
import {
  HELM_RELEASE_SELECTOR,
  helmReleaseSelector,
  METRICS_SERVER_RELEASE,
} from '../../../src/installer/steps/remove-helm-release.js';
import type { RestMapper } from '../../../src/kube/discovery.js';
import { NEVER_LISTED } from '../../../src/kube/live-objects.js';
import { NEVER_REMOVED } from '../../../src/installer/lifecycle/remove-turned-off.js';
import type { PolicyRule } from './helm.js';

export interface Access {
  verb: string;
  group: string;
  resource: string;
  namespace?: string;
  name?: string;
  /** The template or code path that makes this request. */
  why: string;
}

export const describeAccess = (a: Access): string =>
  `${a.verb} ${a.group || 'core'}/${a.resource}${a.namespace ? ` in ${a.namespace}` : ''}${a.name ? ` named ${a.name}` : ''} (${a.why})`;

const groupOf = (apiVersion: string) => (apiVersion.includes('/') ? apiVersion.split('/')[0]! : '');

/**
 * What a run does with each object: reads it (src/kube/live-objects.ts: one labelled list per kind and
 * namespace holding more than one object, Secrets and Namespaces aside; a get by name otherwise, and
 * for what a list does not return), then a server-side apply when it differs, a PATCH that creates it
 * when missing (authorized as create and as patch); CRDs are watched until Established (crd.ts); a
 * Secret or ConfigMap marked immutable whose content must change is deleted by name (immutable.ts).
 * Resources mapped by discovery.
 */
export async function applyAccesses(manifests: ManifestSource[], mapper: RestMapper): Promise<Access[]> {
  const out: Access[] = [];
  const perCollection = new Map<string, ManifestSource[]>();
  for (const m of manifests) {
    const key = `${m.object.apiVersion} ${m.object.kind} ${m.object.metadata.namespace ?? ''}`;
    perCollection.set(key, [...(perCollection.get(key) ?? []), m]);
  }
  for (const list of perCollection.values()) {
    const { apiVersion, kind, metadata } = list[0]!.object;
    if (list.length < 2 || NEVER_LISTED.has(`${apiVersion}/${kind}`) || kind === 'Namespace') continue;
    const r = await mapper.resource(apiVersion, kind);
    const why = `src/kube/live-objects.ts: ${list.length} ${kind} objects read with one list`;
    const namespace = r.namespaced ? metadata.namespace : undefined;
    out.push({ verb: 'list', group: groupOf(apiVersion), resource: r.resource, namespace, why });
    if (kind === 'CustomResourceDefinition')
      out.push({
        verb: 'watch',
        group: groupOf(apiVersion),
        resource: r.resource,
        why: 'src/kube/crd.ts: Established',
      });
  }
  for (const { source, object } of manifests) {
    const r = await mapper.resource(object.apiVersion, object.kind);
    const base = {
      group: groupOf(object.apiVersion),
      resource: r.resource,
      namespace: r.namespaced ? object.metadata.namespace : undefined,
      why: `${source}: ${object.kind} ${object.metadata.name}`,
    };
    out.push(
      { ...base, verb: 'get', name: object.metadata.name },
      { ...base, verb: 'create' },
      { ...base, verb: 'patch', name: object.metadata.name },
    );
    if (object.apiVersion === 'v1' && (object.kind === 'Secret' || object.kind === 'ConfigMap'))
      out.push({
        ...base,
        verb: 'delete',
        name: object.metadata.name,
        why: `src/installer/immutable.ts: ${object.kind} ${object.metadata.name} recreated when immutable`,
      });
  }
  return out;
}

/**
 * What removing a turned-off role's objects does (src/installer/lifecycle/remove-turned-off.ts), for each role of the
 * plan that can be turned off: one labelled list per kind and namespace it declares, and a delete of
 * each object it renders, by name.
 */
export async function removalAccesses(roles: RolePlan[], mapper: RestMapper): Promise<Access[]> {
  const out: Access[] = [];
  for (const rp of roles) {
    if (!rp.role.removal) continue;
    for (const kind of rp.role.removal.owns) {
      const r = await mapper.resource(kind.apiVersion, kind.kind);
      out.push({
        verb: 'list',
        group: groupOf(kind.apiVersion),
        resource: r.resource,
        namespace: r.namespaced ? kind.namespace : undefined,
        why: `src/installer/lifecycle/remove-turned-off.ts: ${rp.role.name}'s ${kind.kind} objects, by our labels`,
      });
    }
    const kept = rp.role.removal.keeps ?? [];
    for (const { source, object } of rp.manifests) {
      if (kept.some((k) => k.apiVersion === object.apiVersion && k.kind === object.kind)) continue;
      const group = groupOf(object.apiVersion);
      if (NEVER_REMOVED.has(`${group}/${object.kind}`)) continue;
      const r = await mapper.resource(object.apiVersion, object.kind);
      out.push({
        verb: 'delete',
        group: groupOf(object.apiVersion),
        resource: r.resource,
        namespace: r.namespaced ? object.metadata.namespace : undefined,
        name: object.metadata.name,
        why: `src/installer/lifecycle/remove-turned-off.ts: ${source} removed when ${rp.role.name} is turned off`,
      });
    }
  }
  return out;
}

interface RoleRef {
  kind: string;
  name: string;
}

/**
 * ClusterRoles and Roles that grant what the operator does not hold need `escalate` on their name;
 * bindings need `bind` on the role they reference.
 */
export function rbacAccesses(manifests: ManifestSource[]): Access[] {
  const out: Access[] = [];
  const rbac = 'rbac.authorization.k8s.io';
  for (const { source, object } of manifests) {
    if (groupOf(object.apiVersion) !== rbac) continue;
    const why = `${source}: ${object.kind} ${object.metadata.name}`;
    const ns = object.metadata.namespace;
    if (object.kind === 'ClusterRole') {
      out.push({ verb: 'escalate', group: rbac, resource: 'clusterroles', name: object.metadata.name, why });
    } else if (object.kind === 'Role') {
      out.push({
        verb: 'escalate',
        group: rbac,
        resource: 'roles',
        namespace: ns,
        name: object.metadata.name,
        why,
      });
    } else if (object.kind === 'ClusterRoleBinding' || object.kind === 'RoleBinding') {
      const ref = (object as KubeObject & { roleRef: RoleRef }).roleRef;
      out.push({
        verb: 'bind',
        group: rbac,
        resource: ref.kind === 'Role' ? 'roles' : 'clusterroles',
        namespace: object.kind === 'RoleBinding' ? ns : undefined,
        name: ref.name,
        why,
      });
    }
  }
  return out;
}

/** The kinds watched for drift, as watches.yaml declares them. */
export function ownedResources(): OwnedResource[] {
  const file = path.join(projectRoot(), 'watches.yaml');
  return parseWatches(readFileSync(file, 'utf8'), file).owns;
}

/** What the operator's code reads and writes besides the applied objects. */
export function codeAccesses(
  ccNamespace: string,
  ccName: string,
  options: { leaderElect: boolean; createClusterConfiguration: boolean; takeover?: boolean },
): Access[] {
  const mon = MONITORING_NAMESPACE;
  const cc = {
    group: 'installer.kubesphere.io',
    resource: 'clusterconfigurations',
    namespace: ccNamespace,
    name: ccName,
  };
  const lease = { group: 'coordination.k8s.io', resource: 'leases', namespace: ccNamespace };
  return [
    { verb: 'list', group: '', resource: 'nodes', why: 'src/facts/cluster.ts: node count' },
    {
      verb: 'patch',
      group: '',
      resource: 'nodes',
      name: 'gpu-node',
      why: 'src/installer/steps/label-gpu-nodes.ts: label nvidia.com/gpu.present on GPU nodes',
    },
    {
      verb: 'get',
      group: '',
      resource: 'namespaces',
      name: OPTIONAL_LIVE_OBJECTS.istioNamespace.name,
      why: 'src/facts/cluster.ts: whether istio-system exists (servicemesh enabled)',
    },
    {
      verb: 'get',
      group: '',
      resource: 'secrets',
      namespace: mon,
      name: OPTIONAL_LIVE_OBJECTS.grafanaAdmin.name,
      why: "src/facts/cluster.ts: Grafana's admin password kept (Grafana enabled)",
    },
    {
      verb: 'get',
      group: '',
      resource: 'persistentvolumeclaims',
      namespace: mon,
      name: PROMETHEUS_PVC,
      why: 'src/facts/cluster.ts: Prometheus volume size carry-over',
    },
    {
      verb: 'list',
      group: '',
      resource: 'persistentvolumeclaims',
      namespace: mon,
      why: 'src/installer/steps/storage-growth.ts: Prometheus volumes smaller than requested',
    },
    {
      verb: 'patch',
      group: '',
      resource: 'persistentvolumeclaims',
      namespace: mon,
      name: `${PROMETHEUS_PVC.replace(/-\d+$/, '')}-1`,
      why: 'src/installer/steps/storage-growth.ts: volume expansion',
    },
    {
      verb: 'list',
      group: 'storage.k8s.io',
      resource: 'storageclasses',
      why: 'src/installer/steps/storage-growth.ts: whether the StorageClass allows expansion',
    },
    {
      verb: 'get',
      group: '',
      resource: 'secrets',
      namespace: mon,
      name: ETCD_CLIENT_CERTS_SECRET,
      why: 'src/facts/cluster.ts: etcd client certificates present',
    },
    {
      verb: 'get',
      group: '',
      resource: 'secrets',
      namespace: mon,
      name: WEBHOOK_SECRET,
      why: 'src/facts/webhook-tls.ts: reuse of the webhook certificate',
    },
    {
      verb: 'list',
      group: 'monitoring.coreos.com',
      resource: 'prometheusrules',
      namespace: mon,
      why: 'src/installer/steps/switch-builtin-alerts.ts: which fallback PrometheusRules are left (metadata only)',
    },
    ...FALLBACK_RULE_NAMES.map((name) => ({
      verb: 'delete',
      group: 'monitoring.coreos.com',
      resource: 'prometheusrules',
      namespace: mon,
      name,
      why: 'src/installer/steps/switch-builtin-alerts.ts: fallback PrometheusRules deleted once GlobalRuleGroups are installed',
    })),
    {
      verb: 'list',
      group: 'monitoring.coreos.com',
      resource: 'prometheusrules',
      why: 'src/installer/steps/alerting-legacy.ts: the rules KubeSphere 3.1-3.3 left, in every namespace (by label)',
    },
    {
      verb: 'patch',
      group: 'monitoring.coreos.com',
      resource: 'prometheusrules',
      namespace: 'kubesphere-alerting-legacy-example',
      name: 'custom-alerting-rule-example',
      why: 'src/installer/steps/alerting-legacy.ts: 3.1/3.2 rules relabelled, migrated custom rules marked (any namespace)',
    },
    ...(['rulegroups', 'clusterrulegroups'] as const).flatMap((resource) =>
      (['create', 'get'] as const).map((verb) => ({
        verb,
        group: 'alerting.kubesphere.io',
        resource,
        ...(resource === 'rulegroups' ? { namespace: 'kubesphere-alerting-legacy-example' } : {}),
        ...(verb === 'get' ? { name: 'custom-alerting-rule-example-group' } : {}),
        why: 'src/installer/steps/alerting-legacy.ts: custom rules of KubeSphere 3.1-3.3 migrated to rule groups',
      })),
    ),
    ...(options.takeover
      ? [
          {
            verb: 'deletecollection',
            group: '',
            resource: 'secrets',
            namespace: mon,
            why: `src/installer/steps/remove-helm-release.ts: Helm's release Secrets (${HELM_RELEASE_SELECTOR})`,
          },
          {
            verb: 'deletecollection',
            group: '',
            resource: 'secrets',
            namespace: METRICS_SERVER_RELEASE.namespace,
            why: `src/installer/steps/remove-helm-release.ts: Helm's release Secrets (${helmReleaseSelector(METRICS_SERVER_RELEASE.name)})`,
          },
        ]
      : []),
    ...ownedResources().flatMap(({ group, resource }) =>
      (['list', 'watch'] as const).map((verb) => ({
        verb,
        group,
        resource,
        namespace: mon,
        why: 'src/controller/drift.ts: the kinds we own, watched by our label for drift',
      })),
    ),
    { ...cc, verb: 'list', why: 'src/controller/watch.ts: list by name' },
    { ...cc, verb: 'watch', why: 'src/controller/watch.ts: watch by name' },
    { ...cc, verb: 'get', why: 'src/controller: read of the ClusterConfiguration' },
    { ...cc, verb: 'patch', why: 'src/installer/report/status-writer.ts: status merge patch' },
    {
      verb: 'create',
      group: '',
      resource: 'events',
      namespace: ccNamespace,
      why: 'src/installer/report/status-writer.ts: Events',
    },
    ...(options.createClusterConfiguration
      ? [
          {
            group: cc.group,
            resource: cc.resource,
            namespace: ccNamespace,
            verb: 'create',
            why: '--create-cluster-configuration: created when missing',
          },
        ]
      : []),
    ...(options.leaderElect
      ? [
          { ...lease, verb: 'create', why: 'src/controller/leader.ts: first Lease' },
          { ...lease, verb: 'get', name: 'ks-installer', why: 'src/controller/leader.ts: read the Lease' },
          {
            ...lease,
            verb: 'update',
            name: 'ks-installer',
            why: 'src/controller/leader.ts: renew and release',
          },
        ]
      : []),
  ];
}

/** Every (verb, group, resource, name?) a rule grants, one per combination. */
export function expandRule(rule: PolicyRule): Omit<Access, 'why' | 'namespace'>[] {
  const out: Omit<Access, 'why' | 'namespace'>[] = [];
  for (const group of rule.apiGroups ?? [])
    for (const resource of rule.resources ?? [])
      for (const verb of rule.verbs)
        for (const name of rule.resourceNames?.length ? rule.resourceNames : [undefined])
          out.push(name === undefined ? { verb, group, resource } : { verb, group, resource, name });
  return out;
}

/**
 * Grants no access needs: a named grant is used by an access to that name; an unnamed one by any
 * access to the resource. Verbs in `alsoUsed` (e.g. patch on a Lease the code updates with PUT)
 * count as used when the resource is used.
 */
export function unusedGrants(
  rules: PolicyRule[],
  accesses: Access[],
  alsoUsed: { group: string; resource: string; verb: string }[] = [],
): string[] {
  const unused: string[] = [];
  for (const g of rules.flatMap(expandRule)) {
    const used =
      accesses.some(
        (a) =>
          a.verb === g.verb &&
          a.group === g.group &&
          a.resource === g.resource &&
          (g.name === undefined || a.name === g.name),
      ) || alsoUsed.some((u) => u.verb === g.verb && u.group === g.group && u.resource === g.resource);
    if (!used) unused.push(`${g.verb} ${g.group || 'core'}/${g.resource}${g.name ? ` named ${g.name}` : ''}`);
  }
  return unused;
}
