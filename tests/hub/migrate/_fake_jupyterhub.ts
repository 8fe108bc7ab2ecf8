/**
 * A small stateful JupyterHub 5 on loopback for the migration tests: the
 * REST routes `onehub export/import jupyterhub` call, with JupyterHub
 * 5.2.1's answers (apihandlers/users.py, groups.py, shares.py): pagination
 * with `application/jupyterhub-pagination+json`, scope checks with its 403
 * words, 409 for what exists, 400 for an unknown user, the default server
 * record made with every user, named servers only when listed in `servers`.
 * Names starting with "bad" are invalid usernames (400), as a stand-in for
 * an Authenticator's validate_username.
 *
 * @module
 */

/** One user of the fake hub. */
export interface FakeUser {
  admin: boolean;
  roles: string[];
  /** Server names with a record (the default "" always has one). */
  servers: string[];
}

/** One group. */
export interface FakeGroup {
  users: string[];
  properties: Record<string, unknown>;
  roles: string[];
}

/** One share. */
export interface FakeShare {
  owner: string;
  server: string;
  user: string | null;
  group: string | null;
  scopes: string[];
}

/** Who a token is. */
export interface FakeToken {
  kind: "user" | "service";
  name: string;
  admin: boolean;
  scopes: string[];
}

/** Every scope an admin's token holds here (expanded, as GET /user lists them). */
export const ADMIN_SCOPES = [
  "admin:users",
  "admin:groups",
  "groups",
  "list:users",
  "read:users",
  "list:groups",
  "read:groups",
  "read:servers",
  "read:roles:users",
  "read:roles:groups",
  "shares",
  "read:shares",
];

/** The fake's state, open to the test. */
export interface FakeState {
  version: string;
  users: Map<string, FakeUser>;
  groups: Map<string, FakeGroup>;
  shares: FakeShare[];
  tokens: Map<string, FakeToken>;
  /** Every request as `METHOD /path` (without the API prefix or query). */
  requests: string[];
}

/** A running fake JupyterHub. */
export interface FakeJupyterHub extends AsyncDisposable {
  /** Its public address (`http://127.0.0.1:PORT/`). */
  url: string;
  state: FakeState;
  /** The write requests so far (not GET). */
  writes(): string[];
}

type Json = Record<string, unknown>;

function json(body: unknown, status = 200): Response {
  return new Response(JSON.stringify(body), {
    status,
    headers: { "content-type": "application/json; charset=UTF-8" },
  });
}

function error(status: number, message: string): Response {
  return json({ status, message }, status);
}

/** JupyterHub's paginated answer, or the bare list without the media type. */
function page(items: unknown[], url: URL, req: Request): Response {
  const offset = Number(url.searchParams.get("offset") ?? 0);
  const limit = Math.min(Number(url.searchParams.get("limit") ?? 200), 200);
  const slice = items.slice(offset, offset + limit);
  const paginated = (req.headers.get("accept") ?? "").includes(
    "application/jupyterhub-pagination+json",
  );
  if (!paginated && !url.pathname.includes("/shares/")) return json(slice);
  const next = offset + limit < items.length
    ? { offset: offset + limit, limit, url: "" }
    : null;
  return json({
    items: slice,
    _pagination: { offset, limit, total: items.length, next },
  });
}

function userModel(state: FakeState, name: string, u: FakeUser): Json {
  return {
    kind: "user",
    name,
    admin: u.admin,
    roles: ["user", ...(u.admin ? ["admin"] : []), ...u.roles],
    groups: [...state.groups].filter(([, g]) => g.users.includes(name)).map((
      [n],
    ) => n),
  };
}

function shareModel(s: FakeShare): Json {
  return {
    server: { name: s.server, user: { name: s.owner } },
    scopes: s.scopes,
    user: s.user === null ? null : { name: s.user },
    group: s.group === null ? null : { name: s.group },
    kind: s.user === null ? "group" : "user",
  };
}

interface Call {
  state: FakeState;
  who: FakeToken;
  req: Request;
  url: URL;
  m: RegExpExecArray;
  body: Json;
}

type Route = [
  method: string,
  path: RegExp,
  scope: string,
  handler: (call: Call) => Response,
];

const d = decodeURIComponent;

function findUser(call: Call, name: string): FakeUser | Response {
  return call.state.users.get(name) ?? error(404, `No such user: ${name}`);
}

function createUser(call: Call): Response {
  const name = d(call.m[1]!);
  if (call.state.users.has(name)) {
    return error(409, `User ${name} already exists`);
  }
  if (name.startsWith("bad")) return error(400, `Invalid username: ${name}`);
  if (call.body.admin && !call.who.admin) {
    return error(403, "Only admins can grant admin permissions");
  }
  const u = { admin: call.body.admin === true, roles: [], servers: [""] };
  call.state.users.set(name, u);
  return json(userModel(call.state, name, u), 201);
}

function patchUser(call: Call): Response {
  const u = findUser(call, d(call.m[1]!));
  if (u instanceof Response) return u;
  if (call.body.admin && !call.who.admin) {
    return error(403, "Only admins can grant admin permissions");
  }
  if (typeof call.body.admin === "boolean") u.admin = call.body.admin;
  return json(userModel(call.state, d(call.m[1]!), u));
}

function getUser(call: Call): Response {
  const name = d(call.m[1]!);
  const u = findUser(call, name);
  if (u instanceof Response) return u;
  const servers = Object.fromEntries(u.servers.map((s) => [s, { name: s }]));
  return json({ ...userModel(call.state, name, u), servers });
}

function members(call: Call, users: unknown): string[] | Response {
  const names = Array.isArray(users) ? users.map(String) : [];
  const unknown = names.find((n) => !call.state.users.has(n));
  return unknown === undefined ? names : error(400, `No such user: ${unknown}`);
}

function createGroup(call: Call): Response {
  const name = d(call.m[1]!);
  if (call.state.groups.has(name)) {
    return error(409, `Group ${name} already exists`);
  }
  const users = members(call, call.body.users);
  if (users instanceof Response) return users;
  call.state.groups.set(name, { users, properties: {}, roles: [] });
  return json({ name }, 201);
}

function addGroupUsers(call: Call): Response {
  const g = call.state.groups.get(d(call.m[1]!));
  if (!g) return error(404, "No such group");
  const users = members(call, call.body.users);
  if (users instanceof Response) return users;
  for (const u of users) if (!g.users.includes(u)) g.users.push(u);
  return json({ name: d(call.m[1]!) });
}

function putProperties(call: Call): Response {
  const g = call.state.groups.get(d(call.m[1]!));
  if (!g) return error(404, "No such group");
  g.properties = call.body;
  return json({ name: d(call.m[1]!), properties: g.properties });
}

function grantShare(call: Call): Response {
  const [owner, server] = [d(call.m[1]!), d(call.m[2]!)];
  const u = call.state.users.get(owner);
  if (!u || !u.servers.includes(server)) {
    return error(404, `No such server: ${owner}/${server}`);
  }
  const user = (call.body.user as string | undefined) ?? null;
  const group = (call.body.group as string | undefined) ?? null;
  if (user !== null && !call.state.users.has(user)) {
    return error(400, `No such user: ${user}`);
  }
  const scopes = ((call.body.scopes as string[] | undefined) ??
    ["access:servers"]).map((s) =>
      `${s.split("!")[0]}!server=${owner}/${server}`
    );
  let share = call.state.shares.find((s) =>
    s.owner === owner && s.server === server && s.user === user &&
    s.group === group
  );
  if (!share) {
    share = { owner, server, user, group, scopes: [] };
    call.state.shares.push(share);
  }
  share.scopes = [...new Set([...share.scopes, ...scopes])].sort();
  return json(shareModel(share));
}

/** A model without `roles` when the token may not read them (JupyterHub's model filter). */
function visible(call: Call, model: Json, scope: string): Json {
  if (call.who.scopes.includes(scope)) return model;
  const { roles: _, ...rest } = model;
  return rest;
}

const ROUTES: Route[] = [
  ["GET", /^users$/, "list:users", (c) =>
    page(
      [...c.state.users].map(([n, u]) =>
        visible(c, userModel(c.state, n, u), "read:roles:users")
      ),
      c.url,
      c.req,
    )],
  ["POST", /^users\/([^/]+)$/, "admin:users", createUser],
  ["PATCH", /^users\/([^/]+)$/, "admin:users", patchUser],
  ["GET", /^users\/([^/]+)$/, "read:users", getUser],
  ["GET", /^groups$/, "list:groups", (c) =>
    page(
      [...c.state.groups].map(([name, g]) =>
        visible(c, { kind: "group", name, ...g }, "read:roles:groups")
      ),
      c.url,
      c.req,
    )],
  ["POST", /^groups\/([^/]+)$/, "admin:groups", createGroup],
  ["POST", /^groups\/([^/]+)\/users$/, "groups", addGroupUsers],
  ["PUT", /^groups\/([^/]+)\/properties$/, "groups", putProperties],
  ["GET", /^shares\/([^/]+)$/, "read:shares", (c) =>
    page(
      c.state.shares.filter((s) => s.owner === d(c.m[1]!)).map(shareModel),
      c.url,
      c.req,
    )],
  ["POST", /^shares\/([^/]+)\/([^/]*)$/, "shares", grantShare],
];

async function handle(state: FakeState, req: Request): Promise<Response> {
  const url = new URL(req.url);
  if (!url.pathname.startsWith("/hub/api/")) return error(404, "Not Found");
  const path = url.pathname.slice("/hub/api/".length);
  state.requests.push(`${req.method} /${path}`);
  if (path === "" && req.method === "GET") {
    return json({ version: state.version });
  }
  const auth = req.headers.get("authorization") ?? "";
  const who = state.tokens.get(auth.replace(/^token /, ""));
  if (!who) return error(403, "Missing or invalid credentials.");
  if (path === "user" && req.method === "GET") return json(who);
  const text = await req.text();
  const body = text ? JSON.parse(text) as Json : {};
  for (const [method, pattern, scope, handler] of ROUTES) {
    const m = pattern.exec(path);
    if (!m || method !== req.method) continue;
    if (!who.scopes.includes(scope)) {
      return error(
        403,
        `Action is not authorized with current scopes; requires any of [${scope}]`,
      );
    }
    return handler({ state, who, req, url, m, body });
  }
  return error(404, "Not Found");
}

/** The admin token every fake accepts unless told otherwise. */
export const ADMIN_TOKEN = "admin-token";

/** Starts a fake JupyterHub with `state` (merged over an empty hub with an admin token). */
export function startFakeJupyterHub(
  state: Partial<FakeState> = {},
): FakeJupyterHub {
  const full: FakeState = {
    version: "5.2.1",
    users: new Map(),
    groups: new Map(),
    shares: [],
    tokens: new Map([[ADMIN_TOKEN, {
      kind: "user",
      name: "admin",
      admin: true,
      scopes: ADMIN_SCOPES,
    }]]),
    requests: [],
    ...state,
  };
  const stop = new AbortController();
  const server = Deno.serve({
    hostname: "127.0.0.1",
    port: 0,
    signal: stop.signal,
    onListen: () => {},
  }, (req) => handle(full, req));
  return {
    url: `http://127.0.0.1:${server.addr.port}/`,
    state: full,
    writes: () => full.requests.filter((r) => !r.startsWith("GET ")),
    async [Symbol.asyncDispose]() {
      stop.abort();
      await server.finished;
    },
  };
}
