/**
 * Share codes (JupyterHub 5): an invitation to a server that anyone
 * logged in can accept at `/hub/accept-share?code=…` (hub/pages/share.ts),
 * turning it into a share with them. Only a hash of the code is kept; a
 * code expires after `expires_in` seconds (1 day by default, 60 s to a
 * year), and an owner has at most {@linkcode MAX_CODES} live codes.
 *
 * - `POST /share-codes/{owner}/{server}` (`shares`): a new code;
 * - `GET /share-codes/{owner}[/{server}]` (`read:shares`): the live ones;
 * - `DELETE /share-codes/{owner}/{server}` (`shares`): `?code=` or
 *   `?id=sc_N`, or every code of the server.
 *
 * @module
 */
import { envelopePage } from "./_pagination.ts";
import { serverLocation } from "../servers/urls.ts";
import type { Hono } from "hono";
import {
  deleteShareCodes,
  insertShareCode,
  scopesOnServer,
  shareCodesOf,
} from "../db/shares.ts";
import type { ShareCodeRow, UserRow } from "../db/schema.ts";
import { HubError } from "../errors.ts";
import type { Ctx, HubEnv } from "../middleware/identity.ts";
import { routeParam } from "../middleware/route_param.ts";
import { hashSecret, newSecret } from "../secrets.ts";
import { readObject, short } from "./_body.ts";
import { requireUser } from "./_lookup.ts";
import { apiApp, type ApiDeps } from "./_deps.ts";
import { holdsOn, named, shareScopes, shareTarget } from "./shares.ts";

/** Live codes an owner may hold at once. */
export const MAX_CODES = 100;
const DAY = 86400;

function codeModel(
  row: ShareCodeRow,
  owner: string,
  deps: ApiDeps,
): Record<string, unknown> {
  const { url } = serverLocation(deps.config, {
    user: owner,
    server: row.server_name,
  });
  return {
    id: `sc_${row.id}`,
    server: { name: row.server_name, url, user: { name: owner } },
    scopes: scopesOnServer(row.scopes, { owner, server: row.server_name }),
    "created_at": row.created,
    "expires_at": row.expires_at,
    "exchange_count": row.exchange_count,
    "last_exchanged_at": row.last_exchanged_at,
  };
}

/** The `expires_in` of a new code in seconds: a day by default, 60 s to a year. */
function codeLifetime(value: unknown): number {
  const expiresIn = value ?? DAY;
  if (
    typeof expiresIn !== "number" || !Number.isInteger(expiresIn) ||
    expiresIn < 60 || expiresIn > 365 * DAY
  ) {
    throw new HubError(
      400,
      `expires_in must be whole seconds from 60 to 31536000, got ${
        short(expiresIn)
      }`,
    );
  }
  return expiresIn;
}

/** 400 when `owner` already holds {@linkcode MAX_CODES} live codes. */
async function assertRoomForCode(
  deps: ApiDeps,
  owner: UserRow,
  now: Date,
): Promise<void> {
  const live = await shareCodesOf(deps.db, { id: owner.id }, now.toISOString());
  if (live.length >= MAX_CODES) {
    throw new HubError(
      400,
      `${owner.name} has ${live.length} live share codes already: delete some first`,
    );
  }
}

/** `POST /share-codes/{owner}/{server}`. */
async function createRoute(c: Ctx, deps: ApiDeps): Promise<Response> {
  const { owner, server } = await shareTarget(c, deps.db);
  const body = await readObject(c, {
    allowed: ["expires_in", "scopes"],
    optional: true,
  });
  const expiresIn = codeLifetime(body.expires_in);
  const target = { owner: owner.name, server };
  const holds = await holdsOn(c, deps.db, target);
  const scopes = shareScopes(body.scopes, { ...target, holds }) ??
    [`access:servers!server=${owner.name}/${server}`];
  const now = deps.now();
  await assertRoomForCode(deps, owner, now);
  const code = newSecret();
  const row = await insertShareCode(deps.db, {
    ownerId: owner.id,
    server,
    hash: await hashSecret(code),
    scopes,
    now: now.toISOString(),
    expiresAt: new Date(now.getTime() + expiresIn * 1000).toISOString(),
  });
  const accept = `${deps.config.baseUrl}hub/accept-share?code=${code}`;
  deps.events.record("share_code.created", {
    user: owner.name,
    actor: c.get("identity")!.name,
    server,
    "expires_at": row.expires_at,
  });
  return c.json({
    ...codeModel(row, owner.name, deps),
    code,
    "accept_url": accept,
    "full_accept_url": deps.config.publicUrl
      ? deps.config.publicUrl + accept
      : null,
  });
}

/**
 * `GET /share-codes/{owner}[/{server}]`: `/share-codes/alice` lists every
 * server's live codes, `/share-codes/alice/` the default server's.
 */
async function listRoute(c: Ctx, deps: ApiDeps): Promise<Response> {
  const owner = await requireUser(deps.db, routeParam(c, "user_name"));
  const server = c.req.param("server_name") !== undefined
    ? routeParam(c, "server_name")
    : new URL(c.req.url).pathname.endsWith("/")
    ? ""
    : undefined;
  const rows = await shareCodesOf(
    deps.db,
    { id: owner.id, server },
    deps.now().toISOString(),
  );
  return c.json(
    await envelopePage(c, {
      limits: deps.config.api,
      rows,
      toModels: (page) => page.map((r) => codeModel(r, owner.name, deps)),
    }) as object,
  );
}

/** `DELETE /share-codes/{owner}/{server}`: `?code=`, `?id=sc_N`, or every code of the server. */
async function removeRoute(c: Ctx, deps: ApiDeps): Promise<Response> {
  const { owner, server } = await shareTarget(c, deps.db);
  const code = c.req.query("code");
  const id = c.req.query("id");
  // JupyterHub 5: a code or id that matches nothing (or no id at all) is 404.
  const noId = () =>
    new HubError(404, `No code found matching id=${(id ?? "").slice(0, 40)}`);
  if (id !== undefined && !/^sc_\d{1,12}$/.test(id)) throw noId();
  const deleted = await deleteShareCodes(deps.db, { id: owner.id, server }, {
    ...(id !== undefined ? { id: Number(id.slice(3)) } : {}),
    ...(code !== undefined ? { hash: await hashSecret(code) } : {}),
  });
  if (!deleted && code !== undefined) {
    throw new HubError(404, "No matching code found");
  }
  if (!deleted && id !== undefined) throw noId();
  return c.body(null, 204);
}

/** The share codes sub-app. */
export function createShareCodesApi(deps: ApiDeps): Hono<HubEnv> {
  const { app, needs, on } = apiApp(deps);
  const list = on(listRoute);
  const create = on(createRoute);
  const remove = on(removeRoute);
  app.get("/share-codes/:user_name", needs("read:shares"), list);
  app.get("/share-codes/:user_name/:server_name", needs("read:shares"), list);
  app.post("/share-codes/:user_name/:server_name", needs("shares"), create);
  app.post("/share-codes/:user_name", needs("shares"), named(create));
  app.delete("/share-codes/:user_name/:server_name", needs("shares"), remove);
  app.delete("/share-codes/:user_name", needs("shares"), named(remove));
  return app;
}
