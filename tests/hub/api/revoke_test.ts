/**
 * Revoking a user's credentials at once (hub/api/tokens.ts):
 * `DELETE /users/{name}/sessions` (log out everywhere) and
 * `DELETE /users/{name}/tokens` (every token but the user's running
 * servers' own), with the `tokens` scope, and the events they leave.
 */
import assert from "node:assert/strict";
import { createTestHub } from "../../_helpers/test_hub.ts";
import { eventsSince } from "../../../hub/db/events.ts";
import { insertToken } from "../../../hub/db/tokens.ts";
import { getUser } from "../../../hub/db/users.ts";

Deno.test("an admin revokes a user's sessions and tokens; the user's server token survives", async () => {
  await using hub = await createTestHub();
  await hub.addUser("alice");
  await hub.addUser("teacher", { admin: true });
  const admin = await hub.tokenFor("teacher");
  const session = await hub.login("alice");
  const script = await hub.tokenFor("alice");
  const alice = (await getUser(hub.handle.db, "alice"))!;
  await insertToken(hub.handle.db, {
    userId: alice.id,
    serviceId: null,
    expiresAt: null,
    prefix: "srvtoken",
    hash: "0".repeat(64),
    scopes: [],
    note: "Server at /user/alice/",
    created: hub.now.toISOString(),
  });
  let res = await hub.request("/hub/api/users/alice/sessions", {
    method: "DELETE",
    token: admin,
  });
  assert.equal(res.status, 200);
  assert.deepEqual(await res.json(), { sessions: 1, tokens: 0 });
  res = await hub.request("/hub/api/user", {
    headers: { cookie: session.cookie },
  });
  assert.equal(res.status, 403, "the browser is logged out");
  await res.body?.cancel();
  res = await hub.request("/hub/api/users/alice/tokens", {
    method: "DELETE",
    token: admin,
  });
  assert.deepEqual(await res.json(), { sessions: 0, tokens: 1 });
  res = await hub.request("/hub/api/user", { token: script });
  assert.equal(res.status, 403, "the script's token is revoked");
  await res.body?.cancel();
  const left = await hub.handle.db.selectFrom("api_tokens").select("note")
    .where("user_id", "=", alice.id).execute();
  assert.deepEqual(left.map((r) => r.note), ["Server at /user/alice/"]);
  await hub.events.flush();
  const events = await eventsSince(hub.handle.db, {
    since: "2000-01-01",
    limit: 10,
    user: "alice",
  });
  assert.deepEqual(
    events.filter((e) => e.kind !== "login.ok").map((e) => [e.kind, e.actor]),
    [["sessions.revoked", "teacher"], ["token.revoked", "teacher"]],
  );
});

Deno.test("a user may revoke their own; another user may not", async () => {
  await using hub = await createTestHub();
  await hub.addUser("alice");
  await hub.addUser("bob");
  const bob = await hub.tokenFor("bob");
  let res = await hub.request("/hub/api/users/alice/tokens", {
    method: "DELETE",
    token: bob,
  });
  assert.equal(res.status, 404);
  await res.body?.cancel();
  res = await hub.request("/hub/api/users/bob/sessions", {
    method: "DELETE",
    token: bob,
  });
  assert.equal(res.status, 200);
  await res.body?.cancel();
});
