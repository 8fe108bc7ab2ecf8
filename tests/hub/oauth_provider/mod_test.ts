import assert from "node:assert/strict";
import { deleteClient } from "../../../hub/db/oauth.ts";
import { createOAuthHub, type OAuthHub } from "./_setup.ts";
import { assertStatus } from "../../_helpers/responses.ts";

/** Logs in through the real form; returns the cookies, XSRF token and session id. */
async function login(oh: OAuthHub, name: string) {
  const { cookie, xsrf } = await oh.hub.login(name);
  const sessionId = /jupyterhub-session-id=([^;]+)/.exec(cookie)![1]!;
  return { cookie, xsrf, sessionId };
}

/** GET authorize as a browser; returns the response. */
function authorize(
  oh: OAuthHub,
  cookie: string | undefined,
  clientId: string,
  extra: Record<string, string> = {},
) {
  return oh.request(oh.authorizeUrl(clientId, extra), {
    ...(cookie ? { cookie } : {}),
  });
}

/** The `code` (and the rest) of a redirect to the client. */
function redirectParams(res: Response, redirectUri: string) {
  assert.equal(res.status, 302);
  const location = res.headers.get("location")!;
  assert.ok(
    location.startsWith(redirectUri + "?"),
    `redirect ${location} does not go to ${redirectUri}`,
  );
  return new URLSearchParams(location.slice(redirectUri.length + 1));
}

async function oauthError(res: Response, status: number, error: string) {
  assert.equal(res.status, status);
  assert.match(res.headers.get("content-type") ?? "", /^application\/json/);
  assert.equal(res.headers.get("cache-control"), "no-store");
  const body = await res.json();
  assert.equal(body.error, error);
  assert.equal(typeof body.error_description, "string");
  return body;
}

/** A code for `client`, authorized by the logged-in `cookie` (extra authorize parameters allowed). */
async function codeOf(
  oh: OAuthHub,
  cookie: string,
  client: { clientId: string; redirectUri: string },
  params: Record<string, string> = {},
): Promise<string> {
  const res = await authorize(oh, cookie, client.clientId, {
    "redirect_uri": client.redirectUri,
    ...params,
  });
  return redirectParams(res, client.redirectUri).get("code")!;
}

/** Runs authorize + token for a logged-in user; returns the token response body. */
async function fullFlow(
  oh: OAuthHub,
  cookie: string,
  client: { clientId: string; secret: string; redirectUri: string },
) {
  const code = await codeOf(oh, cookie, client, { state: "st" });
  const token = await oh.exchange(code, client.clientId, client.secret, {
    "redirect_uri": client.redirectUri,
  });
  assert.equal(token.status, 200);
  return await token.json() as Record<string, unknown>;
}

Deno.test("own server: authorize redirects with code and state, token exchange, GET /user with the token", async () => {
  await using oh = await createOAuthHub();
  const client = await oh.register("alice");
  const { cookie, sessionId } = await login(oh, "alice");

  const res = await authorize(oh, cookie, client.clientId, {
    "redirect_uri": "/user/alice/oauth_callback",
    state: "eyJ1dWlkIjogIjM4MDg5ZjYzIn0=",
  });
  const params = redirectParams(res, "/user/alice/oauth_callback");
  assert.deepEqual([...params.keys()], ["code", "state"]);
  assert.equal(params.get("state"), "eyJ1dWlkIjogIjM4MDg5ZjYzIn0=");
  const code = params.get("code")!;
  assert.ok(code.length >= 30);
  // only the hash is stored
  const codes = await oh.hub.handle.db.selectFrom("oauth_codes").selectAll()
    .execute();
  assert.equal(codes.length, 1);
  assert.notEqual(codes[0]!.code_hash, code);
  assert.equal(codes[0]!.session_id, sessionId);

  const tokenRes = await oh.exchange(code, client.clientId, client.secret, {
    "redirect_uri": "/user/alice/oauth_callback",
  });
  assert.equal(tokenRes.status, 200);
  assert.equal(tokenRes.headers.get("cache-control"), "no-store");
  assert.equal(tokenRes.headers.get("pragma"), "no-cache");
  assert.match(tokenRes.headers.get("content-type")!, /^application\/json/);
  const body = await tokenRes.json();
  assert.deepEqual(Object.keys(body), [
    "access_token",
    "expires_in",
    "token_type",
    "scope",
  ]);
  assert.equal(body.expires_in, 1209600);
  assert.equal(body.token_type, "Bearer");
  assert.deepEqual(body.scope.split(" ").sort(), [
    "access:servers!server=alice/",
    "read:users:groups!user",
    "read:users:name!user",
  ]);

  const me = await oh.request("/hub/api/user", { token: body.access_token });
  assert.equal(me.status, 200);
  const model = await me.json();
  assert.equal(model.name, "alice");
  assert.equal(model.kind, "user");
  assert.equal(model.session_id, sessionId);
  assert.deepEqual(model.scopes, [
    "access:servers!server=alice/",
    "read:users:groups!user=alice",
    "read:users:name!user=alice",
  ]);

  const row = await oh.hub.handle.db.selectFrom("api_tokens").selectAll()
    .where("oauth_client", "=", "jupyterhub-user-alice")
    .executeTakeFirstOrThrow();
  assert.equal(row.session_id, sessionId);
  assert.equal(row.note.startsWith("Server at "), false);
  assert.equal(row.expires_at, "2026-12-09T12:00:00.000Z");
  assert.notEqual(row.hash, body.access_token);
});

Deno.test("a code works once: reuse gives invalid_grant", async () => {
  await using oh = await createOAuthHub();
  const client = await oh.register("alice");
  const { cookie } = await login(oh, "alice");
  const res = await authorize(oh, cookie, client.clientId, {
    "redirect_uri": client.redirectUri,
  });
  const params = redirectParams(res, client.redirectUri);
  assert.equal(params.has("state"), false);
  const code = params.get("code")!;
  await assertStatus(
    await oh.exchange(code, client.clientId, client.secret),
    200,
  );
  await oauthError(
    await oh.exchange(code, client.clientId, client.secret),
    400,
    "invalid_grant",
  );
});

Deno.test("token endpoint: wrong secret is invalid_client (401) and does not burn the code; Basic auth works", async () => {
  await using oh = await createOAuthHub();
  const client = await oh.register("alice");
  const { cookie } = await login(oh, "alice");
  const code = await codeOf(oh, cookie, client);
  await oauthError(
    await oh.exchange(code, client.clientId, "wrong-secret"),
    401,
    "invalid_client",
  );
  await oauthError(
    await oh.exchange(code, "jupyterhub-user-nobody", client.secret),
    401,
    "invalid_client",
  );
  const basic = btoa(`${client.clientId}:${client.secret}`);
  const ok = await oh.request("/hub/api/oauth2/token", {
    method: "POST",
    headers: {
      "content-type": "application/x-www-form-urlencoded",
      authorization: `Basic ${basic}`,
    },
    body: new URLSearchParams({
      "grant_type": "authorization_code",
      code,
      "redirect_uri": client.redirectUri,
    }).toString(),
  });
  assert.equal(ok.status, 200);
  assert.equal(typeof (await ok.json()).access_token, "string");
});

Deno.test("token endpoint: grant type, missing code, query parameters, method", async () => {
  await using oh = await createOAuthHub();
  const client = await oh.register("alice");
  await oauthError(
    await oh.exchange("x", client.clientId, client.secret, {
      "grant_type": "client_credentials",
    }),
    400,
    "unsupported_grant_type",
  );
  await oauthError(
    await oh.exchange("", client.clientId, client.secret),
    400,
    "invalid_request",
  );
  await oauthError(
    await oh.exchange("nonexistent-code", client.clientId, client.secret),
    400,
    "invalid_grant",
  );
  await oauthError(
    await oh.request("/hub/api/oauth2/token?code=x", {
      method: "POST",
      headers: { "content-type": "application/x-www-form-urlencoded" },
      body: "grant_type=authorization_code",
    }),
    400,
    "invalid_request",
  );
  await oauthError(
    await oh.request("/hub/api/oauth2/token", {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: "{}",
    }),
    400,
    "invalid_request",
  );
  await assertStatus(await oh.request("/hub/api/oauth2/token"), 405);
});

Deno.test("a code issued to one client is refused for another", async () => {
  await using oh = await createOAuthHub();
  const alice = await oh.register("alice");
  const gpu = await oh.register("alice", "gpu", "gpu-secret");
  const { cookie } = await login(oh, "alice");
  const res = await authorize(oh, cookie, alice.clientId, {
    "redirect_uri": alice.redirectUri,
  });
  const code = redirectParams(res, alice.redirectUri).get("code")!;
  await oauthError(
    await oh.exchange(code, gpu.clientId, gpu.secret, {
      "redirect_uri": gpu.redirectUri,
    }),
    400,
    "invalid_grant",
  );
});

Deno.test("redirect_uri must match the registered one, at authorize and at token", async () => {
  await using oh = await createOAuthHub();
  const client = await oh.register("alice");
  const { cookie } = await login(oh, "alice");
  const res = await authorize(oh, cookie, client.clientId, {
    "redirect_uri": "https://evil.example/steal",
  });
  assert.equal(res.status, 400);
  assert.match(res.headers.get("content-type")!, /^text\/html/);
  assert.match(await res.text(), /Mismatching redirect URI\./);
  assert.equal(
    (await oh.hub.handle.db.selectFrom("oauth_codes").selectAll().execute())
      .length,
    0,
  );

  const good = await authorize(oh, cookie, client.clientId, {
    "redirect_uri": client.redirectUri,
  });
  const code = redirectParams(good, client.redirectUri).get("code")!;
  await oauthError(
    await oh.exchange(code, client.clientId, client.secret, {
      "redirect_uri": "/user/alice/other",
    }),
    400,
    "invalid_request",
  );
  // the mismatch did not burn the code
  await assertStatus(
    await oh.exchange(code, client.clientId, client.secret, {
      "redirect_uri": client.redirectUri,
    }),
    200,
  );
});

Deno.test("unknown or missing client_id: 400 page", async () => {
  await using oh = await createOAuthHub();
  const { cookie } = await login(oh, "alice");
  const res = await authorize(oh, cookie, "jupyterhub-user-ghost", {
    "redirect_uri": "/user/ghost/oauth_callback",
  });
  assert.equal(res.status, 400);
  assert.match(await res.text(), /Invalid client_id parameter value\./);
  const missing = await oh.request(
    "/hub/api/oauth2/authorize?response_type=code",
    { cookie },
  );
  assert.equal(missing.status, 400);
  assert.match(await missing.text(), /Missing client_id parameter\./);
});

Deno.test("not logged in (or only a token): redirect to the login page with the whole authorize URL as next", async () => {
  await using oh = await createOAuthHub();
  const client = await oh.register("alice");
  const url = oh.authorizeUrl(client.clientId, {
    "redirect_uri": client.redirectUri,
    state: "s t",
  });
  const res = await oh.request(url);
  assert.equal(res.status, 302);
  const location = res.headers.get("location")!;
  assert.equal(location, `/hub/login?next=${encodeURIComponent(url)}`);

  // following the login with that next lands back on authorize
  const next = new URL(location, "http://x").searchParams.get("next");
  assert.equal(next, url);

  await oh.hub.addUser("alice");
  const token = await oh.hub.tokenFor("alice");
  const withToken = await oh.request(url, { token });
  assert.equal(withToken.status, 302);
  assert.match(withToken.headers.get("location")!, /^\/hub\/login\?next=/);
});

Deno.test("another user's server: 403 without access:servers", async () => {
  await using oh = await createOAuthHub();
  await oh.hub.addUser("alice");
  const client = await oh.register("alice");
  const { cookie } = await login(oh, "bob");
  const res = await authorize(oh, cookie, client.clientId, {
    "redirect_uri": client.redirectUri,
    state: "s",
  });
  assert.equal(res.status, 403);
  assert.match(
    await res.text(),
    /You do not have permission to access Server at \/user\/alice\//,
  );
  assert.equal(
    (await oh.hub.handle.db.selectFrom("oauth_codes").selectAll().execute())
      .length,
    0,
  );
});

Deno.test("an admin opening alice's server: consent page, then POST with _xsrf issues the code", async () => {
  await using oh = await createOAuthHub();
  await oh.hub.addUser("alice");
  await oh.hub.addUser("root", { admin: true });
  const client = await oh.register("alice");
  const { cookie, xsrf, sessionId } = await login(oh, "root");
  const url = oh.authorizeUrl(client.clientId, {
    "redirect_uri": client.redirectUri,
    state: "abc",
  });
  const page = await oh.request(url, { cookie });
  assert.equal(page.status, 200);
  assert.match(
    page.headers.get("content-security-policy")!,
    /frame-ancestors 'none'/,
  );
  const html = await page.text();
  assert.match(html, /Server at \/user\/alice\//);
  assert.match(html, /<legend>It will be able to:<\/legend>/);
  assert.match(
    html,
    /<button type="submit" id="authorize">Authorize<\/button>/,
  );
  assert.match(html, /Identify the owner of the requesting entity\./);
  const action = /<form method="post" action="([^"]+)"/.exec(html)![1]!
    .replaceAll("&amp;", "&");
  assert.equal(action, url);
  assert.equal(
    /name="_xsrf" value="([^"]+)"/.exec(html)![1],
    xsrf,
  );
  const scopes = [...html.matchAll(/name="scopes" value="([^"]+)"/g)].map((m) =>
    m[1]!
  );
  assert.deepEqual(scopes, [
    "access:servers!server=alice/",
    "read:users:groups!user",
    "read:users:name!user",
  ]);
  assert.equal(
    (await oh.hub.handle.db.selectFrom("oauth_codes").selectAll().execute())
      .length,
    0,
  );

  const post = (form: URLSearchParams) =>
    oh.request(action, {
      method: "POST",
      cookie,
      headers: { "content-type": "application/x-www-form-urlencoded" },
      body: form.toString(),
    });
  const form = new URLSearchParams(scopes.map((s) => ["scopes", s]));
  const noXsrf = await post(form);
  assert.equal(noXsrf.status, 403);
  assert.match(await noXsrf.text(), /_xsrf/);
  await assertStatus(
    await post(
      new URLSearchParams([...form, ["_xsrf", "forged"]]),
    ),
    403,
  );
  await assertStatus(
    await oh.request(action, {
      method: "POST",
      headers: { "content-type": "application/x-www-form-urlencoded" },
      body: new URLSearchParams([...form, ["_xsrf", xsrf]]).toString(),
    }),
    403,
  );

  const ok = await post(new URLSearchParams([...form, ["_xsrf", xsrf]]));
  const params = redirectParams(ok, client.redirectUri);
  assert.equal(params.get("state"), "abc");
  const tokenRes = await oh.exchange(
    params.get("code")!,
    client.clientId,
    client.secret,
  );
  assert.equal(tokenRes.status, 200);
  const body = await tokenRes.json();
  const me = await (await oh.request("/hub/api/user", {
    token: body.access_token,
  })).json();
  assert.equal(me.name, "root");
  assert.equal(me.session_id, sessionId);
  assert.deepEqual(me.scopes, [
    "access:servers!server=alice/",
    "read:users:groups!user=root",
    "read:users:name!user=root",
  ]);

  // already authorized for these scopes: no second consent page
  const again = await oh.request(url, { cookie });
  redirectParams(again, client.redirectUri);
});

Deno.test("an expired code (over 5 minutes) is invalid_grant", async () => {
  await using oh = await createOAuthHub();
  const client = await oh.register("alice");
  const { cookie } = await login(oh, "alice");
  const code = await codeOf(oh, cookie, client);
  oh.advance(301);
  await oauthError(
    await oh.exchange(code, client.clientId, client.secret),
    400,
    "invalid_grant",
  );
});

Deno.test("deleteClient revokes the tokens issued to the client", async () => {
  await using oh = await createOAuthHub();
  const client = await oh.register("alice");
  const { cookie } = await login(oh, "alice");
  const body = await fullFlow(oh, cookie, client);
  const token = body.access_token as string;
  await assertStatus(await oh.request("/hub/api/user", { token }), 200);
  assert.equal(await deleteClient(oh.hub.handle.db, client.clientId), true);
  await assertStatus(await oh.request("/hub/api/user", { token }), 403);
  // and authorize now fails: the client is gone
  await assertStatus(
    await authorize(oh, cookie, client.clientId, {
      "redirect_uri": client.redirectUri,
    }),
    400,
  );
});

Deno.test("errors after client validation go back to the redirect URI", async () => {
  await using oh = await createOAuthHub();
  const client = await oh.register("alice");
  const { cookie } = await login(oh, "alice");
  const wrongType = redirectParams(
    await authorize(oh, cookie, client.clientId, {
      "redirect_uri": client.redirectUri,
      "response_type": "token",
      state: "s1",
    }),
    client.redirectUri,
  );
  assert.equal(wrongType.get("error"), "unsupported_response_type");
  assert.equal(wrongType.get("state"), "s1");
  assert.ok(wrongType.get("error_description"));

  const badScope = redirectParams(
    await authorize(oh, cookie, client.clientId, {
      "redirect_uri": client.redirectUri,
      scope: "no-such-scope",
    }),
    client.redirectUri,
  );
  assert.equal(badScope.get("error"), "invalid_scope");

  const notAllowed = redirectParams(
    await authorize(oh, cookie, client.clientId, {
      "redirect_uri": client.redirectUri,
      scope: "admin:users",
    }),
    client.redirectUri,
  );
  assert.equal(notAllowed.get("error"), "invalid_scope");
});

Deno.test("requested scopes the user lacks are dropped or narrowed; scope=identify grants only the required ones", async () => {
  await using oh = await createOAuthHub();
  const client = await oh.register("alice", "", "s3cret", [
    "access:servers!server=alice/",
    "admin:users",
    "proxy",
    "read:users",
  ]);
  const { cookie } = await login(oh, "alice");
  const grant = async (scope?: string) => {
    const code = await codeOf(
      oh,
      cookie,
      client,
      scope === undefined ? {} : { scope },
    );
    const token = await oh.exchange(code, client.clientId, client.secret);
    return ((await token.json()).scope as string).split(" ").sort();
  };
  const identify = [
    "access:servers!server=alice/",
    "read:users:groups!user",
    "read:users:name!user",
  ];
  const aliceRead = [
    "read:users!user=alice",
    "read:users:activity!user=alice",
    "read:users:groups!user=alice",
    "read:users:name!user=alice",
  ];
  const cases: Array<[string, string, string[]]> = [
    [
      "nothing of `proxy` is held: dropped",
      "proxy read:users:name!user",
      identify,
    ],
    [
      "part of admin:users is held (through `self`): only that part, expanded",
      "admin:users",
      [...identify, ...aliceRead, "users:activity!user=alice"].sort(),
    ],
    ["identify: only the required scopes", "identify", identify],
    [
      "unfiltered read:users is narrowed to alice's own (expanded) scopes",
      "read:users",
      [...identify, ...aliceRead].sort(),
    ],
  ];
  for (const [why, scope, expected] of cases) {
    assert.deepEqual(await grant(scope), expected, why);
  }
  // no scope parameter: the client's allowed scopes, resolved the same way
  const all = await grant();
  assert.equal(all.includes("proxy"), false);
  assert.equal(all.includes("admin:users"), false);
  assert.ok(all.includes("users:activity!user=alice"));
});

Deno.test("named server and a quoted user name: the whole flow", async () => {
  await using oh = await createOAuthHub();
  for (const [user, server] of [["alice", "gpu"], ["a@b.c", ""]] as const) {
    const client = await oh.register(user, server, `${user}-secret`);
    const { cookie } = await login(oh, user);
    const body = await fullFlow(oh, cookie, client);
    const me = await (await oh.request("/hub/api/user", {
      token: body.access_token as string,
    })).json();
    assert.ok(
      me.scopes.includes(`access:servers!server=${user}/${server}`),
      JSON.stringify(me.scopes),
    );
    assert.ok(me.scopes.includes(`read:users:name!user=${user}`));
  }
});

Deno.test("base_url /jupyter/: login redirect and redirect URI under the prefix", async () => {
  await using oh = await createOAuthHub({ base_url: "/jupyter/" });
  const client = await oh.register("alice");
  assert.equal(client.redirectUri, "/jupyter/user/alice/oauth_callback");
  const url = oh.authorizeUrl(client.clientId, {
    "redirect_uri": client.redirectUri,
  });
  assert.ok(url.startsWith("/jupyter/hub/api/oauth2/authorize?"));
  const res = await oh.request(url);
  assert.equal(res.status, 302);
  assert.equal(
    res.headers.get("location"),
    `/jupyter/hub/login?next=${encodeURIComponent(url)}`,
  );
});

Deno.test("duplicate parameters are refused", async () => {
  await using oh = await createOAuthHub();
  const client = await oh.register("alice");
  const { cookie } = await login(oh, "alice");
  const res = await oh.request(
    `${
      oh.authorizeUrl(client.clientId, { "redirect_uri": client.redirectUri })
    }&client_id=jupyterhub-user-bob`,
    { cookie },
  );
  assert.equal(res.status, 400);
  assert.match(await res.text(), /Duplicate client_id parameter\./);
});
