/**
 * `/hub/admin` and `/hub/admin/api/memory` (hub/pages/admin.ts): admin-ui
 * scope, 403 error page for others, the page's controls, and memory
 * measured by the spawner from stored state.
 */
import assert from "node:assert/strict";
import { createTestHub, type TestHub } from "../../_helpers/test_hub.ts";
import { createSpawner } from "../../../spawners/mod.ts";
import { assertSendsToLogin, assertStatus } from "../../_helpers/responses.ts";
import { adminToken, userToken } from "../../_helpers/api_setup.ts";

function adminHub(): Promise<TestHub> {
  return createTestHub({ users: { admin: ["teacher"] } });
}

Deno.test("GET /hub/admin sends anonymous visitors to the login page", async () => {
  await using hub = await adminHub();
  await assertSendsToLogin(hub, "/hub/admin");
});

Deno.test("GET /hub/admin is the 403 error page for a non-admin", async () => {
  await using hub = await adminHub();
  const { cookie } = await hub.login("student");
  const res = await hub.request("/hub/admin", { headers: { cookie } });
  const html = await res.text();
  assert.equal(res.status, 403);
  assert.match(res.headers.get("content-type") ?? "", /text\/html/);
  assert.ok(html.includes("403"));
  assert.ok(!html.includes('id="users"'));
});

Deno.test("GET /hub/admin shows the class controls with the XSRF token to an admin", async () => {
  await using hub = await adminHub();
  const { cookie, xsrf } = await hub.login("teacher");
  const res = await hub.request("/hub/admin", { headers: { cookie } });
  const html = await res.text();
  assert.equal(res.status, 200);
  assert.ok(html.includes(`"xsrf":"${xsrf}"`));
  for (
    const id of [
      "search",
      "sort",
      "select-all",
      "start-selected",
      "stop-selected",
      "stop-all",
      "new-user",
      "new-user-admin",
      "bulk-names",
      "bulk-admin",
      "new-group",
      "prev",
      "next",
    ]
  ) {
    assert.ok(html.includes(`id="${id}"`), `missing #${id}`);
  }
  for (const f of ["search", "sort", "new-user", "bulk-names", "new-group"]) {
    assert.ok(html.includes(`<label for="${f}">`), `label for ${f}`);
  }
  assert.ok(html.includes('role="alert"'));
});

Deno.test("GET /hub/admin accepts a token with admin-ui only", async () => {
  await using hub = await adminHub();
  const adminUiOnly = { name: "teacher", scopes: ["admin-ui"] };
  const token = await adminToken(hub, adminUiOnly);
  await assertStatus(await hub.request("/hub/admin", { token }), 200);
});

Deno.test("GET /hub/admin/api/memory is 403 JSON without admin-ui", async () => {
  await using hub = await adminHub();
  const token = await userToken(hub, "student");
  const res = await hub.request("/hub/admin/api/memory", { token });
  assert.equal(res.status, 403);
  assert.equal((await res.json()).status, 403);
});

Deno.test("GET /hub/admin/api/memory reports running servers by user/server", async () => {
  // The local spawner measures a stored {pid}; this test process stands in for a server.
  await using hub = await createTestHub({ users: { admin: ["teacher"] } }, {
    spawner: createSpawner("local"),
  });
  const id = await hub.addUser("teacher", { admin: true });
  await hub.handle.db.insertInto("servers").values({
    user_id: id,
    name: "",
    status: "running",
    url: "http://127.0.0.1:1/",
    state: JSON.stringify({ pid: Deno.pid }),
    user_options: "{}",
    started: hub.now.toISOString(),
    last_activity: null,
    created: hub.now.toISOString(),
  }).execute();
  const token = await hub.tokenFor("teacher");
  const res = await hub.request("/hub/admin/api/memory", { token });
  const body = await res.json();
  assert.equal(res.status, 200);
  assert.equal(typeof body["teacher/"], "number");
  assert.ok(body["teacher/"] > 1024 * 1024, "this process uses over 1 MiB");
});
