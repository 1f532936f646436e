/**
 * Drift repair without polling: watches of the kinds we own in the monitoring namespace, selected by
 * the label our templates set (`app.kubernetes.io/managed-by: ks-installer`). A deletion, or a spec
 * change by another field manager (the newest entry of managedFields outside the status subresource is
 * not ours; for kinds with a generation, only when it moved), asks for a run; the controller coalesces
 * them into one quiet run a second later. The periodic resync stays as the safety net, and carry-over
 * (Prometheus, the PVCs) is untouched: those are not watched.
 */
import type { KubeClient, KubeObject } from '../kube/client.js';
import { MANAGED_BY_SELECTOR } from '../kube/live-objects.js';
import type { Logger } from '../observe/logger.js';
import { ListWatcher } from './watch.js';

/** The kinds watched: the native objects every install has in the monitoring namespace. */
export const DRIFT_RESOURCES = [
  { base: '/api/v1', resource: 'services' },
  { base: '/api/v1', resource: 'serviceaccounts' },
  { base: '/apis/apps/v1', resource: 'deployments' },
  { base: '/apis/apps/v1', resource: 'daemonsets' },
] as const;

interface DriftWatcherOptions {
  namespace: string;
  /** Our field manager: changes it made are not drift. */
  fieldManager: string;
  logger: Logger;
  /** What drifted (`services ns/name deleted`, `… changed by <manager>`): the detail of a drift trigger. */
  onDrift: (detail: string) => void;
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
  private watchers: ListWatcher[] = [];
  /** Per object, what was seen last: generation (or the newest writer) — a change of it is news. */
  private readonly seen = new Map<string, string>();

  constructor(
    private readonly client: KubeClient,
    private readonly options: DriftWatcherOptions,
  ) {}

  start(): void {
    if (this.watchers.length > 0) return;
    this.watchers = DRIFT_RESOURCES.map(({ base, resource }) => {
      const w = new ListWatcher(
        this.client,
        {
          collectionPath: `${base}/namespaces/${this.options.namespace}/${resource}`,
          labelSelector: MANAGED_BY_SELECTOR,
          logger: this.options.logger.child({ resource }),
        },
        (e) => {
          if (e.type === 'SYNC') {
            for (const o of e.items) this.seen.set(this.idOf(resource, o), this.signature(o));
          } else {
            this.onEvent(resource, e.type, e.object);
          }
        },
      );
      w.start();
      return w;
    });
  }

  async stop(): Promise<void> {
    await Promise.all(this.watchers.map((w) => w.stop()));
  }

  private idOf(kind: string, o: KubeObject): string {
    return `${kind} ${o.metadata.namespace}/${o.metadata.name}`;
  }

  private signature(o: KubeObject): string {
    const writer = newestWriter(o);
    return o.metadata.generation !== undefined
      ? `g${o.metadata.generation}`
      : `${writer?.manager ?? ''}@${writer?.time ?? ''}`;
  }

  private onEvent(kind: string, type: string, o: KubeObject): void {
    const id = this.idOf(kind, o);
    if (type === 'DELETED') {
      this.seen.delete(id);
      this.options.onDrift(`${id} deleted`);
      return;
    }
    const signature = this.signature(o);
    const before = this.seen.get(id);
    this.seen.set(id, signature);
    if (type !== 'MODIFIED' || before === signature) return;
    const writer = newestWriter(o);
    if (!writer || writer.manager === this.options.fieldManager) return;
    this.options.onDrift(`${id} changed by ${writer.manager ?? 'another field manager'}`);
  }
}
