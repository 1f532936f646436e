/**
 * Carry-over from the live cluster, on the real API server: the Prometheus volume size (never
 * shrunk, grown when the spec asks for more, expanded in place where the StorageClass allows it),
 * retention and nodeSelector of the live Prometheus, and explicit values winning over both.
 * The live objects are made the way a cluster has them: the Prometheus by a client-side
 * `kubectl apply` (as the original installer did), the PVCs bound and with a StorageClass.
 * Nothing that holds data is ever deleted: the PVCs keep their uid throughout.
 */
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import yaml from 'js-yaml';
import type { ClusterConfiguration, Condition } from '../../src/api/cluster-configuration.js';
import { ApiError, CONTENT_TYPE, type KubeClient } from '../../src/kube/client.js';
import { clusterInfo } from './cluster.js';
import {
  ccPath,
  createClusterConfiguration,
  mergePatch,
  MONITORING_NS,
  prepareOperatorTest,
  sampleClusterConfiguration,
  startOperatorFor,
  type Obj,
} from './fixtures.js';
import { waitUntil, type OperatorProcess } from './operator-process.js';
import { runOutcomeOf } from './run-outcome.js';

const PROMETHEUS = `/apis/monitoring.coreos.com/v1/namespaces/${MONITORING_NS}/prometheuses/k8s`;
const PVC0 = 'prometheus-k8s-db-prometheus-k8s-0';
const PVC1 = 'prometheus-k8s-db-prometheus-k8s-1';
const pvcPath = (name: string) => `/api/v1/namespaces/${MONITORING_NS}/persistentvolumeclaims/${name}`;
const scPath = (name: string) => `/apis/storage.k8s.io/v1/storageclasses/${name}`;
const suffix = randomBytes(3).toString('hex');
const FIXED_SC = `ks-test-fixed-${suffix}`;
const GROWING_SC = `ks-test-growing-${suffix}`;

function ignoreNotFound(e: unknown): void {
  if (!(e instanceof ApiError && e.notFound)) throw e;
}

/** A claim as the StatefulSet controller makes it, then bound (only bound claims can be expanded). */
async function createBoundPvc(admin: KubeClient, name: string, size: string, storageClassName: string) {
  const pvc = await admin.request<Obj>('POST', `/api/v1/namespaces/${MONITORING_NS}/persistentvolumeclaims`, {
    body: {
      apiVersion: 'v1',
      kind: 'PersistentVolumeClaim',
      metadata: { name, labels: { 'app.kubernetes.io/name': 'prometheus', prometheus: 'k8s' } },
      spec: { accessModes: ['ReadWriteOnce'], storageClassName, resources: { requests: { storage: size } } },
    },
  });
  await mergePatch(admin, `${pvcPath(name)}/status`, {
    status: { phase: 'Bound', accessModes: ['ReadWriteOnce'], capacity: { storage: size } },
  });
  return pvc.metadata.uid as string;
}

/** A PVC keeps a protection finalizer no controller removes here: drop it, then delete. */
async function deletePvc(admin: KubeClient, name: string): Promise<void> {
  if (!(await admin.getOrUndefined(pvcPath(name)))) return;
  await mergePatch(admin, pvcPath(name), { metadata: { finalizers: null } });
  await admin.request('DELETE', pvcPath(name)).catch(ignoreNotFound);
  await waitUntil(`${name} gone`, async () => (await admin.getOrUndefined(pvcPath(name))) === undefined);
}

async function deleteAndWait(admin: KubeClient, p: string): Promise<void> {
  await admin.request('DELETE', p).catch(ignoreNotFound);
  await waitUntil(`${p} gone`, async () => (await admin.getOrUndefined(p)) === undefined);
}

function kubectlApply(objects: Obj[]): void {
  const info = clusterInfo();
  execFileSync(path.join(info.binDir, 'kubectl'), ['--kubeconfig', info.kubeconfig, 'apply', '-f', '-'], {
    input: objects.map((o) => yaml.dump(o, { noRefs: true })).join('---\n'),
    encoding: 'utf8',
  });
}

describe('carry-over of the live Prometheus settings', () => {
  let admin: KubeClient;
  let ns: string;
  let op: OperatorProcess;
  const uids = new Map<string, string>();

  const condition = async (type: string): Promise<Condition | undefined> =>
    (await admin.get<ClusterConfiguration>(ccPath(ns))).status?.conditions?.find((c) => c.type === type);
  const prometheus = () => admin.get<Obj>(PROMETHEUS);
  const storageOf = (p: Obj) => p.spec.storage.volumeClaimTemplate.spec.resources.requests.storage as string;
  const requestOf = async (name: string) =>
    (await admin.get<Obj>(pvcPath(name))).spec.resources.requests.storage as string;

  const runAfter = (change: () => Promise<unknown>) => op.runAfter(change);
  const rerun = () => mergePatch(admin, ccPath(ns), { status: { monitoring: null } });
  /**
   * Edits the spec and waits for the run of that generation (from the status), not for the next run
   * to end in the log: a quiet run already under way (a volume recheck) may end first.
   */
  const ranAfterEdit = async (spec: unknown): Promise<string[]> => {
    const from = op.lines.length;
    const edited = await mergePatch(admin, ccPath(ns), { spec });
    expect((await runOutcomeOf(admin, edited)).succeeded).toBe(true);
    return op.lines.slice(from);
  };
  /**
   * Forces a full run and returns the log from the forcing up to the end of the run that logged
   * `expected` (a quiet run under way may end before the forced one starts).
   */
  const rerunUntil = async (expected: string): Promise<string[]> => {
    const from = op.lines.length;
    await rerun();
    const found = op.lines.indexOf(await op.waitFor(new RegExp(expected), 120_000, from), from);
    const end = op.lines.indexOf(await op.waitFor(/run (succeeded|failed)/, 120_000, found), found);
    const run = op.lines.slice(from, end + 1);
    expect(run.at(-1)).toMatch(/run succeeded/);
    return run;
  };

  /** Nothing that holds data was deleted: every PVC made here still exists with its uid. */
  async function expectVolumesKept(): Promise<void> {
    for (const [name, uid] of uids) {
      const pvc = await admin.get<Obj>(pvcPath(name));
      expect({ name, uid: pvc.metadata.uid, deleting: pvc.metadata.deletionTimestamp }).toEqual({
        name,
        uid,
        deleting: undefined,
      });
    }
  }

  beforeAll(async () => {
    ({ admin, ns } = await prepareOperatorTest('mon-carry'));
    await deletePvc(admin, PVC0);
    await deletePvc(admin, PVC1);
    op = await startOperatorFor(ns);
    // A first install provides the CRDs and a Prometheus to shape the "original" one from.
    await runAfter(() => createClusterConfiguration(admin, sampleClusterConfiguration(ns)));

    const ours = await prometheus();
    const original: Obj = {
      apiVersion: ours.apiVersion,
      kind: ours.kind,
      metadata: { name: 'k8s', namespace: MONITORING_NS, labels: { 'app.kubernetes.io/name': 'prometheus' } },
      spec: structuredClone(ours.spec),
    };
    original.spec.retention = '15d';
    original.spec.nodeSelector = { disktype: 'ssd' };
    original.spec.storage.volumeClaimTemplate.spec.resources.requests.storage = '50Gi';
    await deleteAndWait(admin, PROMETHEUS);
    kubectlApply([original]);

    for (const [name, allow] of [
      [FIXED_SC, false],
      [GROWING_SC, true],
    ] as const) {
      await admin.request('POST', '/apis/storage.k8s.io/v1/storageclasses', {
        body: {
          apiVersion: 'storage.k8s.io/v1',
          kind: 'StorageClass',
          metadata: { name },
          provisioner: 'example.com/test',
          allowVolumeExpansion: allow,
        },
      });
    }
    uids.set(PVC0, await createBoundPvc(admin, PVC0, '50Gi', FIXED_SC));
  });

  afterAll(async () => {
    // Back to the sample's placement. Server-side apply turns the NotificationManager's (schemaless)
    // nodeSelector {} into null when it prunes the explicit key, and the next run sets {} again: run
    // twice so the next file starts from a converged stack.
    await runAfter(() => mergePatch(admin, ccPath(ns), { spec: { monitoring: { nodeSelector: null } } }));
    await runAfter(rerun);
    expect(await op?.stop()).toBe(0);
    // Leave the shared namespace as the next file expects it: no volumes, no carried-over settings.
    await deletePvc(admin, PVC0);
    await deletePvc(admin, PVC1);
    for (const sc of [FIXED_SC, GROWING_SC]) await admin.request('DELETE', scPath(sc)).catch(ignoreNotFound);
    await deleteAndWait(admin, PROMETHEUS);
  });

  it('a smaller volumeSize than the live PVC keeps the live size and says so', async () => {
    await ranAfterEdit({ monitoring: { prometheus: { volumeSize: '20Gi' } } });
    expect(storageOf(await prometheus())).toBe('50Gi');
    const refused = await condition('PrometheusStorageShrinkRefused');
    expect(refused).toMatchObject({ status: 'True', reason: 'LiveVolumeLarger' });
    expect(refused?.message).toContain('spec.monitoring.prometheus.volumeSize asks for 20Gi');
    expect(refused?.message).toContain('keeping 50Gi');
    expect(await requestOf(PVC0)).toBe('50Gi');
    await expectVolumesKept();
  });

  it('the live retention and nodeSelector are kept', async () => {
    const p = await prometheus();
    expect(p.spec.retention).toBe('15d');
    // Without carry-over the default kubernetes.io/os=linux would replace it.
    expect(p.spec.nodeSelector).toEqual({ disktype: 'ssd' });
    expect(p.metadata.labels?.['app.kubernetes.io/managed-by']).toBe('ks-installer');
  });

  it('a larger volumeSize: the CR asks for it, expandable PVCs grow, the others are reported', async () => {
    const from = op.lines.length;
    uids.set(PVC1, await createBoundPvc(admin, PVC1, '20Gi', GROWING_SC));
    await ranAfterEdit({ monitoring: { prometheus: { volumeSize: '100Gi' } } });
    expect(storageOf(await prometheus())).toBe('100Gi');
    expect(await requestOf(PVC1)).toBe('100Gi');
    // A periodic run between the claim's creation and the edit may first grow it to the live 50Gi.
    const grown = new RegExp(`${PVC1} expanded from (20|50)Gi to 100Gi`);
    expect(op.lines.slice(from).some((l) => grown.test(l))).toBe(true);
    // PVC 0's class does not allow expansion: it keeps 50Gi and the condition says what to do.
    expect(await requestOf(PVC0)).toBe('50Gi');
    const stuck = await condition('PrometheusStorageNotExpandable');
    expect(stuck).toMatchObject({ status: 'True', reason: 'VolumeExpansionNotAllowed' });
    expect(stuck?.message).toContain(
      `${PVC0} (50Gi; its StorageClass ${FIXED_SC} does not allow volume expansion)`,
    );
    expect(stuck?.message).toContain(`Set allowVolumeExpansion: true on StorageClass ${FIXED_SC}`);
    expect(stuck?.message).not.toContain(PVC1);
    expect(await condition('PrometheusStorageShrinkRefused')).toMatchObject({
      status: 'False',
      reason: 'Resolved',
    });
    await expectVolumesKept();
  });

  it('once the StorageClass allows expansion, the next run grows the rest and clears the condition', async () => {
    await mergePatch(admin, scPath(FIXED_SC), { allowVolumeExpansion: true });
    // The API server's admission reads StorageClasses from a cache: wait until it admits the growth
    // (a dry run of it), instead of guessing how long the cache takes on a busy machine.
    await waitUntil(`the API server allows ${PVC0} to grow`, async () => {
      try {
        await admin.request('PATCH', pvcPath(PVC0), {
          query: { dryRun: 'All' },
          body: { spec: { resources: { requests: { storage: '100Gi' } } } },
          contentType: CONTENT_TYPE.merge,
        });
        return true;
      } catch (err) {
        if (err instanceof ApiError && (err.status === 403 || err.status === 422)) return false;
        throw err;
      }
    });
    await rerunUntil(`${PVC0} expanded from 50Gi to 100Gi`);
    expect(await requestOf(PVC0)).toBe('100Gi');
    expect(await condition('PrometheusStorageNotExpandable')).toMatchObject({
      status: 'False',
      reason: 'Resolved',
    });
    await expectVolumesKept();
  });

  it('an explicit retention wins over the live one', async () => {
    await ranAfterEdit({ monitoring: { prometheus: { retention: '30d' } } });
    expect((await prometheus()).spec.retention).toBe('30d');
  });

  it('an explicit nodeSelector wins over the live one, and nothing of the live one is left', async () => {
    await ranAfterEdit({ monitoring: { nodeSelector: { 'ks-test/placement': 'explicit' } } });
    const p = await prometheus();
    expect(p.spec.nodeSelector).toEqual({ 'ks-test/placement': 'explicit' });
    expect(p.spec.retention).toBe('30d');
    expect(storageOf(p)).toBe('100Gi');
    await expectVolumesKept();
  });
});
