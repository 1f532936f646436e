/**
 * The Helm release the original installer left for notification-manager (`helm upgrade --install
 * notification-manager`). Once the chart's objects are ours (taken over by a run), Helm's release Secrets
 * must go: `helm list` would still show the release, and `helm uninstall notification-manager` would delete
 * the objects this operator manages, since it deletes what the stored release manifest names.
 *
 * It runs when the role's objects carried Helm's release annotation (the takeover removes it), and on
 * the process's first run unless the objects did not exist before it. One
 * request does it: a deletecollection of the Secrets of type `helm.sh/release.v1` labelled
 * `owner=helm,name=notification-manager` in the monitoring namespace. The operator may not list Secrets (a list
 * reads every Secret's data); deletecollection needs no list, reads only what it deletes, and returns the names.
 * The grant is a Role of the chart in the monitoring namespace (docs/install.md); without it (a fresh install:
 * no monitoring namespace when the chart was installed, so no Role and no release to remove) the step is a no-op.
 */
import { ApiError, type KubeClient, type KubeObject } from '../../kube/client.js';
import { HELM_RELEASE_ANNOTATION } from '../../kube/client-side-apply.js';
import type { AfterApplyStep } from '../model.js';

const HELM_RELEASE_NAME = 'notification-manager';
export const HELM_RELEASE_SECRET_TYPE = 'helm.sh/release.v1';
export const HELM_RELEASE_SELECTOR = `owner=helm,name=${HELM_RELEASE_NAME}`;

/** Deletes the release Secrets; the names deleted, or undefined when the operator may not. */
export async function removeHelmReleaseSecrets(
  client: KubeClient,
  namespace: string,
): Promise<string[] | undefined> {
  try {
    const list = await client.request<{ items?: KubeObject[] }>(
      'DELETE',
      `/api/v1/namespaces/${namespace}/secrets`,
      {
        query: { labelSelector: HELM_RELEASE_SELECTOR, fieldSelector: `type=${HELM_RELEASE_SECRET_TYPE}` },
      },
    );
    return (list.items ?? []).map((s) => s.metadata.name).sort();
  } catch (err) {
    if (err instanceof ApiError && err.status === 403) return undefined;
    throw err;
  }
}

/** After notification-manager's objects were applied (so taken over): Helm's release of them goes. */
export const removeNotificationManagerRelease: AfterApplyStep = async (ctx) => {
  const { client, plan, logger, event, objects, firstRun } = ctx;
  // Only a run that took Helm's objects over (they carried its release annotation) has a release to
  // remove; or the process's first run where the objects existed (a takeover whose removal a stopped
  // process left undone). Not a fresh install.
  const helmOwned = objects.some(
    (o) => o.live?.metadata.annotations?.[HELM_RELEASE_ANNOTATION] === HELM_RELEASE_NAME,
  );
  if (!helmOwned && !(firstRun && objects.some((o) => o.live))) return { warnings: [], changed: 0 };
  const ns = plan.values.namespace;
  const deleted = await removeHelmReleaseSecrets(client, ns);
  if (deleted === undefined) {
    logger.debug(
      `helm release ${HELM_RELEASE_NAME}: not checked, no deletecollection on Secrets in ${ns} (chart value takeover)`,
    );
    return { warnings: [], changed: 0 };
  }
  if (deleted.length > 0) {
    const message = `removed Helm's release ${HELM_RELEASE_NAME} (Secrets ${deleted.join(', ')} in ${ns}): its objects are managed by ks-installer, helm uninstall can no longer delete them`;
    logger.info(message);
    await event?.('Normal', 'HelmReleaseRemoved', message);
  }
  return { warnings: [], changed: deleted.length };
};
