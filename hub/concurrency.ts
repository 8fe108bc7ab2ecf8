/**
 * `forEachLimited(items, limit, work)`: runs `work` over `items`, at most
 * `limit` at a time (the culler's stops, the course files' merges).
 *
 * @module
 */

/** Runs `work` over `items`, at most `limit` at a time; resolves when all are done. */
export async function forEachLimited<T>(
  items: readonly T[],
  limit: number,
  work: (item: T) => Promise<void>,
): Promise<void> {
  let next = 0;
  const lanes = Array.from(
    { length: Math.min(limit, items.length) },
    async () => {
      while (next < items.length) await work(items[next++]!);
    },
  );
  await Promise.all(lanes);
}
