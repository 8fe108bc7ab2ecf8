/**
 * `forEachLimited(items, work, { limit })`: runs `work` over `items`, at
 * most `limit` at a time (the culler's stops, the course files' merges);
 * `sleep(ms)`; `withTimeout(promise, { ms, onTimeout })`.
 *
 * @module
 */

/** Runs `work` over `items`, at most `limit` at a time; resolves when all are done. */
export async function forEachLimited<T>(
  items: readonly T[],
  work: (item: T) => Promise<void>,
  options: { limit: number },
): Promise<void> {
  const { limit } = options;
  let next = 0;
  const lanes = Array.from(
    { length: Math.min(limit, items.length) },
    async () => {
      while (next < items.length) await work(items[next++]!);
    },
  );
  await Promise.all(lanes);
}

/** Resolves after `ms` milliseconds. */
export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** `promise`, or the error `onTimeout` makes after `ms` milliseconds (the timer is always cleared). */
export async function withTimeout<T>(
  promise: Promise<T>,
  options: { ms: number; onTimeout: () => Error },
): Promise<T> {
  const { ms, onTimeout } = options;
  let timer: ReturnType<typeof setTimeout> | undefined;
  const expired = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(onTimeout()), ms);
  });
  try {
    return await Promise.race([promise, expired]);
  } finally {
    clearTimeout(timer);
  }
}
