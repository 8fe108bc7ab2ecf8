/**
 * `/hub/token` (hub/pages/token.ts): the form, the expiry choices and the
 * XSRF token; the API calls the page makes work with cookie + X-XSRFToken.
 */
import assert from "node:assert/strict";
import { createTestHub } from "../../_helpers/test_hub.ts";
import { assertSendsToLogin, assertStatus } from "../../_helpers/responses.ts";

Deno.test("GET /hub/token sends anonymous visitors to the login page", async () => {
  await using hub = await createTestHub();
  await assertSendsToLogin(hub, "/hub/token");
});

Deno.test("GET /hub/token has a labelled form with note, expiry and scopes", async () => {
  await using hub = await createTestHub();
  const session = await hub.login("alice");
  const res = await hub.request("/hub/token", {
    headers: { cookie: session.cookie },
  });
  const html = await res.text();
  assert.equal(res.status, 200);
  assert.ok(html.includes(`"xsrf":"${session.xsrf}"`));
  for (const f of ["token-note", "token-expires", "token-scopes"]) {
    assert.ok(html.includes(`<label for="${f}">`), `label for ${f}`);
  }
  for (const v of ["3600", "86400", "604800", "2592000", ""]) {
    assert.ok(html.includes(`<option value="${v}"`), `expiry ${v}`);
  }
  assert.ok(html.includes('id="token-body"'));
});

Deno.test("the token page's API calls: create with cookie + X-XSRFToken, list, revoke", async () => {
  await using hub = await createTestHub();
  const { cookie, xsrf } = await hub.login("alice");
  const headers = { cookie, "x-xsrftoken": xsrf };
  const made = await hub.request("/hub/api/users/alice/tokens", {
    method: "POST",
    headers,
    json: { note: "for ci", expires_in: 3600 },
  });
  assert.equal(made.status, 201);
  const { id, token } = await made.json();
  await assertStatus(await hub.request("/hub/api/user", { token }), 200);
  const list = await hub.request("/hub/api/users/alice/tokens", { headers });
  const { api_tokens: tokens } = await list.json();
  assert.ok(tokens.some((t: { note: string }) => t.note === "for ci"));
  await assertStatus(
    await hub.request(`/hub/api/users/alice/tokens/${id}`, {
      method: "DELETE",
      headers,
    }),
    204,
  );
  await assertStatus(await hub.request("/hub/api/user", { token }), 403);
});
