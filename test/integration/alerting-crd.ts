/**
 * KubeSphere core's alerting API (alerting.kubesphere.io/v2beta1) for tests: installs the test-only
 * CRDs (test/fixtures/kubesphere-core) — GlobalRuleGroup, and for the migration of custom rules
 * RuleGroup and ClusterRuleGroup — and removes them again, waiting until the API is gone, so later
 * test files see a cluster without it (the built-in alerts then install as PrometheusRules).
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import yaml from 'js-yaml';
import { ALERTING_API_VERSION } from '../../src/rules/package.js';
import { applyObjects } from '../../tools/apply-objects.js';
import { ApiError, type KubeClient, type KubeObject } from '../../src/kube/client.js';
import { RestMapper } from '../../src/kube/discovery.js';
import { ROOT } from './fixtures.js';

const PLURALS = ['globalrulegroups', 'rulegroups', 'clusterrulegroups'] as const;
const crdPath = (plural: string) =>
  `/apis/apiextensions.k8s.io/v1/customresourcedefinitions/${plural}.alerting.kubesphere.io`;
export const GLOBAL_RULE_GROUPS = `/apis/${ALERTING_API_VERSION}/globalrulegroups`;
export const CLUSTER_RULE_GROUPS = `/apis/${ALERTING_API_VERSION}/clusterrulegroups`;
export const ruleGroups = (namespace: string) =>
  `/apis/${ALERTING_API_VERSION}/namespaces/${namespace}/rulegroups`;

function crd(plural: string): KubeObject {
  return yaml.load(
    readFileSync(
      path.join(ROOT, 'test', 'fixtures', 'kubesphere-core', `alerting.kubesphere.io_${plural}.yaml`),
      'utf8',
    ),
  ) as KubeObject;
}

/**
 * Applies the CRDs of `plurals`, then waits until discovery lists each kind (bound: 30 s): the operator
 * decides the built-in alerts' form and whether to migrate from discovery, which publishes a CRD's
 * kinds a moment after it is Established.
 */
async function install(admin: KubeClient, plurals: readonly string[]): Promise<void> {
  await applyObjects(admin, new RestMapper(admin), plurals.map(crd), { fieldManager: 'test-setup' });
  const deadline = Date.now() + 30_000;
  for (;;) {
    const list = await admin.getOrUndefined<{ resources?: { name: string }[] }>(
      `/apis/${ALERTING_API_VERSION}`,
    );
    if (plurals.every((p) => list?.resources?.some((r) => r.name === p))) return;
    if (Date.now() > deadline)
      throw new Error(
        `${ALERTING_API_VERSION} does not list ${plurals.join(', ')} 30 s after they were applied`,
      );
    await new Promise((r) => setTimeout(r, 100));
  }
}

export async function installGlobalRuleGroupCrd(admin: KubeClient): Promise<void> {
  await install(admin, ['globalrulegroups']);
}

/** The three kinds KubeSphere core serves, as a KubeSphere 3.4 cluster has them. */
export async function installAlertingCrds(admin: KubeClient): Promise<void> {
  await install(admin, PLURALS);
}

/** Deletes the CRDs (and with them every rule group) and waits until discovery no longer serves them. */
export async function removeGlobalRuleGroupCrd(admin: KubeClient): Promise<void> {
  for (const plural of PLURALS) {
    try {
      await admin.request('DELETE', crdPath(plural));
    } catch (err) {
      if (!(err instanceof ApiError && err.notFound)) throw err;
    }
  }
  const deadline = Date.now() + 60_000;
  while (Date.now() < deadline) {
    const left = await Promise.all(PLURALS.map((p) => admin.getOrUndefined(crdPath(p))));
    const served = await admin.getOrUndefined(`/apis/${ALERTING_API_VERSION}`);
    if (left.every((c) => !c) && !served) return;
    await new Promise((r) => setTimeout(r, 250));
  }
  throw new Error('alerting.kubesphere.io CRDs still present after 60 s');
}

/** Collections of the kinds an alerting run reads in the monitoring namespace. */
export const MONITORING_COLLECTIONS = [
  'thanosrulers',
  'servicemonitors',
  'prometheusrules',
  'prometheuses',
  'alertmanagers',
].map((k) => `/apis/monitoring.coreos.com/v1/namespaces/kubesphere-monitoring-system/${k}`);

/**
 * Waits until each collection lists: a CRD just created or changed answers "storage is
 * (re)initializing" for a moment, which would fail the first run of a test.
 */
export async function waitListed(admin: KubeClient, collections: readonly string[]): Promise<void> {
  const deadline = Date.now() + 30_000;
  for (const p of collections) {
    for (;;) {
      const ok = await admin.request('GET', p).then(
        () => true,
        () => false,
      );
      if (ok) break;
      if (Date.now() > deadline) throw new Error(`${p} does not list after 30 s`);
      await new Promise((r) => setTimeout(r, 200));
    }
  }
}
