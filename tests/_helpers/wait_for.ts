/**
 * Polls a condition until it holds or a deadline passes, instead of
 * sleeping a fixed time and hoping: `await waitFor(() => seen.length > 0)`.
 * The condition may be async; a thrown error counts as "not yet" until the
 * deadline, when the last error is reported with the description.
 *
 * @module
 */

/** Options of {@linkcode waitFor}. */
export interface WaitForOptions {
  /** Give up after this many milliseconds. @default {5000} */
  timeoutMs?: number;
  /** Time between two checks. @default {10} */
  intervalMs?: number;
  /** Named in the timeout error. @default {"condition"} */
  description?: string;
}

/**
 * Resolves with the first truthy value `cond` returns; rejects after
 * `timeoutMs`.
 *
 * @example
 * ```ts
 * await waitFor(() => upstream.cancelled.includes("/big"), { timeoutMs: 2000 });
 * ```
 */
export async function waitFor<T>(
  cond: () => T | Promise<T>,
  options: WaitForOptions = {},
): Promise<NonNullable<T>> {
  const timeoutMs = options.timeoutMs ?? 5000;
  const intervalMs = options.intervalMs ?? 10;
  const deadline = Date.now() + timeoutMs;
  let lastError: unknown = null;
  while (true) {
    try {
      const value = await cond();
      if (value) return value as NonNullable<T>;
      lastError = null;
    } catch (error) {
      lastError = error;
    }
    if (Date.now() >= deadline) {
      const detail = lastError ? `: ${(lastError as Error).message}` : "";
      throw new Error(
        `Timed out after ${timeoutMs} ms waiting for ${
          options.description ?? "condition"
        }${detail}`,
        { cause: lastError },
      );
    }
    await new Promise((resolve) => setTimeout(resolve, intervalMs));
  }
}
