/**
 * Checks on a response whose body the test does not read:
 * - `assertStatus(res, status)`: discards the body, asserts the status.
 * - `assertRedirect(res, location, status?)`: discards the body, asserts a
 *   redirect (302 unless told) to exactly `location`.
 * - `assertSendsToLogin(hub, path)`: an anonymous GET of `path` is sent to
 *   the login page, with `path` as `next`.
 *
 * @module
 */
import assert from "node:assert/strict";
import type { TestHub } from "./test_hub.ts";

/** Discards the body of `res` and asserts its status. */
export async function assertStatus(
  res: Response,
  status: number,
): Promise<void> {
  await res.body?.cancel();
  assert.equal(res.status, status);
}

/** Discards the body of `res` and asserts it redirects to `location` with `status` (302). */
export async function assertRedirect(
  res: Response,
  location: string,
  status = 302,
): Promise<void> {
  await assertStatus(res, status);
  assert.equal(res.headers.get("location"), location);
}

/** An anonymous GET of `path` redirects to `/hub/login?next=<path, encoded>`. */
export async function assertSendsToLogin(
  hub: TestHub,
  path: string,
): Promise<void> {
  await assertRedirect(
    await hub.request(path),
    `/hub/login?next=${encodeURIComponent(path)}`,
  );
}
