import { describe, expect, it } from '@jest/globals';
import { removeHelmReleaseSecrets } from '../../../src/installer/steps/remove-helm-release.js';
import { ApiError, type KubeClient } from '../../../src/kube/client.js';

/** A client that records its one request and answers with `answer` (or throws it). */
function client(answer: unknown): { client: KubeClient; calls: unknown[][] } {
  const calls: unknown[][] = [];
  const fake = {
    request: (...args: unknown[]) => {
      calls.push(args);
      return answer instanceof Error ? Promise.reject(answer) : Promise.resolve(answer);
    },
  };
  return { client: fake as unknown as KubeClient, calls };
}

describe('removeHelmReleaseSecrets', () => {
  it("deletes the release's Secrets as one collection, by label and type, and returns their names", async () => {
    const { client: c, calls } = client({
      items: [
        { metadata: { name: 'sh.helm.release.v1.notification-manager.v2' } },
        { metadata: { name: 'sh.helm.release.v1.notification-manager.v1' } },
      ],
    });
    expect(await removeHelmReleaseSecrets(c, 'kubesphere-monitoring-system')).toEqual([
      'sh.helm.release.v1.notification-manager.v1',
      'sh.helm.release.v1.notification-manager.v2',
    ]);
    expect(calls).toEqual([
      [
        'DELETE',
        '/api/v1/namespaces/kubesphere-monitoring-system/secrets',
        {
          query: {
            labelSelector: 'owner=helm,name=notification-manager',
            fieldSelector: 'type=helm.sh/release.v1',
          },
        },
      ],
    ]);
  });

  it('is undefined when the operator may not (no takeover Role)', async () => {
    const { client: c } = client(new ApiError(403, 'Forbidden', 'forbidden'));
    expect(await removeHelmReleaseSecrets(c, 'ns')).toBeUndefined();
  });

  it('fails on anything else', async () => {
    const { client: c } = client(new ApiError(500, 'InternalError', 'boom'));
    await expect(removeHelmReleaseSecrets(c, 'ns')).rejects.toThrow('boom');
  });
});
