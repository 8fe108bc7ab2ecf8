/**
 * Browser login sessions. The cookie `jupyterhub-hub-login` carries a random
 * secret; the database keeps its SHA-256 only, so a leaked database cannot be
 * replayed. Sessions expire after `session.max_age` and are revocable (logout,
 * user deletion, rename).
 *
 * @module
 */
import type { Db } from "../db/mod.ts";
import {
  deleteSession,
  deleteSessionsOfUser,
  insertSession,
  sessionByHash,
} from "../db/sessions.ts";
import { deleteSessionTokensOfUser } from "../db/tokens.ts";
import type { LoginSessionRow } from "../db/schema.ts";
import { hashSecret, newSecret } from "../secrets.ts";

/** JupyterHub's login cookie name. */
export const LOGIN_COOKIE = "jupyterhub-hub-login";
/** JupyterHub's browser-session id cookie. */
export const SESSION_ID_COOKIE = "jupyterhub-session-id";

/** Starts a session; returns the cookie value (shown once) and the row. */
export async function startSession(
  db: Db,
  options: {
    userId: number;
    now: Date;
    maxAgeSeconds: number;
    sessionId?: string;
  },
): Promise<{ cookie: string; row: LoginSessionRow }> {
  const cookie = newSecret();
  const row = await insertSession(db, {
    userId: options.userId,
    hash: await hashSecret(cookie),
    sessionId: options.sessionId ?? crypto.randomUUID().replaceAll("-", ""),
    created: options.now.toISOString(),
    expiresAt: new Date(options.now.getTime() + options.maxAgeSeconds * 1000)
      .toISOString(),
  });
  return { cookie, row };
}

/** The live session for a cookie value, or undefined. */
export async function readSession(
  db: Db,
  cookie: string,
  now: Date,
): Promise<LoginSessionRow | undefined> {
  if (cookie.length < 20 || cookie.length > 100) return undefined;
  return sessionByHash(db, await hashSecret(cookie), now.toISOString());
}

/** Ends the session of a cookie value, if any. */
export async function endSession(
  db: Db,
  cookie: string,
  now: Date,
): Promise<LoginSessionRow | undefined> {
  const row = await readSession(db, cookie, now);
  if (row) await deleteSession(db, row.id);
  return row;
}

/**
 * Logs a user out everywhere: every login session ends, and with them the
 * tokens issued under those browser sessions (servers' OAuth cookies stop
 * working at their next check).
 */
export async function endAllSessions(
  db: Db,
  userId: number,
): Promise<{ sessions: number; tokens: number }> {
  const sessions = await deleteSessionsOfUser(db, userId);
  const tokens = await deleteSessionTokensOfUser(db, userId);
  return { sessions, tokens };
}
