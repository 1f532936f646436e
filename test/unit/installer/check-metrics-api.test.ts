/**
 * The metrics-server role's after-apply steps with a recording client: the APIService's Available
 * condition decides between status.metricsServer and the MetricsApiUnavailable warning (with the
 * APIService's own reason and message and a re-check), and Helm's old release goes from kube-system.
 */
import { describe, expect, it } from '@jest/globals';
import { PassThrough } from 'node:stream';
import type { AfterApplyContext, Plan, PlannedObject } from '../../../src/installer/model.js';
import { removeMetricsServerRelease } from '../../../src/installer/steps/remove-helm-release.js';
import {
  checkMetricsApi,
  METRICS_API_RECHECK_MS,
  METRICS_API_SERVICE,
  METRICS_API_UNAVAILABLE,
  metricsApiState,
} from '../../../src/installer/steps/check-metrics-api.js';
import type { KubeClient, KubeObject } from '../../../src/kube/client.js';
import { createLogger } from '../../../src/observe/logger.js';

const PATH = `/apis/apiregistration.k8s.io/v1/apiservices/${METRICS_API_SERVICE}`;

function apiService(status: string, reason?: string, message?: string): KubeObject {
  return {
    apiVersion: 'apiregistration.k8s.io/v1',
    kind: 'APIService',
    metadata: { name: METRICS_API_SERVICE },
    status: { conditions: [{ type: 'Available', status, reason, message }] },
  } as KubeObject;
}

/** A client answering each read of the APIService with the next of `answers` (the last one repeats). */
function client(answers: (KubeObject | undefined)[]): {
  client: KubeClient;
  reads: string[];
  requests: unknown[][];
} {
  const reads: string[] = [];
  const requests: unknown[][] = [];
  const fake = {
    getOrUndefined: (path: string) => {
      reads.push(path);
      return Promise.resolve(answers[Math.min(reads.length - 1, answers.length - 1)]);
    },
    request: (...args: unknown[]) => {
      requests.push(args);
      return Promise.resolve({ items: [{ metadata: { name: 'sh.helm.release.v1.metrics-server.v1' } }] });
    },
  };
  return { client: fake as unknown as KubeClient, reads, requests };
}

function context(c: KubeClient, objects: Partial<PlannedObject>[]): AfterApplyContext {
  return {
    client: c,
    plan: {} as Plan,
    logger: createLogger({ stream: new PassThrough() }),
    objects: objects as PlannedObject[],
    firstRun: false,
  };
}

const unchanged = [{ role: 'metrics-server', change: undefined, live: {} as KubeObject }];

describe('the Metrics API check', () => {
  it('reads the Available condition of v1beta1.metrics.k8s.io', async () => {
    expect(await metricsApiState(client([apiService('True')]).client)).toEqual({ available: true });
    expect(
      await metricsApiState(client([apiService('False', 'MissingEndpoints', 'no endpoints')]).client),
    ).toEqual({ available: false, reason: 'MissingEndpoints', message: 'no endpoints' });
    expect(await metricsApiState(client([undefined]).client)).toMatchObject({
      available: false,
      reason: 'NotFound',
    });
  });

  it('marks status.metricsServer enabled when Available', async () => {
    const c = client([apiService('True')]);
    expect(await checkMetricsApi(context(c.client, unchanged))).toEqual({
      warnings: [],
      changed: 0,
      enabled: ['metricsServer'],
    });
    expect(c.reads).toEqual([PATH]);
  });

  it("reports the APIService's own reason and message, asks to be looked at again, and reads once when nothing changed", async () => {
    const message =
      'failing or missing response from https://10.0.0.2:4443/apis/metrics.k8s.io/v1beta1: connection refused';
    const c = client([apiService('False', 'FailedDiscoveryCheck', message)]);
    const result = await checkMetricsApi(context(c.client, unchanged));
    expect(result.requeueAfterMs).toBe(METRICS_API_RECHECK_MS);
    expect(result.enabled).toBeUndefined();
    expect(result.warnings).toEqual([
      {
        type: METRICS_API_UNAVAILABLE,
        reason: 'FailedDiscoveryCheck',
        message: expect.stringContaining(`(FailedDiscoveryCheck): ${message}`),
      },
    ]);
    expect(c.reads).toHaveLength(1);
  });

  it('waits a little for the APIService after changing the role objects', async () => {
    const c = client([apiService('False', 'MissingEndpoints', 'x'), apiService('True')]);
    const result = await checkMetricsApi(
      context(c.client, [{ role: 'metrics-server', change: 'absent', live: undefined }]),
    );
    expect(result.enabled).toEqual(['metricsServer']);
    expect(c.reads).toHaveLength(2);
  });
});

describe('the old Helm release of metrics-server', () => {
  it('is deleted from kube-system after a run took over objects carrying its release annotation', async () => {
    const c = client([]);
    const live: KubeObject = {
      apiVersion: 'apps/v1',
      kind: 'Deployment',
      metadata: { name: 'metrics-server', annotations: { 'meta.helm.sh/release-name': 'metrics-server' } },
    };
    const result = await removeMetricsServerRelease(
      context(c.client, [{ role: 'metrics-server', change: 'takeover', live }]),
    );
    expect(result.changed).toBe(1);
    expect(c.requests).toEqual([
      [
        'DELETE',
        '/api/v1/namespaces/kube-system/secrets',
        {
          query: {
            labelSelector: 'owner=helm,name=metrics-server',
            fieldSelector: 'type=helm.sh/release.v1',
          },
        },
      ],
    ]);
  });

  it('is not looked for on a fresh install', async () => {
    const c = client([]);
    await removeMetricsServerRelease(context(c.client, [{ role: 'metrics-server', change: 'absent' }]));
    expect(c.requests).toEqual([]);
  });
});
