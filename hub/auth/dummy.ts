/**
 * The dummy authenticator, for trials and tests: any password, or one shared
 * password. The serve command refuses to expose it on a non-loopback address
 * unless forced.
 *
 * @module
 */
import { constantTimeEqual } from "../secrets.ts";
import type { Authenticator, LoginAttempt, LoginResult } from "./_types.ts";

/** Creates the dummy authenticator. An empty password accepts any. */
export function createDummyAuthenticator(
  options: { password: string },
): Authenticator {
  const expected = options.password;
  return {
    kind: "dummy",
    authenticate(attempt: LoginAttempt): Promise<LoginResult> {
      if (expected.length === 0) {
        return Promise.resolve({ ok: true, name: attempt.username });
      }
      const ok = constantTimeEqual(attempt.password, expected);
      return Promise.resolve(
        ok ? { ok: true, name: attempt.username } : {
          ok: false,
          status: 403,
          message: "Invalid username or password",
        },
      );
    },
    close: () => Promise.resolve(),
  };
}
