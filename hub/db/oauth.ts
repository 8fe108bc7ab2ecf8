/**
 * Queries on OAuth clients (one per user server) and one-time authorization
 * codes. Only SHA-256 hashes of client secrets and codes are stored; the
 * access tokens the provider issues are `api_tokens` rows whose
 * `oauth_client` column names the client.
 *
 * @module
 */
import type { Db } from "./mod.ts";
import type { OAuthClientRow, OAuthCodeRow } from "./schema.ts";
import { clientIdFor } from "../servers/single_user_env.ts";
import { hashSecret } from "../secrets.ts";
import { deleteClientTokens } from "./tokens.ts";

export { clientIdFor } from "../servers/single_user_env.ts";
export type { OAuthClientRow, OAuthCodeRow } from "./schema.ts";
/** The consent check's query: it reads `api_tokens`, so it lives in tokens.ts. */
export { scopesAuthorizedFor } from "./tokens.ts";

/** What {@linkcode upsertServerClient} records for a user's server. */
export interface ServerClientInput {
  user: string;
  /** `""` for the default server. */
  server: string;
  /** The server's row (`servers.id`): the client goes with it. */
  serverId: number;
  /** The server's API token; only its SHA-256 is stored. */
  secret: string;
  /** `"{base_url}user/<quoted name>/[<server>/]oauth_callback"`. */
  redirectUri: string;
  allowedScopes: readonly string[];
  /** Shown on consent pages, e.g. `"Server at /user/alice/"`. */
  description: string;
  now: Date;
}

/**
 * Creates or replaces the OAuth client of a user's server (keyed by
 * {@linkcode clientIdFor}). A re-spawn gives the client its new secret;
 * tokens issued earlier stay valid.
 */
export async function upsertServerClient(
  db: Db,
  input: ServerClientInput,
): Promise<OAuthClientRow> {
  const identifier = clientIdFor(input.user, input.server);
  const values = {
    description: input.description,
    "secret_hash": await hashSecret(input.secret),
    "redirect_uri": input.redirectUri,
    "allowed_scopes": JSON.stringify(input.allowedScopes),
    "server_id": input.serverId,
  };
  return db.insertInto("oauth_clients").values({
    identifier,
    ...values,
    created: input.now.toISOString(),
  }).onConflict((oc) => oc.column("identifier").doUpdateSet(values))
    .returningAll().executeTakeFirstOrThrow();
}

/** The client with this identifier, or undefined. */
export function getClient(
  db: Db,
  identifier: string,
): Promise<OAuthClientRow | undefined> {
  return db.selectFrom("oauth_clients").selectAll()
    .where("identifier", "=", identifier).executeTakeFirst();
}

/**
 * Deletes a client, its pending codes and every access token issued to it,
 * in one transaction.
 *
 * @returns whether the client existed.
 */
export function deleteClient(db: Db, identifier: string): Promise<boolean> {
  return db.transaction().execute(async (trx) => {
    await trx.deleteFrom("oauth_codes").where("client_id", "=", identifier)
      .execute();
    await deleteClientTokens(trx, identifier);
    const result = await trx.deleteFrom("oauth_clients")
      .where("identifier", "=", identifier).executeTakeFirst();
    return Number(result.numDeletedRows) > 0;
  });
}

/** Lifetime of an authorization code (JupyterHub: 5 minutes). */
export const CODE_LIFETIME_SECONDS = 300;

/** What {@linkcode insertCode} stores. */
export interface NewCode {
  clientId: string;
  /** SHA-256 of the code (the code itself is never stored). */
  codeHash: string;
  userId: number;
  redirectUri: string;
  /** The granted raw scopes. */
  scopes: readonly string[];
  /** The browser's jupyterhub-session-id. */
  sessionId: string | null;
  now: Date;
  /** @default {CODE_LIFETIME_SECONDS} */
  expiresInSeconds?: number;
}

/** Stores a new code (and drops expired ones). */
export async function insertCode(db: Db, code: NewCode): Promise<OAuthCodeRow> {
  const now = code.now.toISOString();
  await db.deleteFrom("oauth_codes").where("expires_at", "<=", now).execute();
  const lifetime = code.expiresInSeconds ?? CODE_LIFETIME_SECONDS;
  return db.insertInto("oauth_codes").values({
    "client_id": code.clientId,
    "code_hash": code.codeHash,
    "user_id": code.userId,
    "redirect_uri": code.redirectUri,
    scopes: JSON.stringify(code.scopes),
    "session_id": code.sessionId,
    created: now,
    "expires_at": new Date(code.now.getTime() + lifetime * 1000).toISOString(),
  }).returningAll().executeTakeFirstOrThrow();
}

/**
 * Redeems a code: deletes it and returns the row in one statement, so a code
 * works at most once. Expired (or unknown) codes give undefined.
 */
export async function takeCode(
  db: Db,
  codeHash: string,
  now: Date,
): Promise<OAuthCodeRow | undefined> {
  const row = await db.deleteFrom("oauth_codes")
    .where("code_hash", "=", codeHash).returningAll().executeTakeFirst();
  if (!row || row.expires_at <= now.toISOString()) return undefined;
  return row;
}

/** What {@linkcode upsertServiceClient} records for a service. */
export interface ServiceClientInput {
  identifier: string;
  /** e.g. "Service announcements". */
  description: string;
  /** The service's API token; only its SHA-256 is stored. */
  secret: string;
  redirectUri: string;
  allowedScopes: readonly string[];
  noConfirm: boolean;
  now: Date;
}

/** The prefix of every service client's description (how stale ones are found). */
export const SERVICE_CLIENT_DESCRIPTION = "Service ";

/** Creates or updates a service's OAuth client. */
export async function upsertServiceClient(
  db: Db,
  input: ServiceClientInput,
): Promise<void> {
  const values = {
    description: input.description,
    "secret_hash": await hashSecret(input.secret),
    "redirect_uri": input.redirectUri,
    "allowed_scopes": JSON.stringify(input.allowedScopes),
    "no_confirm": input.noConfirm ? 1 : 0,
  };
  await db.insertInto("oauth_clients").values({
    identifier: input.identifier,
    ...values,
    created: input.now.toISOString(),
  }).onConflict((oc) => oc.column("identifier").doUpdateSet(values)).execute();
}

/** Identifiers of service clients not in `keep` (services removed from the config). */
export async function staleServiceClients(
  db: Db,
  keep: readonly string[],
): Promise<string[]> {
  const rows = await db.selectFrom("oauth_clients").select("identifier")
    .where("description", "like", `${SERVICE_CLIENT_DESCRIPTION}%`)
    .execute();
  return rows.map((r) => r.identifier).filter((id) => !keep.includes(id));
}

/** The descriptions of these clients (JupyterHub's token model shows them), by identifier. */
export async function clientDescriptions(
  db: Db,
  identifiers: readonly string[],
): Promise<Map<string, string>> {
  const ids = [...new Set(identifiers)];
  if (!ids.length) return new Map();
  const rows = await db.selectFrom("oauth_clients")
    .select(["identifier", "description"])
    .where("identifier", "in", ids).execute();
  return new Map(rows.map((r) => [r.identifier, r.description]));
}
