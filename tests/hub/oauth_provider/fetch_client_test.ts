/**
 * The authorize step driven by Deno's own `fetch` with a cookie jar, exactly
 * as a script logs in: over a real socket, so the request carries the
 * `Sec-Fetch-Mode: cors` that fetch() sends, not a browser's `navigate`.
 */
import { serveLocal } from "../../_helpers/local_server.ts";
import assert from "node:assert/strict";
import { CookieClient } from "../../_helpers/cookie_client.ts";
import { createOAuthHub } from "./_setup.ts";
import { assertStatus } from "../../_helpers/responses.ts";

Deno.test("GET authorize follows the OAuth flow for fetch() with a login cookie (Sec-Fetch-Mode: cors)", async () => {
  await using oh = await createOAuthHub();
  await oh.hub.addUser("alice");
  const client = await oh.register("alice");
  const server = await serveLocal((request, info) =>
    oh.app.fetch(request, { remoteAddr: info.remoteAddr })
  );
  try {
    const addr = server;
    const jar = new CookieClient(`http://127.0.0.1:${addr.port}/`);
    await assertStatus(await jar.login("alice", "pw"), 302);

    const res = await jar.request(
      oh.authorizeUrl(client.clientId, {
        "redirect_uri": client.redirectUri,
        state: "s1",
      }),
      { headers: { "sec-fetch-mode": "cors", "sec-fetch-site": "none" } },
    );
    await res.body?.cancel();
    assert.equal(res.status, 302);
    const location = res.headers.get("location") ?? "";
    assert.ok(location.startsWith(client.redirectUri + "?"), location);
    const params = new URL(location, "http://x").searchParams;
    assert.equal(params.get("state"), "s1");
    const code = params.get("code") ?? "";
    assert.ok(code.length > 20);
    const token = await oh.exchange(code, client.clientId, client.secret, {
      "redirect_uri": client.redirectUri,
    });
    assert.equal(token.status, 200);
    assert.equal(typeof (await token.json()).access_token, "string");

    // The consent POST is a form: it still needs its _xsrf.
    const post = await jar.request(oh.authorizeUrl(client.clientId), {
      method: "POST",
      headers: { "content-type": "application/x-www-form-urlencoded" },
      body: "scopes=identify",
    });
    assert.equal(post.status, 403);
    assert.match(await post.text(), /_xsrf/);
  } finally {
    await server.close();
  }
});
