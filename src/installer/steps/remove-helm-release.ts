/**
 * Helm releases the original installer left: notification-manager (`helm upgrade --install
 * notification-manager` in the monitoring namespace) and, on clusters it upgraded from older KubeSphere
 * releases, metrics-server (`metrics-server` in kube-system). Once the chart's objects are ours (taken
 * over by a run), Helm's release Secrets must go: `helm list` would still show the release, and `helm
 * uninstall <name>` would delete the objects this operator manages, since it deletes what the stored
 * release manifest names.
 *
 * It runs when the role's objects carried Helm's release annotation (the takeover removes it), and on
 * the process's first run unless the objects did not exist before it. One
 * request does it: a deletecollection of the Secrets of type `helm.sh/release.v1` labelled
 * `owner=helm,name=<release>` in the release's namespace. The operator may not list Secrets (a list
 * reads every Secret's data); deletecollection needs no list, reads only what it deletes, and returns the names.
 * The grant is a Role of the chart in that namespace (docs/install.md); without it (nothing to take over
 * when the chart was installed, so no Role and no release to remove) the step is a no-op.
 */
import { ApiError, type KubeClient, type KubeObject } from '../../kube/client.js';
import { HELM_RELEASE_ANNOTATION } from '../../kube/client-side-apply.js';
import type { AfterApplyStep } from '../model.js';
import type { Plan } from '../model.js';

const HELM_RELEASE_NAME = 'notification-manager';
export const HELM_RELEASE_SECRET_TYPE = 'helm.sh/release.v1';
export const helmReleaseSelector = (release: string) => `owner=helm,name=${release}`;
export const HELM_RELEASE_SELECTOR = helmReleaseSelector(HELM_RELEASE_NAME);

/** The metrics-server release the original removed with `helm del` before applying its own objects. */
export const METRICS_SERVER_RELEASE = { name: 'metrics-server', namespace: 'kube-system' } as const;

/** Deletes the release Secrets; the names deleted, or undefined when the operator may not. */
export async function removeHelmReleaseSecrets(
  client: KubeClient,
  namespace: string,
  release: string = HELM_RELEASE_NAME,
): Promise<string[] | undefined> {
  try {
    const list = await client.request<{ items?: KubeObject[] }>(
      'DELETE',
      `/api/v1/namespaces/${namespace}/secrets`,
      {
        query: {
          labelSelector: helmReleaseSelector(release),
          fieldSelector: `type=${HELM_RELEASE_SECRET_TYPE}`,
        },
      },
    );
    return (list.items ?? []).map((s) => s.metadata.name).sort();
  } catch (err) {
    if (err instanceof ApiError && err.status === 403) return undefined;
    throw err;
  }
}

/** After a role's objects were applied (so taken over): Helm's release of them goes. */
function removeRelease(release: string, namespaceOf: (plan: Plan) => string): AfterApplyStep {
  return async (ctx) => {
    const { client, plan, logger, event, objects, firstRun } = ctx;
    // Only a run that took Helm's objects over (they carried its release annotation) has a release to
    // remove; or the process's first run where the objects existed (a takeover whose removal a stopped
    // process left undone). Not a fresh install.
    const helmOwned = objects.some(
      (o) => o.live?.metadata.annotations?.[HELM_RELEASE_ANNOTATION] === release,
    );
    if (!helmOwned && !(firstRun && objects.some((o) => o.live))) return { warnings: [], changed: 0 };
    const ns = namespaceOf(plan);
    const deleted = await removeHelmReleaseSecrets(client, ns, release);
    if (deleted === undefined) {
      logger.debug(
        `helm release ${release}: not checked, no deletecollection on Secrets in ${ns} (chart value takeover)`,
      );
      return { warnings: [], changed: 0 };
    }
    if (deleted.length > 0) {
      const message = `removed Helm's release ${release} (Secrets ${deleted.join(', ')} in ${ns}): its objects are managed by ks-installer, helm uninstall can no longer delete them`;
      logger.info(message);
      await event?.('Normal', 'HelmReleaseRemoved', message);
    }
    return { warnings: [], changed: deleted.length };
  };
}

export const removeNotificationManagerRelease: AfterApplyStep = removeRelease(
  HELM_RELEASE_NAME,
  (plan) => plan.values.namespace,
);

export const removeMetricsServerRelease: AfterApplyStep = removeRelease(
  METRICS_SERVER_RELEASE.name,
  () => METRICS_SERVER_RELEASE.namespace,
);
