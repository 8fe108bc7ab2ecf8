/**
 * Revoking a user's credentials at once (hub/api/tokens.ts):
 * `DELETE /users/{name}/sessions` (log out everywhere) and
 * `DELETE /users/{name}/tokens` (every token but the user's running
 * servers' own), with the `tokens` scope, and the events they leave.
 */
import assert from "node:assert/strict";
import { createTestHub } from "../../_helpers/test_hub.ts";
import { insertToken } from "../../../hub/db/tokens.ts";
import { getUser } from "../../../hub/db/users.ts";
import { addServer } from "./_fixtures.ts";
import { hashSecret, tokenPrefix } from "../../../hub/secrets.ts";
import { assertStatus } from "../../_helpers/responses.ts";
import { assertAnswer } from "../../_helpers/api_cases.ts";
import {
  adminToken,
  recordedEvents,
  userToken,
} from "../../_helpers/api_setup.ts";

Deno.test("an admin revokes a user's sessions and tokens; only the server's own token, linked by relation, survives", async () => {
  await using hub = await createTestHub({}, { spawner: "fake" });
  await hub.addUser("daemon");
  const admin = await adminToken(hub, { name: "teacher" });
  const session = await hub.login("daemon");
  const script = await hub.tokenFor("daemon");
  const daemon = (await getUser(hub.handle.db, "daemon"))!;
  let res = await hub.request("/hub/api/users/daemon/server", {
    method: "POST",
    token: script,
  });
  assert.equal(res.status, 201);
  // The attack: a token of the user's own, noted like a server's.
  res = await hub.request("/hub/api/users/daemon/tokens", {
    method: "POST",
    token: script,
    json: { note: "Server at /user/daemon/" },
  });
  assert.equal(res.status, 201);
  const disguised = (await res.json()).token as string;
  res = await hub.request("/hub/api/users/daemon/sessions", {
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
  res = await hub.request("/hub/api/users/daemon/tokens", {
    method: "DELETE",
    token: admin,
  });
  assert.deepEqual(await res.json(), { sessions: 0, tokens: 2 });
  for (const token of [script, disguised]) {
    res = await hub.request("/hub/api/user", { token });
    assert.equal(res.status, 403, "revoked, whatever its note");
    await res.body?.cancel();
  }
  const left = await hub.handle.db.selectFrom("api_tokens")
    .select(["note", "server_id"]).where("user_id", "=", daemon.id).execute();
  assert.equal(left.length, 1);
  assert.equal(left[0]!.note, "Server at /user/daemon/");
  assert.notEqual(left[0]!.server_id, null, "the running server's own token");
  const events = await recordedEvents(hub, { user: "daemon" });
  assert.deepEqual(
    events.filter((e) =>
      e.kind.startsWith("sessions.") ||
      e.kind === "token.revoked"
    ).map((e) => [e.kind, e.actor]),
    [["sessions.revoked", "teacher"], ["token.revoked", "teacher"]],
  );
});

Deno.test("a token noted like a server's counts as its user's activity; the server's own does not", async () => {
  await using hub = await createTestHub({}, { spawner: "fake" });
  await hub.addUser("alice");
  const alice = (await getUser(hub.handle.db, "alice"))!;
  const server = await addServer(hub, "alice");
  for (
    const [prefix, serverId] of [["ownsrv01", server], [
      "disguise",
      null,
    ]] as const
  ) {
    await insertToken(hub.handle.db, {
      userId: alice.id,
      serviceId: null,
      expiresAt: null,
      prefix: tokenPrefix(`${prefix}-secret`),
      hash: await hashSecret(`${prefix}-secret`),
      scopes: ["read:users!user"],
      note: "Server at /user/alice/",
      created: hub.now.toISOString(),
      serverId,
    });
    await assertStatus(
      await hub.request("/hub/api/user", {
        token: `${prefix}-secret`,
      }),
      200,
    );
    const user = (await getUser(hub.handle.db, "alice"))!;
    if (serverId === null) {
      assert.notEqual(user.last_activity, null, "a user's token counts");
    } else {
      assert.equal(user.last_activity, null, "a server's own calls do not");
    }
  }
});

Deno.test("a user may revoke their own; another user may not", async () => {
  await using hub = await createTestHub();
  await hub.addUser("alice");
  const bob = await userToken(hub, "bob");
  await assertAnswer(hub, {
    send: "DELETE /hub/api/users/alice/tokens",
    token: bob,
    status: 404,
  });
  await assertAnswer(hub, {
    send: "DELETE /hub/api/users/bob/sessions",
    token: bob,
    status: 200,
  });
});
