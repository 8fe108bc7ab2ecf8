/**
 * `POST /hub/api/shutdown` (hub/api/shutdown.ts): the `shutdown` scope,
 * strict boolean flags, 202 before the hub stops, the request handed to
 * the runner.
 */
import assert from "node:assert/strict";
import { createTestHub } from "../../_helpers/test_hub.ts";
import type { ShutdownRequest } from "../../../hub/api/shutdown.ts";
import { eventsSince } from "../../../hub/db/events.ts";
import { assertStatus } from "../../_helpers/responses.ts";
import { assertAnswer } from "../../_helpers/api_cases.ts";
import { adminToken } from "../../_helpers/api_setup.ts";

Deno.test("POST /hub/api/shutdown needs the shutdown scope and checks its flags", async () => {
  const asked: ShutdownRequest[] = [];
  await using hub = await createTestHub({}, {
    requestShutdown: (r) => asked.push(r),
  });
  await hub.addUser("alice");
  const admin = await adminToken(hub, { name: "teacher" });
  await assertStatus(
    await hub.request("/hub/api/shutdown", {
      method: "POST",
      token: await hub.tokenFor("alice"),
    }),
    403,
  );
  let res = await hub.request("/hub/api/shutdown", {
    method: "POST",
    token: admin,
    json: { servers: "yes" },
  });
  assert.equal(res.status, 400);
  assert.match(
    (await res.json()).message,
    /servers must be true or false, got "yes"/,
  );
  await assertAnswer(hub, {
    send: "POST /hub/api/shutdown",
    token: admin,
    json: { server: true },
    status: 400,
  });
  assert.equal(asked.length, 0, "refused requests stop nothing");
  res = await hub.request("/hub/api/shutdown", {
    method: "POST",
    token: admin,
    json: { servers: true, proxy: false },
  });
  assert.equal(res.status, 202);
  assert.deepEqual(await res.json(), { message: "Shutting down Hub" });
  assert.deepEqual(asked, [{ actor: "teacher", servers: true, proxy: false }]);
});

Deno.test("POST /hub/api/shutdown answers 503 where no runner can stop the hub", async () => {
  await using hub = await createTestHub();
  await hub.addUser("teacher", { admin: true });
  await assertStatus(
    await hub.request("/hub/api/shutdown", {
      method: "POST",
      token: await hub.tokenFor("teacher"),
    }),
    503,
  );
  await hub.events.flush();
  assert.equal(
    (await eventsSince(hub.handle.db, { since: "2000-01-01", limit: 5 }))
      .length,
    0,
  );
});
