import assert from "node:assert/strict";
import {
  createTestHub,
  fakeHub,
  type TestHub,
} from "../../_helpers/test_hub.ts";
import {
  assertError,
  body,
  countRows,
  oauthTokenFor,
  obj,
} from "./_fixtures.ts";
import { syncConfigAccess } from "../../../hub/config/access.ts";
import { silentLogger } from "../../../hub/observe/log.ts";
import { assertStatus } from "../../_helpers/responses.ts";
import {
  adminToken,
  startServer,
  userToken,
} from "../../_helpers/api_setup.ts";

function createToken(
  hub: TestHub,
  token: string | undefined,
  json: unknown,
  user = "alice",
) {
  return hub.request(`/hub/api/users/${user}/tokens`, {
    method: "POST",
    ...(token ? { token } : {}),
    json,
  });
}

/** GET /hub/api/user with `token`: the status. */
async function whoStatus(hub: TestHub, token: string): Promise<number> {
  const res = await hub.request("/hub/api/user", { token });
  await res.body?.cancel();
  return res.status;
}

// ---- create ----

Deno.test("POST /hub/api/users/:name/tokens without scopes gives a token with all the owner's scopes", async () => {
  await using hub = await createTestHub();
  const token = await userToken(hub, "alice");
  const res = await createToken(hub, token, {});
  assert.equal(res.status, 201);
  const model = await obj(res);
  assert.deepEqual(Object.keys(model).sort(), [
    "created",
    "expires_at",
    "id",
    "kind",
    "last_activity",
    "note",
    "oauth_client",
    "roles",
    "scopes",
    "session_id",
    "token",
    "user",
  ]);
  assert.match(model.id as string, /^a\d+$/);
  assert.equal(model.user, "alice");
  assert.equal(model.kind, "api_token");
  assert.deepEqual(model.roles, []);
  assert.equal(model.note, "Requested via api");
  assert.equal(model.created, "2026-11-25T12:00:00.000Z");
  assert.equal(model.last_activity, null);
  assert.equal(model.expires_at, null);
  assert.equal(model.session_id, null);
  assert.equal(model.oauth_client, "JupyterHub");
  const scopes = model.scopes as string[];
  assert.ok(scopes.includes("read:users!user=alice"));
  assert.ok(scopes.includes("servers!user=alice"));
  assert.ok(scopes.includes("tokens!user=alice"));
  assert.deepEqual(scopes, [...scopes].sort());
  assert.equal(typeof model.token, "string");
  // The secret authenticates as alice, and only a hash is stored.
  const who = await obj(
    await hub.request("/hub/api/user", { token: model.token as string }),
  );
  assert.equal(who.name, "alice");
  assert.equal(who.token_id, model.id);
  const rows = await hub.handle.db.selectFrom("api_tokens").select("hash")
    .execute();
  assert.ok(rows.every((r) => r.hash !== model.token));
});

Deno.test("POST /hub/api/users/:name/tokens without scopes uses a redefined token role, and roles may name configured ones (JupyterHub 5 apihandlers/users.py: token role's scopes)", async () => {
  await using hub = await createTestHub({
    roles: [
      { name: "token", scopes: ["read:users:name!user"] },
      { name: "reader", scopes: ["read:users:activity!user"] },
    ],
  });
  await syncConfigAccess(hub.handle.db, hub.config, { logger: silentLogger });
  const token = await userToken(hub, "alice", ["tokens!user"]);
  const made = await obj(await createToken(hub, token, {}));
  // The role's scope and the identify scopes every token has, nothing more.
  assert.deepEqual(made.scopes, [
    "read:users:groups!user=alice",
    "read:users:name!user=alice",
  ]);
  const byRole = await obj(
    await createToken(hub, token, { roles: ["reader"] }),
  );
  assert.ok(
    (byRole.scopes as string[]).includes("read:users:activity!user=alice"),
    String(byRole.scopes),
  );
  await assertStatus(
    await createToken(hub, token, { roles: ["nope-role"] }),
    400,
  );
});

Deno.test("POST /hub/api/users/:name/tokens with scopes stores exactly those, expanded", async () => {
  await using hub = await createTestHub();
  const token = await userToken(hub, "alice");
  const res = await createToken(hub, token, {
    scopes: ["read:users!user", "access:servers!server=alice/"],
    note: "for my script",
  });
  assert.equal(res.status, 201);
  const model = await obj(res);
  const scopes = model.scopes as string[];
  assert.equal(model.note, "for my script");
  assert.ok(scopes.includes("read:users!user=alice"));
  assert.ok(scopes.includes("read:users:activity!user=alice"));
  assert.ok(scopes.includes("access:servers!server=alice/"));
  assert.ok(!scopes.includes("servers!user=alice"));
  assert.ok(!scopes.includes("tokens!user=alice"));
  // The new token cannot mint tokens itself.
  await assertError(await createToken(hub, model.token as string, {}), 403);
});

Deno.test("POST /hub/api/users/:name/tokens by an admin for someone else notes who asked", async () => {
  await using hub = await createTestHub();
  await hub.addUser("admin", { admin: true });
  await hub.addUser("alice");
  const token = await hub.tokenFor("admin");
  const res = await createToken(hub, token, {});
  assert.equal(res.status, 201);
  const model = await obj(res);
  assert.equal(model.user, "alice");
  assert.equal(model.note, "Requested via api by user admin");
});

Deno.test("POST /hub/api/users/:name/tokens with expires_in sets expires_at", async () => {
  await using hub = await createTestHub();
  const token = await userToken(hub, "alice");
  const res = await createToken(hub, token, { "expires_in": 3600 });
  assert.equal(res.status, 201);
  assert.equal((await obj(res)).expires_at, "2026-11-25T13:00:00.000Z");
  const never = await createToken(hub, token, { "expires_in": null });
  assert.equal((await obj(never)).expires_at, null);
});

Deno.test("POST /hub/api/users/:name/tokens answers 400 for a bad expires_in and creates nothing", async (t) => {
  await using hub = await createTestHub();
  const token = await userToken(hub, "alice");
  for (const value of [-60, "3600", 1.5, true, [60], 1e300]) {
    await t.step(JSON.stringify(value), async () => {
      await assertError(
        await createToken(hub, token, { "expires_in": value }),
        400,
        /^expires_in must be a positive integer number of seconds or null, got /,
      );
      assert.equal(await countRows(hub, "api_tokens"), 1);
    });
  }
});

Deno.test("POST /hub/api/users/:name/tokens caps and defaults expires_in to tokens.max_expires_in", async () => {
  await using hub = await createTestHub({ tokens: { max_expires_in: 600 } });
  const token = await userToken(hub, "alice");
  const res = await createToken(hub, token, {});
  assert.equal((await obj(res)).expires_at, "2026-11-25T12:10:00.000Z");
  await assertError(
    await createToken(hub, token, { "expires_in": 601 }),
    400,
    /must not exceed 600 seconds/,
  );
});

Deno.test("POST /hub/api/users/:name/tokens answers 400 for an unknown scope", async () => {
  await using hub = await createTestHub();
  const token = await userToken(hub, "alice");
  const message = await assertError(
    await createToken(hub, token, { scopes: ["read:everything"] }),
    400,
  );
  assert.match(message, /read:everything/);
  assert.equal(await countRows(hub, "api_tokens"), 1);
});

Deno.test("POST /hub/api/users/:name/tokens answers 400 for scopes the owner does not hold", async () => {
  await using hub = await createTestHub();
  const token = await userToken(hub, "alice");
  await assertError(
    await createToken(hub, token, { scopes: ["admin:users"] }),
    400,
    /^Not assigning requested scopes .*admin:users.* not held by User alice$/,
  );
  await assertError(
    await createToken(hub, token, { scopes: ["read:users!user=bob"] }),
    400,
    /not held by User alice/,
  );
  assert.equal(await countRows(hub, "api_tokens"), 1);
});

Deno.test("POST /hub/api/users/:name/tokens resolves roles and refuses unknown ones", async () => {
  await using hub = await createTestHub();
  const token = await userToken(hub, "alice");
  const res = await createToken(hub, token, { roles: ["server"] });
  assert.equal(res.status, 201);
  const scopes = (await obj(res)).scopes as string[];
  assert.ok(scopes.includes("users:activity!user=alice"));
  assert.ok(!scopes.includes("servers!user=alice"));
  await assertError(
    await createToken(hub, token, { roles: ["wizard"] }),
    400,
    /^Role "wizard" does not exist/,
  );
});

Deno.test("POST /hub/api/users/:name/tokens answers 400 for wrong field types", async (t) => {
  await using hub = await createTestHub();
  const token = await userToken(hub, "alice");
  const rows: Array<[string, unknown, RegExp]> = [
    ["scopes string", { scopes: "read:users" }, /"scopes" must be a list/],
    ["scopes numbers", { scopes: [1] }, /"scopes" must be a list/],
    ["note number", { note: 5 }, /"note" must be a string/],
    ["unknown key", { name: "x" }, /^Invalid JSON keys: "name"/],
    ["array body", [], /must be a JSON object/],
  ];
  for (const [label, json, message] of rows) {
    await t.step(label, async () => {
      await assertError(await createToken(hub, token, json), 400, message);
      assert.equal(await countRows(hub, "api_tokens"), 1);
    });
  }
});

Deno.test("POST /hub/api/users/:name/tokens refuses a token for another user, or one who does not exist, with JupyterHub's 403", async () => {
  await using hub = await createTestHub();
  await hub.addUser("alice");
  await hub.addUser("bob");
  await hub.addUser("admin", { admin: true });
  const token = await hub.tokenFor("alice");
  await assertError(
    await createToken(hub, token, {}, "bob"),
    403,
    /^User bob not found or no permissions to generate tokens$/,
  );
  await assertError(
    await createToken(hub, await hub.tokenFor("admin"), {}, "ghost"),
    403,
    /^User ghost not found or no permissions to generate tokens$/,
  );
  assert.equal(await countRows(hub, "api_tokens"), 2);
});

Deno.test("POST /hub/api/users/:name/tokens with expires_in 0 makes a token that does not expire (JupyterHub's REST spec), or the cap", async () => {
  await using hub = await createTestHub();
  const token = await userToken(hub, "alice");
  const made = await obj(await createToken(hub, token, { "expires_in": 0 }));
  assert.equal(made.expires_at, null);
  await using capped = await createTestHub({ tokens: { max_expires_in: 600 } });
  await capped.addUser("alice");
  const res = await createToken(capped, await capped.tokenFor("alice"), {
    "expires_in": 0,
  });
  assert.equal((await obj(res)).expires_at, "2026-11-25T12:10:00.000Z");
});

Deno.test("POST /hub/api/users/:name/tokens logs in with body auth when no credentials are sent", async () => {
  await using hub = await createTestHub({
    auth: { type: "dummy", dummy: { password: "sesame" } },
  });
  await hub.addUser("alice");
  const res = await createToken(hub, undefined, {
    auth: { username: "alice", password: "sesame" },
    note: "cli",
  });
  assert.equal(res.status, 201);
  const model = await obj(res);
  assert.equal(model.user, "alice");
  assert.equal(model.note, "cli");
  assert.equal(await whoStatus(hub, model.token as string), 200);
});

Deno.test("POST /hub/api/users/:name/tokens answers 403 for failed body auth", async (t) => {
  await using hub = await createTestHub({
    auth: { type: "dummy", dummy: { password: "sesame" } },
  });
  await hub.addUser("alice");
  await hub.addUser("bob");
  const rows: Array<[string, unknown, number]> = [
    ["wrong password", { auth: { username: "alice", password: "x" } }, 403],
    ["someone else's path", {
      auth: { username: "bob", password: "sesame" },
    }, 403],
    ["no auth at all", {}, 403],
    ["auth not an object", { auth: "alice:sesame" }, 400],
    ["auth without password", { auth: { username: "alice" } }, 400],
  ];
  for (const [label, json, status] of rows) {
    await t.step(label, async () => {
      await assertError(await createToken(hub, undefined, json), status);
      assert.equal(await countRows(hub, "api_tokens"), 0);
    });
  }
});

Deno.test("POST /hub/api/users/:name/tokens answers 403 for body auth of a user not in the database", async () => {
  await using hub = await createTestHub();
  await assertError(
    await createToken(hub, undefined, {
      auth: { username: "ghost", password: "x" },
    }, "ghost"),
    403,
    /^Missing or invalid credentials\.$/,
  );
  assert.equal(await countRows(hub, "users"), 0);
});

// ---- read ----

Deno.test("GET /hub/api/users/:name/tokens lists token models without secrets", async () => {
  await using hub = await createTestHub();
  const token = await userToken(hub, "alice");
  const made = await createToken(hub, token, { note: "second" });
  await made.body?.cancel();
  const res = await hub.request("/hub/api/users/alice/tokens", { token });
  assert.equal(res.status, 200);
  const { api_tokens: list } = await obj(res) as {
    "api_tokens": Array<Record<string, unknown>>;
  };
  assert.deepEqual(list.map((t) => t.note), ["test", "second"]);
  for (const model of list) {
    assert.equal("token" in model, false);
    assert.equal(model.kind, "api_token");
  }
  // Using the first token recorded its activity.
  assert.equal(list[0]!.last_activity, "2026-11-25T12:00:00.000Z");
});

Deno.test("GET /hub/api/users/:name/tokens deletes expired tokens", async () => {
  await using hub = await createTestHub();
  const token = await userToken(hub, "alice");
  const made = await createToken(hub, token, { "expires_in": 60 });
  await made.body?.cancel();
  assert.equal(await countRows(hub, "api_tokens"), 2);
  hub.now.setTime(hub.now.getTime() + 61_000);
  const res = await hub.request("/hub/api/users/alice/tokens", { token });
  const { api_tokens: list } = await obj(res) as {
    "api_tokens": unknown[];
  };
  assert.equal(list.length, 1);
  assert.equal(await countRows(hub, "api_tokens"), 1);
});

Deno.test("GET /hub/api/users/:name/tokens/:id returns one model without the secret", async () => {
  await using hub = await createTestHub();
  const token = await userToken(hub, "alice");
  const made = await obj(await createToken(hub, token, { note: "n" }));
  const res = await hub.request(`/hub/api/users/alice/tokens/${made.id}`, {
    token,
  });
  assert.equal(res.status, 200);
  const model = await obj(res);
  const { token: _secret, ...expected } = made;
  assert.deepEqual(model, expected);
});

Deno.test("GET /hub/api/users/:name/tokens/:id answers 404 for another user's token and bad ids", async (t) => {
  await using hub = await createTestHub();
  await hub.addUser("admin", { admin: true });
  await hub.addUser("alice");
  await hub.addUser("bob");
  const admin = await hub.tokenFor("admin");
  await hub.tokenFor("bob");
  const bobs = await obj(
    await hub.request("/hub/api/users/bob/tokens", { token: admin }),
  );
  const bobId = (bobs.api_tokens as Array<{ id: string }>)[0]!.id;
  for (const id of [bobId, "a999", "8", "a0", "a-1", "abc"]) {
    await t.step(id, async () => {
      await assertError(
        await hub.request(`/hub/api/users/alice/tokens/${id}`, {
          token: admin,
        }),
        404,
        /^No such token "[^"]+" for user alice$/,
      );
    });
  }
});

// ---- delete ----

Deno.test("DELETE /hub/api/users/:name/tokens/:id revokes the token, which then no longer authenticates", async () => {
  await using hub = await createTestHub();
  const token = await userToken(hub, "alice");
  const made = await obj(await createToken(hub, token, {}));
  assert.equal(await whoStatus(hub, made.token as string), 200);
  const res = await hub.request(`/hub/api/users/alice/tokens/${made.id}`, {
    method: "DELETE",
    token,
  });
  assert.equal(res.status, 204);
  assert.equal(await res.text(), "");
  assert.equal(await whoStatus(hub, made.token as string), 403);
  await assertError(
    await hub.request(`/hub/api/users/alice/tokens/${made.id}`, {
      method: "DELETE",
      token,
    }),
    404,
  );
  assert.equal(await whoStatus(hub, token), 200);
});

Deno.test("DELETE /hub/api/users/:name/tokens/:id answers 403 without the tokens scope", async () => {
  await using hub = await createTestHub();
  const weak = await userToken(hub, "alice", ["read:tokens!user"]);
  const list = await obj(
    await hub.request("/hub/api/users/alice/tokens", { token: weak }),
  );
  const id = (list.api_tokens as Array<{ id: string }>)[0]!.id;
  await assertError(
    await hub.request(`/hub/api/users/alice/tokens/${id}`, {
      method: "DELETE",
      token: weak,
    }),
    403,
    /requires any of \[tokens\]/,
  );
  assert.equal(await countRows(hub, "api_tokens"), 1);
});

// ---- token forms and expiry ----

Deno.test("an API token is accepted as 'token' or 'Bearer' in any case, and nowhere else", async (t) => {
  await using hub = await createTestHub();
  const token = await userToken(hub, "alice");
  const rows: Array<[string, Record<string, string>, string, number]> = [
    ["token", { authorization: `token ${token}` }, "", 200],
    ["Bearer", { authorization: `Bearer ${token}` }, "", 200],
    ["TOKEN upper case", { authorization: `TOKEN ${token}` }, "", 200],
    ["bearer extra spaces", { authorization: `bearer   ${token}` }, "", 200],
    ["?token= query", {}, `?token=${token}`, 403],
    ["Basic", { authorization: `Basic ${btoa(`alice:${token}`)}` }, "", 403],
    ["no scheme", { authorization: token }, "", 403],
    ["two tokens", { authorization: `token ${token} ${token}` }, "", 403],
    [
      "wrong token",
      { authorization: `token ${token.slice(0, -2)}xx` },
      "",
      403,
    ],
  ];
  for (const [label, headers, query, status] of rows) {
    await t.step(label, async () => {
      const res = await hub.request(`/hub/api/users/alice${query}`, {
        headers,
      });
      if (status === 200) {
        assert.equal(res.status, 200);
        assert.equal((await obj(res)).name, "alice");
      } else {
        await assertError(res, status, /^Missing or invalid credentials\.$/);
      }
    });
  }
});

Deno.test("an expired token is refused with 403 as if absent", async () => {
  await using hub = await createTestHub();
  const token = await userToken(hub, "alice");
  const made = await obj(await createToken(hub, token, { "expires_in": 60 }));
  const short = made.token as string;
  hub.now.setTime(hub.now.getTime() + 59_000);
  assert.equal(await whoStatus(hub, short), 200);
  hub.now.setTime(hub.now.getTime() + 1_000);
  await assertError(
    await hub.request("/hub/api/users/alice", { token: short }),
    403,
    /^Missing or invalid credentials\.$/,
  );
  assert.equal(await whoStatus(hub, short), 403);
});

Deno.test("a token row past its expires_at is refused with 403", async () => {
  await using hub = await createTestHub();
  const token = await userToken(hub, "alice");
  await hub.handle.db.updateTable("api_tokens").set({
    "expires_at": "2026-11-25T11:59:59.999Z",
  }).execute();
  assert.equal(await whoStatus(hub, token), 403);
});

Deno.test("a token's effective scopes shrink when its owner loses admin", async () => {
  await using hub = await createTestHub();
  const token = await adminToken(hub, {
    name: "boss",
    scopes: ["admin:users"],
  });
  await assertStatus(await hub.request("/hub/api/users", { token }), 200);
  await hub.handle.db.updateTable("users").set({ admin: 0 }).execute();
  await assertError(
    await hub.request("/hub/api/users", { token }),
    403,
    /requires any of \[list:users\]/,
  );
});

Deno.test("POST /hub/api/users/:name/tokens works from the token page with the login cookie and XSRF token", async () => {
  await using hub = await createTestHub();
  await hub.addUser("alice");
  const { cookie, xsrf } = await hub.login("alice");
  const res = await hub.request("/hub/api/users/alice/tokens", {
    method: "POST",
    headers: { cookie, "x-xsrftoken": xsrf, "sec-fetch-mode": "cors" },
    json: { note: "from the page", "expires_in": 3600 },
  });
  assert.equal(res.status, 201);
  const model = await obj(res);
  assert.equal(model.note, "from the page");
  const list = await body(
    await hub.request("/hub/api/users/alice/tokens", {
      headers: { cookie },
    }),
  ) as { "api_tokens": unknown[] };
  assert.equal(list.api_tokens.length, 1);
});

Deno.test("POST /hub/api/users/:name/tokens racing the owner's deletion answers JupyterHub's 403, not 500", async () => {
  await using hub = await createTestHub();
  await hub.addUser("admin", { admin: true });
  await hub.addUser("alice");
  const token = await hub.tokenFor("admin");
  const [made, del] = await Promise.all([
    createToken(hub, token, {}),
    hub.request("/hub/api/users/alice", { method: "DELETE", token }),
  ]);
  await del!.body?.cancel();
  assert.equal(del!.status, 204);
  if (made!.status === 201) await made!.body?.cancel();
  else {
    await assertError(
      made!,
      403,
      /^User alice not found or no permissions to generate tokens$/,
    );
  }
  assert.equal(await countRows(hub, "api_tokens"), 1);
});

Deno.test("GET and DELETE /hub/api/users/:other/tokens/:id answer 404 to a user whose scopes do not reach that user (rbac.md: filtered scope)", async () => {
  await using hub = await createTestHub();
  await hub.addUser("alice");
  await hub.addUser("bob");
  const alice = await hub.tokenFor("alice");
  await hub.tokenFor("bob");
  const bobsId = (await hub.handle.db.selectFrom("api_tokens").innerJoin(
    "users",
    "users.id",
    "api_tokens.user_id",
  ).select("api_tokens.id").where("users.name", "=", "bob")
    .executeTakeFirstOrThrow()).id;
  for (const method of ["GET", "DELETE"]) {
    await assertError(
      await hub.request(`/hub/api/users/bob/tokens/a${bobsId}`, {
        method,
        token: alice,
      }),
      404,
      /^No access to resources or resources not found$/,
    );
  }
  assert.equal(await whoStatus(hub, alice), 200);
});

Deno.test("a token's oauth_client is its client's description, whoever's server it is (JupyterHub's token_model), and 'JupyterHub' for API tokens", async () => {
  await using hub = await fakeHub({ spawner: { "named_servers": true } });
  const daemon = await hub.tokenFor("daemon");
  await startServer(hub, "daemon/gpu", { token: daemon });
  await oauthTokenFor(hub, "bin", "jupyterhub-user-daemon-gpu", [
    "access:servers!server=daemon/gpu",
  ]);
  const list = await obj(
    await hub.request("/hub/api/users/bin/tokens", {
      token: await hub.tokenFor("bin"),
    }),
  );
  const clients = (list.api_tokens as Array<{ oauth_client: string }>)
    .map((t) => t.oauth_client).sort();
  assert.deepEqual(clients, ["JupyterHub", "Server at /user/daemon/gpu/"]);
});

Deno.test("a teacher holding read:users!group=class makes and uses a token for one student (read:users!user=<student>), not for anyone outside the group", async () => {
  await using hub = await createTestHub({
    groups: { class: { users: ["stu"] } },
    roles: [{
      name: "teacher",
      scopes: ["read:users!group=class", "tokens!user"],
      users: ["tim"],
    }],
  });
  await hub.addUser("outsider");
  await syncConfigAccess(hub.handle.db, hub.config, { logger: silentLogger });
  const tim = await hub.tokenFor("tim", ["tokens!user"]);
  const made = await createToken(hub, tim, {
    scopes: ["read:users!user=stu"],
  }, "tim");
  assert.equal(made.status, 201, await made.clone().text());
  const token = (await obj(made)).token as string;
  const res = await hub.request("/hub/api/users/stu", { token });
  assert.equal(res.status, 200, "the token resolves to what it asked for");
  assert.equal((await res.json()).name, "stu");
  await assertError(
    await createToken(
      hub,
      tim,
      { scopes: ["read:users!user=outsider"] },
      "tim",
    ),
    400,
    /not held by User tim/,
  );
});
