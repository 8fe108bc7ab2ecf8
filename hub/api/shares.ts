/**
 * Sharing (JupyterHub 5): a user shares one of their servers with a user or
 * a group; the recipients get the share's scopes (by default
 * `access:servers!server=<owner>/<server>`) in their identity, so they can
 * open the server through the proxy (the OAuth consent page asks them
 * once). Revoking a share also deletes the OAuth tokens the recipients got
 * for that server: their next request is refused.
 *
 * - `GET /shares/{owner}` (every server), `GET /shares/{owner}/{server}`
 *   (`/shares/{owner}/` for the default server): `read:shares`;
 * - `POST` / `PATCH` / `DELETE /shares/{owner}/{server}`: `shares`;
 * - `GET /users/{name}/shared`: `read:users:shares`;
 *   `DELETE /users/{name}/shared/{owner}/{server}`: `users:shares`.
 * Lists answer the pagination envelope, as JupyterHub 5 does.
 *
 * @module
 */
import { serverLocation } from "../servers/urls.ts";
import { type Context, Hono } from "hono";
import type { Db } from "../db/mod.ts";
import {
  addShare,
  type Grantee,
  removeShares,
  sharesOfGroup,
  sharesOfOwner,
  sharesOfUser,
  type ShareView,
  shareWith,
} from "../db/shares.ts";
import { getServer, serversByUser } from "../db/servers.ts";
import { getGroup, membersByGroup } from "../db/groups.ts";
import { getUser, userIdsByName } from "../db/users.ts";
import { clientIdFor } from "../db/oauth.ts";
import { HubError } from "../errors.ts";
import type { Ctx, HubEnv } from "../middleware/identity.ts";
import {
  createScopeGuard,
  groupLookupFor,
} from "../middleware/require_scope.ts";
import { routeParam } from "../middleware/route_param.ts";
import { hasScope, ScopeError, validateScopes } from "../rbac/scopes.ts";
import { sessionIdsOf } from "../db/sessions.ts";
import { deleteClientTokens, tokenHashesOf } from "../db/tokens.ts";
import { fenceServer } from "./_fence.ts";
import type { UserRow } from "../db/schema.ts";
import { readObject, short, stringList } from "./_body.ts";
import { envelopePage } from "./_pagination.ts";
import { requireUser } from "./_lookup.ts";
import { apiApp, type ApiDeps } from "./_deps.ts";

/** The server a share route names: `""` for `/shares/alice/` (the default server). */
function routeServer(c: Context<HubEnv>): string {
  const param = c.req.param("server_name");
  if (param !== undefined) return routeParam(c, "server_name");
  return "";
}

/** JupyterHub's Share model. */
function toShareModel(
  s: ShareView,
  status: string,
  config: { baseUrl: string; publicUrl: string; subdomainHost: string },
): Record<string, unknown> {
  const { url, origin } = serverLocation(config, {
    user: s.ownerName,
    server: s.serverName,
  });
  const publicUrl = config.publicUrl;
  return {
    server: {
      name: s.serverName,
      url,
      "full_url": origin ? url : publicUrl ? publicUrl + url : null,
      ready: status === "running",
      user: { name: s.ownerName },
    },
    scopes: s.scopes,
    user: s.userName === null ? null : { name: s.userName },
    group: s.groupName === null ? null : { name: s.groupName },
    kind: s.userName === null ? "group" : "user",
    "created_at": s.created,
  };
}

/** A share's model, with its server's readiness read now. */
async function shareModel(
  deps: ApiDeps,
  share: ShareView,
): Promise<Record<string, unknown>> {
  const row = await getServer(deps.db, share.ownerId, share.serverName);
  return toShareModel(share, row?.status ?? "stopped", deps.config);
}

/** Whether a share is the one of the user or group a body names (after `to` was found). */
function sameGrantee(
  to: Grantee,
  body: Record<string, unknown>,
): (share: ShareView) => boolean {
  return (s) =>
    "user" in to ? s.userName === body.user : s.groupName === body.group;
}

/** Share models, with each server's readiness, as one page of the envelope. */
async function shareList(
  c: Context<HubEnv>,
  deps: ApiDeps,
  shares: ShareView[],
): Promise<Response> {
  return c.json(
    await envelopePage(c, {
      limits: deps.config.api,
      rows: shares,
      toModels: async (page) => {
        const owners = [...new Set(page.map((s) => s.ownerId))];
        const servers = await serversByUser(deps.db, owners);
        return page.map((s) => {
          const row = servers.get(s.ownerId)?.find((r) =>
            r.name === s.serverName
          );
          return toShareModel(s, row?.status ?? "stopped", deps.config);
        });
      },
    }) as object,
  );
}

/** The owner and server of a share (or share-code) route; 404 for a named server that does not exist. */
export async function shareTarget(
  c: Context<HubEnv>,
  db: Db,
): Promise<{ owner: UserRow; server: string }> {
  const owner = await requireUser(db, routeParam(c, "user_name"));
  const server = routeServer(c);
  if (server && !(await getServer(db, owner.id, server))) {
    throw new HubError(
      404,
      `${owner.name} has no server named ${short(server)}`,
    );
  }
  return { owner, server };
}

/** `{"user": …}` or `{"group": …}` of a body, checked against what the caller may see. */
async function granteeOf(
  c: Context<HubEnv>,
  db: Db,
  body: Record<string, unknown>,
): Promise<{ to: Grantee; ids: number[] }> {
  const identity = c.get("identity")!;
  if ((body.user === undefined) === (body.group === undefined)) {
    throw new HubError(400, 'Send exactly one of "user" or "group"');
  }
  const kind = body.user !== undefined ? "user" : "group";
  const name = typeof body[kind] === "string" ? body[kind] as string : "";
  const row = !name
    ? undefined
    : kind === "user"
    ? await getUser(db, name)
    : await getGroup(db, name);
  const resource = kind === "user" ? { user: name } : { group: name };
  if (
    !row ||
    !hasScope(identity.parsed, {
      scope: `read:${kind}s:name`,
      resource,
      groupsOf: () => [],
    })
  ) {
    throw new HubError(400, `No such ${kind}: ${short(body[kind])}`);
  }
  return kind === "user"
    ? { to: { user: row.id }, ids: [row.id] }
    : { to: { group: row.id }, ids: await memberIdsOf(db, row.id) };
}

/** The ids of a group's members. */
async function memberIdsOf(db: Db, groupId: number): Promise<number[]> {
  const members = (await membersByGroup(db, [groupId])).get(groupId) ?? [];
  return [...(await userIdsByName(db, members)).ids.values()];
}

/** The server a shared scope is for, and what the sharer holds on it ({@linkcode holdsOn}). */
export interface ShareScopeTarget {
  owner: string;
  server: string;
  holds: (scope: string) => boolean;
}

/**
 * The scopes of a body, each for this very server: an unfiltered scope
 * gets the server's filter (JupyterHub adds `!server=owner/name`), one
 * already filtered to this server stays; any other filter (another server,
 * a user or group filter, a second `!`) is 400. The sharer must hold each
 * on this server (403 otherwise, as JupyterHub): a share never grants more
 * than its sharer has.
 */
export function shareScopes(
  value: unknown,
  target: ShareScopeTarget,
): string[] | undefined {
  if (value === undefined) return undefined;
  const { holds } = target;
  const filter = `!server=${target.owner}/${target.server}`;
  const scopes = stringList(value, "scopes").map((scope) => {
    const bang = scope.indexOf("!");
    if (bang === -1) return scope + filter;
    if (scope.slice(bang) === filter) return scope;
    throw new HubError(
      400,
      `A shared scope is for this server only: send ${
        short(scope.slice(0, bang))
      } or ${short(scope.slice(0, bang) + filter)}, not ${short(scope)}`,
    );
  });
  try {
    validateScopes(scopes);
  } catch (error) {
    if (error instanceof ScopeError) throw new HubError(400, error.message);
    throw error;
  }
  const lacking = scopes.find((scope) => !holds(scope.split("!", 1)[0]!));
  if (lacking !== undefined) {
    throw new HubError(
      403,
      `You cannot share ${short(lacking)}: you do not hold it on this server`,
    );
  }
  return scopes;
}

/** What the caller holds on `owner`'s `server` (for {@linkcode shareScopes}). */
export async function holdsOn(
  c: Context<HubEnv>,
  db: Db,
  target: { owner: string; server: string },
): Promise<(scope: string) => boolean> {
  const { owner, server } = target;
  const identity = c.get("identity")!;
  const groupsOf = await groupLookupFor(db, identity, { user: owner });
  const resource = { server: `${owner}/${server}` };
  return (scope) => hasScope(identity.parsed, { scope, resource, groupsOf });
}

/** `POST /shares/{owner}/{server}`: shares the server (adds scopes to an existing share). */
async function shareRoute(c: Ctx, deps: ApiDeps): Promise<Response> {
  const { owner, server } = await shareTarget(c, deps.db);
  const body = await readObject(c, { allowed: ["user", "group", "scopes"] });
  const target = { owner: owner.name, server };
  const holds = await holdsOn(c, deps.db, target);
  // No scopes, or `[]` (the body of JupyterHub's docs): access to the server.
  const asked = shareScopes(body.scopes, { ...target, holds });
  const scopes = asked?.length
    ? asked
    : [`access:servers!server=${owner.name}/${server}`];
  const { to } = await granteeOf(c, deps.db, body);
  await addShare(deps.db, { id: owner.id, server }, {
    to,
    scopes,
    now: deps.now().toISOString(),
  });
  deps.events.record("share.created", {
    user: owner.name,
    actor: c.get("identity")!.name,
    server,
    with: String(body.user ?? `group ${body.group}`),
  });
  const shares = await sharesOfOwner(deps.db, owner.id, server);
  return c.json(await shareModel(deps, shares.find(sameGrantee(to, body))!));
}

/** Removes shares of a server and the OAuth tokens their recipients got for it. */
async function revoke(
  deps: ApiDeps,
  owner: UserRow,
  server: string,
  who: { to: Grantee; ids: number[] } | null,
  scopes: string[] | undefined,
  actor: string,
): Promise<void> {
  const before = await sharesOfOwner(deps.db, owner.id, server);
  const ids = who?.ids ?? await recipientIds(deps.db, before);
  const changed = await removeShares(deps.db, { id: owner.id, server }, {
    to: who?.to,
    scopes,
  });
  // Nothing taken (scopes the share did not hold, or none): nobody loses access.
  if (!changed) return;
  // Those who no longer reach the server through any share are kept out;
  // read before their tokens for the server are deleted.
  const still = new Set(
    await recipientIds(
      deps.db,
      (await sharesOfOwner(deps.db, owner.id, server)).filter((s) =>
        s.scopes.some((scope) => scope.startsWith("access:servers!"))
      ),
    ),
  );
  const cut = ids.filter((id) => !still.has(id));
  const taken = {
    sessions: await sessionIdsOf(deps.db, cut),
    tokenHashes: await tokenHashesOf(deps.db, cut),
  };
  await deleteClientTokens(deps.db, clientIdFor(owner.name, server), ids);
  // Their open connections end now, and the server's 5-minute cache of who
  // they are cannot let them back in (proxy/fence.ts).
  const { routeKey } = serverLocation(deps.config, {
    user: owner.name,
    server,
  });
  await fenceServer(deps, { prefix: routeKey, taken });
  deps.events.record("share.revoked", { user: owner.name, actor, server });
}

/** Every user a list of shares reaches (group members included). */
async function recipientIds(db: Db, shares: ShareView[]): Promise<number[]> {
  const names = new Set<string>();
  for (const s of shares) {
    if (s.userName) names.add(s.userName);
    if (s.groupName) {
      const group = await getGroup(db, s.groupName);
      if (group) {
        for (
          const m of (await membersByGroup(db, [group.id])).get(group.id) ?? []
        ) names.add(m);
      }
    }
  }
  return [...(await userIdsByName(db, [...names])).ids.values()];
}

/** `PATCH /shares/{owner}/{server}`: takes scopes (or, without `scopes`, all) from one recipient. */
async function patchRoute(c: Ctx, deps: ApiDeps): Promise<Response> {
  const { owner, server } = await shareTarget(c, deps.db);
  const body = await readObject(c, { allowed: ["user", "group", "scopes"] });
  // Taking scopes away needs no holding of them.
  const scopes = shareScopes(body.scopes, {
    owner: owner.name,
    server,
    holds: () => true,
  });
  const who = await granteeOf(c, deps.db, body);
  await revoke(deps, owner, server, who, scopes, c.get("identity")!.name);
  const left = (await sharesOfOwner(deps.db, owner.id, server)).find(
    sameGrantee(who.to, body),
  );
  if (!left) return c.json({});
  return c.json(await shareModel(deps, left));
}

/**
 * A write on a share route: `/shares/alice/` is the default server, and
 * `/shares/alice` (no server) a 405. The app does not tell the two apart
 * (non-strict routing): the raw path does.
 */
export function named(
  handler: (c: Context<HubEnv>) => Promise<Response>,
): (c: Context<HubEnv>) => Promise<Response> {
  return (c) => {
    const path = new URL(c.req.url).pathname;
    if (c.req.param("server_name") === undefined && !path.endsWith("/")) {
      throw new HubError(
        405,
        "Name the server: /shares/{owner}/{server} (/shares/{owner}/ for the default one)",
      );
    }
    return handler(c);
  };
}

/** `DELETE /shares/{owner}/{server}`: every share of the server goes. */
async function deleteAllRoute(c: Ctx, deps: ApiDeps): Promise<Response> {
  const { owner, server } = await shareTarget(c, deps.db);
  await revoke(deps, owner, server, null, undefined, c.get("identity")!.name);
  return c.body(null, 204);
}

/** The shares sub-app. */
export function createSharesApi(deps: ApiDeps): Hono<HubEnv> {
  const { app, needs } = apiApp(deps);
  const { db } = deps;
  // `/shares/alice` lists every server's shares; `/shares/alice/` is the default server's.
  const ownerList = async (c: Context<HubEnv>) => {
    const owner = await requireUser(db, routeParam(c, "user_name"));
    const all = !new URL(c.req.url).pathname.endsWith("/");
    return shareList(
      c,
      deps,
      await sharesOfOwner(db, owner.id, all ? undefined : ""),
    );
  };
  app.get("/shares/:user_name", needs("read:shares"), ownerList);
  app.get(
    "/shares/:user_name/:server_name",
    needs("read:shares"),
    async (c) => {
      const { owner, server } = await shareTarget(c, db);
      return shareList(c, deps, await sharesOfOwner(db, owner.id, server));
    },
  );
  for (
    const path of ["/shares/:user_name/:server_name", "/shares/:user_name"]
  ) {
    app.post(path, needs("shares"), named((c) => shareRoute(c, deps)));
    app.patch(path, needs("shares"), named((c) => patchRoute(c, deps)));
    app.delete(
      path,
      needs("shares"),
      named((c) => deleteAllRoute(c, deps)),
    );
  }
  mountRecipientShares(app, deps);
  return app;
}

/** Who a `/users/{name}/shared/…` or `/groups/{name}/shared/…` route names. */
async function recipientOf(
  c: Context<HubEnv>,
  db: Db,
): Promise<{ to: Grantee; ids: number[]; label: string }> {
  const group = c.req.param("group_name");
  if (group === undefined) {
    const user = await requireUser(db, routeParam(c, "user_name"));
    return {
      to: { user: user.id },
      ids: [user.id],
      label: `user ${user.name}`,
    };
  }
  const row = await getGroup(db, routeParam(c, "group_name"));
  if (!row) throw new HubError(404, `No such group: ${short(group)}`);
  return {
    to: { group: row.id },
    ids: await memberIdsOf(db, row.id),
    label: `group ${row.name}`,
  };
}

/** The share a `…/shared/{owner}/{server}` route names; 404 when there is none (JupyterHub's words). */
async function namedShare(c: Context<HubEnv>, db: Db) {
  const who = await recipientOf(c, db);
  const ownerName = routeParam(c, "owner");
  const server = c.req.param("server") ?? "";
  const owner = await getUser(db, ownerName);
  const share = owner && await shareWith(db, { id: owner.id, server }, who.to);
  if (!owner || !share) {
    throw new HubError(
      404,
      `No such share for ${who.label} on ${ownerName.slice(0, 128)}/${
        server.slice(0, 255)
      }`,
    );
  }
  return { who, owner, server, share };
}

/**
 * What a user or a group received: `GET /users/{name}/shared` (their
 * groups' shares included) and `/groups/{name}/shared`, and one share each
 * (`GET`, `DELETE …/shared/{owner}/{server}`), as JupyterHub 5.
 */
function mountRecipientShares(app: Hono<HubEnv>, deps: ApiDeps): void {
  const needs = createScopeGuard(deps.db);
  const { db } = deps;
  app.get("/users/:user_name/shared", needs("read:users:shares"), async (c) => {
    const user = await requireUser(db, routeParam(c, "user_name"));
    return shareList(c, deps, await sharesOfUser(db, user.id, true));
  });
  app.get(
    "/groups/:group_name/shared",
    needs("read:groups:shares"),
    async (c) => {
      const { to } = await recipientOf(c, db);
      return shareList(
        c,
        deps,
        await sharesOfGroup(db, (to as { group: number }).group),
      );
    },
  );
  for (
    const [kind, read, write] of [
      ["users/:user_name", "read:users:shares", "users:shares"],
      ["groups/:group_name", "read:groups:shares", "groups:shares"],
    ] as const
  ) {
    const path = `/${kind}/shared/:owner/:server?`;
    app.get(path, needs(read), async (c) => {
      const { share } = await namedShare(c, db);
      return c.json(await shareModel(deps, share));
    });
    app.delete(path, needs(write), async (c) => {
      const { who, owner, server } = await namedShare(c, db);
      await revoke(
        deps,
        owner,
        server,
        who,
        undefined,
        c.get("identity")!.name,
      );
      return c.body(null, 204);
    });
  }
}
