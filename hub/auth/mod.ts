/**
 * Authentication: the {@linkcode Authenticator} interface and the factory
 * choosing an implementation from config, plus login sessions and request
 * identity (sessions.ts, identity.ts).
 *
 * @module
 */
import type { HubConfig } from "../config/mod.ts";
import type { Logger } from "../observe/log.ts";
import { createDummyAuthenticator } from "./dummy.ts";
import type { Authenticator, LoginAttempt, LoginResult } from "./_types.ts";

export type { Authenticator, LoginAttempt, LoginResult };
import { PamPool, type PamPoolResult } from "./pam/pool.ts";

/** How long a client told "busy" (429) should wait, in seconds. */
export const BUSY_RETRY_AFTER_SECONDS = 5;

/** Options for {@linkcode createAuthenticator}. */
export interface CreateAuthenticatorOptions {
  /** Argv of the PAM helper (tests substitute a fake). */
  pamHelperArgv?: string[];
  /** Where PAM failures meant for the admin are logged. */
  logger?: Logger;
}

/** The authenticator configured by `auth.type`. */
export function createAuthenticator(
  config: HubConfig,
  options: CreateAuthenticatorOptions = {},
): Authenticator {
  if (config.auth.type === "dummy") {
    return createDummyAuthenticator(config.auth.dummy);
  }
  if (config.auth.type === "oauth") return oauthAuthenticator();
  return pamAuthenticator(config, options);
}

/** Passwords are not checked here at all: sign-in goes through the provider. */
function oauthAuthenticator(): Authenticator {
  return {
    kind: "oauth",
    authenticate: () =>
      Promise.resolve({
        ok: false,
        status: 403,
        message:
          "This hub signs in through its provider: use the sign-in button",
      }),
    close: () => Promise.resolve(),
  };
}

/** Passwords checked by PAM through a pool of warm helpers. */
function pamAuthenticator(
  config: HubConfig,
  options: CreateAuthenticatorOptions,
): Authenticator {
  const pool = new PamPool({
    service: config.auth.pam.service,
    timeoutMs: config.auth.pam.timeoutSeconds * 1000,
    concurrency: config.auth.pam.concurrency,
    queueSize: config.auth.pam.queueSize,
    ...(options.pamHelperArgv ? { helperArgv: options.pamHelperArgv } : {}),
  });
  return {
    kind: "pam",
    async authenticate(attempt: LoginAttempt): Promise<LoginResult> {
      const result = await pool.authenticate(attempt);
      if (result.ok) return { ok: true, name: attempt.username };
      return pamFailure(result, options.logger);
    },
    close: () => pool.close(),
  };
}

/** What the login form is told of a failed PAM check (and the admin's log of an outage). */
function pamFailure(
  result: Exclude<PamPoolResult, { ok: true }>,
  logger: Logger | undefined,
): LoginResult {
  if (result.reason === "busy") {
    return {
      ok: false,
      status: 429,
      message:
        `Too many logins are being checked right now. Please try again in ${BUSY_RETRY_AFTER_SECONDS} seconds.`,
    };
  }
  if (result.reason === "unavailable" || result.reason === "timeout") {
    // The detail names files and PAM codes: for the admin's log, not the login form.
    logger?.error("PAM check failed", {
      reason: result.reason,
      detail: result.message,
    });
    return {
      ok: false,
      status: 503,
      message:
        "Login is unavailable right now because the hub cannot check passwords. Please tell your admin.",
    };
  }
  return { ok: false, status: 403, message: result.message };
}
