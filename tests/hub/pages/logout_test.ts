/**
 * Logging out (hub/pages/login.ts): "log out everywhere" from the home
 * page's form, `session.shutdown_on_logout`, and the events logins and
 * logouts leave.
 */
import assert from "node:assert/strict";
import { createTestHub, fakeHub } from "../../_helpers/test_hub.ts";
import { eventsSince } from "../../../hub/db/events.ts";
import { assertStatus } from "../../_helpers/responses.ts";

async function kinds(
  hub: {
    events: { flush(): Promise<void> };
    handle: { db: import("../../../hub/db/mod.ts").Db };
  },
) {
  await hub.events.flush();
  return (await eventsSince(hub.handle.db, { since: "2000-01-01", limit: 100 }))
    .map((e) => `${e.kind}:${e.user ?? ""}`);
}

Deno.test("the home page's 'Log out everywhere' ends every session of the user, on every browser", async () => {
  await using hub = await createTestHub();
  const laptop = await hub.login("alice");
  const phone = await hub.login("alice");
  const other = await hub.login("bob");
  const home = await (await hub.request("/hub/home", {
    headers: { cookie: laptop.cookie },
  })).text();
  assert.match(home, /name="everywhere" value="1"/);
  const xsrf = /name="_xsrf" value="([^"]+)"/.exec(home)![1]!;
  await assertStatus(
    await hub.request("/hub/logout", {
      method: "POST",
      headers: {
        cookie: laptop.cookie,
        "content-type": "application/x-www-form-urlencoded",
      },
      body: new URLSearchParams({ _xsrf: xsrf, everywhere: "1" }).toString(),
    }),
    302,
  );
  for (
    const [who, status] of [[phone, 403], [laptop, 403], [other, 200]] as const
  ) {
    const r = await hub.request("/hub/api/user", {
      headers: { cookie: who.cookie },
    });
    assert.equal(r.status, status);
    await r.body?.cancel();
  }
  assert.deepEqual(
    (await kinds(hub)).filter((k) => !k.startsWith("login.ok")),
    ["sessions.revoked:alice"],
  );
});

Deno.test("POST /hub/logout without the form's XSRF token ends nothing", async () => {
  await using hub = await createTestHub();
  const { cookie } = await hub.login("alice");
  await assertStatus(
    await hub.request("/hub/logout", {
      method: "POST",
      headers: { cookie, "content-type": "application/x-www-form-urlencoded" },
      body: "everywhere=1",
    }),
    403,
  );
  await assertStatus(
    await hub.request("/hub/api/user", { headers: { cookie } }),
    200,
  );
});

Deno.test("session.shutdown_on_logout stops the user's servers at logout (and only then)", async () => {
  for (const shutdown of [true, false]) {
    await using hub = await fakeHub({
      session: { "shutdown_on_logout": shutdown },
    });
    const { cookie } = await hub.login("daemon");
    await hub.servers.start(
      await hub.handle.db.selectFrom("users").selectAll().where(
        "name",
        "=",
        "daemon",
      ).executeTakeFirstOrThrow(),
      "",
    );
    assert.equal(
      await hub.servers.waitReady("daemon", "", { timeoutMs: 5000 }),
      true,
    );
    const out = await hub.request("/hub/logout", { headers: { cookie } });
    await out.body?.cancel();
    const row = await hub.handle.db.selectFrom("servers").select("status")
      .executeTakeFirstOrThrow();
    assert.equal(row.status, shutdown ? "stopped" : "running");
    const events = await kinds(hub);
    assert.ok(events.includes("logout:daemon"));
    assert.equal(events.includes("server.stop:daemon"), shutdown);
  }
});

Deno.test("logins leave login.ok, login.failed and login.refused events", async () => {
  await using hub = await createTestHub({
    users: { "allow_all": false, allowed: ["alice"] },
    auth: { type: "dummy", dummy: { password: "secret" } },
  });
  await hub.login("alice", "secret");
  await assert.rejects(() => hub.login("alice", "wrong"));
  await assert.rejects(() => hub.login("mallory", "secret"));
  assert.deepEqual(await kinds(hub), [
    "login.ok:alice",
    "login.failed:alice",
    "login.refused:mallory",
  ]);
});
