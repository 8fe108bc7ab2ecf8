/**
 * Sharing (hub/api/shares.ts, JupyterHub 5's wire shapes) with the fake
 * spawner: a student shares their server with the teacher; the teacher's
 * identity gains `access:servers!server=<student>/` and the hub's OAuth
 * step for that server lets them in (consent page) only while the share
 * lasts; revoking deletes the OAuth tokens they got; scopes and targets
 * are checked; sharing is off unless `sharing.enabled`.
 */
import assert from "node:assert/strict";
import { type FakeHub, fakeHub } from "../../_helpers/test_hub.ts";
import { syncConfigAccess } from "../../../hub/config/access.ts";
import { silentLogger } from "../../../hub/observe/log.ts";
import { getUser } from "../../../hub/db/users.ts";
import { insertToken } from "../../../hub/db/tokens.ts";
import { oauthTokenFor } from "./_fixtures.ts";
import { assertStatus } from "../../_helpers/responses.ts";
import { assertAnswer } from "../../_helpers/api_cases.ts";
import { adminToken, startServer } from "../../_helpers/api_setup.ts";

async function sharingHub(enabled = true): Promise<FakeHub> {
  const hub = await fakeHub({
    sharing: { enabled },
    groups: { staff: { users: ["sys"] } },
  });
  await syncConfigAccess(hub.handle.db, hub.config, { logger: silentLogger });
  await hub.servers.start((await getUser(hub.handle.db, "daemon"))!, "");
  await hub.servers.waitReady("daemon", "", { timeoutMs: 5000 });
  return hub;
}

/** The hub's OAuth authorize step for daemon's server, as bin's browser. */
async function authorizeAsBin(hub: FakeHub, cookie: string): Promise<number> {
  const q = new URLSearchParams({
    "client_id": "jupyterhub-user-daemon",
    "redirect_uri": "/user/daemon/oauth_callback",
    "response_type": "code",
    state: "s",
  });
  const res = await hub.request(`/hub/api/oauth2/authorize?${q}`, {
    headers: { cookie },
  });
  await res.body?.cancel();
  return res.status;
}

/**
 * The hub's proxy listening, and a GET of daemon's server through it with
 * `headers` (its own connection pool, closed on dispose: the listener
 * finishes only once no kept-alive connection is left).
 */
function daemonThroughProxy(hub: FakeHub) {
  const listener = hub.proxy!.listen({ hostname: "127.0.0.1", port: 0 });
  const client = Deno.createHttpClient({});
  return {
    get: (headers: Record<string, string>) =>
      fetch(`http://127.0.0.1:${listener.port}/user/daemon/api/status`, {
        headers,
        client,
      }),
    async [Symbol.asyncDispose]() {
      client.close();
      listener.close();
      await listener.finished;
    },
  };
}

Deno.test("a student shares their server with the teacher; access lasts exactly as long as the share", async () => {
  await using hub = await sharingHub();
  const owner = await hub.tokenFor("daemon");
  const bin = await hub.login("bin");
  assert.equal(await authorizeAsBin(hub, bin.cookie), 403);

  let res = await hub.request("/hub/api/shares/daemon/", {
    method: "POST",
    token: owner,
    json: { user: "bin" },
  });
  assert.equal(res.status, 200);
  const share = await res.json();
  assert.deepEqual(share.scopes, ["access:servers!server=daemon/"]);
  assert.deepEqual(share.user, { name: "bin" });
  assert.equal(share.kind, "user");
  assert.deepEqual(share.server.user, { name: "daemon" });
  assert.equal(share.server.url, "/user/daemon/");
  assert.equal(share.server.ready, true);

  assert.equal(await authorizeAsBin(hub, bin.cookie), 200, "the consent page");
  const binToken = await hub.tokenFor("bin");
  const me = await (await hub.request("/hub/api/user", { token: binToken }))
    .json();
  assert.ok(me.scopes.includes("access:servers!server=daemon/"));
  const listed = await (await hub.request("/hub/api/shares/daemon", {
    token: owner,
  })).json();
  assert.equal(listed._pagination.total, 1);
  const received = await (await hub.request("/hub/api/users/bin/shared", {
    token: binToken,
  })).json();
  assert.equal(received.items[0].server.user.name, "daemon");

  // An OAuth token bin got for daemon's server goes with the share.
  const binRow = (await getUser(hub.handle.db, "bin"))!;
  await insertToken(hub.handle.db, {
    userId: binRow.id,
    serviceId: null,
    prefix: "oauthtok",
    hash: "1".repeat(64),
    scopes: ["access:servers!server=daemon/"],
    note: "OAuth",
    created: hub.now.toISOString(),
    expiresAt: null,
    oauthClient: "jupyterhub-user-daemon",
  });
  res = await hub.request("/hub/api/shares/daemon/", {
    method: "DELETE",
    token: owner,
  });
  assert.equal(res.status, 204);
  assert.equal(await authorizeAsBin(hub, bin.cookie), 403, "revoked at once");
  const left = await hub.handle.db.selectFrom("api_tokens").select("id")
    .where("oauth_client", "=", "jupyterhub-user-daemon")
    .where("user_id", "=", binRow.id).execute();
  assert.deepEqual(left, []);
  // The proxy keeps bin's browser off the server now, whatever the server
  // itself still remembers of him (its identity cache lasts 5 minutes).
  await using proxy = daemonThroughProxy(hub);
  res = await proxy.get({ cookie: bin.cookie });
  assert.equal(res.status, 403);
  assert.match(await res.text(), /Your access to this server has ended/);
  const own = await hub.login("daemon");
  res = await proxy.get({ cookie: own.cookie });
  assert.notEqual(res.status, 403, "the owner is not fenced");
  await res.body?.cancel();
});

Deno.test("shares with a group reach its members; a recipient can leave a share; PATCH takes scopes away", async () => {
  await using hub = await sharingHub();
  const owner = await hub.tokenFor("daemon");
  let res = await hub.request("/hub/api/shares/daemon/", {
    method: "POST",
    token: owner,
    json: { group: "staff" },
  });
  assert.equal(res.status, 200);
  assert.equal((await res.json()).kind, "group");
  const sys = await hub.tokenFor("sys");
  let me = await (await hub.request("/hub/api/user", { token: sys })).json();
  assert.ok(me.scopes.includes("access:servers!server=daemon/"));
  res = await hub.request("/hub/api/shares/daemon/", {
    method: "PATCH",
    token: owner,
    json: { group: "staff" },
  });
  assert.deepEqual(await res.json(), {});
  me = await (await hub.request("/hub/api/user", { token: sys })).json();
  assert.ok(!me.scopes.includes("access:servers!server=daemon/"));

  await (await hub.request("/hub/api/shares/daemon/", {
    method: "POST",
    token: owner,
    json: { user: "bin" },
  })).body?.cancel();
  const bin = await hub.tokenFor("bin");
  await assertAnswer(hub, {
    send: "DELETE /hub/api/users/bin/shared/daemon/",
    token: bin,
    status: 204,
  });
  const listed = await (await hub.request("/hub/api/shares/daemon", {
    token: owner,
  })).json();
  assert.equal(listed._pagination.total, 0);
});

Deno.test("shares refuse scopes for other servers, unknown targets, servers one does not own, and 'no server'", async () => {
  await using hub = await sharingHub();
  const owner = await hub.tokenFor("daemon");
  const post = (path: string, token: string, json: unknown) =>
    hub.request(`/hub/api${path}`, { method: "POST", token, json });
  let res = await post("/shares/daemon/", owner, {
    user: "bin",
    scopes: ["access:servers!server=bin/"],
  });
  assert.equal(res.status, 400);
  assert.match(
    (await res.json()).message,
    /A shared scope is for this server only: send "access:servers" or "access:servers!server=daemon\/", not "access:servers!server=bin\/"/,
  );
  await assertStatus(
    await post("/shares/daemon/", owner, { user: "nobody-here" }),
    400,
  );
  await assertStatus(
    await post("/shares/daemon/", owner, { user: "bin", group: "staff" }),
    400,
  );
  res = await post("/shares/daemon/", await hub.tokenFor("bin"), {
    user: "bin",
  });
  assert.ok(res.status === 403 || res.status === 404, `${res.status}`);
  await res.body?.cancel();
  await assertStatus(await post("/shares/daemon", owner, { user: "bin" }), 405);
  await assertStatus(
    await post("/shares/daemon/gpu", owner, { user: "bin" }),
    404,
  );
});

Deno.test("sharing is off unless sharing.enabled (as JupyterHub: self has no shares scope)", async () => {
  await using hub = await sharingHub(false);
  await assertStatus(
    await hub.request("/hub/api/shares/daemon/", {
      method: "POST",
      token: await hub.tokenFor("daemon"),
      json: { user: "bin" },
    }),
    403,
  );
});

Deno.test("share codes: made by the owner, accepted on /hub/accept-share by a logged-in user, listed without the code, deleted", async () => {
  await using hub = await sharingHub();
  const owner = await hub.tokenFor("daemon");
  let res = await hub.request("/hub/api/share-codes/daemon/", {
    method: "POST",
    token: owner,
    json: { "expires_in": 3600 },
  });
  assert.equal(res.status, 200);
  const made = await res.json();
  assert.match(made.id, /^sc_\d+$/);
  assert.match(made.accept_url, /^\/hub\/accept-share\?code=/);
  assert.deepEqual(made.scopes, ["access:servers!server=daemon/"]);
  const listed = await (await hub.request("/hub/api/share-codes/daemon", {
    token: owner,
  })).json();
  assert.equal(listed.items.length, 1);
  assert.equal(listed.items[0].code, undefined, "the code is shown once");

  const bin = await hub.login("bin");
  const page = await hub.request(made.accept_url, {
    headers: { cookie: bin.cookie },
  });
  assert.equal(page.status, 200);
  const html = await page.text();
  assert.match(html, /daemon shares a server with you/);
  res = await hub.request("/hub/accept-share", {
    method: "POST",
    headers: {
      cookie: bin.cookie,
      "content-type": "application/x-www-form-urlencoded",
    },
    body: new URLSearchParams({
      _xsrf: bin.xsrf,
      code: made.code,
    }).toString(),
  });
  assert.equal(res.status, 302);
  assert.equal(res.headers.get("location"), "/user/daemon/");
  await res.body?.cancel();
  assert.equal(await authorizeAsBin(hub, bin.cookie), 200);
  const after = await (await hub.request("/hub/api/share-codes/daemon/", {
    token: owner,
  })).json();
  assert.equal(after.items[0].exchange_count, 1);

  res = await hub.request(`/hub/api/share-codes/daemon/?id=${made.id}`, {
    method: "DELETE",
    token: owner,
  });
  assert.equal(res.status, 204);
  // JupyterHub 5: deleting what is not there is 404, with its words.
  for (
    const [query, message] of [
      [`id=${made.id}`, `No code found matching id=${made.id}`],
      ["id=nonsense", "No code found matching id=nonsense"],
      ["code=not-a-code", "No matching code found"],
    ]
  ) {
    res = await hub.request(`/hub/api/share-codes/daemon/?${query}`, {
      method: "DELETE",
      token: owner,
    });
    assert.equal(res.status, 404, query);
    assert.match((await res.json()).message, new RegExp(message!));
  }
  const gone = await hub.request(made.accept_url, {
    headers: { cookie: bin.cookie },
  });
  assert.equal(gone.status, 404);
  assert.match(await gone.text(), /not valid or has expired/);
});

Deno.test("share codes refuse a bad lifetime and 'no server', and expire", async () => {
  await using hub = await sharingHub();
  const owner = await hub.tokenFor("daemon");
  const post = (path: string, json: unknown) =>
    hub.request(`/hub/api${path}`, { method: "POST", token: owner, json });
  let res = await post("/share-codes/daemon/", { "expires_in": 5 });
  assert.equal(res.status, 400);
  assert.match(
    (await res.json()).message,
    /expires_in must be whole seconds from 60/,
  );
  await assertStatus(await post("/share-codes/daemon", {}), 405);
  res = await post("/share-codes/daemon/", { "expires_in": 60 });
  const made = await res.json();
  hub.now.setTime(hub.now.getTime() + 61_000);
  const bin = await hub.login("bin");
  await assertStatus(
    await hub.request(made.accept_url, {
      headers: { cookie: bin.cookie },
    }),
    404,
  );
});

/** The scopes bin's token carries now. */
async function binScopes(hub: FakeHub): Promise<string[]> {
  const res = await hub.request("/hub/api/user", {
    token: await hub.tokenFor("bin"),
  });
  return (await res.json()).scopes as string[];
}

Deno.test("shared scopes: an unfiltered one gets this server's filter; other or double filters are 400; a scope the sharer lacks is 403", async (t) => {
  await using hub = await sharingHub();
  const owner = await hub.tokenFor("daemon");
  const share = (scopes: string[]) =>
    hub.request("/hub/api/shares/daemon/", {
      method: "POST",
      token: owner,
      json: { user: "bin", scopes },
    });
  await t.step("unfiltered: JupyterHub adds !server=owner/name", async () => {
    const res = await share(["access:servers", "read:servers"]);
    assert.equal(res.status, 200);
    assert.deepEqual((await res.json()).scopes, [
      "access:servers!server=daemon/",
      "read:servers!server=daemon/",
    ]);
  });
  const refused: Array<[string, number, RegExp]> = [
    ["admin:users!server=daemon/", 403, /you do not hold it/],
    ["admin:servers", 403, /you do not hold it/],
    ["access:servers!server=daemon/!user=bin", 400, /this server only/],
    ["access:servers!user=daemon", 400, /this server only/],
    ["access:servers!server=bin/", 400, /this server only/],
    ["no-such-scope", 400, /no-such-scope/],
  ];
  for (const [scope, status, message] of refused) {
    await t.step(`${scope}: ${status}`, async () => {
      const res = await share([scope]);
      assert.equal(res.status, status);
      assert.match((await res.json()).message, message);
    });
  }
  assert.ok(!(await binScopes(hub)).some((s) => s.startsWith("admin:")));
});

Deno.test("a deleted named server takes its shares along: made again under the name, it is not shared", async () => {
  await using hub = await fakeHub({
    sharing: { enabled: true },
    spawner: { "named_servers": true },
  });
  await syncConfigAccess(hub.handle.db, hub.config, { logger: silentLogger });
  const owner = await hub.tokenFor("daemon");
  const call = (method: string, path: string, json?: unknown) =>
    hub.request(`/hub/api${path}`, {
      method,
      token: owner,
      ...(json !== undefined ? { json } : {}),
    });
  let res = await call("POST", "/users/daemon/servers/gpu");
  assert.ok([201, 202].includes(res.status));
  await hub.servers.waitReady("daemon", "gpu", { timeoutMs: 5000 });
  await assertStatus(
    await call("POST", "/shares/daemon/gpu", { user: "bin" }),
    200,
  );
  await assertStatus(await call("POST", "/share-codes/daemon/gpu", {}), 200);
  assert.ok(
    (await binScopes(hub)).includes("access:servers!server=daemon/gpu"),
  );
  res = await call("DELETE", "/users/daemon/servers/gpu", { remove: true });
  assert.ok([202, 204].includes(res.status));
  await res.body?.cancel();
  await waitGone(hub);
  res = await call("POST", "/users/daemon/servers/gpu");
  assert.ok([201, 202].includes(res.status));
  await res.body?.cancel();
  assert.ok(
    !(await binScopes(hub)).some((s) => s.includes("server=daemon/gpu")),
    "the new gpu is not shared with bin",
  );
  res = await call("GET", "/share-codes/daemon/gpu");
  assert.deepEqual((await res.json()).items, [], "its codes went too");
});

/** Waits (bounded) until daemon's "gpu" row is gone. */
async function waitGone(hub: FakeHub): Promise<void> {
  for (let i = 0; i < 200; i++) {
    const row = await hub.handle.db.selectFrom("servers").select("id")
      .where("name", "=", "gpu").executeTakeFirst();
    if (!row) return;
    await new Promise((r) => setTimeout(r, 25));
  }
  throw new Error("the gpu server row was not deleted within 5 s");
}

Deno.test("a renamed owner keeps their shares; a new user of the old name inherits nothing", async () => {
  await using hub = await sharingHub();
  const admin = await adminToken(hub, { name: "teacher" });
  await (await hub.request("/hub/api/shares/daemon/", {
    method: "POST",
    token: await hub.tokenFor("daemon"),
    json: { user: "bin" },
  })).body?.cancel();
  assert.ok((await binScopes(hub)).includes("access:servers!server=daemon/"));
  await assertAnswer(hub, {
    send: "PATCH /hub/api/users/daemon",
    token: admin,
    json: { name: "renamed" },
    status: 200,
  });
  await assertAnswer(hub, {
    send: "POST /hub/api/users/daemon",
    token: admin,
    status: 201,
  });
  const scopes = await binScopes(hub);
  assert.ok(scopes.includes("access:servers!server=renamed/"), String(scopes));
  assert.ok(
    !scopes.includes("access:servers!server=daemon/"),
    "the new daemon's server is not bin's",
  );
});

Deno.test("deleting a user, or revoking their tokens, fences them off the servers shared with them", async () => {
  await using hub = await sharingHub();
  const admin = await adminToken(hub, { name: "teacher" });
  await (await hub.request("/hub/api/shares/daemon/", {
    method: "POST",
    token: await hub.tokenFor("daemon"),
    json: { user: "bin" },
  })).body?.cancel();
  const bin = await hub.login("bin");
  const binToken = await hub.tokenFor("bin");
  await using proxy = daemonThroughProxy(hub);
  const through = (headers: Record<string, string>) =>
    proxy.get(headers).then(async (r) => (await r.body?.cancel(), r.status));
  assert.notEqual(await through({ cookie: bin.cookie }), 403);
  await assertAnswer(hub, {
    send: "DELETE /hub/api/users/bin/tokens",
    token: admin,
    status: 200,
  });
  assert.equal(await through({ authorization: `token ${binToken}` }), 403);
  assert.notEqual(await through({ cookie: bin.cookie }), 403, "not yet");
  const res = await hub.request("/hub/api/users/bin", {
    method: "DELETE",
    token: admin,
  });
  assert.equal(res.status, 204);
  assert.equal(await through({ cookie: bin.cookie }), 403);
});

Deno.test("JupyterHub 5 share semantics: scopes [] means access, PATCH [] takes nothing (and keeps the recipient's tokens)", async () => {
  await using hub = await sharingHub();
  const owner = await hub.tokenFor("daemon");
  let res = await hub.request("/hub/api/shares/daemon/", {
    method: "POST",
    token: owner,
    json: { user: "bin", scopes: [] }, // the body of JupyterHub's sharing docs
  });
  assert.equal(res.status, 200);
  assert.deepEqual((await res.json()).scopes, [
    "access:servers!server=daemon/",
  ]);
  await oauthTokenFor(hub, "bin", "jupyterhub-user-daemon", [
    "access:servers!server=daemon/",
  ]);
  const bin = await getUser(hub.handle.db, "bin");
  const oauthTokens = () =>
    hub.handle.db.selectFrom("api_tokens").select("id")
      .where("oauth_client", "=", "jupyterhub-user-daemon")
      .where("user_id", "=", bin!.id).execute();
  res = await hub.request("/hub/api/shares/daemon/", {
    method: "PATCH",
    token: owner,
    json: { user: "bin", scopes: [] },
  });
  assert.equal(res.status, 200);
  assert.deepEqual((await res.json()).scopes, [
    "access:servers!server=daemon/",
  ]);
  assert.equal(
    (await oauthTokens()).length,
    1,
    "nothing revoked, no token lost",
  );
  res = await hub.request("/hub/api/shares/daemon/", {
    method: "PATCH",
    token: owner,
    json: { user: "bin", scopes: ["access:servers"] },
  });
  assert.deepEqual(await res.json(), {});
  assert.equal((await oauthTokens()).length, 0);
});

Deno.test("one share of a user or a group: GET and DELETE /users|groups/{name}/shared/{owner}/{server}, GET /groups/{name}/shared; 404 for none", async () => {
  await using hub = await sharingHub();
  const owner = await hub.tokenFor("daemon");
  for (const json of [{ user: "bin" }, { group: "staff" }]) {
    await assertStatus(
      await hub.request("/hub/api/shares/daemon/", {
        method: "POST",
        token: owner,
        json,
      }),
      200,
    );
  }
  const admin = await (async () => {
    await hub.addUser("teacher", { admin: true });
    return await hub.tokenFor("teacher");
  })();
  const get = (path: string, method = "GET") =>
    hub.request(`/hub/api${path}`, { token: admin, method });

  let res = await get("/users/bin/shared/daemon/");
  assert.equal(res.status, 200);
  assert.deepEqual((await res.json()).user, { name: "bin" });
  res = await get("/groups/staff/shared");
  const groupShares = await res.json();
  assert.equal(groupShares._pagination.total, 1);
  assert.deepEqual(groupShares.items[0].group, { name: "staff" });
  res = await get("/groups/staff/shared/daemon/");
  assert.equal((await res.json()).kind, "group");

  res = await get("/users/sys/shared/daemon/"); // sys has it only through staff
  assert.equal(res.status, 404);
  assert.match(
    (await res.json()).message,
    /No such share for user sys on daemon\//,
  );
  res = await get("/users/bin/shared/daemon/", "DELETE");
  assert.equal(res.status, 204);
  res = await get("/users/bin/shared/daemon/", "DELETE");
  assert.equal(res.status, 404, "deleting a share that is not there");
  await res.body?.cancel();
  res = await get("/groups/staff/shared/daemon/", "DELETE");
  assert.equal(res.status, 204);
  await assertStatus(await get("/groups/staff/shared/daemon/"), 404);
  await assertStatus(await get("/groups/nobody-group/shared"), 404);
});

Deno.test("share codes list: /share-codes/{owner} every server's, /share-codes/{owner}/ the default server's, with offset and limit", async () => {
  await using hub = await fakeHub({
    sharing: { enabled: true },
    spawner: { "named_servers": true },
  });
  await syncConfigAccess(hub.handle.db, hub.config, { logger: silentLogger });
  const owner = await hub.tokenFor("daemon");
  await startServer(hub, "daemon/gpu", { token: owner });
  for (const path of ["daemon/", "daemon/", "daemon/gpu"]) {
    const res = await hub.request(`/hub/api/share-codes/${path}`, {
      method: "POST",
      token: owner,
      json: {},
    });
    assert.equal(res.status, 200, path);
    await res.body?.cancel();
  }
  const list = async (path: string) =>
    await (await hub.request(`/hub/api/share-codes/${path}`, { token: owner }))
      .json();
  assert.equal((await list("daemon")).items.length, 3);
  assert.equal((await list("daemon/")).items.length, 2);
  assert.equal((await list("daemon/gpu")).items.length, 1);
  const page = await list("daemon?limit=1&offset=1");
  assert.equal(page.items.length, 1);
  assert.equal(page._pagination.total, 3);
  assert.equal(page._pagination.offset, 1);
});
