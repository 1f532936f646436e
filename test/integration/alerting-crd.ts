/**
 * KubeSphere core's GlobalRuleGroup API for tests: installs the test-only CRD
 * (test/fixtures/kubesphere-core) and removes it again, waiting until the API is gone, so later test
 * files see a cluster without it (the built-in alerts then install as PrometheusRules).
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import yaml from 'js-yaml';
import { ALERTING_API_VERSION } from '../../src/alerts/builtin.js';
import { applyObjects } from '../../tools/apply-objects.js';
import { ApiError, type KubeClient, type KubeObject } from '../../src/kube/client.js';
import { RestMapper } from '../../src/kube/discovery.js';
import { ROOT } from './fixtures.js';

const CRD_NAME = 'globalrulegroups.alerting.kubesphere.io';
const CRD_PATH = `/apis/apiextensions.k8s.io/v1/customresourcedefinitions/${CRD_NAME}`;
export const GLOBAL_RULE_GROUPS = `/apis/${ALERTING_API_VERSION}/globalrulegroups`;

export async function installGlobalRuleGroupCrd(admin: KubeClient): Promise<void> {
  const crd = yaml.load(
    readFileSync(
      path.join(ROOT, 'test', 'fixtures', 'kubesphere-core', `alerting.kubesphere.io_globalrulegroups.yaml`),
      'utf8',
    ),
  ) as KubeObject;
  await applyObjects(admin, new RestMapper(admin), [crd], { fieldManager: 'test-setup' });
  // The operator decides the built-in alerts' form from discovery, which publishes a CRD's kinds a
  // moment after it is Established: wait for discovery too (bound: 30 s), so the next run sees it.
  const deadline = Date.now() + 30_000;
  for (;;) {
    const list = await admin.getOrUndefined<{ resources?: { name: string }[] }>(
      `/apis/${ALERTING_API_VERSION}`,
    );
    if (list?.resources?.some((r) => r.name === 'globalrulegroups')) return;
    if (Date.now() > deadline)
      throw new Error(`${ALERTING_API_VERSION} not in discovery 30 s after ${CRD_NAME} was Established`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** Deletes the CRD (and with it every GlobalRuleGroup) and waits until discovery no longer serves it. */
export async function removeGlobalRuleGroupCrd(admin: KubeClient): Promise<void> {
  try {
    await admin.request('DELETE', CRD_PATH);
  } catch (err) {
    if (!(err instanceof ApiError && err.notFound)) throw err;
  }
  const deadline = Date.now() + 60_000;
  while (Date.now() < deadline) {
    const crd = await admin.getOrUndefined(CRD_PATH);
    const served = await admin.getOrUndefined(`/apis/${ALERTING_API_VERSION}`);
    if (!crd && !served) return;
    await new Promise((r) => setTimeout(r, 250));
  }
  throw new Error(`${CRD_NAME} still present after 60 s`);
}
