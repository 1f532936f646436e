/**
 * Registry settings on the real API server: with local_registry every image the stack runs
 * (workloads, custom resources, images passed as operator arguments) comes from that registry;
 * zone cn moves them all to the Aliyun mirror under kubesphereio.
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import type { KubeClient, KubeObject } from '../../src/kube/client.js';
import {
  ccPath,
  createClusterConfiguration,
  mergePatch,
  MONITORING_NS,
  prepareOperatorTest,
  sampleClusterConfiguration,
  startOperatorFor,
} from './fixtures.js';
import { type OperatorProcess } from './operator-process.js';

const WORKLOADS = [
  `/apis/apps/v1/namespaces/${MONITORING_NS}/deployments/prometheus-operator`,
  `/apis/apps/v1/namespaces/${MONITORING_NS}/deployments/kube-state-metrics`,
  `/apis/apps/v1/namespaces/${MONITORING_NS}/deployments/notification-manager-operator`,
  `/apis/apps/v1/namespaces/${MONITORING_NS}/daemonsets/node-exporter`,
  `/apis/monitoring.coreos.com/v1/namespaces/${MONITORING_NS}/prometheuses/k8s`,
  `/apis/monitoring.coreos.com/v1/namespaces/${MONITORING_NS}/alertmanagers/main`,
  '/apis/notification.kubesphere.io/v2beta2/notificationmanagers/notification-manager',
];

/** An image reference passed as a flag value, e.g. `--prometheus-config-reloader=repo/name:tag` (no URLs). */
const IMAGE_ARG = /^--[\w.-]+=([a-z0-9.-]+(?::\d+)?(?:\/[\w.-]+)+:[\w.-]+)$/;

/** Every image an object names: each `image` field at any depth, and image-valued arguments. */
function imagesOf(value: unknown, at: string, out: { at: string; image: string }[] = []) {
  if (Array.isArray(value)) value.forEach((v, i) => imagesOf(v, `${at}[${i}]`, out));
  else if (value && typeof value === 'object') {
    for (const [k, v] of Object.entries(value)) {
      if (k === 'image' && typeof v === 'string') out.push({ at: `${at}.image`, image: v });
      else if (k === 'args' && Array.isArray(v)) {
        for (const arg of v) {
          const m = typeof arg === 'string' ? IMAGE_ARG.exec(arg) : null;
          if (m) out.push({ at: `${at}.args ${arg.split('=')[0]}`, image: m[1]! });
        }
      } else imagesOf(v, `${at}.${k}`, out);
    }
  }
  return out;
}

describe('image registry', () => {
  let admin: KubeClient;
  let ns: string;
  let op: OperatorProcess;

  const runAfter = (change: () => Promise<unknown>) => op.runAfter(change);

  async function liveImages(): Promise<{ at: string; image: string }[]> {
    const all: { at: string; image: string }[] = [];
    for (const p of WORKLOADS) {
      const o = await admin.get<KubeObject>(p);
      imagesOf(o, `${o.kind}/${o.metadata.name}`, all);
    }
    return all;
  }

  function expectAllFrom(images: { at: string; image: string }[], prefix: string) {
    // Every workload contributes, including the reloader image passed to prometheus-operator.
    expect(images.length).toBeGreaterThanOrEqual(12);
    expect(images.some((i) => i.at.includes('--prometheus-config-reloader'))).toBe(true);
    expect(images.some((i) => i.at.startsWith('NotificationManager/') && i.at.includes('sidecars'))).toBe(
      true,
    );
    expect(images.filter((i) => !i.image.startsWith(prefix))).toEqual([]);
  }

  beforeAll(async () => {
    ({ admin, ns } = await prepareOperatorTest('mon-registry'));
    op = await startOperatorFor(ns);
  });

  afterAll(async () => {
    expect(await op?.stop()).toBe(0);
  });

  it('local_registry: every image comes from it, with its original repository path', async () => {
    const cc = sampleClusterConfiguration(ns);
    cc.spec = { ...cc.spec, local_registry: 'registry.example.com' };
    await runAfter(() => createClusterConfiguration(admin, cc));
    const images = await liveImages();
    expectAllFrom(images, 'registry.example.com/');
    expect(images.map((i) => i.image)).toEqual(
      expect.arrayContaining([
        'registry.example.com/prom/prometheus:v2.39.1',
        'registry.example.com/prom/node-exporter:v1.3.1',
      ]),
    );
  });

  it('zone cn: every image comes from the Aliyun mirror under kubesphereio, even with a local_registry', async () => {
    await runAfter(() => mergePatch(admin, ccPath(ns), { spec: { zone: 'cn' } }));
    const images = await liveImages();
    expectAllFrom(images, 'registry.cn-beijing.aliyuncs.com/kubesphereio/');
    expect(images.map((i) => i.image)).toContain(
      'registry.cn-beijing.aliyuncs.com/kubesphereio/prometheus:v2.39.1',
    );
  });

  it('without either: the images are the upstream ones again', async () => {
    await runAfter(() => mergePatch(admin, ccPath(ns), { spec: { zone: null, local_registry: '' } }));
    const images = (await liveImages()).map((i) => i.image);
    expect(images).toContain('prom/prometheus:v2.39.1');
    expect(images.filter((i) => i.startsWith('registry.'))).toEqual([]);
  });
});
