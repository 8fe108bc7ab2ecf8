import assert from "node:assert/strict";
import { Hono } from "hono";
import { createTestHub, type TestHub } from "../../_helpers/test_hub.ts";
import {
  addServer,
  assertError,
  body,
  countRows,
  gatedBody,
  obj,
  PAGINATED,
  serverToken as ownServerToken,
  userRow,
} from "./_fixtures.ts";
import { assertAnswer, errorSteps } from "../../_helpers/api_cases.ts";
import { adminToken, tableRows, userToken } from "../../_helpers/api_setup.ts";
import { createUsersApi } from "../../../hub/api/users.ts";
import { HubError } from "../../../hub/errors.ts";
import type { HubEnv } from "../../../hub/middleware/identity.ts";
import type { Identity } from "../../../hub/auth/identity.ts";
import { createAuthenticator } from "../../../hub/auth/mod.ts";
import { silentLogger } from "../../../hub/observe/log.ts";
import { EventLog } from "../../../hub/observe/events.ts";
import { parseScopes } from "../../../hub/rbac/scopes.ts";
import { getUser } from "../../../hub/db/users.ts";
import { authStateBoxFromSecret } from "../../../hub/auth/auth_state.ts";
import { assertStatus } from "../../_helpers/responses.ts";

async function names(res: Response): Promise<string[]> {
  assert.equal(res.status, 200);
  const list = await body(res) as Array<{ name: string }>;
  return list.map((u) => u.name);
}

/** The names `GET /hub/api/users?<query>` lists. */
async function listed(
  hub: TestHub,
  token: string,
  query: string,
): Promise<string[]> {
  return await names(await hub.request(`/hub/api/users?${query}`, { token }));
}

async function setActivity(hub: TestHub, name: string, at: string | null) {
  await hub.handle.db.updateTable("users").set({ "last_activity": at }).where(
    "name",
    "=",
    name,
  ).execute();
}

/** The token a singleuser server gets: activity does not count as the user's. */
function serverToken(hub: TestHub, name: string): Promise<string> {
  return ownServerToken(hub, name, [
    "users:activity!user",
    `access:servers!server=${name}/`,
  ]);
}

// ---- GET /users: list, pagination ----

Deno.test("GET /hub/api/users returns a bare list of full user models without the pagination Accept header", async () => {
  await using hub = await createTestHub();
  const token = await adminToken(hub);
  await hub.addUser("alice");
  const res = await hub.request("/hub/api/users", { token });
  assert.equal(res.status, 200);
  const list = await body(res) as Record<string, unknown>[];
  assert.ok(Array.isArray(list));
  assert.deepEqual(list.map((u) => u.name), ["admin", "alice"]);
  assert.deepEqual(list[1], {
    kind: "user",
    name: "alice",
    admin: false,
    roles: ["user"],
    groups: [],
    server: null,
    pending: null,
    created: "2026-11-25T12:00:00.000Z",
    "last_activity": null,
    "auth_state": null,
    servers: {},
  });
});

Deno.test("GET /hub/api/users returns the envelope with an absolute next.url keeping other query arguments", async () => {
  await using hub = await createTestHub();
  const token = await adminToken(hub);
  for (const n of ["u1", "u2", "u3"]) await hub.addUser(n);
  const res = await hub.request(
    "/hub/api/users?name_filter=u&limit=2&sort=name",
    { token, headers: { ...PAGINATED, host: "hub.example.org:8443" } },
  );
  assert.equal(res.status, 200);
  const page = await obj(res);
  assert.deepEqual(
    (page.items as Array<{ name: string }>).map((u) => u.name),
    ["u1", "u2"],
  );
  const pagination = page._pagination as Record<string, unknown>;
  assert.equal(pagination.offset, 0);
  assert.equal(pagination.limit, 2);
  assert.equal(pagination.total, 3);
  const next = pagination.next as Record<string, unknown>;
  assert.equal(next.offset, 2);
  assert.equal(next.limit, 2);
  const url = new URL(next.url as string);
  assert.equal(url.origin, "http://hub.example.org:8443");
  assert.equal(url.pathname, "/hub/api/users");
  assert.equal(url.searchParams.get("name_filter"), "u");
  assert.equal(url.searchParams.get("sort"), "name");
  assert.equal(url.searchParams.get("offset"), "2");
  assert.equal(url.searchParams.get("limit"), "2");
});

Deno.test("GET /hub/api/users following next.url reaches a last page whose next is null", async () => {
  await using hub = await createTestHub();
  const token = await adminToken(hub);
  for (const n of ["u1", "u2", "u3"]) await hub.addUser(n);
  const first = await obj(
    await hub.request("/hub/api/users?limit=2", { token, headers: PAGINATED }),
  );
  const next = (first._pagination as { next: { url: string } }).next;
  const url = new URL(next.url);
  const res = await hub.request(url.pathname + url.search, {
    token,
    headers: PAGINATED,
  });
  const page = await obj(res);
  assert.deepEqual(
    (page.items as Array<{ name: string }>).map((u) => u.name),
    ["u2", "u3"],
  );
  assert.deepEqual(page._pagination, {
    offset: 2,
    limit: 2,
    total: 4,
    next: null,
  });
});

Deno.test("GET /hub/api/users clamps limit to [1, page_max_limit] and takes absolute values", async (t) => {
  await using hub = await createTestHub({
    api: { page_default_limit: 2, page_max_limit: 3 },
  });
  const token = await adminToken(hub);
  for (const n of ["u1", "u2", "u3", "u4"]) await hub.addUser(n);
  const rows: Array<[string, { offset: number; limit: number }]> = [
    ["", { offset: 0, limit: 2 }],
    ["?limit=0", { offset: 0, limit: 1 }],
    ["?limit=1000", { offset: 0, limit: 3 }],
    ["?limit=-2", { offset: 0, limit: 2 }],
    ["?offset=-1&limit=1", { offset: 1, limit: 1 }],
    ["?offset=&limit=", { offset: 0, limit: 2 }],
    ["?offset=100", { offset: 100, limit: 2 }],
  ];
  for (const [query, expected] of rows) {
    await t.step(query || "(no arguments)", async () => {
      const page = await obj(
        await hub.request(`/hub/api/users${query}`, {
          token,
          headers: PAGINATED,
        }),
      );
      const p = page._pagination as { offset: number; limit: number };
      assert.deepEqual({ offset: p.offset, limit: p.limit }, expected);
      assert.equal(
        (page.items as unknown[]).length,
        Math.max(0, Math.min(expected.limit, 5 - expected.offset)),
      );
    });
  }
});

Deno.test("GET /hub/api/users without the envelope uses page_max_limit as the default limit", async () => {
  await using hub = await createTestHub({
    api: { page_default_limit: 2, page_max_limit: 3 },
  });
  const token = await adminToken(hub);
  for (const n of ["u1", "u2", "u3", "u4"]) await hub.addUser(n);
  assert.deepEqual(
    await names(await hub.request("/hub/api/users", { token })),
    ["admin", "u1", "u2"],
  );
});

// ---- GET /users: state, name_filter, sort, include_stopped_servers ----

async function stateHub(hub: TestHub) {
  await hub.addUser("running");
  await addServer(hub, "running", { status: "running" });
  await hub.addUser("spawning");
  await addServer(hub, "spawning", { status: "spawning" });
  await hub.addUser("stopping");
  await addServer(hub, "stopping", { status: "stopping" });
  await hub.addUser("stopped");
  await addServer(hub, "stopped", { status: "stopped" });
  await hub.addUser("serverless");
}

Deno.test("GET /hub/api/users filters by state=active, ready and inactive", async (t) => {
  await using hub = await createTestHub();
  const token = await adminToken(hub);
  await stateHub(hub);
  const rows: Array<[string, string[]]> = [
    ["active", ["running", "spawning", "stopping"]],
    ["ready", ["running"]],
    ["inactive", ["admin", "stopped", "serverless"]],
    ["", ["admin", "running", "spawning", "stopping", "stopped", "serverless"]],
  ];
  for (const [state, expected] of rows) {
    await t.step(`state=${state}`, async () => {
      assert.deepEqual(await listed(hub, token, `state=${state}`), expected);
    });
  }
});

Deno.test("GET /hub/api/users with state=ready counts the total before the ready post-filter", async () => {
  await using hub = await createTestHub();
  const token = await adminToken(hub);
  await stateHub(hub);
  const page = await obj(
    await hub.request("/hub/api/users?state=ready&limit=2", {
      token,
      headers: PAGINATED,
    }),
  );
  assert.deepEqual(
    (page.items as Array<{ name: string }>).map((u) => u.name),
    ["running"],
  );
  const p = page._pagination as { total: number; next: unknown };
  assert.equal(p.total, 3);
  assert.notEqual(p.next, null);
});

Deno.test("GET /hub/api/users matches name_filter case-insensitively and literally", async (t) => {
  await using hub = await createTestHub();
  const token = await adminToken(hub);
  for (const n of ["alice", "malik", "bob", "a_b", "axb", "50%off"]) {
    await hub.addUser(n);
  }
  const rows: Array<[string, string[]]> = [
    ["ALI", ["alice", "malik"]],
    ["a_b", ["a_b"]],
    ["%", ["50%off"]],
    ["zzz", []],
    ["", ["admin", "alice", "malik", "bob", "a_b", "axb", "50%off"]],
  ];
  for (const [filter, expected] of rows) {
    await t.step(`name_filter=${filter}`, async () => {
      const query = `name_filter=${encodeURIComponent(filter)}`;
      assert.deepEqual(await listed(hub, token, query), expected);
    });
  }
});

Deno.test("GET /hub/api/users sorts by id, name and last_activity, with '-' for descending", async (t) => {
  await using hub = await createTestHub();
  const token = await adminToken(hub);
  await hub.addUser("u-carol");
  await hub.addUser("u-alice");
  await hub.addUser("u-bob");
  await hub.addUser("u-dan");
  await setActivity(hub, "u-carol", "2026-11-25T10:00:00.000Z");
  await setActivity(hub, "u-alice", "2026-11-25T11:00:00.000Z");
  await setActivity(hub, "u-bob", null);
  await setActivity(hub, "u-dan", "2026-11-25T09:00:00.000Z");
  const rows: Array<[string, string[]]> = [
    ["", ["u-carol", "u-alice", "u-bob", "u-dan"]],
    ["id", ["u-carol", "u-alice", "u-bob", "u-dan"]],
    ["-id", ["u-dan", "u-bob", "u-alice", "u-carol"]],
    ["name", ["u-alice", "u-bob", "u-carol", "u-dan"]],
    ["-name", ["u-dan", "u-carol", "u-bob", "u-alice"]],
    // Never-active users first when ascending, last when descending.
    ["last_activity", ["u-bob", "u-dan", "u-carol", "u-alice"]],
    ["-last_activity", ["u-alice", "u-carol", "u-dan", "u-bob"]],
  ];
  for (const [sort, expected] of rows) {
    await t.step(`sort=${sort || "(default)"}`, async () => {
      const query = sort ? `&sort=${sort}` : "";
      assert.deepEqual(
        await listed(hub, token, `name_filter=u-${query}`),
        expected,
      );
    });
  }
});

Deno.test("GET /hub/api/users shows stopped servers only with include_stopped_servers", async (t) => {
  await using hub = await createTestHub();
  const token = await adminToken(hub);
  await hub.addUser("alice");
  await addServer(hub, "alice", { name: "", status: "running" });
  await addServer(hub, "alice", { name: "old", status: "stopped" });
  const rows: Array<[string, string[]]> = [
    ["", [""]],
    ["&include_stopped_servers", ["", "old"]],
    ["&include_stopped_servers=1", ["", "old"]],
    ["&include_stopped_servers=true", ["", "old"]],
    ["&include_stopped_servers=0", [""]],
    ["&include_stopped_servers=false", [""]],
  ];
  for (const [query, expected] of rows) {
    await t.step(query || "(absent)", async () => {
      const [alice] = await body(
        await hub.request(`/hub/api/users?name_filter=alice${query}`, {
          token,
        }),
      ) as Array<{ servers: Record<string, unknown> }>;
      assert.deepEqual(Object.keys(alice!.servers).sort(), expected);
    });
  }
});

Deno.test("GET /hub/api/users gives the server model with JupyterHub's field names", async () => {
  await using hub = await createTestHub();
  const token = await adminToken(hub);
  await hub.addUser("alice");
  await addServer(hub, "alice", { status: "running", state: { pid: 42 } });
  const [alice] = await body(
    await hub.request("/hub/api/users?name_filter=alice", { token }),
  ) as Array<Record<string, unknown>>;
  assert.equal(alice!.server, "/user/alice/");
  assert.equal(alice!.pending, null);
  const server = (alice!.servers as Record<string, Record<string, unknown>>)[
    ""
  ]!;
  assert.deepEqual(server, {
    name: "",
    "full_name": "alice/",
    "last_activity": null,
    started: "2026-11-25T12:00:00.000Z",
    pending: null,
    ready: true,
    stopped: false,
    url: "/user/alice/",
    "user_options": {},
    "progress_url": "/hub/api/users/alice/server/progress",
    "full_url": null,
    "full_progress_url": null,
    state: { pid: 42 },
  });
});

// ---- GET /users: scopes ----

Deno.test("GET /hub/api/users with list:users!user=x lists only that user", async () => {
  await using hub = await createTestHub();
  await adminToken(hub);
  for (const n of ["alice", "bob", "carol"]) await hub.addUser(n);
  const token = await hub.tokenFor("admin", ["list:users!user=bob"]);
  const res = await hub.request("/hub/api/users", {
    token,
    headers: PAGINATED,
  });
  const page = await obj(res);
  assert.deepEqual(page.items, [{ kind: "user", name: "bob", admin: false }]);
  assert.equal((page._pagination as { total: number }).total, 1);
});

Deno.test("GET /hub/api/users with list:users!group=g lists only members of g", async () => {
  await using hub = await createTestHub();
  const admin = await adminToken(hub);
  for (const n of ["alice", "bob", "carol"]) await hub.addUser(n);
  await assertAnswer(hub, {
    send: "POST /hub/api/groups/g",
    token: admin,
    json: { users: ["alice", "carol"] },
    status: 201,
  });
  const token = await hub.tokenFor("admin", [
    "list:users!group=g",
    "read:users!group=g",
  ]);
  const list = await body(
    await hub.request("/hub/api/users", { token }),
  ) as Array<Record<string, unknown>>;
  assert.deepEqual(list.map((u) => u.name), ["alice", "carol"]);
  assert.deepEqual(list[0]!.groups, ["g"]);
});

Deno.test("GET /hub/api/users gives the culler's role exactly the fields it unlocks", async () => {
  await using hub = await createTestHub();
  await adminToken(hub);
  await hub.addUser("alice");
  await addServer(hub, "alice", { status: "running" });
  const token = await hub.tokenFor("admin", [
    "list:users",
    "read:users:activity",
    "read:servers",
    "delete:servers",
  ]);
  const [alice] = await body(
    await hub.request("/hub/api/users?name_filter=alice", { token }),
  ) as Array<Record<string, unknown>>;
  assert.deepEqual(Object.keys(alice!).sort(), [
    "admin",
    "kind",
    "last_activity",
    "name",
    "servers",
  ]);
  // Without admin:server_state the spawner state stays hidden.
  const server = (alice!.servers as Record<string, Record<string, unknown>>)[
    ""
  ]!;
  assert.equal("state" in server, false);
});

// ---- GET /users/{name} ----

Deno.test("GET /hub/api/users/:name trims the model to the fields the caller's scopes unlock", async (t) => {
  await using hub = await createTestHub();
  await adminToken(hub);
  await hub.addUser("alice");
  const rows: Array<[string, string[]]> = [
    ["read:users:activity", ["kind", "last_activity", "name"]],
    ["read:users:name", ["admin", "kind", "name"]],
    ["read:users:groups", ["groups", "kind", "name"]],
    ["read:servers", ["admin", "kind", "name", "servers"]],
    ["read:roles:users", ["admin", "kind", "name", "roles"]],
    // admin:auth_state alone does not open the endpoint (as in JupyterHub).
    ["admin:auth_state read:users:name", [
      "admin",
      "auth_state",
      "kind",
      "name",
    ]],
    ["read:users", [
      "admin",
      "created",
      "groups",
      "kind",
      "last_activity",
      "name",
      "pending",
      "roles",
      "server",
    ]],
  ];
  for (const [scope, keys] of rows) {
    await t.step(scope, async () => {
      const token = await hub.tokenFor("admin", scope.split(" "));
      const res = await hub.request("/hub/api/users/alice", { token });
      assert.equal(res.status, 200);
      assert.deepEqual(Object.keys(await obj(res)).sort(), keys);
    });
  }
});

Deno.test("GET /hub/api/users/:name refuses a token scoped to another user with 404", async () => {
  await using hub = await createTestHub();
  await hub.addUser("alice");
  await hub.addUser("bob");
  const token = await hub.tokenFor("alice", ["read:users!user=alice"]);
  await assertError(
    await hub.request("/hub/api/users/bob", { token }),
    404,
    /^No access to resources or resources not found$/,
  );
  const own = await hub.request("/hub/api/users/alice", { token });
  assert.equal(own.status, 200);
  assert.equal((await obj(own)).name, "alice");
});

Deno.test("GET /hub/api/users/:name grants a group-filtered scope to members only", async () => {
  await using hub = await createTestHub();
  const admin = await adminToken(hub);
  await hub.addUser("alice");
  await hub.addUser("bob");
  const made = await hub.request("/hub/api/groups/g", {
    method: "POST",
    token: admin,
    json: { users: ["alice"] },
  });
  await made.body?.cancel();
  const token = await hub.tokenFor("admin", ["read:users!group=g"]);
  const member = await hub.request("/hub/api/users/alice", { token });
  assert.equal(member.status, 200);
  assert.deepEqual((await obj(member)).groups, ["g"]);
  await assertError(
    await hub.request("/hub/api/users/bob", { token }),
    404,
    /^No access to resources or resources not found$/,
  );
});

Deno.test("GET /hub/api/users/:name shows stopped servers only with include_stopped_servers", async () => {
  await using hub = await createTestHub();
  const token = await adminToken(hub);
  await hub.addUser("alice");
  await addServer(hub, "alice", { name: "old", status: "stopped" });
  const plain = await obj(await hub.request("/hub/api/users/alice", { token }));
  assert.deepEqual(plain.servers, {});
  const all = await obj(
    await hub.request("/hub/api/users/alice?include_stopped_servers", {
      token,
    }),
  );
  const old = (all.servers as Record<string, Record<string, unknown>>).old!;
  assert.equal(old.stopped, true);
  assert.equal(old.ready, false);
  assert.equal(old.url, "/user/alice/old/");
  assert.equal(old.progress_url, "/hub/api/users/alice/servers/old/progress");
});

Deno.test("GET /hub/api/users/:name fills auth_state for admin:auth_state", async () => {
  await using hub = await createTestHub();
  const token = await adminToken(hub);
  await hub.addUser("alice");
  await hub.handle.db.updateTable("users").set({
    "auth_state": JSON.stringify({ k: 1 }),
  }).where("name", "=", "alice").execute();
  const model = await obj(
    await hub.request("/hub/api/users/alice", { token }),
  );
  assert.deepEqual(model.auth_state, { k: 1 });
});

Deno.test("auth_state is stored sealed: PATCH writes ciphertext, GET opens it, another row's copy does not open", async () => {
  await using hub = await createTestHub();
  const token = await adminToken(hub);
  await hub.addUser("alice");
  await hub.addUser("bob");
  const secret = { "access_token": "provider-secret-token-123" };
  const res = await hub.request("/hub/api/users/alice", {
    method: "PATCH",
    token,
    json: { "auth_state": secret },
  });
  assert.equal(res.status, 200);
  assert.deepEqual((await obj(res)).auth_state, secret);
  const stored = (await getUser(hub.handle.db, "alice"))!.auth_state!;
  assert.match(stored, /^v1:[0-9a-f]{8}:/);
  assert.ok(!stored.includes("provider-secret"), stored);
  const model = await obj(await hub.request("/hub/api/users/alice", { token }));
  assert.deepEqual(model.auth_state, secret);
  // Lists leave it null, as JupyterHub's do (and open nothing).
  const list = await body(
    await hub.request("/hub/api/users", { token }),
  ) as Array<
    Record<string, unknown>
  >;
  assert.equal(list.find((u) => u.name === "alice")!.auth_state, null);
  // The same sealed text on bob's row is bound to alice's id: it does not open.
  await hub.handle.db.updateTable("users").set({ "auth_state": stored })
    .where("name", "=", "bob").execute();
  const bob = await obj(await hub.request("/hub/api/users/bob", { token }));
  assert.equal(bob.auth_state, null);
  // POST with auth_state seals per created user.
  const made = await hub.request("/hub/api/users", {
    method: "POST",
    token,
    json: { usernames: ["carol"], "auth_state": { k: 2 } },
  });
  assert.equal(made.status, 201);
  assert.match(
    (await getUser(hub.handle.db, "carol"))!.auth_state!,
    /^v1:/,
  );
  const carol = await obj(await hub.request("/hub/api/users/carol", { token }));
  assert.deepEqual(carol.auth_state, { k: 2 });
});

// ---- POST /users ----

Deno.test("POST /hub/api/users creates the new users and answers 201 with only those", async () => {
  await using hub = await createTestHub();
  const token = await adminToken(hub);
  await hub.addUser("alice");
  const res = await hub.request("/hub/api/users", {
    method: "POST",
    token,
    json: { usernames: ["alice", "Bob", "carol", "carol"] },
  });
  assert.equal(res.status, 201);
  const created = await body(res) as Array<Record<string, unknown>>;
  assert.deepEqual(created.map((u) => u.name), ["bob", "carol"]);
  assert.equal(created[0]!.admin, false);
  assert.equal(created[0]!.kind, "user");
  assert.equal(await countRows(hub, "users"), 4);
});

Deno.test("POST /hub/api/users with admin:true creates admins when the caller is an admin", async () => {
  await using hub = await createTestHub();
  const token = await adminToken(hub);
  const res = await hub.request("/hub/api/users", {
    method: "POST",
    token,
    json: { usernames: ["root2"], admin: true },
  });
  const [model] = await body(res) as Array<Record<string, unknown>>;
  assert.equal(res.status, 201);
  assert.equal(model!.admin, true);
  assert.deepEqual(model!.roles, ["user", "admin"]);
  assert.equal((await userRow(hub, "root2"))!.admin, 1);
});

/**
 * The users routes with a caller that holds admin:users without being an
 * admin user (as a service given the admin:users scope would).
 */
function asNonAdminManager(hub: TestHub) {
  const identity: Identity = {
    kind: "service",
    name: "manager",
    userId: null,
    admin: false,
    via: "token",
    tokenId: null,
    sessionId: null,
    scopes: new Set(["admin:users", "users", "read:users", "list:users"]),
    parsed: parseScopes([
      "admin:users",
      "users",
      "read:users",
      "list:users",
      "read:users:name",
    ]),
    groups: [],
  };
  const app = new Hono<HubEnv>();
  app.onError((error, c) => {
    const status = error instanceof HubError ? error.status : 500;
    // deno-lint-ignore no-explicit-any
    return c.json({ status, message: error.message }, status as any);
  });
  app.use("*", async (c, next) => {
    c.set("identity", identity);
    c.set("xsrf", "");
    await next();
  });
  app.route(
    "/",
    createUsersApi({
      db: hub.handle.db,
      config: hub.config,
      authenticator: createAuthenticator(hub.config),
      logger: silentLogger,
      events: new EventLog({ db: hub.handle.db, logger: silentLogger }),
      now: () => hub.now,
      authState: authStateBoxFromSecret(new Uint8Array(32)),
      version: "5.3.0",
    }),
  );
  return (path: string, init: RequestInit) =>
    app.request("http://127.0.0.1" + path, {
      ...init,
      headers: { "content-type": "application/json" },
    });
}

Deno.test("POST /hub/api/users answers 403 to admin:true from a caller that is not an admin", async () => {
  await using hub = await createTestHub();
  const request = asNonAdminManager(hub);
  await assertError(
    await request("/users", {
      method: "POST",
      body: JSON.stringify({ usernames: ["eve"], admin: true }),
    }),
    403,
    /^Only admins can grant admin permissions$/,
  );
  assert.equal(await countRows(hub, "users"), 0);
  await assertStatus(
    await request("/users", {
      method: "POST",
      body: JSON.stringify({ usernames: ["eve"] }),
    }),
    201,
  );
});

Deno.test("PATCH /hub/api/users/:name answers 403 when a non-admin caller touches an admin", async () => {
  await using hub = await createTestHub();
  await hub.addUser("root", { admin: true });
  await hub.addUser("alice");
  const request = asNonAdminManager(hub);
  await assertError(
    await request("/users/root", {
      method: "PATCH",
      body: JSON.stringify({ name: "r00t" }),
    }),
    403,
    /^Only admins can/,
  );
  await assertError(
    await request("/users/alice", {
      method: "PATCH",
      body: JSON.stringify({ admin: true }),
    }),
    403,
    /^Only admins can/,
  );
  assert.equal((await userRow(hub, "alice"))!.admin, 0);
  assert.ok(await userRow(hub, "root"));
});

// ---- POST /users/{name} ----

Deno.test("POST /hub/api/users/:name creates one user and answers 201", async () => {
  await using hub = await createTestHub();
  const token = await adminToken(hub);
  const res = await hub.request("/hub/api/users/alice", {
    method: "POST",
    token,
  });
  assert.equal(res.status, 201);
  const model = await obj(res);
  assert.equal(model.name, "alice");
  assert.equal(model.admin, false);
  assert.ok(await userRow(hub, "alice"));
});

Deno.test("POST /hub/api/users/:name with {admin: true} creates an admin", async () => {
  await using hub = await createTestHub();
  const token = await adminToken(hub);
  const res = await hub.request("/hub/api/users/boss", {
    method: "POST",
    token,
    json: { admin: true },
  });
  assert.equal(res.status, 201);
  assert.equal((await obj(res)).admin, true);
});

// ---- PATCH /users/{name} ----

Deno.test("PATCH /hub/api/users/:name renames a user and ends their login sessions", async () => {
  await using hub = await createTestHub();
  const token = await adminToken(hub);
  await hub.addUser("alice");
  const { cookie } = await hub.login("alice");
  assert.equal(await countRows(hub, "login_sessions"), 1);
  const res = await hub.request("/hub/api/users/alice", {
    method: "PATCH",
    token,
    json: { name: "alicia" },
  });
  assert.equal(res.status, 200);
  assert.equal((await obj(res)).name, "alicia");
  assert.equal(await userRow(hub, "alice"), undefined);
  assert.ok(await userRow(hub, "alicia"));
  assert.equal(await countRows(hub, "login_sessions"), 0);
  const who = await hub.request("/hub/api/user", { headers: { cookie } });
  await assertError(who, 403);
});

Deno.test("PATCH /hub/api/users/:name grants and revokes admin", async () => {
  await using hub = await createTestHub();
  const token = await adminToken(hub);
  await hub.addUser("alice");
  const up = await hub.request("/hub/api/users/alice", {
    method: "PATCH",
    token,
    json: { admin: true },
  });
  assert.equal(up.status, 200);
  const model = await obj(up);
  assert.equal(model.admin, true);
  assert.deepEqual(model.roles, ["user", "admin"]);
  assert.equal((await userRow(hub, "alice"))!.admin, 1);
  const down = await hub.request("/hub/api/users/alice", {
    method: "PATCH",
    token,
    json: { admin: false },
  });
  assert.equal((await obj(down)).admin, false);
  assert.equal((await userRow(hub, "alice"))!.admin, 0);
});

// ---- DELETE /users/{name} ----

Deno.test("DELETE /hub/api/users/:name deletes the user and their tokens and answers 204", async () => {
  await using hub = await createTestHub();
  const token = await adminToken(hub);
  const aliceToken = await userToken(hub, "alice");
  const res = await hub.request("/hub/api/users/alice", {
    method: "DELETE",
    token,
  });
  assert.equal(res.status, 204);
  assert.equal(await res.text(), "");
  assert.equal(await userRow(hub, "alice"), undefined);
  await assertError(
    await hub.request("/hub/api/user", { token: aliceToken }),
    403,
  );
  await assertError(
    await hub.request("/hub/api/users/alice", { method: "DELETE", token }),
    404,
  );
});

Deno.test("DELETE /hub/api/users/:name answers 400 while the default server is stopping", async () => {
  await using hub = await createTestHub();
  const token = await adminToken(hub);
  await hub.addUser("alice");
  await addServer(hub, "alice", { status: "stopping" });
  await assertError(
    await hub.request("/hub/api/users/alice", { method: "DELETE", token }),
    400,
    /^alice's server is in the process of stopping, please wait\.$/,
  );
  assert.ok(await userRow(hub, "alice"));
});

// ---- POST /users/{name}/activity ----

async function postActivity(
  hub: TestHub,
  token: string,
  json: unknown,
  user = "alice",
) {
  return await hub.request(`/hub/api/users/${user}/activity`, {
    method: "POST",
    token,
    json,
  });
}

Deno.test("POST /hub/api/users/:name/activity records a singleuser report and answers 200 with an empty body", async () => {
  await using hub = await createTestHub();
  await hub.addUser("alice");
  await addServer(hub, "alice");
  const token = await serverToken(hub, "alice");
  const at = "2026-11-25T11:53:08.196360Z";
  const res = await postActivity(hub, token, {
    servers: { "": { "last_activity": at } },
    "last_activity": at,
  });
  assert.equal(res.status, 200);
  assert.equal(await res.text(), "");
  assert.equal(
    (await userRow(hub, "alice"))!.last_activity,
    "2026-11-25T11:53:08.196Z",
  );
  const server = await hub.handle.db.selectFrom("servers").selectAll()
    .executeTakeFirstOrThrow();
  assert.equal(server.last_activity, "2026-11-25T11:53:08.196Z");
});

Deno.test("POST /hub/api/users/:name/activity keeps a newer stored time (only-newer rule)", async () => {
  await using hub = await createTestHub();
  await hub.addUser("alice");
  await addServer(hub, "alice", { lastActivity: "2026-11-25T11:30:00.000Z" });
  await setActivity(hub, "alice", "2026-11-25T11:30:00.000Z");
  const token = await serverToken(hub, "alice");
  await assertStatus(
    await postActivity(hub, token, {
      servers: { "": { "last_activity": "2026-11-25T11:00:00Z" } },
      "last_activity": "2026-11-25T11:00:00Z",
    }),
    200,
  );
  assert.equal(
    (await userRow(hub, "alice"))!.last_activity,
    "2026-11-25T11:30:00.000Z",
  );
  const server = await hub.handle.db.selectFrom("servers").selectAll()
    .executeTakeFirstOrThrow();
  assert.equal(server.last_activity, "2026-11-25T11:30:00.000Z");
  // A server report alone also moves the user's time forward.
  const newer = await postActivity(hub, token, {
    servers: { "": { "last_activity": "2026-11-25T11:45:00Z" } },
  });
  await newer.body?.cancel();
  assert.equal(
    (await userRow(hub, "alice"))!.last_activity,
    "2026-11-25T11:45:00.000Z",
  );
});

Deno.test("POST /hub/api/users/:name/activity converts offsets to UTC and reads naive times as UTC", async (t) => {
  await using hub = await createTestHub();
  await hub.addUser("alice");
  const token = await serverToken(hub, "alice");
  const storedAs: Record<string, string> = {
    "2026-11-25T06:00:00": "2026-11-25T06:00:00.000Z",
    "2026-11-25T08:00:00+01:00": "2026-11-25T07:00:00.000Z",
    "2026-11-25T07:30:00.123456-01:00": "2026-11-25T08:30:00.123Z",
    "2026-11-25T09:00:00+0000": "2026-11-25T09:00:00.000Z",
    "2026-11-25T09:30Z": "2026-11-25T09:30:00.000Z",
  };
  for (const [input, stored] of Object.entries(storedAs)) {
    await t.step(input, async () => {
      await assertStatus(
        await postActivity(hub, token, { "last_activity": input }),
        200,
      );
      assert.equal((await userRow(hub, "alice"))!.last_activity, stored);
    });
  }
});

Deno.test("POST /hub/api/users/:name/activity accepts up to 59 minutes in the future and refuses more", async () => {
  await using hub = await createTestHub();
  await hub.addUser("alice");
  const token = await serverToken(hub, "alice");
  await assertStatus(
    await postActivity(hub, token, {
      "last_activity": "2026-11-25T12:58:00Z",
    }),
    200,
  );
  await assertError(
    await postActivity(hub, token, {
      "last_activity": "2026-11-25T13:00:00Z",
    }),
    400,
    /^Rejecting activity from more than an hour in the future: /,
  );
  await assertError(
    await postActivity(hub, token, {
      servers: { "": { "last_activity": "2027-01-01T00:00:00Z" } },
    }),
    400,
    // No server row exists yet: the unknown name is reported first.
    /No such server|future/,
  );
  assert.equal(
    (await userRow(hub, "alice"))!.last_activity,
    "2026-11-25T12:58:00.000Z",
  );
});

Deno.test("POST /hub/api/users/:name/activity refuses a future server time without writing anything", async () => {
  await using hub = await createTestHub();
  await hub.addUser("alice");
  await addServer(hub, "alice");
  const token = await serverToken(hub, "alice");
  await assertError(
    await postActivity(hub, token, {
      "last_activity": "2026-11-25T11:00:00Z",
      servers: { "": { "last_activity": "2026-11-25T14:00:00Z" } },
    }),
    400,
    /^Rejecting activity from more than an hour in the future: /,
  );
  assert.equal((await userRow(hub, "alice"))!.last_activity, null);
});

Deno.test("POST /hub/api/users/:name/activity answers 400 for each malformed body", async (t) => {
  await using hub = await createTestHub();
  await hub.addUser("alice");
  await addServer(hub, "alice");
  const token = await serverToken(hub, "alice");
  const shape =
    /^servers must be a dict of the form \{server_name: \{last_activity: timestamp\}\}$/;
  const rows: Array<[string, unknown, RegExp]> = [
    ["array", [], /^body must be a json dict$/],
    ["string", "now", /^body must be a json dict$/],
    ["number", 3, /^body must be a json dict$/],
    ["null", null, /^body must be a json dict$/],
    [
      "empty object",
      {},
      /^body must contain at least one of `last_activity` or `servers`$/,
    ],
    ["servers a list", { servers: [] }, shape],
    ["servers a string", { servers: "x" }, shape],
    ["servers null", { servers: null }, shape],
    ["entry not an object", { servers: { "": "2026-11-25T11:00:00Z" } }, shape],
    ["entry without last_activity", { servers: { "": {} } }, shape],
    [
      "unknown server",
      { servers: { gpu: { "last_activity": "2026-11-25T11:00:00Z" } } },
      /^No such server "gpu" for user alice$/,
    ],
    [
      "timestamp garbage",
      { "last_activity": "yesterday" },
      /^Not a valid timestamp/,
    ],
    [
      "timestamp number",
      { "last_activity": 1700000000 },
      /^Not a valid timestamp/,
    ],
    ["timestamp null", { "last_activity": null }, /^Not a valid timestamp/],
    [
      "impossible date",
      { "last_activity": "2026-13-45T00:00:00Z" },
      /^Not a valid timestamp/,
    ],
    [
      "server timestamp garbage",
      { servers: { "": { "last_activity": "soon" } } },
      /^Not a valid timestamp/,
    ],
  ];
  for (const [label, json, message] of rows) {
    await t.step(label, async () => {
      await assertError(await postActivity(hub, token, json), 400, message);
      assert.equal((await userRow(hub, "alice"))!.last_activity, null);
    });
  }
  await t.step("no body", async () => {
    await assertError(
      await hub.request("/hub/api/users/alice/activity", {
        method: "POST",
        token,
      }),
      400,
      /^body must be a json dict$/,
    );
  });
});

Deno.test("POST /hub/api/users/:name/activity answers 404 for a missing user", async () => {
  await using hub = await createTestHub();
  const token = await adminToken(hub);
  await assertError(
    await postActivity(hub, token, {
      "last_activity": "2026-11-25T11:00:00Z",
    }, "bob"),
    404,
    /^No such user: "bob"$/,
  );
});

Deno.test("POST /hub/api/users/:name/activity refuses a server token of another user", async () => {
  await using hub = await createTestHub();
  await hub.addUser("alice");
  await hub.addUser("bob");
  const token = await serverToken(hub, "alice");
  await assertError(
    await postActivity(hub, token, {
      "last_activity": "2026-11-25T11:00:00Z",
    }, "bob"),
    404,
    /^No access to resources or resources not found$/,
  );
  assert.equal((await userRow(hub, "bob"))!.last_activity, null);
});

// ---- refusals ----

Deno.test("the users API refuses bad requests with JupyterHub's error and changes nothing", async (t) => {
  await using hub = await createTestHub();
  const admin = await adminToken(hub);
  const alice = await userToken(hub, "alice");
  await hub.addUser("bob");
  const serverScoped = await hub.tokenFor("admin", [
    "list:users!server=alice/",
  ]);
  const stored = () => tableRows(hub, { users: ["id", "name", "admin"] });
  const before = await stored();
  const badNames = [
    "",
    " bob",
    "bob ",
    "a/b",
    "..",
    "tab\tname",
    "x".repeat(129),
  ];
  const badBodies: Array<[string, unknown, RegExp]> = [
    ["empty usernames", { usernames: [] }, /usernames/],
    ["missing usernames", {}, /usernames/],
    [
      "unknown keys",
      { usernames: ["x"], colour: "red" },
      /^Invalid JSON keys: "colour"/,
    ],
  ];
  await errorSteps(t, hub, [
    ...["offset=abc", "limit=1.5", "offset=1e3", "limit=0x10"].map((query) => ({
      send: `/hub/api/users?${query}`,
      token: admin,
      status: 400,
      message: /^Invalid argument type, offset and limit must be integers/,
      why: "when offset or limit is not an integer",
    })),
    {
      send: "/hub/api/users?state=running",
      token: admin,
      status: 400,
      message: /^Unrecognized state filter: "running"/,
      why: "for an unknown state filter",
    },
    ...["created", "--name", "-", "admin"].map((sort) => ({
      send: `/hub/api/users?sort=${sort}`,
      token: admin,
      status: 400,
      message: /^sort must be 'id', 'name', or 'last_activity', not /,
      why: "for an unknown sort key",
    })),
    {
      send: "/hub/api/users",
      token: serverScoped,
      status: 403,
      message: /server/,
      why: "to list:users filtered by server alone",
    },
    {
      send: "/hub/api/users",
      token: alice,
      status: 403,
      message:
        /^Action is not authorized with current scopes; requires any of \[list:users\]$/,
      why: "without list:users",
    },
    {
      send: "/hub/api/users/nobody",
      token: admin,
      status: 404,
      message: /^No such user: "nobody"$/,
      why: "for a user that does not exist",
    },
    {
      send: "/hub/api/users/alice",
      status: 403,
      message: /^Missing or invalid credentials\.$/,
      why: "with no credentials",
    },
    {
      send: "POST /hub/api/users",
      token: admin,
      json: { usernames: ["alice", "admin"] },
      status: 409,
      message: /^All 2 users already exist$/,
      why: "when every user already exists",
    },
    ...badNames.map((bad) => ({
      send: "POST /hub/api/users",
      token: admin,
      json: { usernames: ["fine", bad] },
      status: 400,
      message: /^Invalid username /,
      why: `for the invalid name ${JSON.stringify(bad.slice(0, 20))}`,
    })),
    ...badBodies.map(([label, json, message]) => ({
      send: "POST /hub/api/users",
      token: admin,
      json,
      status: 400,
      message,
      why: `for a bad body: ${label}`,
    })),
    {
      send: "POST /hub/api/users",
      token: alice,
      json: { usernames: ["mallory"] },
      status: 403,
      message: /requires any of \[admin:users\]/,
      why: "without admin:users",
    },
    {
      send: "POST /hub/api/users/alice",
      token: admin,
      status: 409,
      message: /^User alice already exists$/,
      why: "when the user exists",
    },
    {
      send: "PATCH /hub/api/users/alice",
      token: admin,
      json: { name: "bob" },
      status: 400,
      message: /^User bob already exists, username must be unique$/,
      why: "when the new name is taken",
    },
    {
      send: "PATCH /hub/api/users/alice",
      token: admin,
      json: { admin: "yes" },
      status: 400,
      message: /"admin" must be true or false/,
      why: "when admin is not a boolean",
    },
    {
      send: "PATCH /hub/api/users/alice",
      token: admin,
      json: { name: 7 },
      status: 400,
      message: /"name" must be a string/,
      why: "when name is not a string",
    },
    {
      send: "PATCH /hub/api/users/ghost",
      token: admin,
      json: { admin: true },
      status: 404,
      why: "for a missing user",
    },
    {
      send: "DELETE /hub/api/users/admin",
      token: admin,
      status: 400,
      message: /^Cannot delete yourself!$/,
      why: "when deleting yourself",
    },
  ], { after: async () => assert.equal(await stored(), before) });
});

// ---- concurrent requests ----

Deno.test("PATCH /hub/api/users/:name answers 400, not 500, when two renames race for one name", async () => {
  await using hub = await createTestHub();
  const token = await adminToken(hub);
  await hub.addUser("alice");
  await hub.addUser("bob");
  const responses = await Promise.all(
    ["alice", "bob"].map((name) =>
      hub.request(`/hub/api/users/${name}`, {
        method: "PATCH",
        token,
        json: { name: "carol" },
      })
    ),
  );
  const statuses = [];
  for (const res of responses) {
    statuses.push(res.status);
    if (res.status === 400) {
      await assertError(res, 400, /^User carol already exists/);
    } else await res.body?.cancel();
  }
  assert.deepEqual(statuses.sort(), [200, 400]);
  assert.equal(await countRows(hub, "users"), 3);
});

Deno.test("PATCH /hub/api/users/:name answers 404, not 500, when the user is deleted meanwhile", async () => {
  await using hub = await createTestHub();
  const token = await adminToken(hub);
  await hub.addUser("alice");
  const gated = gatedBody({ admin: true });
  const patch = hub.request("/hub/api/users/alice", {
    method: "PATCH",
    token,
    headers: { "content-type": "application/json" },
    body: gated.body,
  });
  await assertAnswer(hub, {
    send: "DELETE /hub/api/users/alice",
    token,
    status: 204,
  });
  gated.open();
  await assertError(await patch, 404, /^No such user: "alice"$/);
  assert.equal(await userRow(hub, "alice"), undefined);
});
