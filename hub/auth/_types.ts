/**
 * What every authenticator is and answers (mod.ts re-exports these), kept
 * apart so the authenticators mod.ts builds can name them without an
 * import cycle.
 *
 * @module
 */

/** What a login form submits. */
export interface LoginAttempt {
  username: string;
  password: string;
  /** The client's address, for PAM_RHOST and logs. */
  remoteHost?: string;
  /** The client's recent failed logins: busy PAM helpers serve it last. */
  penalty?: number;
}

/** The outcome of one attempt. `message` is safe to show to the user. */
export type LoginResult =
  | { ok: true; name: string }
  | { ok: false; status: number; message: string };

/** Checks credentials. Allow lists are applied by the caller. */
export interface Authenticator {
  kind: "pam" | "dummy" | "oauth";
  authenticate(attempt: LoginAttempt): Promise<LoginResult>;
  /** Ends what it keeps running (PAM helpers). */
  close(): Promise<void>;
}
