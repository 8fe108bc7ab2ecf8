/**
 * Queries on services (`services`), their tokens (`api_tokens.service_id`)
 * and role definitions (`roles`). Written by hub/services/registry.ts when
 * the config's services are applied; read by the identity model and the
 * services API.
 *
 * @module
 */
import type { Db } from "./mod.ts";
import { ROLES_COLUMN, SERVICE_ROLES_COLUMN } from "./roles.ts";
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
