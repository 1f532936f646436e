/**
 * Killing the operator at chosen points of a run and judging what it leaves (kill-first-install and
 * kill-takeover tests). The operator talks to kube-apiserver through a write tap
 * (test/support/write-tap.ts) that counts the writes it sends; a kill point is "after the k-th write
 * was stored and before its answer came back", k drawn from a seeded generator over the writes an
 * uninterrupted run makes, so each seed is a fixed point of the run. The state is compared as a
 * normalised dump of every object the plan renders.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { ClusterConfiguration } from '../../src/api/cluster-configuration.js';
import { NUDGE_ANNOTATION } from '../../src/kube/crd.js';
import { ApiError, type KubeClient, type KubeObject } from '../../src/kube/client.js';
import { RestMapper } from '../../src/kube/discovery.js';
import { issueWebhookTls } from '../../src/facts/webhook-tls.js';
import { ROLES } from '../../src/installer/catalog.js';
import { makePlan } from '../../src/installer/plan/make-plan.js';
import { createRenderer } from '../../src/render/renderer.js';
import { seededRandom } from '../support/fault-proxy.js';
import { startWriteTap, type TapWrite, type WriteTap } from '../support/write-tap.js';
import { clusterInfo } from './cluster.js';
import {
  ccPath,
  clusterEvents,
  ROOT,
  sampleClusterConfiguration,
  startOperatorFor,
  type Obj,
} from './fixtures.js';
import { waitUntil, type OperatorProcess } from './operator-process.js';

/** The kill point of `seed`: a write number in 1..writes, from the seeded generator. */
export function killPoint(seed: number, writes: number): number {
  return 1 + Math.floor(seededRandom(seed)() * writes);
}

/** A write as a short line: method and path without the query. */
export const describeWrite = (w: TapWrite | undefined) =>
  w ? `${w.method} ${w.path.split('?')[0]}` : '(none)';

/**
 * An object as state to compare between runs: no identity or time (uid, resourceVersion, creation
 * and managedFields times, generation), no status (no controller writes one here), field owners sorted,
 * and values made afresh by each install masked (Secret data, CA bundles, the nudge's time, a Service's
 * cluster IP).
 */
export function normalise(o: KubeObject): unknown {
  const c = structuredClone(o) as Obj;
  for (const k of ['uid', 'resourceVersion', 'creationTimestamp', 'generation', 'selfLink'])
    delete c.metadata[k];
  c.metadata.managedFields = ((c.metadata.managedFields ?? []) as Obj[])
    .map((e) => ({
      manager: e.manager,
      operation: e.operation,
      subresource: e.subresource,
      fieldsV1: e.fieldsV1,
    }))
    .sort((a, b) => JSON.stringify(a).localeCompare(JSON.stringify(b)));
  if (c.metadata.annotations?.[NUDGE_ANNOTATION]) c.metadata.annotations[NUDGE_ANNOTATION] = '(time)';
  delete c.status;
  // Allocated by the API server at each create.
  if (c.kind === 'Service') for (const k of ['clusterIP', 'clusterIPs']) delete c.spec?.[k];
  if (c.kind === 'Secret') for (const key of Object.keys(c.data ?? {})) c.data[key] = '(generated)';
  const mask = (v: unknown): unknown => {
    if (Array.isArray(v)) return v.map(mask);
    if (v && typeof v === 'object')
      return Object.fromEntries(
        Object.entries(v).map(([k, x]) => [k, k === 'caBundle' ? '(generated)' : mask(x)]),
      );
    return v;
  };
  return mask(c);
}

/** API path → normalised object (undefined: absent), for each path; and the latest revision among them. */
export async function dump(
  admin: KubeClient,
  paths: readonly string[],
): Promise<{ state: Map<string, unknown>; latest: number }> {
  const state = new Map<string, unknown>();
  let latest = 0;
  await Promise.all(
    paths.map(async (p) => {
      const live = await admin.getOrUndefined<KubeObject>(p);
      state.set(p, live && normalise(live));
      if (live) latest = Math.max(latest, revision(live));
    }),
  );
  return { state: new Map([...state].sort(([a], [b]) => a.localeCompare(b))), latest };
}

/** Each path whose object differs, with the first differing line of each side. */
export function differences(want: Map<string, unknown>, got: Map<string, unknown>): string[] {
  const out: string[] = [];
  for (const [p, w] of want) {
    const a = JSON.stringify(w, null, 1)?.split('\n') ?? ['(absent)'];
    const b = JSON.stringify(got.get(p), null, 1)?.split('\n') ?? ['(absent)'];
    const i = a.findIndex((l, n) => l !== b[n]);
    if (i >= 0 || a.length !== b.length)
      out.push(`${p}: expected ${a[i] ?? '(end)'} got ${b[i >= 0 ? i : a.length] ?? '(end)'}`);
  }
  return out;
}

/** The ClusterConfiguration's conditions as type=status/reason, sorted (no times, no messages). */
export const conditionSummary = (cc: ClusterConfiguration) =>
  (cc.status?.conditions ?? []).map((c) => `${c.type}=${c.status}/${c.reason}`).sort();

/** The tap between the operator and the shared control plane, and a kubeconfig through it. */
export async function startTap(): Promise<{ tap: WriteTap; kubeconfig: string; close: () => Promise<void> }> {
  const tap = await startWriteTap(clusterInfo().kubeconfig);
  const dir = await mkdtemp(path.join(tmpdir(), 'ks-kill-'));
  const kubeconfig = await tap.writeKubeconfig(path.join(dir, 'tap.kubeconfig'));
  return {
    tap,
    kubeconfig,
    close: async () => {
      await tap.close();
      await rm(dir, { recursive: true, force: true });
    },
  };
}

/** The operator for the ClusterConfiguration of `ns`, through `kubeconfig` (the tap) or straight to the API server. */
export function operatorFor(ns: string, kubeconfig?: string): Promise<OperatorProcess> {
  return startOperatorFor(ns, kubeconfig ? ['--kubeconfig', kubeconfig] : []);
}

/** Waits until the ClusterConfiguration of `ns` shows a finished successful run with monitoring enabled. */
export async function converged(
  admin: KubeClient,
  ns: string,
  timeoutMs = 180_000,
): Promise<ClusterConfiguration> {
  return waitUntil(
    'Ready=True, Progressing=False and monitoring enabled',
    async () => {
      const cc = await admin.get<ClusterConfiguration>(ccPath(ns));
      const of = (t: string) => cc.status?.conditions?.find((c) => c.type === t);
      const ok =
        of('Ready')?.status === 'True' &&
        of('Progressing')?.status === 'False' &&
        cc.status?.monitoring?.status === 'enabled';
      return ok ? cc : undefined;
    },
    timeoutMs,
    200,
  );
}

/**
 * A fresh operator (straight to the API server) after a kill: waits until it has converged, stops it,
 * and returns the converged ClusterConfiguration, the seconds from its start and its log lines.
 */
export async function restartUntilConverged(
  admin: KubeClient,
  ns: string,
): Promise<{ cc: ClusterConfiguration; recovery: number; lines: string[] }> {
  const restarted = performance.now();
  const op = await operatorFor(ns);
  try {
    const cc = await converged(admin, ns);
    return { cc, recovery: (performance.now() - restarted) / 1000, lines: op.lines };
  } finally {
    await op.stop();
  }
}

/** Warning Events about this very ClusterConfiguration (by uid), as reason: message. */
export async function warningsAbout(admin: KubeClient, ns: string, uid: string): Promise<string[]> {
  const events = (await clusterEvents(admin, ns, 'ks-installer')) as (Obj & {
    type?: string;
    reason?: string;
    message?: string;
  })[];
  return events
    .filter((e) => e.type === 'Warning' && e.involvedObject?.uid === uid)
    .map((e) => `${e.reason}: ${e.message}`);
}

export interface KilledRun {
  /** The write after which it was killed (its answer never reached the operator). */
  lastWrite: TapWrite | undefined;
  /** Log lines of the killed process. */
  lines: string[];
}

/**
 * Starts the operator through the tap, armed to SIGKILL it after its k-th write, and waits until it
 * is dead. Throws if the run ended before the k-th write.
 */
export async function runKilledAt(
  tap: WriteTap,
  kubeconfig: string,
  ns: string,
  k: number,
  start: () => Promise<unknown>,
): Promise<KilledRun> {
  tap.reset();
  const box: { op?: OperatorProcess } = {};
  tap.killAfter(k, () => box.op?.child.kill('SIGKILL'));
  const op = (box.op = await operatorFor(ns, kubeconfig));
  await start();
  const ended = await waitUntil(
    'the operator killed, or its run finished',
    async () =>
      op.child.exitCode !== null || op.child.signalCode !== null
        ? ('killed' as const)
        : op.count(/run succeeded/) > 0 && ('finished' as const),
    180_000,
    50,
  );
  if (ended === 'finished') {
    await op.stop();
    throw new Error(`the run ended after ${tap.writes.length} writes, before write ${k}`);
  }
  await op.exited;
  return { lastWrite: tap.writes[k - 1], lines: op.lines };
}

/**
 * Every version of the objects a watch of `collection` (with `query`) sees from now until `stop`: the
 * first event is the state at the start, then each change, DELETED included, in etcd order.
 */
export function recordVersions(
  admin: KubeClient,
  collection: string,
  query: Record<string, string>,
): { events: { type: string; object: Obj }[]; stop: () => Promise<void> } {
  const events: { type: string; object: Obj }[] = [];
  const abort = new AbortController();
  let resourceVersion: string | undefined;
  const loop = (async () => {
    while (!abort.signal.aborted) {
      await admin
        .watch<Obj>(
          collection,
          (e) => {
            if (e.type === 'BOOKMARK') return;
            resourceVersion = e.object.metadata.resourceVersion;
            events.push({ type: e.type, object: e.object });
          },
          { query: { ...query, ...(resourceVersion ? { resourceVersion } : {}) }, signal: abort.signal },
        )
        .catch(() => new Promise((r) => setTimeout(r, 200)));
    }
  })();
  return {
    events,
    stop: async () => {
      abort.abort();
      await loop;
    },
  };
}

/** A resourceVersion as a number: kube-apiserver on etcd hands out etcd's revision, one counter for every object. */
export const revision = (o: KubeObject) => Number(o.metadata.resourceVersion);

/** The API paths of what the plan of the sample renders on this cluster, by stage (kinds not served left out). */
export async function planPaths(
  admin: KubeClient,
  ns: string,
): Promise<{ all: string[]; namespaces: string[]; crds: string[]; rest: string[] }> {
  const mapper = new RestMapper(admin);
  const plan = await makePlan(
    sampleClusterConfiguration(ns).spec ?? {},
    {
      nodeCount: 1,
      kubernetesVersion: (await admin.get<{ gitVersion: string }>('/version')).gitVersion,
      servedApiVersions: await mapper.servedGroupVersions(),
      live: { etcdClientCertsSecret: false },
      webhookTls: await issueWebhookTls(),
    },
    {
      renderer: createRenderer(path.join(ROOT, 'templates')),
      crdsRoot: path.join(ROOT, 'crds'),
      roles: ROLES,
    },
  );
  const out = { all: [] as string[], namespaces: [] as string[], crds: [] as string[], rest: [] as string[] };
  for (const m of plan.roles.flatMap((r) => r.manifests)) {
    const p = await mapper.objectPath(m.object).catch((e: unknown) => {
      if (e instanceof ApiError && e.notFound) return undefined; // its kind is not served: no such object
      throw e;
    });
    if (!p) continue;
    out.all.push(p);
    if (m.object.kind === 'Namespace') out.namespaces.push(p);
    else if (m.object.kind === 'CustomResourceDefinition') out.crds.push(p);
    else out.rest.push(p);
  }
  return out;
}

/** Deletes the objects at `paths` at once (absent ones are fine) and waits until every one is gone. */
export async function deleteAll(
  admin: KubeClient,
  paths: readonly string[],
  timeoutMs = 120_000,
): Promise<void> {
  await Promise.all(
    paths.map((p) =>
      admin.request('DELETE', p).catch((e: unknown) => {
        if (!(e instanceof ApiError && e.notFound)) throw e;
      }),
    ),
  );
  await waitUntil(
    `${paths.length} objects gone`,
    async () => (await Promise.all(paths.map((p) => admin.getOrUndefined(p)))).every((o) => o === undefined),
    timeoutMs,
    200,
  );
}

/**
 * Deletes namespaces whose contents are gone. Nothing finalizes a namespace on this control plane
 * (no namespace controller), so its `kubernetes` finalizer is removed the way that controller does
 * once it has emptied it: an update of the finalize subresource.
 */
export async function deleteNamespaces(admin: KubeClient, paths: readonly string[]): Promise<void> {
  for (const p of paths) {
    const ns = await admin.getOrUndefined<Obj>(p);
    if (!ns) continue;
    await admin.request('DELETE', p).catch(() => undefined);
    const terminating = await admin.getOrUndefined<Obj>(p);
    if (terminating)
      await admin.request('PUT', `${p}/finalize`, {
        body: { ...terminating, spec: { ...terminating.spec, finalizers: [] } },
      });
  }
  await waitUntil(
    'namespaces gone',
    async () => (await Promise.all(paths.map((p) => admin.getOrUndefined(p)))).every((o) => o === undefined),
    60_000,
    200,
  );
}
