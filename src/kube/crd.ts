/**
 * CustomResourceDefinitions: wait until the API server has established them. A CRD can stay
 * NamesAccepted=True, Established=False for good when kube-apiserver restarts while it is being
 * created: the establishing controller is queued only by an update event of the CRD, and re-applying
 * the same CRD changes nothing. Such a CRD is nudged: an annotation bump is a real update, which
 * queues it again (Established in well under a second on a single API server).
 */
import { CONTENT_TYPE, type KubeClient, type KubeObject } from './client.js';
import { conditionOf, isEstablished, type WithConditions } from './object-ref.js';
import { CRD_ESTABLISH } from '../reconcile/backoff.js';

/** The annotation a nudge bumps (the time of the nudge). */
export const NUDGE_ANNOTATION = 'installer.kubesphere.io/establish-nudge';

type CrdStatus = WithConditions;

export interface EstablishOptions {
  timeoutMs?: number;
  /** How long a CRD may stay NamesAccepted but not Established before it is nudged (and again after as long). */
  nudgeAfterMs?: number;
  /** Told about each nudge (the operator logs a warning naming the CRD). */
  onNudge?: (name: string, stuckMs: number) => void;
}

const crdPath = (name: string) => `/apis/apiextensions.k8s.io/v1/customresourcedefinitions/${name}`;

/** Whether a CRD is Established, whether it is stuck (names accepted, not Established), and why not. */
function establishment(crd: CrdStatus | undefined): { ok: boolean; stuck: boolean; why: string } {
  const established = conditionOf(crd, 'Established');
  const names = conditionOf(crd, 'NamesAccepted');
  const ok = isEstablished(crd);
  return {
    ok,
    stuck: !ok && names?.status === 'True',
    why: !crd
      ? 'not found'
      : names?.status === 'False'
        ? `NamesAccepted=False: ${names.message ?? names.reason}`
        : `Established=${established?.status ?? 'Unknown'}`,
  };
}

/** Bumps the nudge annotation: an update event that queues the CRD in the establishing controller. */
async function nudgeCrd(client: KubeClient, name: string): Promise<void> {
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
  const { timeoutMs = CRD_ESTABLISH.timeoutMs, nudgeAfterMs = CRD_ESTABLISH.nudgeAfterMs } = options;
  const deadline = Date.now() + timeoutMs;
  let pending = [...names];
  let last = new Map<string, string>();
  /** Since when each CRD is seen NamesAccepted but not Established (reset by a nudge). */
  const stuckSince = new Map<string, number>();
  while (pending.length > 0) {
    const results = await Promise.all(
      pending.map(async (name) => {
        const { ok, stuck, why } = establishment(await client.getOrUndefined<CrdStatus>(crdPath(name)));
        if (!stuck) stuckSince.delete(name);
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
    await new Promise((r) => setTimeout(r, CRD_ESTABLISH.pollMs));
  }
}

/**
 * Learns from one watch when CRDs become Established, instead of polling each: a watch of the CRDs
 * (those carrying `labelSelector` when given: every CRD the operator applies carries its label), from
 * the current state on. `wait` resolves once the named CRD is Established; a CRD stuck NamesAccepted but
 * not Established for `nudgeAfterMs` is nudged (see nudgeCrd), and one not Established by `timeoutMs`
 * fails its wait naming why. If the watch cannot run (e.g. no watch permission) or ends, the waits left
 * poll (waitForCrdsEstablished). `stop` ends the watch and fails the waits left, and any wait after it.
 */
export class CrdEstablishment {
  private readonly state = new Map<string, KubeObject & CrdStatus>();
  private readonly waiters = new Map<string, Waiter[]>();
  private readonly abort = new AbortController();
  private watching: Promise<void> | undefined;
  private timer: NodeJS.Timeout | undefined;
  private failed = false;
  private stopped = false;

  constructor(
    private readonly client: KubeClient,
    private readonly labelSelector: string | undefined,
    private readonly options: EstablishOptions = {},
  ) {}

  private start(): void {
    if (this.watching) return;
    this.watching = this.client
      .watch<KubeObject & CrdStatus>(
        '/apis/apiextensions.k8s.io/v1/customresourcedefinitions',
        (e) => {
          if (e.type === 'BOOKMARK') return;
          if (e.type === 'DELETED') this.state.delete(e.object.metadata.name);
          else this.state.set(e.object.metadata.name, e.object);
          for (const name of [...this.waiters.keys()])
            if (establishment(this.state.get(name)).ok) this.settle(name);
        },
        {
          query: this.labelSelector ? { labelSelector: this.labelSelector } : {},
          signal: this.abort.signal,
        },
      )
      .then(
        () => {
          if (!this.abort.signal.aborted) this.fallBack();
        },
        () => this.fallBack(),
      );
    this.timer = setInterval(() => void this.nudgeStuck(), CRD_ESTABLISH.nudgeCheckMs);
    this.timer.unref();
  }

  /** The watch ended or failed before every wait was settled: the rest poll. */
  private fallBack(): void {
    if (this.failed) return;
    this.failed = true;
    for (const name of this.waiters.keys()) this.poll(name);
  }

  private poll(name: string): void {
    void waitForCrdsEstablished(this.client, [name], this.options).then(
      () => this.settle(name),
      (err: unknown) => this.settle(name, err as Error),
    );
  }

  private settle(name: string, err?: Error): void {
    for (const w of this.waiters.get(name) ?? []) w.settle(err);
    this.waiters.delete(name);
  }

  /** Nudges CRDs stuck NamesAccepted but not Established. */
  private async nudgeStuck(): Promise<void> {
    const { nudgeAfterMs = CRD_ESTABLISH.nudgeAfterMs } = this.options;
    for (const [name, list] of this.waiters) {
      const { stuck } = establishment(this.state.get(name));
      for (const w of list) w.stuckSince = stuck ? (w.stuckSince ?? Date.now()) : undefined;
      const since = list[0]?.stuckSince;
      if (since === undefined || Date.now() - since < nudgeAfterMs) continue;
      this.options.onNudge?.(name, Date.now() - since);
      for (const w of list) w.stuckSince = Date.now();
      await nudgeCrd(this.client, name).catch(() => undefined);
    }
  }

  /** Resolves once the CRD is Established; rejects after the timeout, naming why. */
  wait(name: string): Promise<void> {
    if (this.stopped) return Promise.reject(new Error(`stopped waiting for CRD ${name}`));
    this.start();
    if (establishment(this.state.get(name)).ok) return Promise.resolve();
    const { timeoutMs = CRD_ESTABLISH.timeoutMs } = this.options;
    return new Promise<void>((resolve, reject) => {
      const timeout = setTimeout(() => {
        const why = establishment(this.state.get(name)).why;
        this.drop(name, waiter);
        reject(new Error(`CRDs not established after ${timeoutMs / 1000}s: ${name} (${why})`));
      }, timeoutMs);
      const waiter: Waiter = {
        settle: (err) => {
          clearTimeout(timeout);
          if (err) reject(err);
          else resolve();
        },
      };
      this.waiters.set(name, [...(this.waiters.get(name) ?? []), waiter]);
      if (this.failed) this.poll(name);
    });
  }

  private drop(name: string, waiter: Waiter): void {
    const list = this.waiters.get(name)?.filter((w) => w !== waiter) ?? [];
    if (list.length) this.waiters.set(name, list);
    else this.waiters.delete(name);
  }

  async stop(): Promise<void> {
    this.stopped = true;
    clearInterval(this.timer);
    this.abort.abort();
    for (const name of [...this.waiters.keys()])
      this.settle(name, new Error(`stopped waiting for CRD ${name}`));
    await this.watching;
  }
}

interface Waiter {
  settle: (err?: Error) => void;
  /** Since when the CRD is seen NamesAccepted but not Established (reset by a nudge). */
  stuckSince?: number;
}
