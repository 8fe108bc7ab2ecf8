/**
 * Queries on services (`services`), their tokens (`api_tokens.service_id`)
 * and role definitions (`roles`). Written by hub/services/registry.ts when
 * the config's services are applied; read by the identity model and the
 * services API.
 *
 * @module
 */
import { sql } from "kysely";
import type { Db } from "./mod.ts";
import type { ApiTokenRow, ServiceRow } from "./schema.ts";

/** What a service row holds. */
export interface ServiceFields {
  name: string;
  admin: boolean;
  url: string;
  info: Record<string, unknown>;
  scopes: readonly string[];
}

/** Creates or updates a service by name; returns its id. */
export async function upsertService(
  db: Db,
  s: ServiceFields,
  now: string,
): Promise<number> {
  const values = {
    admin: s.admin ? 1 : 0,
    url: s.url,
    info: JSON.stringify(s.info),
    scopes: JSON.stringify(s.scopes),
  };
  const row = await db.insertInto("services")
    .values({ name: s.name, created: now, ...values })
    .onConflict((oc) => oc.column("name").doUpdateSet(values))
    .returning("id").executeTakeFirstOrThrow();
  return row.id;
}

/** Deletes services not named (their tokens and role assignments cascade); returns the names removed. */
export async function deleteServicesExcept(
  db: Db,
  keep: readonly string[],
): Promise<string[]> {
  const gone = await db.deleteFrom("services")
    .where("name", "not in", keep.length ? [...keep] : [""])
    .returning("name").execute();
  return gone.map((r) => r.name);
}

/** Every service row, by name. */
export function listServices(db: Db): Promise<ServiceRow[]> {
  return db.selectFrom("services").selectAll().orderBy("name").execute();
}

/** Replaces a service's API token (only the hash is stored). */
export async function replaceServiceToken(
  db: Db,
  serviceId: number,
  token: { prefix: string; hash: string; now: string },
): Promise<void> {
  await db.transaction().execute(async (trx) => {
    await trx.deleteFrom("api_tokens").where("service_id", "=", serviceId)
      .execute();
    await trx.insertInto("api_tokens").values({
      "user_id": null,
      "service_id": serviceId,
      prefix: token.prefix,
      hash: token.hash,
      scopes: JSON.stringify(["inherit"]),
      note: "Service API token",
      created: token.now,
      "last_activity": null,
      "expires_at": null,
      "session_id": null,
      "oauth_client": null,
    }).execute();
  });
}

/** Removes a service's API token (an external service configured without one). */
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
    .where("t.prefix", "=", prefix).execute();
}

/** Stored role definitions, by name. */
export type StoredRoles = Record<
  string,
  { description: string; scopes: string[] }
>;

/** Stored role definitions (they win over the built-in roles of the same name). */
export async function roleDefinitions(db: Db): Promise<StoredRoles> {
  const rows = await db.selectFrom("roles").selectAll().execute();
  return Object.fromEntries(rows.map((r) => [r.name, {
    description: r.description,
    scopes: JSON.parse(r.scopes) as string[],
  }]));
}

/**
 * A column holding every stored role definition as JSON, so a query that
 * resolves an identity reads them in the same statement
 * ({@linkcode parseRoleColumn} reads it back).
 */
export const ROLES_COLUMN = sql<string>`(SELECT json_group_array(
  json_array(name, description, json(scopes))) FROM roles)`;

/** The role definitions a {@linkcode ROLES_COLUMN} value holds. */
export function parseRoleColumn(text: string): StoredRoles {
  const rows = JSON.parse(text) as [string, string, string[]][];
  return Object.fromEntries(
    rows.map(([name, description, scopes]) => [name, { description, scopes }]),
  );
}

/** Stores (or, with `scopes` null, removes) one role definition. */
export async function setRoleDefinition(
  db: Db,
  name: string,
  def: { description: string; scopes: readonly string[] } | null,
): Promise<void> {
  if (def === null) {
    await db.deleteFrom("roles").where("name", "=", name).execute();
    return;
  }
  const values = {
    description: def.description,
    scopes: JSON.stringify(def.scopes),
  };
  await db.insertInto("roles").values({ name, ...values })
    .onConflict((oc) => oc.column("name").doUpdateSet(values)).execute();
}
