/**
 * Sign-in with OpenID Connect (hub/pages/oauth_login.ts, hub/auth/oauth/oidc.ts)
 * against a REAL OpenID Provider on loopback (npm oidc-provider): the full
 * dance with a cookie jar, then the API as the new user; group-based allow
 * and admin; and the failures: consent denied, state mismatch, replayed
 * code, a user outside the allowed groups, the provider down — each a page
 * with the reason, the right status, no session.
 */
import assert from "node:assert/strict";
import { CookieClient } from "../../_helpers/cookie_client.ts";
import { freePorts } from "../../_helpers/free_ports.ts";
import { oidcLogin } from "../../_helpers/oidc_provider.ts";
import { startOidcHub } from "../../_helpers/oidc_hub.ts";
import { serveLocal } from "../../_helpers/local_server.ts";
import { looseTest } from "../../_helpers/loose_test.ts";

function hubWithProvider(oauth: Record<string, unknown> = {}) {
  return startOidcHub(oauth);
}

/** Starts a sign-in with `client`: the provider URL hub/oauth_login redirects to. */
async function providerUrl(client: CookieClient): Promise<URL> {
  const start = await client.request("hub/oauth_login");
  await start.body?.cancel();
  return new URL(start.headers.get("location")!);
}

async function whoAmI(
  client: CookieClient,
): Promise<Record<string, unknown> | number> {
  const res = await client.request("hub/api/user");
  if (res.status !== 200) {
    await res.body?.cancel();
    return res.status;
  }
  return await res.json();
}

looseTest(
  "a user signs in through a real OpenID Provider and lands on the hub as themselves",
  async () => {
    await using h = await hubWithProvider();
    const login = await (await fetch(`${h.url}hub/login`)).text();
    assert.match(
      login,
      /<a class="button" id="oauth-login" href="\/hub\/oauth_login">Sign in with your organisation<\/a>/,
    );
    assert.match(login, /id="password"/, "the password form stays beside it");
    const browser = new CookieClient(h.url);
    const res = await oidcLogin(browser, "ada");
    await res.body?.cancel();
    assert.ok(
      browser.hops.some((hop) => hop.url.includes("/hub/oauth_callback?")),
      browser.hops.map((hop) => `${hop.status} ${hop.url}`).join(" -> "),
    );
    const me = await whoAmI(browser) as Record<string, unknown>;
    assert.equal(me.name, "ada");
    assert.equal(me.admin, false);
  },
);

looseTest(
  "allowed_groups lets only those groups in; admin_groups makes admins",
  async () => {
    await using h = await hubWithProvider({
      "allowed_groups": ["students", "staff"],
      "admin_groups": ["staff"],
    });
    const teacher = new CookieClient(h.url);
    await (await oidcLogin(teacher, "teacher")).body?.cancel();
    assert.equal(
      (await whoAmI(teacher) as Record<string, unknown>).admin,
      true,
    );
    const outsider = new CookieClient(h.url);
    const res = await oidcLogin(outsider, "outsider");
    assert.equal(res.status, 403);
    assert.match(
      await res.text(),
      /User outsider is not allowed to use this hub/,
    );
    assert.equal(await whoAmI(outsider), 403, "no session");
  },
);

looseTest(
  "a callback without its login (another browser, an old link), a forged state or a replayed code is a 400, no session",
  async () => {
    await using h = await hubWithProvider();
    const browser = new CookieClient(h.url);
    let res = await browser.request("hub/oauth_callback?code=x&state=y");
    assert.equal(res.status, 400);
    assert.match(await res.text(), /expired or was started in another browser/);
    // A real login, then its callback URL replayed.
    const ok = await oidcLogin(browser, "ada");
    await ok.body?.cancel();
    const callback =
      browser.hops.find((hop) => hop.url.includes("/hub/oauth_callback?"))!.url;
    const thief = new CookieClient(h.url);
    res = await thief.request(callback);
    assert.equal(res.status, 400, "no state cookie: refused");
    await res.body?.cancel();
    // The same browser, a fresh login, but a tampered state.
    const other = new CookieClient(h.url);
    const state = (await providerUrl(other)).searchParams.get("state")!;
    res = await other.request(
      `hub/oauth_callback?code=abc&state=${state}x&iss=${
        encodeURIComponent(h.issuer)
      }`,
    );
    assert.equal(res.status, 400);
    assert.match(await res.text(), /came back wrong/);
    assert.equal(await whoAmI(other), 403);
  },
);

looseTest(
  "consent denied at the provider is a 403 page that says so",
  async () => {
    await using h = await hubWithProvider();
    const browser = new CookieClient(h.url);
    const state = (await providerUrl(browser)).searchParams.get("state")!;
    const res = await browser.request(
      `hub/oauth_callback?error=access_denied&state=${state}&iss=${
        encodeURIComponent(h.issuer)
      }`,
    );
    assert.equal(res.status, 403);
    assert.match(await res.text(), /You declined to sign in/);
  },
);

looseTest(
  "a provider that is down answers 502 on the sign-in, with the reason",
  async () => {
    const [dead] = freePorts(1);
    await using h = await hubWithProvider({
      issuer: `http://127.0.0.1:${dead}`,
    });
    const res = await fetch(`${h.url}hub/oauth_login`, { redirect: "manual" });
    assert.equal(res.status, 502);
    assert.match(await res.text(), /The sign-in provider failed \(discovery\)/);
  },
);

looseTest(
  "the google preset names users by email and keeps out other domains (allowed_domains, hd)",
  async () => {
    await using h = await hubWithProvider({
      preset: "google",
      scopes: ["openid", "email", "profile"],
      "allowed_domains": ["school.example"],
    });
    const ada = new CookieClient(h.url);
    await (await oidcLogin(ada, "ada")).body?.cancel();
    assert.equal(
      (await whoAmI(ada) as Record<string, unknown>).name,
      "ada@school.example",
    );
    const eve = new CookieClient(h.url);
    const res = await oidcLogin(eve, "eve@gmail.example");
    assert.equal(res.status, 403);
    assert.match(
      await res.text(),
      /Sign in with an account of school.example: gmail.example is not one/,
    );
    assert.equal(await whoAmI(eve), 403);
  },
);

looseTest(
  "logout ends the hub's session, then goes to auth.oauth.logout_url (the provider's sign-out)",
  async () => {
    await using h = await hubWithProvider({
      "logout_url": "https://login.example.org/logout",
    });
    const ada = new CookieClient(h.url);
    await (await oidcLogin(ada, "ada")).body?.cancel();
    const out = await ada.request("hub/logout");
    await out.body?.cancel();
    assert.equal(out.status, 302);
    assert.equal(
      out.headers.get("location"),
      "https://login.example.org/logout",
    );
    assert.equal(await whoAmI(ada), 403);
  },
);

looseTest(
  "a provider whose discovery names another issuer is refused (502); a silent one times out (504)",
  async (t) => {
    await t.step("wrong issuer", async () => {
      await using fake = await serveLocal(() =>
        Response.json({
          issuer: "https://evil.example",
          "authorization_endpoint": "https://evil.example/auth",
        })
      );
      await using h = await hubWithProvider({ issuer: fake.origin });
      const res = await fetch(`${h.url}hub/oauth_login`, {
        redirect: "manual",
      });
      assert.equal(res.status, 502);
      assert.match(
        await res.text(),
        /The sign-in provider failed \(discovery\)/,
      );
    });
    await t.step("silent provider", async () => {
      const never = Promise.withResolvers<Response>();
      await using fake = await serveLocal(() => never.promise);
      try {
        await using h = await hubWithProvider({
          issuer: fake.origin,
          timeout: 1,
        });
        const res = await fetch(`${h.url}hub/oauth_login`, {
          redirect: "manual",
        });
        assert.equal(res.status, 504);
        assert.match(await res.text(), /did not answer in time/);
      } finally {
        never.resolve(new Response("late"));
      }
    });
  },
);
