/**
 * Drift repair without polling: watches of the kinds we own in the monitoring namespace, selected by
 * the label our templates set (`app.kubernetes.io/managed-by: ks-installer`). A deletion, or a spec
 * change by another field manager (the newest entry of managedFields outside the status subresource is
 * not ours; for kinds with a generation, only when it moved), asks for a run; the controller coalesces
 * them into one quiet run a second later. The periodic resync stays as the safety net, and carry-over
 * (Prometheus, the PVCs) is untouched: those are not watched.
 */
import { ApiError, type KubeClient, type KubeObject } from '../kube/client.js';
import { listAll } from '../kube/list.js';
import type { Logger } from '../observe/logger.js';
import { sleep } from '../util/sleep.js';

export const MANAGED_BY_SELECTOR = 'app.kubernetes.io/managed-by=ks-installer';

/** The kinds watched: the native objects every install has in the monitoring namespace. */
export const DRIFT_RESOURCES = [
  { base: '/api/v1', resource: 'services' },
  { base: '/api/v1', resource: 'serviceaccounts' },
  { base: '/apis/apps/v1', resource: 'deployments' },
  { base: '/apis/apps/v1', resource: 'daemonsets' },
] as const;

/** Every reason a drift watch queues a run with starts with this. */
export const DRIFT_REASON_PREFIX = 'drift:';

export interface DriftWatcherOptions {
  namespace: string;
  /** Our field manager: changes it made are not drift. */
  fieldManager: string;
  logger: Logger;
  onDrift: (reason: string) => void;
}

interface ManagedFieldsEntry {
  manager?: string;
  operation?: string;
  time?: string;
  subresource?: string;
}

/** The newest writer of the object outside the status subresource. */
function newestWriter(o: KubeObject): ManagedFieldsEntry | undefined {
  const entries = (o.metadata.managedFields ?? []) as ManagedFieldsEntry[];
  return entries
    .filter((e) => !e.subresource)
    .reduce<ManagedFieldsEntry | undefined>(
      (a, e) => (!a || (e.time ?? '') > (a.time ?? '') ? e : a),
      undefined,
    );
}

export class DriftWatcher {
  private readonly abort = new AbortController();
  private loops: Promise<void>[] = [];
  /** Per object, what was seen last: generation (or the newest writer) — a change of it is news. */
  private readonly seen = new Map<string, string>();

  constructor(
    private readonly client: KubeClient,
    private readonly options: DriftWatcherOptions,
  ) {}

  start(): void {
    if (this.loops.length > 0) return;
    this.loops = DRIFT_RESOURCES.map((r) =>
      this.watch(`${r.base}/namespaces/${this.options.namespace}/${r.resource}`),
    );
  }

  async stop(): Promise<void> {
    this.abort.abort();
    await Promise.all(this.loops);
  }

  private signature(o: KubeObject): string {
    const writer = newestWriter(o);
    return o.metadata.generation !== undefined
      ? `g${o.metadata.generation}`
      : `${writer?.manager ?? ''}@${writer?.time ?? ''}`;
  }

  private onEvent(kind: string, type: string, o: KubeObject): void {
    const id = `${kind} ${o.metadata.namespace}/${o.metadata.name}`;
    if (type === 'DELETED') {
      this.seen.delete(id);
      this.options.onDrift(`${DRIFT_REASON_PREFIX} ${id} deleted`);
      return;
    }
    const signature = this.signature(o);
    const before = this.seen.get(id);
    this.seen.set(id, signature);
    if (type !== 'MODIFIED' || before === signature) return;
    const writer = newestWriter(o);
    if (!writer || writer.manager === this.options.fieldManager) return;
    this.options.onDrift(
      `${DRIFT_REASON_PREFIX} ${id} changed by ${writer.manager ?? 'another field manager'}`,
    );
  }

  private async watch(path: string): Promise<void> {
    const { logger } = this.options;
    const kind = path.split('/').pop()!;
    let failures = 0;
    let resourceVersion: string | undefined;
    while (!this.abort.signal.aborted) {
      try {
        if (!resourceVersion) {
          const list = await listAll<KubeObject>(this.client, path, { labelSelector: MANAGED_BY_SELECTOR });
          for (const o of list.items)
            this.seen.set(`${kind} ${o.metadata.namespace}/${o.metadata.name}`, this.signature(o));
          resourceVersion = list.resourceVersion;
        }
        await this.client.watch<KubeObject>(
          path,
          (e) => {
            resourceVersion = e.object.metadata.resourceVersion ?? resourceVersion;
            if (e.type === 'ADDED' || e.type === 'MODIFIED' || e.type === 'DELETED')
              this.onEvent(kind, e.type, e.object);
          },
          {
            query: { labelSelector: MANAGED_BY_SELECTOR, resourceVersion, timeoutSeconds: 300 },
            inactivityTimeoutMs: 180_000,
            signal: this.abort.signal,
          },
        );
        failures = 0;
      } catch (err) {
        if (this.abort.signal.aborted) break;
        if (err instanceof ApiError && err.gone) {
          resourceVersion = undefined;
          continue;
        }
        const delay = Math.min(1000 * 2 ** failures, 30_000);
        failures++;
        logger.warn(`drift watch of ${kind} failed; retrying`, {
          err: (err as Error).message,
          retryInSeconds: delay / 1000,
        });
        await sleep(delay, this.abort.signal);
      }
    }
  }
}
