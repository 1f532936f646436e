/**
 * A work queue of keys, as client-go's: a key is processed by one worker at a time; adds while it is
 * queued coalesce, adds while it is processing mark it dirty so it runs exactly once more afterwards.
 * Failures requeue with per-key exponential backoff combined with an overall token bucket (the numbers
 * and why: QUEUE_BACKOFF in src/reconcile/backoff.ts). Reasons are kept per key without repeats (two
 * reasons are the same when `keyOf` says so).
 * Kept in-house: npm queues (p-queue and the like) have no per-key coalescing or dirty-while-processing
 * rule, which is what makes a burst of edits one follow-up run.
 */
import { QUEUE_BACKOFF } from '../reconcile/backoff.js';

interface BackoffOptions {
  baseMs: number;
  maxMs: number;
  /** Overall rate: tokens per second and burst. */
  qps: number;
  burst: number;
  /** Up to this fraction of the delay is added at random (0: none). */
  jitter?: number;
}

export const DEFAULT_BACKOFF: BackoffOptions = QUEUE_BACKOFF;

export class RateLimiter {
  private readonly failures = new Map<string, number>();
  private tokens: number;
  private last = Date.now();

  constructor(private readonly options: BackoffOptions = DEFAULT_BACKOFF) {
    this.tokens = options.burst;
  }

  /** The delay before the key's next retry; each call counts one more failure. */
  when(key: string): number {
    const n = this.failures.get(key) ?? 0;
    this.failures.set(key, n + 1);
    const exp = Math.min(this.options.baseMs * 2 ** n, this.options.maxMs);
    const jittered = exp * (1 + (this.options.jitter ?? 0) * Math.random());
    return Math.round(Math.max(jittered, this.bucketDelay()));
  }

  private bucketDelay(): number {
    const now = Date.now();
    this.tokens = Math.min(this.options.burst, this.tokens + ((now - this.last) / 1000) * this.options.qps);
    this.last = now;
    this.tokens -= 1;
    return this.tokens >= 0 ? 0 : (-this.tokens / this.options.qps) * 1000;
  }

  failuresOf(key: string): number {
    return this.failures.get(key) ?? 0;
  }

  forget(key: string): void {
    this.failures.delete(key);
  }
}

interface QueueItem<R> {
  key: string;
  /** Why the key was queued: every reason added since it was last taken, in order, without repeats. */
  reasons: R[];
}

export class WorkQueue<R = string> {
  private readonly queue: string[] = [];
  private readonly reasons = new Map<string, R[]>();
  private readonly processing = new Set<string>();
  private readonly dirty = new Map<string, R[]>();
  private readonly timers = new Map<string, { timer: NodeJS.Timeout; due: number }>();
  private waiters: ((item: QueueItem<R> | undefined) => void)[] = [];
  private shuttingDown = false;
  readonly limiter: RateLimiter;

  constructor(
    backoff: BackoffOptions = DEFAULT_BACKOFF,
    private readonly keyOf: (reason: R) => unknown = (r) => r,
  ) {
    this.limiter = new RateLimiter(backoff);
  }

  /** Adds the reason to the list unless the same reason is there. */
  private note(list: R[], reason: R): void {
    const k = this.keyOf(reason);
    if (!list.some((r) => this.keyOf(r) === k)) list.push(reason);
  }

  get length(): number {
    return this.queue.length;
  }

  add(key: string, reason: R): void {
    if (this.shuttingDown) return;
    if (this.processing.has(key)) {
      const d = this.dirty.get(key) ?? [];
      this.note(d, reason);
      this.dirty.set(key, d);
      return;
    }
    const r = this.reasons.get(key);
    if (r) {
      this.note(r, reason);
      return;
    }
    this.reasons.set(key, [reason]);
    this.queue.push(key);
    this.wake();
  }

  /** Adds after a delay; a sooner pending add for the key wins over a later one. */
  addAfter(key: string, reason: R, delayMs: number): void {
    if (this.shuttingDown) return;
    if (delayMs <= 0) return this.add(key, reason);
    const due = Date.now() + delayMs;
    const existing = this.timers.get(key);
    if (existing && existing.due <= due) return;
    if (existing) clearTimeout(existing.timer);
    const timer = setTimeout(() => {
      this.timers.delete(key);
      this.add(key, reason);
    }, delayMs);
    timer.unref();
    this.timers.set(key, { timer, due });
  }

  /**
   * Requeues after the key's backoff, at least `floorMs` and at most `capMs` (a failure the cluster
   * causes is looked at again slowly, but never later than the periodic resync would); returns the delay.
   */
  addRateLimited(key: string, reason: R, bounds: { floorMs?: number; capMs?: number } = {}): number {
    const delay = Math.min(Math.max(this.limiter.when(key), bounds.floorMs ?? 0), bounds.capMs ?? Infinity);
    this.addAfter(key, reason, delay);
    return delay;
  }

  forget(key: string): void {
    this.limiter.forget(key);
  }

  /** Waits for the next key; undefined once the queue shuts down. */
  get(): Promise<QueueItem<R> | undefined> {
    const item = this.take();
    if (item || this.shuttingDown) return Promise.resolve(item);
    return new Promise((resolve) => this.waiters.push(resolve));
  }

  private take(): QueueItem<R> | undefined {
    const key = this.queue.shift();
    if (key === undefined) return undefined;
    const reasons = this.reasons.get(key) ?? [];
    this.reasons.delete(key);
    this.processing.add(key);
    return { key, reasons };
  }

  private wake(): void {
    while (this.waiters.length > 0 && this.queue.length > 0) {
      this.waiters.shift()!(this.take());
    }
  }

  /** Marks a key processed; if it was added meanwhile, it is queued again (once). */
  done(key: string): void {
    this.processing.delete(key);
    const d = this.dirty.get(key);
    if (d) {
      this.dirty.delete(key);
      for (const reason of d) this.add(key, reason);
    }
  }

  shutDown(): void {
    this.shuttingDown = true;
    for (const t of this.timers.values()) clearTimeout(t.timer);
    this.timers.clear();
    for (const w of this.waiters) w(undefined);
    this.waiters = [];
  }
}
