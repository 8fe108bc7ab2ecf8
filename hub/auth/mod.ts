/**
 * Authentication: the {@linkcode Authenticator} interface and the factory
 * choosing an implementation from config, plus login sessions and request
 * identity (sessions.ts, identity.ts).
 *
 * @module
 */
import type { HubConfig } from "../config.ts";
import type { Logger } from "../log.ts";
import { createDummyAuthenticator } from "./dummy.ts";
import { pamAuthenticate } from "./pam.ts";

/** What a login form submits. */
export interface LoginAttempt {
  username: string;
  password: string;
  /** The client's address, for PAM_RHOST and logs. */
  remoteHost?: string;
}

/** The outcome of one attempt. `message` is safe to show to the user. */
export type LoginResult =
  | { ok: true; name: string }
  | { ok: false; status: number; message: string };

/** Checks credentials. Allow lists are applied by the caller. */
export interface Authenticator {
  kind: "pam" | "dummy";
  authenticate(attempt: LoginAttempt): Promise<LoginResult>;
}

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
  return {
    kind: "pam",
    async authenticate(attempt: LoginAttempt): Promise<LoginResult> {
      const result = await pamAuthenticate(attempt.username, attempt.password, {
        service: config.auth.pam.service,
        timeoutMs: config.auth.pam.timeoutSeconds * 1000,
        ...(attempt.remoteHost ? { remoteHost: attempt.remoteHost } : {}),
        ...(options.pamHelperArgv ? { helperArgv: options.pamHelperArgv } : {}),
      });
      if (result.ok) return { ok: true, name: attempt.username };
      if (result.reason === "unavailable" || result.reason === "timeout") {
        // The detail names files and PAM codes: for the admin's log, not the login form.
        options.logger?.error("PAM check failed", {
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
    },
  };
}
