/**
 * Queries on browser login sessions (hash of the cookie value only).
 *
 * @module
 */
import { type Db, idsIn } from "./mod.ts";
import type { LoginSessionRow } from "./schema.ts";

/** Stores a new login session. */
export function insertSession(
  db: Db,
  s: {
    userId: number;
    hash: string;
    sessionId: string;
    created: string;
    expiresAt: string;
  },
): Promise<LoginSessionRow> {
  return db.insertInto("login_sessions").values({
    user_id: s.userId,
    hash: s.hash,
    session_id: s.sessionId,
    created: s.created,
    expires_at: s.expiresAt,
    last_seen: s.created,
  }).returningAll().executeTakeFirstOrThrow();
}

/** The live session with this hash, or undefined (expired ones are deleted). */
export async function sessionByHash(
  db: Db,
  hash: string,
  now: string,
): Promise<LoginSessionRow | undefined> {
  const row = await db.selectFrom("login_sessions").selectAll().where(
    "hash",
    "=",
    hash,
  ).executeTakeFirst();
  if (!row) return undefined;
  if (row.expires_at <= now) {
    await db.deleteFrom("login_sessions").where("id", "=", row.id).execute();
    return undefined;
  }
  return row;
}

/** Ends one session. */
export async function deleteSession(db: Db, id: number): Promise<void> {
  await db.deleteFrom("login_sessions").where("id", "=", id).execute();
}

/** Ends every session of a user (e.g. after rename or on admin request). */
export async function deleteSessionsOfUser(
  db: Db,
  userId: number,
): Promise<number> {
  const r = await db.deleteFrom("login_sessions").where("user_id", "=", userId)
    .executeTakeFirst();
  return Number(r.numDeletedRows);
}

/** The `jupyterhub-session-id`s of these users' live logins. */
export async function sessionIdsOf(
  db: Db,
  userIds: readonly number[],
): Promise<string[]> {
  if (!userIds.length) return [];
  const rows = await db.selectFrom("login_sessions").select("session_id")
    .where("user_id", "in", idsIn(userIds)).execute();
  return rows.map((r) => r.session_id);
}
