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
import { syncConfigAccess } from "../../../hub/config_access.ts";
import { silentLogger } from "../../../hub/log.ts";
import { getUser } from "../../../hub/db/users.ts";
import { insertToken } from "../../../hub/db/tokens.ts";

async function sharingHub(enabled = true): Promise<FakeHub> {
  const hub = await fakeHub({
    sharing: { enabled },
    groups: { staff: { users: ["sys"] } },
  });
  await syncConfigAccess(hub.handle.db, hub.config, { logger: silentLogger });
  await hub.servers.start((await getUser(hub.handle.db, "daemon"))!, "");
  await hub.servers.waitReady("daemon", "", 5000);
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
  res = await hub.request("/hub/api/users/bin/shared/daemon/", {
    method: "DELETE",
    token: bin,
  });
  assert.equal(res.status, 204);
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
    /Only scopes filtered to this server/,
  );
  res = await post("/shares/daemon/", owner, { user: "nobody-here" });
  assert.equal(res.status, 400);
  await res.body?.cancel();
  res = await post("/shares/daemon/", owner, { user: "bin", group: "staff" });
  assert.equal(res.status, 400);
  await res.body?.cancel();
  res = await post("/shares/daemon/", await hub.tokenFor("bin"), {
    user: "bin",
  });
  assert.ok(res.status === 403 || res.status === 404, `${res.status}`);
  await res.body?.cancel();
  res = await post("/shares/daemon", owner, { user: "bin" });
  assert.equal(res.status, 405);
  await res.body?.cancel();
  res = await post("/shares/daemon/gpu", owner, { user: "bin" });
  assert.equal(res.status, 404);
  await res.body?.cancel();
});

Deno.test("sharing is off unless sharing.enabled (as JupyterHub: self has no shares scope)", async () => {
  await using hub = await sharingHub(false);
  const res = await hub.request("/hub/api/shares/daemon/", {
    method: "POST",
    token: await hub.tokenFor("daemon"),
    json: { user: "bin" },
  });
  assert.equal(res.status, 403);
  await res.body?.cancel();
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
  res = await post("/share-codes/daemon", {});
  assert.equal(res.status, 405);
  await res.body?.cancel();
  res = await post("/share-codes/daemon/", { "expires_in": 60 });
  const made = await res.json();
  hub.now.setTime(hub.now.getTime() + 61_000);
  const bin = await hub.login("bin");
  const page = await hub.request(made.accept_url, {
    headers: { cookie: bin.cookie },
  });
  assert.equal(page.status, 404);
  await page.body?.cancel();
});
