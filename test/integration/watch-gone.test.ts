/**
 * A real 410 Gone: a second control plane runs kube-apiserver without its watch cache, so a watch
 * from a resourceVersion older than etcd's compaction is answered by etcd itself with "too old
 * resource version". The ObjectWatcher must relist and keep delivering events.
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { ObjectWatcher, type ObjectEvent } from '../../src/controller/watch.js';
import { ControlPlane } from '../../tools/envtest/control-plane.js';
import { KubeClient, type KubeObject } from '../../src/kube/client.js';
import type { Logger } from '../../src/observe/logger.js';
import { configMap } from './cluster.js';
import { waitUntil } from './operator-process.js';

/** etcd's JSON gateway: the current revision, then a compaction up to it. */
async function compactEtcd(etcd: string): Promise<number> {
  const post = async (path: string, body: object) => {
    const res = await fetch(`${etcd}${path}`, { method: 'POST', body: JSON.stringify(body) });
    expect(res.status).toBe(200);
    return (await res.json()) as { header: { revision: string } };
  };
  const revision = Number(
    (await post('/v3/kv/range', { key: Buffer.from('/').toString('base64') })).header.revision,
  );
  await post('/v3/kv/compaction', { revision, physical: true });
  return revision;
}

function recordingLogger(lines: string[]): Logger {
  const log = (msg: string) => void lines.push(msg);
  const logger: Logger = {
    error: log,
    warn: log,
    info: log,
    debug: log,
    child: () => logger,
    isLevelEnabled: () => true,
  };
  return logger;
}

describe('ObjectWatcher against kube-apiserver without a watch cache', () => {
  let plane: ControlPlane;
  let client: KubeClient;
  const ns = 'default';
  const collection = `/api/v1/namespaces/${ns}/configmaps`;

  beforeAll(async () => {
    plane = await ControlPlane.start({ apiServerFlags: ['--watch-cache=false'], progress: () => {} });
    client = KubeClient.fromKubeconfig(plane.kubeconfig);
  });

  afterAll(async () => {
    await plane?.stop();
  });

  it('relists after a real 410 Gone and keeps delivering events', async () => {
    await client.request('POST', collection, { body: configMap(ns, 'watched', { v: '1' }) });
    const events: ObjectEvent<KubeObject>[] = [];
    const restarts: string[] = [];
    const lines: string[] = [];
    // The server ends each watch after 1 s; the watcher reopens it from the resourceVersion it holds,
    // which stays old because nothing happens to the watched object.
    const watcher = new ObjectWatcher(
      client,
      {
        collectionPath: collection,
        name: 'watched',
        logger: recordingLogger(lines),
        serverTimeoutSeconds: 1,
        backoff: { initialMs: 100, maxMs: 1000 },
        onRestart: (reason) => restarts.push(reason),
      },
      (e) => events.push(e),
    );
    watcher.start();
    try {
      await waitUntil('the first list', async () => events.length >= 1);
      expect(events[0]).toMatchObject({ type: 'SYNC', object: { metadata: { name: 'watched' } } });
      const heldVersion = Number(events[0]!.object!.metadata.resourceVersion);

      // Other writes move etcd's revision past the held version; the compaction then removes it.
      for (let i = 0; i < 5; i++) {
        await client.request('POST', collection, { body: configMap(ns, `other-${i}`) });
      }
      const compacted = await compactEtcd(plane.info.etcd);
      expect(compacted).toBeGreaterThan(heldVersion);

      await waitUntil('a relist after 410 Gone', async () => restarts.includes('gone'), 30_000);
      expect(lines).toContain('watch resourceVersion expired (410 Gone); relisting');
      expect(restarts).not.toContain('error');
      const syncs = await waitUntil('the relist', async () => {
        const found = events.filter((e) => e.type === 'SYNC');
        return found.length >= 2 && found;
      });
      expect(Number(syncs.at(-1)!.object!.metadata.resourceVersion)).toBe(heldVersion);

      // The watch runs again from the fresh list: an edit arrives as MODIFIED.
      await client.request('PATCH', `${collection}/watched`, {
        body: { data: { v: '2' } },
        contentType: 'application/merge-patch+json',
      });
      const modified = await waitUntil('the edit as an event', async () =>
        events.find((e) => e.type === 'MODIFIED'),
      );
      expect((modified.object as KubeObject & { data: { v: string } }).data.v).toBe('2');
    } finally {
      await watcher.stop();
    }
  });
});
