/**
 * `/hub/home` (hub/pages/home.ts): login redirect, the controls it carries
 * and the session's XSRF token for the page's API calls.
 */
import assert from "node:assert/strict";
import { createTestHub, type TestHub } from "../../_helpers/test_hub.ts";
import { assertSendsToLogin } from "../../_helpers/responses.ts";

async function getAs(hub: TestHub, name: string, path: string) {
  const session = await hub.login(name);
  const res = await hub.request(path, { headers: { cookie: session.cookie } });
  return { res, html: await res.text(), xsrf: session.xsrf };
}

Deno.test("GET /hub/home sends anonymous visitors to the login page and back", async () => {
  await using hub = await createTestHub();
  await assertSendsToLogin(hub, "/hub/home");
});

Deno.test("GET /hub/home shows start, stop and open controls with the XSRF token", async () => {
  await using hub = await createTestHub();
  const { res, html, xsrf } = await getAs(hub, "alice", "/hub/home");
  assert.equal(res.status, 200);
  assert.match(res.headers.get("content-type") ?? "", /text\/html/);
  assert.equal(res.headers.get("cache-control"), "no-store");
  assert.ok(html.includes(`"xsrf":"${xsrf}"`), "page data carries the token");
  for (const id of ['id="start"', 'id="stop"', 'id="open"', 'role="alert"']) {
    assert.ok(html.includes(id), `missing ${id}`);
  }
  assert.ok(!html.includes('id="add-server"'), "no named servers by default");
  assert.ok(!html.includes('href="/hub/admin"'), "no admin link for users");
  assert.ok(res.headers.get("content-security-policy"));
});

Deno.test("GET /hub/home lists named servers with an add form when enabled", async () => {
  await using hub = await createTestHub({ spawner: { named_servers: true } });
  const { html } = await getAs(hub, "alice", "/hub/home");
  assert.ok(html.includes('id="add-server"'));
  assert.ok(html.includes('<label for="server-name">'));
  assert.ok(html.includes('id="named-servers"'));
});

Deno.test("GET /hub/home links admins to the admin page", async () => {
  await using hub = await createTestHub({ users: { admin: ["teacher"] } });
  const { html } = await getAs(hub, "teacher", "/hub/home");
  assert.ok(html.includes('href="/hub/admin"'));
});
