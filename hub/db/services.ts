/**
 * Queries on services (`services`). Written by hub/services/registry.ts
 * when the config's services are applied; read by the services API. Their
 * tokens are `api_tokens` rows (tokens.ts).
 *
 * @module
 */
import type { Db } from "./mod.ts";
import { deleteServiceTokens, insertToken } from "./tokens.ts";
import type { ServiceRow } from "./schema.ts";

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

/**
 * Replaces a service's API token (only the hash is stored), in one
 * transaction.
 */
export async function replaceServiceToken(
  db: Db,
  serviceId: number,
  token: { prefix: string; hash: string; now: string },
): Promise<void> {
  await db.transaction().execute(async (trx) => {
    await deleteServiceTokens(trx, serviceId);
    await insertToken(trx, {
      userId: null,
      serviceId,
      prefix: token.prefix,
      hash: token.hash,
      scopes: ["inherit"],
      note: "Service API token",
      created: token.now,
      expiresAt: null,
    });
  });
}
