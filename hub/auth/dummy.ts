/**
 * The dummy authenticator, for trials and tests: any password, or one shared
 * password. The serve command refuses to expose it on a non-loopback address
 * unless forced.
 *
 * @module
 */
import { timingSafeEqual } from "node:crypto";
import type { Authenticator, LoginAttempt, LoginResult } from "./mod.ts";

/** Creates the dummy authenticator. An empty password accepts any. */
export function createDummyAuthenticator(
  options: { password: string },
): Authenticator {
  const expected = new TextEncoder().encode(options.password);
  return {
    kind: "dummy",
    authenticate(attempt: LoginAttempt): Promise<LoginResult> {
      if (expected.length === 0) {
        return Promise.resolve({ ok: true, name: attempt.username });
      }
      const given = new TextEncoder().encode(attempt.password);
      const ok = given.length === expected.length &&
        timingSafeEqual(given, expected);
      return Promise.resolve(
        ok ? { ok: true, name: attempt.username } : {
          ok: false,
          status: 403,
          message: "Invalid username or password",
        },
      );
    },
  };
}
