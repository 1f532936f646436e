/**
 * CustomResourceDefinitions: wait until the API server has established them. A CRD can stay
 * NamesAccepted=True, Established=False for good when kube-apiserver restarts while it is being
 * created: the establishing controller is queued only by an update event of the CRD, and re-applying
 * the same CRD changes nothing. Such a CRD is nudged: an annotation bump is a real update, which
 * queues it again (Established in well under a second on a single API server).
 */
import { CONTENT_TYPE, type KubeClient, type KubeObject } from './client.js';

/** The annotation a nudge bumps (the time of the nudge). */
export const NUDGE_ANNOTATION = 'installer.kubesphere.io/establish-nudge';

interface CrdStatus {
  status?: { conditions?: { type: string; status: string; reason?: string; message?: string }[] };
}

export function crdCondition(
  crd: CrdStatus,
  type: string,
): { status: string; reason?: string; message?: string } | undefined {
  return crd.status?.conditions?.find((c) => c.type === type);
}

export interface EstablishOptions {
  timeoutMs?: number;
  /** How long a CRD may stay NamesAccepted but not Established before it is nudged (and again after as long). */
  nudgeAfterMs?: number;
  /** Told about each nudge (the operator logs a warning naming the CRD). */
  onNudge?: (name: string, stuckMs: number) => void;
}

const crdPath = (name: string) => `/apis/apiextensions.k8s.io/v1/customresourcedefinitions/${name}`;

/** Bumps the nudge annotation: an update event that queues the CRD in the establishing controller. */
export async function nudgeCrd(client: KubeClient, name: string): Promise<void> {
  await client.request('PATCH', crdPath(name), {
    query: { fieldManager: 'ks-installer-establish-nudge' },
    body: { metadata: { annotations: { [NUDGE_ANNOTATION]: new Date().toISOString() } } },
    contentType: CONTENT_TYPE.merge,
  });
}

/**
 * Polls until every named CRD has Established=True, nudging those stuck NamesAccepted but not
 * Established; throws naming the ones that did not, and why.
 */
export async function waitForCrdsEstablished(
  client: KubeClient,
  names: string[],
  optionsOrTimeoutMs: EstablishOptions | number = {},
): Promise<void> {
  const options =
    typeof optionsOrTimeoutMs === 'number' ? { timeoutMs: optionsOrTimeoutMs } : optionsOrTimeoutMs;
  const { timeoutMs = 60_000, nudgeAfterMs = 5_000 } = options;
  const deadline = Date.now() + timeoutMs;
  let pending = [...names];
  let last = new Map<string, string>();
  /** Since when each CRD is seen NamesAccepted but not Established (reset by a nudge). */
  const stuckSince = new Map<string, number>();
  while (pending.length > 0) {
    const results = await Promise.all(
      pending.map(async (name) => {
        const crd = await client.getOrUndefined<KubeObject & CrdStatus>(crdPath(name));
        const established = crd && crdCondition(crd, 'Established');
        const names = crd && crdCondition(crd, 'NamesAccepted');
        const why = !crd
          ? 'not found'
          : names?.status === 'False'
            ? `NamesAccepted=False: ${names.message ?? names.reason}`
            : `Established=${established?.status ?? 'Unknown'}`;
        const ok = established?.status === 'True';
        if (ok || names?.status !== 'True') stuckSince.delete(name);
        else if (!stuckSince.has(name)) stuckSince.set(name, Date.now());
        return { name, ok, why };
      }),
    );
    for (const [name, since] of stuckSince) {
      const stuckMs = Date.now() - since;
      if (stuckMs < nudgeAfterMs) continue;
      options.onNudge?.(name, stuckMs);
      await nudgeCrd(client, name);
      stuckSince.set(name, Date.now());
    }
    pending = results.filter((r) => !r.ok).map((r) => r.name);
    last = new Map(results.map((r) => [r.name, r.why]));
    if (pending.length === 0) return;
    if (Date.now() > deadline) {
      throw new Error(
        `CRDs not established after ${timeoutMs / 1000}s: ${pending.map((n) => `${n} (${last.get(n)})`).join(', ')}`,
      );
    }
    await new Promise((r) => setTimeout(r, 100));
  }
}

/**
 * Learns from one watch when CRDs become Established, instead of polling each: a watch of the CRDs
 * carrying `labelSelector` (every CRD we apply carries our label), from the current state on. `wait`
 * resolves once the named CRD is Established; a CRD stuck NamesAccepted but not Established for
 * `nudgeAfterMs` is nudged (see nudgeCrd), and one not Established by `timeoutMs` fails its wait
 * naming why. If the watch cannot run (e.g. no watch permission) the waits fall back to polling.
 */
export class CrdEstablishment {
  private readonly state = new Map<string, KubeObject & CrdStatus>();
  private readonly waiters = new Map<string, { resolve: () => void; since: number; stuckSince?: number }[]>();
  private readonly abort = new AbortController();
  private watching: Promise<void> | undefined;
  private timer: NodeJS.Timeout | undefined;
  private failed = false;

  constructor(
    private readonly client: KubeClient,
    private readonly labelSelector: string,
    private readonly options: EstablishOptions = {},
  ) {}

  private established(name: string): boolean {
    const crd = this.state.get(name);
    return crd !== undefined && crdCondition(crd, 'Established')?.status === 'True';
  }

  private start(): void {
    if (this.watching) return;
    this.watching = this.client
      .watch<KubeObject & CrdStatus>(
        '/apis/apiextensions.k8s.io/v1/customresourcedefinitions',
        (e) => {
          if (e.type === 'BOOKMARK') return;
          if (e.type === 'DELETED') this.state.delete(e.object.metadata.name);
          else this.state.set(e.object.metadata.name, e.object);
          this.settle();
        },
        { query: { labelSelector: this.labelSelector }, signal: this.abort.signal },
      )
      .then(
        () => {
          if (!this.abort.signal.aborted) this.fallBack();
        },
        () => this.fallBack(),
      );
    this.timer = setInterval(() => void this.check(), 250);
    this.timer.unref();
  }

  /** The watch ended or failed before every wait was settled: the rest poll. */
  private fallBack(): void {
    if (this.failed) return;
    this.failed = true;
    for (const name of [...this.waiters.keys()]) {
      void waitForCrdsEstablished(this.client, [name], this.options).then(
        () => this.resolveAll(name),
        () => undefined,
      );
    }
  }

  private resolveAll(name: string): void {
    for (const w of this.waiters.get(name) ?? []) w.resolve();
    this.waiters.delete(name);
  }

  private settle(): void {
    for (const name of [...this.waiters.keys()]) if (this.established(name)) this.resolveAll(name);
  }

  /** Nudges CRDs stuck NamesAccepted but not Established. */
  private async check(): Promise<void> {
    const { nudgeAfterMs = 5_000 } = this.options;
    for (const [name, list] of this.waiters) {
      const crd = this.state.get(name);
      const accepted = crd !== undefined && crdCondition(crd, 'NamesAccepted')?.status === 'True';
      for (const w of list) {
        if (!accepted) w.stuckSince = undefined;
        else w.stuckSince ??= Date.now();
      }
      const stuck = list[0]?.stuckSince;
      if (stuck === undefined || Date.now() - stuck < nudgeAfterMs) continue;
      this.options.onNudge?.(name, Date.now() - stuck);
      for (const w of list) w.stuckSince = Date.now();
      await nudgeCrd(this.client, name).catch(() => undefined);
    }
  }

  /** Resolves once the CRD is Established; rejects after the timeout, naming why. */
  wait(name: string): Promise<void> {
    this.start();
    if (this.established(name)) return Promise.resolve();
    const { timeoutMs = 60_000 } = this.options;
    return new Promise<void>((resolve, reject) => {
      let timeout: NodeJS.Timeout | undefined = undefined;
      const waiter = {
        resolve: () => {
          clearTimeout(timeout);
          resolve();
        },
        since: Date.now(),
      };
      timeout = setTimeout(() => {
        const list = this.waiters.get(name)?.filter((w) => w !== waiter) ?? [];
        if (list.length) this.waiters.set(name, list);
        else this.waiters.delete(name);
        const crd = this.state.get(name);
        const names = crd && crdCondition(crd, 'NamesAccepted');
        const why = !crd
          ? 'not found'
          : names?.status === 'False'
            ? `NamesAccepted=False: ${names.message ?? names.reason}`
            : `Established=${crdCondition(crd, 'Established')?.status ?? 'Unknown'}`;
        reject(new Error(`CRDs not established after ${timeoutMs / 1000}s: ${name} (${why})`));
      }, timeoutMs);
      this.waiters.set(name, [...(this.waiters.get(name) ?? []), waiter]);
      if (this.failed)
        void waitForCrdsEstablished(this.client, [name], this.options).then(
          () => this.resolveAll(name),
          (err: unknown) => {
            clearTimeout(timeout);
            reject(err as Error);
          },
        );
    });
  }

  async stop(): Promise<void> {
    clearInterval(this.timer);
    this.abort.abort();
    await this.watching;
  }
}
