/**
 * Waiting for a condition with a deadline on an injectable clock (stop
 * sequences poll every 50 ms instead of sleeping a fixed time).
 *
 * @module
 */

/** Resolves after `ms` milliseconds. */
export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/**
 * Checks `done` every `intervalMs` until it holds or `deadline` (on the
 * `now` clock) passes.
 *
 * @returns whether `done` held in time
 */
export async function waitUntil(
  done: () => Promise<boolean>,
  options: { deadline: number; now: () => number; intervalMs?: number },
): Promise<boolean> {
  while (true) {
    if (await done()) return true;
    if (options.now() >= options.deadline) return false;
    await sleep(options.intervalMs ?? 50);
  }
}
