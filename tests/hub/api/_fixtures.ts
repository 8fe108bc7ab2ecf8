/**
 * Small helpers shared by the API tests (on top of tests/_helpers/test_hub.ts):
 * - `body(res)`: reads a JSON response (asserting its content type).
 * - `assertError(res, status, pattern)`: JupyterHub's error body with a useful
 *   message (from tests/_helpers/api_cases.ts, which has the error tables).
 * - `countRows(hub, table)`: row count, to prove a refused request wrote nothing.
 * - `addServer(hub, user, options)`: a server row in a given state (no spawner).
 * - `serverToken(hub, user, scopes)`: the own API token of the user's default
 *   server, tied to its row as a spawn ties it (the row is made if missing).
 *
 * @module
 */
import assert from "node:assert/strict";
import type { TestHub } from "../../_helpers/test_hub.ts";
import type { Database } from "../../../hub/db/schema.ts";
import { insertToken } from "../../../hub/db/tokens.ts";
import { hashSecret, newSecret, tokenPrefix } from "../../../hub/secrets.ts";

/** Reads a JSON response body. */
export async function body(res: Response): Promise<unknown> {
  assert.match(res.headers.get("content-type") ?? "", /^application\/json/);
  return await res.json();
}

/** Reads a JSON object response body. */
export async function obj(res: Response): Promise<Record<string, unknown>> {
  const value = await body(res);
  assert.ok(
    value !== null && typeof value === "object" && !Array.isArray(value),
  );
  return value as Record<string, unknown>;
}

/** JupyterHub's error body check, kept here for the tests that import it from this file. */
export { assertError } from "../../_helpers/api_cases.ts";

/** Number of rows in a table. */
export async function countRows(
  hub: TestHub,
  table: keyof Database,
): Promise<number> {
  const row = await hub.handle.db.selectFrom(table).select((eb) =>
    eb.fn.countAll<number>().as("n")
  ).executeTakeFirstOrThrow();
  return Number(row.n);
}

/** Inserts a server row for `user` (no process behind it). */
export async function addServer(
  hub: TestHub,
  user: string,
  options: {
    name?: string;
    status?: "stopped" | "spawning" | "running" | "stopping";
    lastActivity?: string | null;
    state?: Record<string, unknown>;
  } = {},
): Promise<number> {
  const owner = await hub.handle.db.selectFrom("users").select("id").where(
    "name",
    "=",
    user,
  ).executeTakeFirstOrThrow();
  const row = await hub.handle.db.insertInto("servers").values({
    "user_id": owner.id,
    name: options.name ?? "",
    status: options.status ?? "running",
    url: "http://127.0.0.1:40000/",
    state: JSON.stringify(options.state ?? { pid: 1234 }),
    "user_options": "{}",
    started: options.status === "stopped" ? null : hub.now.toISOString(),
    "last_activity": options.lastActivity ?? null,
    created: hub.now.toISOString(),
  }).returning("id").executeTakeFirstOrThrow();
  return row.id;
}

/**
 * Stores a new token of `user` with `scopes` and the given note and link
 * (`serverId` or `oauthClient`), created now and never expiring; returns
 * the secret.
 */
async function storeToken(
  hub: TestHub,
  user: string,
  fields: {
    scopes: string[];
    note: string;
    serverId?: number;
    oauthClient?: string;
  },
): Promise<string> {
  const owner = await hub.handle.db.selectFrom("users").select("id")
    .where("name", "=", user).executeTakeFirstOrThrow();
  const token = newSecret();
  await insertToken(hub.handle.db, {
    userId: owner.id,
    serviceId: null,
    prefix: tokenPrefix(token),
    hash: await hashSecret(token),
    created: hub.now.toISOString(),
    expiresAt: null,
    ...fields,
  });
  return token;
}

/** The own API token of `user`'s default server, with `scopes`, linked by `server_id`. */
export async function serverToken(
  hub: TestHub,
  user: string,
  scopes: string[],
): Promise<string> {
  const owner = await hub.handle.db.selectFrom("users").select("id")
    .where("name", "=", user).executeTakeFirstOrThrow();
  const found = await hub.handle.db.selectFrom("servers").select("id")
    .where("user_id", "=", owner.id).where("name", "=", "")
    .executeTakeFirst();
  const serverId = found?.id ?? await addServer(hub, user);
  const note = `Server at /user/${user}/`;
  return await storeToken(hub, user, { scopes, note, serverId });
}

/**
 * Stores an OAuth access token `user` got from `client` (a server's OAuth
 * client, `jupyterhub-user-<owner>[-<server>]`), as the token endpoint
 * would; returns the secret.
 */
export async function oauthTokenFor(
  hub: TestHub,
  user: string,
  client: string,
  scopes: string[],
): Promise<string> {
  return await storeToken(hub, user, { scopes, note: "", oauthClient: client });
}

/** A user's stored row. */
export function userRow(hub: TestHub, name: string) {
  return hub.handle.db.selectFrom("users").selectAll().where("name", "=", name)
    .executeTakeFirst();
}

/** Pagination opt-in header. */
export const PAGINATED = { accept: "application/jupyterhub-pagination+json" };

/**
 * A JSON request body that is held back until `open()` is called: the
 * handler has started (and done its checks) but waits for its body, so a
 * test can run a second request in between, deterministically.
 */
export function gatedBody(json: unknown): {
  body: ReadableStream<Uint8Array>;
  open: () => void;
} {
  const gate = Promise.withResolvers<void>();
  const body = new ReadableStream<Uint8Array>({
    async pull(controller) {
      await gate.promise;
      controller.enqueue(new TextEncoder().encode(JSON.stringify(json)));
      controller.close();
    },
  });
  return { body, open: () => gate.resolve() };
}
