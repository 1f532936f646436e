import { describe, expect, it } from '@jest/globals';
import { isConflict } from '../../../src/controller/controller.js';
import { DEFAULT_BACKOFF, RateLimiter, WorkQueue } from '../../../src/controller/queue.js';
import { ApiError } from '../../../src/kube/client.js';
import { trigger, triggerKey, type Trigger } from '../../../src/reconcile/contract.js';

describe('WorkQueue', () => {
  it('coalesces adds of a queued key and keeps every distinct reason in order', async () => {
    const q = new WorkQueue<string>();
    q.add('cc', 'first sight');
    q.add('cc', 'spec changed');
    q.add('cc', 'spec changed');
    expect(q.length).toBe(1);
    expect(await q.get()).toEqual({ key: 'cc', reasons: ['first sight', 'spec changed'] });
  });

  it('coalesces typed triggers by kind and detail, not by identity', async () => {
    const q = new WorkQueue<Trigger>(undefined, triggerKey);
    q.add('cc', trigger('drift', 'services ns/a deleted'));
    q.add('cc', trigger('drift', 'services ns/a deleted'));
    q.add('cc', trigger('drift', 'services ns/b deleted'));
    q.add('cc', trigger('resync'));
    q.add('cc', trigger('resync'));
    expect((await q.get())?.reasons).toEqual([
      { kind: 'drift', detail: 'services ns/a deleted' },
      { kind: 'drift', detail: 'services ns/b deleted' },
      { kind: 'resync', detail: '' },
    ]);
  });

  it('runs a key added while it is processing exactly once more, after done', async () => {
    const q = new WorkQueue<string>();
    q.add('cc', 'a');
    const item = await q.get();
    q.add('cc', 'b');
    q.add('cc', 'c');
    expect(q.length).toBe(0);
    q.done(item!.key);
    expect(q.length).toBe(1);
    expect(await q.get()).toEqual({ key: 'cc', reasons: ['b', 'c'] });
  });

  it('hands a key to a waiting worker and ends waiting workers on shutdown', async () => {
    const q = new WorkQueue<string>();
    const waiting = q.get();
    q.add('cc', 'x');
    expect(await waiting).toEqual({ key: 'cc', reasons: ['x'] });
    const second = q.get();
    q.shutDown();
    expect(await second).toBeUndefined();
    q.add('cc', 'after');
    expect(q.length).toBe(0);
  });

  it('requeues after a delay', async () => {
    const q = new WorkQueue<string>();
    q.addAfter('cc', 'later', 30);
    expect(q.length).toBe(0);
    await new Promise((r) => setTimeout(r, 60));
    expect(q.length).toBe(1);
  });
});

describe('RateLimiter', () => {
  it('doubles the per-key delay from the base up to the maximum, and forget resets it', () => {
    const r = new RateLimiter({ baseMs: 5, maxMs: 40, qps: 1000, burst: 1000 });
    expect([1, 2, 3, 4, 5].map(() => r.when('cc'))).toEqual([5, 10, 20, 40, 40]);
    expect(r.when('other')).toBe(5);
    r.forget('cc');
    expect(r.when('cc')).toBe(5);
  });

  it('applies the overall token bucket once the burst is spent', () => {
    const r = new RateLimiter({ baseMs: 1, maxMs: 1, qps: 10, burst: 2 });
    r.when('a');
    r.when('b');
    expect(r.when('c')).toBeGreaterThanOrEqual(90);
  });

  it('by default backs off from 1 s, doubling, with up to 20% jitter, capped at 5 minutes', () => {
    const r = new RateLimiter(DEFAULT_BACKOFF);
    const delays = Array.from({ length: 12 }, () => r.when('cc'));
    for (const [n, d] of delays.entries()) {
      const base = Math.min(1000 * 2 ** n, 300_000);
      expect(d).toBeGreaterThanOrEqual(base);
      expect(d).toBeLessThanOrEqual(base * 1.2 + 1);
    }
  });
});

describe('isConflict', () => {
  it('finds a 409 in the error or its causes', () => {
    const conflict = new ApiError(409, 'Conflict', 'the object has been modified');
    expect(isConflict(conflict)).toBe(true);
    expect(isConflict(new Error('ApplyFailed: x', { cause: conflict }))).toBe(true);
    expect(isConflict(new Error('x', { cause: new ApiError(500, 'InternalError', 'x') }))).toBe(false);
    expect(isConflict('409')).toBe(false);
  });
});
