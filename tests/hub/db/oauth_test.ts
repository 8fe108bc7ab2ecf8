import assert from "node:assert/strict";
import { migrateToLatest, openDatabase } from "../../../hub/db/mod.ts";
import {
  clientIdFor,
  deleteClient,
  getClient,
  insertCode,
  scopesAuthorizedFor,
  takeCode,
  upsertServerClient,
} from "../../../hub/db/oauth.ts";
import { insertToken } from "../../../hub/db/tokens.ts";
import { createUsers, getUser } from "../../../hub/db/users.ts";
import { hashSecret } from "../../../hub/secrets.ts";

const NOW = new Date("2026-11-25T12:00:00.000Z");

async function setup() {
  const handle = openDatabase(":memory:");
  await migrateToLatest(handle);
  await createUsers(handle.db, ["alice", "bob"], {
    admin: false,
    now: NOW.toISOString(),
  });
  const alice = (await getUser(handle.db, "alice"))!;
  // The servers the clients belong to: ids 1 (default) and 2 ("gpu").
  for (const name of ["", "gpu"]) {
    await handle.db.insertInto("servers").values({
      "user_id": alice.id,
      name,
      status: "running",
      url: null,
      state: "{}",
      "user_options": "{}",
      started: null,
      "last_activity": null,
      created: NOW.toISOString(),
    }).execute();
  }
  return {
    handle,
    db: handle.db,
    alice,
    [Symbol.asyncDispose]: () => handle.close(),
  };
}

function aliceClient(secret = "server-token-1") {
  return {
    user: "alice",
    server: "",
    serverId: 1,
    secret,
    redirectUri: "/user/alice/oauth_callback",
    allowedScopes: ["access:servers!server=alice/"],
    description: "Server at /user/alice/",
    now: NOW,
  };
}

/** Alice's named server "gpu", beside her default one. */
function aliceGpuClient() {
  return {
    ...aliceClient(),
    server: "gpu",
    serverId: 2,
    redirectUri: "/user/alice/gpu/oauth_callback",
  };
}

/** A code for alice's default server client (the insertCode fields the tests vary). */
function aliceCode(
  userId: number,
  codeHash: string,
  more: { scopes?: string[]; sessionId?: string | null; now?: Date } = {},
) {
  return {
    clientId: "jupyterhub-user-alice",
    codeHash,
    userId,
    redirectUri: "/user/alice/oauth_callback",
    scopes: more.scopes ?? [],
    sessionId: more.sessionId ?? null,
    now: more.now ?? NOW,
  };
}

Deno.test("clientIdFor quotes like Python (@ → %40)", () => {
  assert.equal(clientIdFor("alice", ""), "jupyterhub-user-alice");
  assert.equal(clientIdFor("alice", "gpu"), "jupyterhub-user-alice-gpu");
  assert.equal(clientIdFor("a@b.c", ""), "jupyterhub-user-a%40b.c");
});

Deno.test("upsertServerClient stores only the secret's hash and replaces on re-spawn", async () => {
  await using t = await setup();
  const row = await upsertServerClient(t.db, aliceClient());
  assert.equal(row.identifier, "jupyterhub-user-alice");
  assert.equal(row.secret_hash, await hashSecret("server-token-1"));
  assert.equal(row.redirect_uri, "/user/alice/oauth_callback");
  assert.deepEqual(JSON.parse(row.allowed_scopes), [
    "access:servers!server=alice/",
  ]);
  assert.equal(row.description, "Server at /user/alice/");
  assert.equal(row.created, NOW.toISOString());
  const stored = JSON.stringify(
    await t.db.selectFrom("oauth_clients").selectAll().execute(),
  );
  assert.equal(stored.includes("server-token-1"), false);

  const again = await upsertServerClient(t.db, {
    ...aliceClient("server-token-2"),
    allowedScopes: ["access:servers!server=alice/", "read:users:name!user"],
    now: new Date(NOW.getTime() + 60_000),
  });
  assert.equal(again.id, row.id);
  assert.equal(again.secret_hash, await hashSecret("server-token-2"));
  assert.equal(JSON.parse(again.allowed_scopes).length, 2);
  assert.equal(again.created, NOW.toISOString());
  const count = await t.db.selectFrom("oauth_clients").select((eb) =>
    eb.fn.countAll<number>().as("n")
  ).executeTakeFirstOrThrow();
  assert.equal(Number(count.n), 1);
});

Deno.test("upsertServerClient: named servers and quoted names get their own client", async () => {
  await using t = await setup();
  await createUsers(t.db, ["a@b.c"], { admin: false, now: NOW.toISOString() });
  await upsertServerClient(t.db, aliceClient());
  await upsertServerClient(t.db, aliceGpuClient());
  await upsertServerClient(t.db, {
    ...aliceClient(),
    user: "a@b.c",
    redirectUri: "/user/a@b.c/oauth_callback",
  });
  assert.ok(await getClient(t.db, "jupyterhub-user-alice"));
  assert.equal(
    (await getClient(t.db, "jupyterhub-user-alice-gpu"))?.redirect_uri,
    "/user/alice/gpu/oauth_callback",
  );
  assert.ok(await getClient(t.db, "jupyterhub-user-a%40b.c"));
  assert.equal(await getClient(t.db, "jupyterhub-user-nobody"), undefined);
});

Deno.test("takeCode returns a code once; expired codes give undefined", async () => {
  await using t = await setup();
  await upsertServerClient(t.db, aliceClient());
  const hash = await hashSecret("the-code");
  await insertCode(t.db, {
    clientId: "jupyterhub-user-alice",
    codeHash: hash,
    userId: t.alice.id,
    redirectUri: "/user/alice/oauth_callback",
    scopes: ["access:servers!server=alice/", "read:users:name!user"],
    sessionId: "sess1",
    now: NOW,
  });
  const row = await takeCode(t.db, hash, new Date(NOW.getTime() + 1000));
  assert.ok(row);
  assert.equal(row.client_id, "jupyterhub-user-alice");
  assert.equal(row.user_id, t.alice.id);
  assert.equal(row.session_id, "sess1");
  assert.equal(row.expires_at, "2026-11-25T12:05:00.000Z");
  assert.deepEqual(JSON.parse(row.scopes), [
    "access:servers!server=alice/",
    "read:users:name!user",
  ]);
  assert.equal(await takeCode(t.db, hash, NOW), undefined);

  const old = await hashSecret("old-code");
  await insertCode(t.db, aliceCode(t.alice.id, old));
  assert.equal(
    await takeCode(t.db, old, new Date(NOW.getTime() + 300_000)),
    undefined,
  );
  // and it is gone, not merely refused
  const left = await t.db.selectFrom("oauth_codes").selectAll().execute();
  assert.deepEqual(left, []);
});

Deno.test("insertCode drops expired codes", async () => {
  await using t = await setup();
  await upsertServerClient(t.db, aliceClient());
  const base = {
    clientId: "jupyterhub-user-alice",
    userId: t.alice.id,
    redirectUri: "/user/alice/oauth_callback",
    scopes: [],
    sessionId: null,
  };
  await insertCode(t.db, { ...base, codeHash: "h1", now: NOW });
  await insertCode(t.db, {
    ...base,
    codeHash: "h2",
    now: new Date(NOW.getTime() + 600_000),
  });
  const rows = await t.db.selectFrom("oauth_codes").select("code_hash")
    .execute();
  assert.deepEqual(rows.map((r) => r.code_hash), ["h2"]);
});

Deno.test("deleteClient removes the client, its codes and every token issued to it", async () => {
  await using t = await setup();
  await upsertServerClient(t.db, aliceClient());
  await upsertServerClient(t.db, aliceGpuClient());
  await insertCode(t.db, aliceCode(t.alice.id, "c1"));
  const token = (client: string | null, note: string) =>
    insertToken(t.db, {
      userId: t.alice.id,
      serviceId: null,
      prefix: "abcd",
      hash: crypto.randomUUID(),
      scopes: ["access:servers!server=alice/"],
      note,
      created: NOW.toISOString(),
      expiresAt: null,
      oauthClient: client,
    });
  await token("jupyterhub-user-alice", "oauth: a");
  await token("jupyterhub-user-alice", "oauth: b");
  await token("jupyterhub-user-alice-gpu", "oauth: gpu");
  await token(null, "Server at /user/alice/");

  assert.equal(await deleteClient(t.db, "jupyterhub-user-alice"), true);
  assert.equal(await getClient(t.db, "jupyterhub-user-alice"), undefined);
  assert.ok(await getClient(t.db, "jupyterhub-user-alice-gpu"));
  const notes = (await t.db.selectFrom("api_tokens").select("note").orderBy(
    "id",
  ).execute()).map((r) => r.note);
  assert.deepEqual(notes, ["oauth: gpu", "Server at /user/alice/"]);
  assert.deepEqual(
    await t.db.selectFrom("oauth_codes").selectAll().execute(),
    [],
  );
  assert.equal(await deleteClient(t.db, "jupyterhub-user-alice"), false);
});

Deno.test("scopesAuthorizedFor unions the raw scopes of a user's live tokens for a client", async () => {
  await using t = await setup();
  await upsertServerClient(t.db, aliceClient());
  const add = (scopes: string[], expiresAt: string | null) =>
    insertToken(t.db, {
      userId: t.alice.id,
      serviceId: null,
      prefix: "abcd",
      hash: crypto.randomUUID(),
      scopes,
      note: "oauth",
      created: NOW.toISOString(),
      expiresAt,
      oauthClient: "jupyterhub-user-alice",
    });
  await add(["a"], null);
  await add(["b"], "2026-12-01T00:00:00.000Z");
  await add(["c"], "2026-11-01T00:00:00.000Z");
  const got = await scopesAuthorizedFor(t.db, t.alice.id, {
    client: "jupyterhub-user-alice",
    now: NOW,
  });
  assert.deepEqual([...got].sort(), ["a", "b"]);
});
