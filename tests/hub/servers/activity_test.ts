import assert from "node:assert/strict";
import { createProxy } from "../../../proxy/mod.ts";
import { migrateToLatest, openDatabase } from "../../../hub/db/mod.ts";
import { inProcessControl, RouteService } from "../../../hub/servers/routes.ts";
import { pullActivity } from "../../../hub/servers/activity.ts";

Deno.test("pullActivity() moves user and server last_activity forward from the proxy, never back", async () => {
  await using stack = new AsyncDisposableStack();
  const handle = openDatabase(":memory:");
  stack.defer(() => handle.close());
  await migrateToLatest(handle);
  const db = handle.db;
  const user = await db.insertInto("users").values({
    name: "alice",
    admin: 0,
    created: "2026-01-01T00:00:00.000Z",
    "last_activity": "2026-01-01T00:00:00.000Z",
    "auth_state": null,
  }).returning("id").executeTakeFirstOrThrow();
  await db.insertInto("servers").values({
    "user_id": user.id,
    name: "",
    status: "running",
    url: null,
    state: "{}",
    "user_options": "{}",
    started: null,
    "last_activity": "2030-01-01T00:00:00.000Z",
    created: "2026-01-01T00:00:00.000Z",
  }).execute();
  let clock = Date.parse("2026-06-01T00:00:00.000Z");
  const proxy = createProxy({ now: () => clock });
  stack.defer(() => proxy.close());
  const routes = new RouteService(db, inProcessControl(proxy));
  await routes.add("/user/alice", {
    target: "http://127.0.0.1:9",
    data: {
      user: "alice",
      "server_name": "",
    },
  });
  await routes.add("/user/ghost", {
    target: "http://127.0.0.1:9",
    data: {
      user: "ghost",
      "server_name": "",
    },
  });
  clock = Date.parse("2026-07-01T00:00:00.000Z");
  proxy.activity.touch("/user/alice");
  assert.equal(await pullActivity(db, routes), 1);
  const u = await db.selectFrom("users").selectAll().where("id", "=", user.id)
    .executeTakeFirstOrThrow();
  assert.equal(u.last_activity, "2026-07-01T00:00:00.000Z");
  const s = await db.selectFrom("servers").selectAll()
    .executeTakeFirstOrThrow();
  assert.equal(
    s.last_activity,
    "2030-01-01T00:00:00.000Z",
    "a newer stored value is kept",
  );
});
