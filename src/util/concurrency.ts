/**
 * The one bound on requests in flight: a counting semaphore, and `mapConcurrent` built on it. The
 * default bound of the operator's reads, dry runs and applies is set here (and is the `--concurrency`
 * flag's default).
 */

/** Requests in flight at most, unless `--concurrency` says otherwise. */
export const DEFAULT_CONCURRENCY = 16;

interface Semaphore {
  acquire(): Promise<void>;
  release(): void;
}

/** A counting semaphore: at most `limit` holders; waiters are served first come, first served. */
export function semaphore(limit: number): Semaphore {
  let free = Math.max(1, limit);
  const queue: (() => void)[] = [];
  return {
    acquire: () =>
      free > 0 ? (free--, Promise.resolve()) : new Promise<void>((resolve) => queue.push(resolve)),
    release: () => {
      const next = queue.shift();
      if (next) next();
      else free++;
    },
  };
}

/** Runs fn over items with at most `limit` in flight; results keep the input order. Rejects with the first error after all settle. */
export async function mapConcurrent<T, R>(
  items: readonly T[],
  limit: number,
  fn: (item: T, index: number) => Promise<R>,
): Promise<R[]> {
  const slots = semaphore(limit);
  const errors: unknown[] = [];
  const results = await Promise.all(
    items.map(async (item, i) => {
      await slots.acquire();
      try {
        return await fn(item, i);
      } catch (err) {
        errors.push(err);
        return undefined as R;
      } finally {
        slots.release();
      }
    }),
  );
  if (errors.length > 0) throw errors[0];
  return results;
}
