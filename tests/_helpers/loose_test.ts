/**
 * `looseTest(name, fn)`: `Deno.test` without the op and resource
 * sanitizers, for tests that run real servers or providers (an OpenID
 * Provider, a GitHub stand-in, a fake spawner's processes) whose sockets
 * and timers end after the test's last await.
 *
 * @module
 */

/** Registers `fn` as the test `name` with sanitizeOps and sanitizeResources off. */
export function looseTest(
  name: string,
  fn: (t: Deno.TestContext) => Promise<void>,
): void {
  Deno.test({ name, sanitizeOps: false, sanitizeResources: false, fn });
}
