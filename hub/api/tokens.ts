/**
 * `/users/{name}/tokens` routes: list, create (scopes checked against the
 * owner, expiry capped by config), read and revoke. The secret is returned
 * once, at creation; only its hash is stored.
 *
 * @module
 */
import { clientDescriptions } from "../db/oauth.ts";
import { roleDefinitions } from "../db/roles.ts";
import { type Context, Hono } from "hono";
import type { Db } from "../db/mod.ts";
import type { ApiTokenRow, UserRow } from "../db/schema.ts";
import { getUser, groupsOfNamedUsers, userWithGroups } from "../db/users.ts";
import {
  deleteUserTokens,
  insertToken,
  revokeToken,
  tokenHashesOf,
  tokenOfUser,
  tokensOfUser,
} from "../db/tokens.ts";
import {
  expandScopes,
  intersectScopes,
  ScopeError,
  scopesForResponse,
  validateScopes,
} from "../rbac/scopes.ts";
import { BUILTIN_ROLES } from "../rbac/roles.ts";
import {
  effectiveTokenScopes,
  type Identity,
  identityFromSession,
  serverOfClient,
  userScopes,
} from "../auth/identity.ts";
import {
  hashSecret,
  newSecret,
  tokenIdFromWire,
  tokenIdToWire,
  tokenPrefix,
} from "../secrets.ts";
import {
  effectiveAllowRules,
  isAllowed,
  normalizeUsername,
} from "../auth/usernames.ts";
import { HubError } from "../errors.ts";
import { endAllSessions } from "../auth/sessions.ts";
import { fenceUserOut } from "./_fence.ts";
import { sessionIdsOf } from "../db/sessions.ts";
import type { Ctx, HubEnv } from "../middleware/identity.ts";
import { assertScopes } from "../middleware/require_scope.ts";
import { expectObject, readObject, short, stringList } from "./_body.ts";
import { requireUser, routeUser } from "./_lookup.ts";
import { routeParam } from "../middleware/route_param.ts";
import { apiApp, type ApiDeps } from "./_deps.ts";
import { isConstraintError } from "./_db_errors.ts";

/** A user's groups and the scopes their roles give (built-in, assigned, through groups). */
export async function ownerAccess(
  db: Db,
  owner: UserRow,
): Promise<{ groups: string[]; held: Set<string> }> {
  const found = await userWithGroups(db, owner.id);
  if (!found) return { groups: [], held: userScopes(owner) };
  const { roles, assigned, shared } = found;
  return {
    groups: found.groups,
    held: userScopes(owner, { roles, assigned, shared }),
  };
}

/** What {@linkcode toTokenModel} needs beside the row: the owner and their access. */
export interface TokenModelOptions {
  owner: UserRow;
  /** The owner's groups, from {@linkcode ownerAccess}. */
  groups: readonly string[];
  /** The scopes the owner holds, from {@linkcode ownerAccess}. */
  held: Set<string>;
  /** Groups of other users the token's scopes name (groupsOfNamedUsers). */
  named?: ReadonlyMap<string, readonly string[]>;
  /** OAuth client descriptions by client id. @default {new Map()} */
  clients?: ReadonlyMap<string, string>;
}

/** A token row as JupyterHub's token model. */
export function toTokenModel(
  row: ApiTokenRow,
  access: TokenModelOptions,
): Record<string, unknown> {
  const { groups, owner } = access;
  const clients = access.clients ?? new Map<string, string>();
  const groupsOf = (name: string) =>
    name === owner.name ? groups : access.named?.get(name) ?? [];
  const clientServer = serverOfClient(row.oauth_client, owner.name);
  const scopes = effectiveTokenScopes(JSON.parse(row.scopes) as string[], {
    owner: { kind: "user", name: owner.name },
    ownerExpanded: access.held,
    groupsOf,
    ...(clientServer !== undefined ? { clientServer } : {}),
  });
  return {
    user: owner.name,
    id: tokenIdToWire(row.id),
    kind: "api_token",
    roles: [],
    scopes: scopesForResponse(scopes),
    created: row.created,
    last_activity: row.last_activity,
    expires_at: row.expires_at,
    note: row.note,
    session_id: row.session_id,
    // JupyterHub: the client's description, else its id; the hub's own for API tokens.
    oauth_client: row.oauth_client
      ? clients.get(row.oauth_client) || row.oauth_client
      : "JupyterHub",
  };
}

/** Options for {@linkcode issueToken}. */
export interface IssueTokenOptions {
  scopes?: readonly string[] | undefined;
  note: string;
  expiresInSeconds: number | null;
  now: Date;
  /** Who asks: their scopes also bound the new token. */
  requester?: Identity | null;
}

/**
 * Creates a token for `owner` after checking the scopes exist and are held.
 *
 * @returns the secret (shown once) and the row.
 * @throws {HubError} 400 for unknown scopes or scopes the owner lacks.
 */
export async function issueToken(
  db: Db,
  owner: UserRow,
  options: IssueTokenOptions,
): Promise<{ token: string; row: ApiTokenRow }> {
  // JupyterHub 5: a token asked without scopes gets the (redefinable) token role's.
  const raw = options.scopes
    ? [...options.scopes]
    : [...(await definedRole(db, "token")).scopes];
  try {
    validateScopes(raw);
  } catch (error) {
    if (error instanceof ScopeError) throw new HubError(400, error.message);
    throw error;
  }
  if (!raw.includes("inherit")) {
    const { groups, held: ownerHeld } = await ownerAccess(db, owner);
    const asked = expandScopes(raw, {
      owner: { kind: "user", name: owner.name },
    });
    // Who the asked scopes name, with their groups: a teacher holding
    // servers!group=class may ask for servers!user=<a student of class>.
    const named = await groupsOfNamedUsers(db, asked);
    const groupsOf = (name: string) =>
      name === owner.name ? groups : named.get(name) ?? [];
    const held = intersectScopes(asked, { owner: ownerHeld, groupsOf });
    const requester = options.requester;
    const allowed = requester && requester.name !== owner.name
      ? intersectScopes(held, { owner: requester.scopes, groupsOf })
      : held;
    const missing = [...asked].filter((s) => !allowed.has(s));
    if (missing.length) {
      throw new HubError(
        400,
        `Not assigning requested scopes ${
          missing.sort().join(", ")
        } not held by User ${owner.name}`,
      );
    }
  }
  const token = newSecret();
  const now = options.now;
  const row = await insertToken(db, {
    userId: owner.id,
    serviceId: null,
    prefix: tokenPrefix(token),
    hash: await hashSecret(token),
    scopes: raw,
    note: options.note,
    created: now.toISOString(),
    expiresAt: options.expiresInSeconds === null
      ? null
      : new Date(now.getTime() + options.expiresInSeconds * 1000).toISOString(),
  });
  return { token, row };
}

/**
 * Validates `expires_in` against the configured cap; returns seconds or
 * null. `0` means no expiry, as in JupyterHub's REST spec (but never past
 * the cap: with one, it is the cap).
 */
export function expiresIn(value: unknown, maxSeconds: number): number | null {
  if (value === undefined || value === null || value === 0) {
    return maxSeconds > 0 ? maxSeconds : null;
  }
  if (
    typeof value !== "number" || !Number.isInteger(value) || value <= 0 ||
    value > 3153600000
  ) {
    throw new HubError(
      400,
      `expires_in must be a positive integer number of seconds or null, got ${
        short(value)
      }`,
    );
  }
  if (maxSeconds > 0 && value > maxSeconds) {
    throw new HubError(
      400,
      `expires_in must not exceed ${maxSeconds} seconds on this hub, got ${value}`,
    );
  }
  return value;
}

/**
 * The caller of a token request without credentials: JupyterHub accepts
 * `{"auth": {"username", "password"}}` in the body for the user in the path.
 */
async function identityFromBodyAuth(
  deps: ApiDeps,
  auth: unknown,
  name: string,
): Promise<Identity | null> {
  if (auth === undefined) {
    throw new HubError(403, "Missing or invalid credentials.");
  }
  const fields = expectObject(auth, '"auth" field');
  if (
    typeof fields.username !== "string" || typeof fields.password !== "string"
  ) {
    throw new HubError(
      400,
      '"auth" must be {"username": "...", "password": "..."}',
    );
  }
  const login = await deps.authenticator.authenticate({
    username: fields.username,
    password: fields.password,
  });
  const loginName = login.ok ? normalizeUsername(login.name) : "";
  const exists = login.ok ? await getUser(deps.db, loginName) : undefined;
  const rules = effectiveAllowRules(deps.config.auth.type, deps.config.users);
  if (
    !login.ok || loginName !== name || !exists ||
    !isAllowed(loginName, { rules, existsInDb: true })
  ) {
    throw new HubError(403, "Missing or invalid credentials.");
  }
  return await identityFromSession(deps.db, exists.id, "");
}

/** A role as the config (re)defined it, else the built-in one; throws when neither. */
async function definedRole(
  db: Db,
  name: string,
): Promise<{ scopes: readonly string[] }> {
  const stored = await roleDefinitions(db);
  if (Object.hasOwn(stored, name)) return stored[name]!;
  if (Object.hasOwn(BUILTIN_ROLES, name)) {
    return BUILTIN_ROLES[name as keyof typeof BUILTIN_ROLES];
  }
  throw new Error(`no role ${name}`);
}

/** The raw scopes a token request asks for: `scopes` plus the scopes of `roles`. */
async function requestedScopes(
  db: Db,
  body: Record<string, unknown>,
): Promise<string[] | undefined> {
  let scopes: string[] | undefined;
  if (body.scopes !== undefined) {
    scopes = stringList(body.scopes, { field: "scopes", max: 100 });
  }
  if (body.roles === undefined) return scopes;
  scopes = [...(scopes ?? [])];
  for (const role of stringList(body.roles, { field: "roles", max: 20 })) {
    const def = await definedRole(db, role).catch(() => undefined);
    if (!def) {
      throw new HubError(
        400,
        `Role ${short(role)} does not exist: use scopes instead of roles`,
      );
    }
    scopes.push(...def.scopes);
  }
  return scopes;
}

/** The models of `owner`'s token rows, with one query each for named groups and client descriptions. */
async function tokenModels(
  db: Db,
  owner: UserRow,
  rows: readonly ApiTokenRow[],
): Promise<Record<string, unknown>[]> {
  const options: TokenModelOptions = {
    owner,
    ...await ownerAccess(db, owner),
    named: await groupsOfNamedUsers(
      db,
      rows.flatMap((r) => JSON.parse(r.scopes) as string[]),
    ),
    clients: await clientDescriptions(
      db,
      rows.flatMap((r) => r.oauth_client ? [r.oauth_client] : []),
    ),
  };
  return rows.map((r) => toTokenModel(r, options));
}

/** The note of a new token: the body's, or JupyterHub's default naming who asked for whom. */
function tokenNote(
  body: Record<string, unknown>,
  identity: Identity,
  owner: UserRow,
): string {
  if (
    body.note !== undefined &&
    (typeof body.note !== "string" || body.note.length > 1000)
  ) {
    throw new HubError(
      400,
      '"note" must be a string of at most 1000 characters',
    );
  }
  let note = (body.note as string | undefined) ?? "Requested via api";
  if (body.note === undefined && identity.name !== owner.name) {
    note += ` by ${identity.kind} ${identity.name}`;
  }
  return note;
}

/**
 * Who may create tokens for user `name`: the caller's identity, or (without
 * one) the body's `auth` login; one 403 for "no such user" and "not yours"
 * (JupyterHub 5, apihandlers/users.py).
 */
async function tokenRequester(
  c: Context<HubEnv>,
  deps: ApiDeps,
  request: { name: string; body: Record<string, unknown> },
): Promise<{ caller: Identity; owner: UserRow }> {
  const { name, body } = request;
  const identity = c.get("identity") ??
    await identityFromBodyAuth(deps, body.auth, name);
  const caller = await assertScopes(deps.db, identity, {
    required: ["tokens"],
    resource: { user: name },
  })
    .catch((error) => {
      throw error instanceof HubError && error.status === 404
        ? tokenRefused(name)
        : error;
    });
  const owner = await getUser(deps.db, name);
  if (!owner) throw tokenRefused(name);
  return { caller, owner };
}

/** JupyterHub 5's one 403 for "no such user" and "not yours". */
function tokenRefused(name: string): HubError {
  return new HubError(
    403,
    `User ${name} not found or no permissions to generate tokens`,
  );
}

/**
 * `POST /users/{name}/tokens`. The scope is checked here, not by `needs`:
 * without credentials the body may carry a username and password instead.
 */
async function createTokenRoute(c: Ctx, deps: ApiDeps): Promise<Response> {
  const { db } = deps;
  const name = routeParam(c, "user_name");
  // A body `auth` login is JSON; an anonymous form post (e.g. a cookie POST
  // the identity middleware ignored) is refused as unauthenticated, not as
  // bad JSON.
  const type = c.req.header("content-type");
  if (!c.get("identity") && type && !/^application\/json\s*(;|$)/i.test(type)) {
    throw new HubError(403, "Missing or invalid credentials.");
  }
  const body = await readObject(c, {
    allowed: ["note", "expires_in", "scopes", "roles", "auth"],
    optional: true,
  });
  const { caller, owner } = await tokenRequester(c, deps, { name, body });
  const scopes = await requestedScopes(db, body);
  const { token, row } = await issueToken(db, owner, {
    scopes,
    note: tokenNote(body, caller, owner),
    expiresInSeconds: expiresIn(
      body.expires_in,
      deps.config.tokens.maxExpiresInSeconds,
    ),
    now: deps.now(),
    requester: caller,
  }).catch((error) => {
    // The owner was deleted by a concurrent request: answer as if first.
    if (isConstraintError(error, "foreignKey")) throw tokenRefused(name);
    throw error;
  });
  deps.events.record("token.created", {
    user: owner.name,
    actor: caller.name,
    "token_id": tokenIdToWire(row.id),
    scopes: scopes?.join(" ") ?? "(default)",
  });
  const [model] = await tokenModels(db, owner, [row]);
  return c.json({ ...model, token }, 201);
}

/**
 * `DELETE /users/{name}/tokens` (every API and OAuth token except the
 * user's running servers' own) and `DELETE /users/{name}/sessions` (every
 * login session, and the tokens issued under them: "log out everywhere").
 * Both answer 200 with what went.
 */
async function revokeAllRoute(
  c: Context<HubEnv>,
  deps: ApiDeps,
  what: "tokens" | "sessions",
): Promise<Response> {
  const user = await routeUser(c, deps.db);
  const taken = what === "tokens"
    ? { sessions: [], tokenHashes: await tokenHashesOf(deps.db, [user.id]) }
    : { sessions: await sessionIdsOf(deps.db, [user.id]), tokenHashes: [] };
  const result = what === "tokens"
    ? { sessions: 0, tokens: await deleteUserTokens(deps.db, user.id) }
    : await endAllSessions(deps.db, user.id);
  await fenceUserOut(deps, { user, taken });
  deps.events.record(what === "tokens" ? "token.revoked" : "sessions.revoked", {
    user: user.name,
    actor: c.get("identity")?.name ?? null,
    reason: what === "tokens" ? "all tokens" : "all sessions",
    ...result,
  });
  return c.json(result);
}

/** `DELETE /users/{name}/tokens/{id}`: revokes one token and fences it off the servers it reached. */
async function revokeOneRoute(c: Ctx, deps: ApiDeps): Promise<Response> {
  const { user, row } = await routeToken(c, deps.db);
  await revokeToken(deps.db, row);
  await fenceUserOut(deps, {
    user,
    taken: { sessions: [], tokenHashes: [row.hash] },
  });
  deps.events.record("token.revoked", {
    user: user.name,
    actor: c.get("identity")?.name ?? null,
    "token_id": tokenIdToWire(row.id),
  });
  return c.body(null, 204);
}

/** The tokens sub-app. */
export function createTokensApi(deps: ApiDeps): Hono<HubEnv> {
  const { app, needs } = apiApp(deps);
  const { db } = deps;
  app.get("/users/:user_name/tokens", needs("read:tokens"), async (c) => {
    const user = await routeUser(c, db);
    const rows = await tokensOfUser(db, user.id, deps.now().toISOString());
    return c.json({ api_tokens: await tokenModels(db, user, rows) });
  });
  app.post("/users/:user_name/tokens", (c) => createTokenRoute(c, deps));
  app.get(
    "/users/:user_name/tokens/:token_id",
    // JupyterHub's needs_scope: 404 when held only for other users, else 403.
    needs("read:tokens"),
    async (c) => {
      const { user, row } = await routeToken(c, db);
      const [model] = await tokenModels(db, user, [row]);
      return c.json(model);
    },
  );
  app.delete(
    "/users/:user_name/tokens/:token_id",
    needs("tokens"),
    (c) => revokeOneRoute(c, deps),
  );
  // onehub: revoke everything at once (an admin's "revoke" button, a lost laptop).
  app.delete(
    "/users/:user_name/tokens",
    needs("tokens"),
    (c) => revokeAllRoute(c, deps, "tokens"),
  );
  app.delete(
    "/users/:user_name/sessions",
    needs("tokens"),
    (c) => revokeAllRoute(c, deps, "sessions"),
  );
  return app;
}

/** The token the route's `:user_name` and `:token_id` name, or a 404. */
function routeToken(
  c: Context<HubEnv>,
  db: Db,
): Promise<{ user: UserRow; row: ApiTokenRow }> {
  return findToken(db, routeParam(c, "user_name"), routeParam(c, "token_id"));
}

async function findToken(
  db: Db,
  name: string,
  wireId: string,
): Promise<{ user: UserRow; row: ApiTokenRow }> {
  const user = await requireUser(db, name);
  const id = tokenIdFromWire(wireId);
  const row = id === null ? undefined : await tokenOfUser(db, user.id, id);
  if (!row) {
    throw new HubError(
      404,
      `No such token ${short(wireId)} for user ${user.name}`,
    );
  }
  return { user, row };
}
