/**
 * Queries on API tokens (`api_tokens`): the only module that names the
 * table (tests/hub/db/ownership_test.ts). Users', services' and OAuth
 * clients' tokens all live here; only hashes are stored.
 *
 * @module
 */
import { type Db, idsIn } from "./mod.ts";
import {
  ROLES_COLUMN,
  SERVICE_ROLES_COLUMN,
  USER_ROLES_COLUMN,
} from "./roles.ts";
import { USER_SHARES_COLUMN } from "./shares.ts";
import { GROUP_NAMES_COLUMN } from "./groups.ts";
import type { ApiTokenRow } from "./schema.ts";

/** Fields of a new token row. */
export interface NewToken {
  userId: number | null;
  serviceId: number | null;
  prefix: string;
  hash: string;
  scopes: readonly string[];
  note: string;
  created: string;
  expiresAt: string | null;
  sessionId?: string | null;
  oauthClient?: string | null;
  /** The server whose own API token this is (`servers.id`). */
  serverId?: number | null;
}

/** Inserts a token row and returns it. */
export function insertToken(db: Db, t: NewToken): Promise<ApiTokenRow> {
  return db.insertInto("api_tokens").values({
    user_id: t.userId,
    service_id: t.serviceId,
    prefix: t.prefix,
    hash: t.hash,
    scopes: JSON.stringify(t.scopes),
    note: t.note,
    created: t.created,
    last_activity: null,
    expires_at: t.expiresAt,
    session_id: t.sessionId ?? null,
    oauth_client: t.oauthClient ?? null,
    server_id: t.serverId ?? null,
  }).returningAll().executeTakeFirstOrThrow();
}

/** A token row with what its owner's identity needs: name, admin flag, groups. */
export type TokenWithOwner = ApiTokenRow & {
  owner_name: string;
  owner_admin: number;
  /** JSON array of the owner's group names. */
  owner_groups: string;
  /** Every stored role definition (roles.ts ROLES_COLUMN). */
  role_defs: string;
  /** JSON array of the roles assigned to the owner, directly or through a group. */
  owner_roles: string;
  /** JSON array of the scopes shared with the owner (shares.ts USER_SHARES_COLUMN). */
  owner_shares: string;
};

/**
 * Candidate user tokens for a prefix, each joined with its owner and the
 * owner's groups: one query for everything a request's identity needs.
 */
export function userTokensByPrefix(
  db: Db,
  prefix: string,
): Promise<TokenWithOwner[]> {
  return db.selectFrom("api_tokens as t").innerJoin(
    "users as u",
    "u.id",
    "t.user_id",
  )
    .selectAll("t")
    .select(["u.name as owner_name", "u.admin as owner_admin"])
    .select(GROUP_NAMES_COLUMN.as("owner_groups"))
    .select(ROLES_COLUMN.as("role_defs"))
    .select(USER_ROLES_COLUMN.as("owner_roles"))
    .select(USER_SHARES_COLUMN.as("owner_shares"))
    .where("t.prefix", "=", prefix).execute();
}

/** Tokens owned by a user, expired ones deleted first. */
export async function tokensOfUser(
  db: Db,
  userId: number,
  now: string,
): Promise<ApiTokenRow[]> {
  await db.deleteFrom("api_tokens").where("user_id", "=", userId)
    .where("expires_at", "is not", null).where("expires_at", "<=", now)
    .execute();
  return db.selectFrom("api_tokens").selectAll().where("user_id", "=", userId)
    .orderBy("created").orderBy("id").execute();
}

/** One token of a user by id. */
export function tokenOfUser(
  db: Db,
  userId: number,
  id: number,
): Promise<ApiTokenRow | undefined> {
  return db.selectFrom("api_tokens").selectAll().where("user_id", "=", userId)
    .where("id", "=", id)
    .executeTakeFirst();
}

/** Deletes one token; when it was issued to an OAuth client, all of that user's tokens for the client. */
export async function revokeToken(db: Db, row: ApiTokenRow): Promise<void> {
  if (row.oauth_client && row.user_id !== null) {
    await db.deleteFrom("api_tokens").where("user_id", "=", row.user_id)
      .where("oauth_client", "=", row.oauth_client).execute();
  } else {
    await db.deleteFrom("api_tokens").where("id", "=", row.id).execute();
  }
}

/** Deletes a server's own API token(s), found by relation (`server_id`). */
export async function deleteServerTokens(
  db: Db,
  serverId: number,
): Promise<void> {
  await db.deleteFrom("api_tokens").where("server_id", "=", serverId)
    .execute();
}

/** Deletes the tokens issued under a browser session (it ended). */
export async function deleteTokensOfSession(
  db: Db,
  sessionId: string,
): Promise<void> {
  await db.deleteFrom("api_tokens").where("session_id", "=", sessionId)
    .execute();
}

/** Records use of a token (throttled by the caller). */
export async function touchToken(
  db: Db,
  id: number,
  at: string,
): Promise<void> {
  await db.updateTable("api_tokens").set({ last_activity: at }).where(
    "id",
    "=",
    id,
  ).execute();
}

/**
 * Deletes a user's tokens: every API and OAuth token, but not the own API
 * tokens of the user's servers (linked by `server_id`; they would stop
 * working, and go with their server). Returns how many went.
 */
export async function deleteUserTokens(
  db: Db,
  userId: number,
): Promise<number> {
  const r = await db.deleteFrom("api_tokens").where("user_id", "=", userId)
    .where("server_id", "is", null).executeTakeFirst();
  return Number(r.numDeletedRows);
}

/** Deletes the tokens issued under any browser session of a user. */
export async function deleteSessionTokensOfUser(
  db: Db,
  userId: number,
): Promise<number> {
  const r = await db.deleteFrom("api_tokens").where("user_id", "=", userId)
    .where("session_id", "is not", null).executeTakeFirst();
  return Number(r.numDeletedRows);
}

/**
 * The hashes of the tokens these users hold as themselves (their servers'
 * own tokens left out): what to fence off a server (api/_fence.ts).
 */
export async function tokenHashesOf(
  db: Db,
  userIds: readonly number[],
): Promise<string[]> {
  if (!userIds.length) return [];
  const rows = await db.selectFrom("api_tokens").select("hash")
    .where("user_id", "in", idsIn(userIds)).where("server_id", "is", null)
    .execute();
  return rows.map((r) => r.hash);
}

/**
 * Deletes the tokens issued to an OAuth client: every one, or with
 * `userIds` only those users' (none when the list is empty). Revoking a
 * share ends the access at the recipient's next request.
 */
export async function deleteClientTokens(
  db: Db,
  clientId: string,
  userIds?: readonly number[],
): Promise<void> {
  if (userIds && !userIds.length) return;
  let q = db.deleteFrom("api_tokens").where("oauth_client", "=", clientId);
  if (userIds) q = q.where("user_id", "in", idsIn(userIds));
  await q.execute();
}

/** What {@linkcode scopesAuthorizedFor} looks for. */
export interface AuthorizedForOptions {
  /** The OAuth client's identifier. */
  client: string;
  /** Tokens expired at this time do not count. */
  now: Date;
}

/** The raw scopes of a user's unexpired tokens for a client (for the consent check). */
export async function scopesAuthorizedFor(
  db: Db,
  userId: number,
  options: AuthorizedForOptions,
): Promise<Set<string>> {
  const rows = await db.selectFrom("api_tokens").select("scopes")
    .where("user_id", "=", userId).where("oauth_client", "=", options.client)
    .where((eb) =>
      eb.or([
        eb("expires_at", "is", null),
        eb("expires_at", ">", options.now.toISOString()),
      ])
    ).execute();
  const out = new Set<string>();
  for (const row of rows) {
    for (const s of JSON.parse(row.scopes) as string[]) out.add(s);
  }
  return out;
}

/** Removes a service's API tokens (replaced, or an external service configured without one). */
export async function deleteServiceTokens(
  db: Db,
  serviceId: number,
): Promise<void> {
  await db.deleteFrom("api_tokens").where("service_id", "=", serviceId)
    .execute();
}

/** A service token with its service. */
export type TokenWithService = ApiTokenRow & {
  service_name: string;
  service_admin: number;
  /** JSON array. */
  service_scopes: string;
  /** JSON array of the roles assigned to the service. */
  service_roles: string;
  /** Every stored role definition (roles.ts ROLES_COLUMN). */
  role_defs: string;
};

/** Candidate service tokens for a prefix, each with its service: one query. */
export function serviceTokensByPrefix(
  db: Db,
  prefix: string,
): Promise<TokenWithService[]> {
  return db.selectFrom("api_tokens as t")
    .innerJoin("services as s", "s.id", "t.service_id")
    .selectAll("t")
    .select([
      "s.name as service_name",
      "s.admin as service_admin",
      "s.scopes as service_scopes",
    ])
    .select(SERVICE_ROLES_COLUMN.as("service_roles"))
    .select(ROLES_COLUMN.as("role_defs"))
    .where("t.prefix", "=", prefix).execute();
}

/**
 * The users holding API tokens they made themselves (not a server's own
 * token, not one an OAuth login made) that have not expired at `now`, with
 * how many, by name.
 */
export async function personalTokenHolders(
  db: Db,
  now: Date,
): Promise<{ name: string; tokens: number }[]> {
  const rows = await db.selectFrom("api_tokens as t")
    .innerJoin("users as u", "u.id", "t.user_id")
    .select(["u.name", (eb) => eb.fn.countAll<number>().as("n")])
    .where("t.oauth_client", "is", null).where("t.server_id", "is", null)
    .where((eb) =>
      eb.or([
        eb("t.expires_at", "is", null),
        eb("t.expires_at", ">", now.toISOString()),
      ])
    )
    .groupBy("u.name").orderBy("u.name").execute();
  return rows.map((r) => ({ name: r.name, tokens: Number(r.n) }));
}
