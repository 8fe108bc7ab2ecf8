/**
 * The provider's tokens as sealed auth state and the check before a spawn
 * (hub/auth/oauth/signin.ts), and the code exchange's failures that only
 * the provider can produce (an expired or replayed code, an ID token
 * signed with another key), all against a REAL OpenID Provider on
 * loopback (npm oidc-provider). Spawns go to a fake spawner as the system
 * account "daemon" (spawner.min_uid 1): the test needs the environment
 * the hub hands the server, not a Jupyter server.
 */
import assert from "node:assert/strict";
import { CookieClient } from "../../../_helpers/cookie_client.ts";
import { FakeSpawner } from "../../../_helpers/fake_spawner.ts";
import { oidcLogin } from "../../../_helpers/oidc_provider.ts";
import {
  type OidcHub,
  spawnWithToken as spawn,
  startOidcHub,
} from "../../../_helpers/oidc_hub.ts";
import { getUser } from "../../../../hub/db/users.ts";
import { waitFor } from "../../../_helpers/wait_for.ts";
import { assertStatus } from "../../../_helpers/responses.ts";
import { looseTest } from "../../../_helpers/loose_test.ts";

/** Land on the home page, not /hub/spawn (which would start the server itself). */
const HOME = { next: "/hub/home" };

/** The auth state the hub stored for `name`, opened. */
async function storedState(
  h: OidcHub,
  name: string,
): Promise<Record<string, unknown>> {
  const row = (await getUser(h.db, name))!;
  assert.match(row.auth_state ?? "", /^v1:/, "sealed at rest");
  return h.authState.open(row.id, row.auth_state)!;
}

/** Whether an event of `kind` for `user` is written within 2 s (events are written in batches). */
async function hasEvent(
  h: OidcHub,
  user: string,
  kind: string,
): Promise<boolean> {
  const kinds = async () =>
    (await h.db.selectFrom("events").select("kind").where("user", "=", user)
      .execute()).map((r) => r.kind);
  try {
    await waitFor(async () => (await kinds()).includes(kind), {
      timeoutMs: 2000,
      intervalMs: 10,
      description: `event ${kind} of ${user}`,
    });
    return true;
  } catch {
    return false;
  }
}

function hubFor(
  oauth: Record<string, unknown>,
  fake: FakeSpawner,
  provider: { accessTokenTtl?: number } = {},
) {
  return startOidcHub(oauth, {
    spawner: { "min_uid": 1, "http_timeout": 2 },
  }, { spawner: fake, provider });
}

looseTest(
  "a sign-in keeps the provider's tokens sealed; an expired access token is refreshed before a spawn and the fresh one handed to the server",
  async () => {
    const fake = new FakeSpawner();
    // 10 s lives: within the 30 s margin, so the token counts as expired at once.
    await using h = await hubFor(
      { "token_env": "OAUTH_TOKEN", scopes: ["openid", "profile", "groups"] },
      fake,
      { accessTokenTtl: 10 },
    );
    const browser = new CookieClient(h.url);
    await (await oidcLogin(browser, "daemon", HOME)).body?.cancel();
    const first = await storedState(h, "daemon");
    assert.equal(typeof first.access_token, "string");
    assert.equal(typeof first.refresh_token, "string");
    assert.equal(typeof first.id_token, "string");
    assert.deepEqual(
      (first.oauth_user as Record<string, unknown>).groups,
      ["students"],
    );
    const res = await spawn(h, "daemon");
    assert.equal(res.status, 201, res.text);
    await fake.started("daemon");
    const env = fake.lastRequest("daemon")!.env;
    const second = await storedState(h, "daemon");
    assert.notEqual(second.access_token, first.access_token, "refreshed");
    assert.equal(env.OAUTH_TOKEN, second.access_token);
    // The fresh token works at the provider.
    const info = await fetch(`${h.issuer}/me`, {
      headers: { authorization: `Bearer ${env.OAUTH_TOKEN}` },
    });
    assert.equal(info.status, 200);
    assert.equal((await info.json()).sub, "daemon");
    assert.ok(await hasEvent(h, "daemon", "login.refreshed"));
  },
);

looseTest(
  "a token still in time is checked at userinfo when the sign-in is older than auth_refresh_age, and kept",
  async () => {
    const fake = new FakeSpawner();
    await using h = await hubFor({
      "token_env": "OAUTH_TOKEN",
      "auth_refresh_age": 0,
    }, fake);
    const browser = new CookieClient(h.url);
    await (await oidcLogin(browser, "daemon", HOME)).body?.cancel();
    const first = await storedState(h, "daemon");
    assert.equal((await spawn(h, "daemon")).status, 201);
    await fake.started("daemon");
    assert.equal(
      fake.lastRequest("daemon")!.env.OAUTH_TOKEN,
      first.access_token,
    );
    const second = await storedState(h, "daemon");
    assert.equal(second.access_token, first.access_token);
    assert.ok(
      (second.refreshed_at as number) >= (first.refreshed_at as number),
    );
    assert.ok(await hasEvent(h, "daemon", "login.refreshed"));
  },
);

looseTest(
  "a sign-in the provider ended (refresh token revoked, token expired) cannot spawn: 403 saying to sign in again; nothing starts",
  async () => {
    const fake = new FakeSpawner();
    await using h = await hubFor({}, fake, { accessTokenTtl: 10 });
    const browser = new CookieClient(h.url);
    await (await oidcLogin(browser, "daemon", HOME)).body?.cancel();
    const state = await storedState(h, "daemon");
    await h.provider.revoke(state.refresh_token as string);
    const res = await spawn(h, "daemon");
    assert.equal(res.status, 403, res.text);
    assert.match(
      res.text,
      /Cannot start a server for daemon: Your sign-in with the provider has ended \(the provider said invalid_grant\): log out and sign in again/,
    );
    assert.equal(fake.startsOf("daemon"), 0);
    assert.ok(await hasEvent(h, "daemon", "login.refresh_failed"));
    // Signing in again makes spawning possible again.
    const again = new CookieClient(h.url);
    await (await oidcLogin(again, "daemon", HOME)).body?.cancel();
    assert.equal((await spawn(h, "daemon")).status, 201);
    await fake.started("daemon");
  },
);

looseTest(
  "with refresh_pre_spawn off, or enable_auth_state off, a spawn does not ask the provider",
  async () => {
    const fake = new FakeSpawner();
    await using h = await hubFor({ "refresh_pre_spawn": false }, fake, {
      accessTokenTtl: 10,
    });
    const browser = new CookieClient(h.url);
    await (await oidcLogin(browser, "daemon", HOME)).body?.cancel();
    const state = await storedState(h, "daemon");
    await h.provider.revoke(state.refresh_token as string);
    assert.equal((await spawn(h, "daemon")).status, 201);
    await fake.started("daemon");

    const fake2 = new FakeSpawner();
    await using h2 = await hubFor({ "enable_auth_state": false }, fake2);
    const b2 = new CookieClient(h2.url);
    await (await oidcLogin(b2, "daemon", HOME)).body?.cancel();
    assert.equal((await getUser(h2.db, "daemon"))!.auth_state, null);
    assert.equal((await spawn(h2, "daemon")).status, 201);
    await fake2.started("daemon");
  },
);

looseTest(
  "an authorization code the provider has already used, or that expired, is a 400 page saying to start again; no session",
  async () => {
    await using h = await startOidcHub({}, {}, { provider: { codeTtl: 1 } });
    // Replayed: a used code sent back with a fresh, valid state.
    const browser = new CookieClient(h.url);
    const toCallback = await oidcLogin(browser, "ada", {
      stopAtCallback: true,
    });
    await toCallback.body?.cancel();
    const callback = new URL(toCallback.headers.get("location")!);
    const done = await browser.follow(callback.href);
    await done.body?.cancel();
    const start = await browser.request("hub/oauth_login");
    await start.body?.cancel();
    const state = new URL(start.headers.get("location")!).searchParams.get(
      "state",
    )!;
    const replay = new URL(callback);
    replay.searchParams.set("state", state);
    let res = await browser.request(replay.href);
    assert.equal(res.status, 400);
    assert.match(
      await res.text(),
      /The sign-in provider refused the login \(invalid_grant[^)]*\): start again from the login page/,
    );
    // Expired: the code is used after its 1 s life.
    const late = new CookieClient(h.url);
    const at = await oidcLogin(late, "grace", { stopAtCallback: true });
    await at.body?.cancel();
    await new Promise((r) => setTimeout(r, 2100));
    res = await late.request(at.headers.get("location")!);
    assert.equal(res.status, 400);
    assert.match(await res.text(), /refused the login \(invalid_grant/);
    const me = await late.request("hub/api/user");
    assert.equal(me.status, 403, "no session");
    await me.body?.cancel();
    assert.equal(await getUser(h.db, "grace"), undefined, "no user made");
  },
);

looseTest(
  "an ID token whose signature the provider's published keys do not verify makes no session: 502 naming the check",
  async () => {
    await using h = await startOidcHub({}, {}, {
      provider: { wrongKeys: true },
    });
    const browser = new CookieClient(h.url);
    const res = await oidcLogin(browser, "ada");
    assert.equal(res.status, 502);
    assert.match(
      await res.text(),
      /The sign-in provider&#39;s answer did not check out: .*signature/i,
    );
    await assertStatus(await browser.request("hub/api/user"), 403);
    assert.equal(await getUser(h.db, "ada"), undefined);
    await waitFor(
      async () =>
        (await h.db.selectFrom("events").select("kind").where(
          "kind",
          "=",
          "login.failed",
        ).execute()).length > 0,
      { timeoutMs: 2000, intervalMs: 20, description: "login.failed logged" },
    );
  },
);
