/**
 * The GitHub preset (hub/auth/oauth/github.ts) against a local stand-in of
 * GitHub's OAuth and API endpoints that checks the request shapes GitHub
 * documents (authorize parameters with PKCE, the JSON token exchange with
 * the verifier, Bearer API calls): orgs and `org:team` become groups for
 * allowed_groups and admin_groups; GitHub's refusals are 400/502 pages.
 */
import assert from "node:assert/strict";
import { spawnWithToken, startOidcHub } from "../../../_helpers/oidc_hub.ts";
import { serveLocal } from "../../../_helpers/local_server.ts";
import { CookieClient } from "../../../_helpers/cookie_client.ts";
import { FakeSpawner } from "../../../_helpers/fake_spawner.ts";
import { getUser } from "../../../../hub/db/users.ts";
import { issueToken } from "../../../../hub/api/mod.ts";
import { looseTest } from "../../../_helpers/loose_test.ts";

async function s256(verifier: string): Promise<string> {
  const digest = await crypto.subtle.digest(
    "SHA-256",
    new TextEncoder().encode(verifier),
  );
  return btoa(String.fromCharCode(...new Uint8Array(digest)))
    .replaceAll("+", "-").replaceAll("/", "_").replaceAll("=", "");
}

/** What the stand-in answers, and what it saw. */
interface GithubState {
  user: string;
  orgs: readonly string[];
  teams: readonly (readonly [string, string])[];
  fail?: "token" | "api";
  /** The token was revoked: the API answers 401. */
  revoked?: boolean;
  challenge?: string;
  seen: string[];
}

/** GitHub, as far as a login needs it; `user` picks the account, `fail` breaks one step. */
async function standIn(state: GithubState) {
  return await serveLocal(async (req) => {
    const url = new URL(req.url);
    state.seen.push(`${req.method} ${url.pathname}`);
    if (url.pathname === "/login/oauth/access_token") {
      assert.equal(req.headers.get("accept"), "application/json");
      const form = new URLSearchParams(await req.text());
      assert.equal(form.get("client_id"), "gh-client");
      assert.equal(form.get("client_secret"), "gh-secret");
      assert.equal(form.get("code"), "the-code");
      assert.equal(await s256(form.get("code_verifier")!), state.challenge);
      if (state.fail === "token") {
        return Response.json({ error: "bad_verification_code" });
      }
      return Response.json({
        "access_token": "gho_token",
        "token_type": "bearer",
      });
    }
    assert.equal(req.headers.get("authorization"), "Bearer gho_token");
    if (state.revoked) {
      return Response.json({ message: "Bad credentials" }, { status: 401 });
    }
    if (state.fail === "api") return new Response("boom", { status: 500 });
    if (url.pathname === "/user") {
      return Response.json({ login: state.user, id: 1 });
    }
    if (url.pathname === "/user/orgs") {
      return Response.json(state.orgs.map((login) => ({ login })));
    }
    if (url.pathname === "/user/teams") {
      return Response.json(
        state.teams.map(([org, slug]) => ({
          slug,
          organization: { login: org },
        })),
      );
    }
    return new Response("not found", { status: 404 });
  });
}

/** onehub's "Sign in" → (GitHub authorizes) → onehub's callback, as a browser. */
async function signIn(
  url: string,
  gh: string,
  state: GithubState,
): Promise<{ browser: CookieClient; res: Response }> {
  const browser = new CookieClient(url);
  const start = await browser.request("hub/oauth_login?next=%2Fhub%2Fhome");
  await start.body?.cancel();
  const authorize = new URL(start.headers.get("location")!);
  assert.equal(
    authorize.origin + authorize.pathname,
    `${gh}/login/oauth/authorize`,
  );
  assert.equal(authorize.searchParams.get("client_id"), "gh-client");
  assert.equal(
    authorize.searchParams.get("redirect_uri"),
    `${url}hub/oauth_callback`,
  );
  assert.equal(authorize.searchParams.get("scope"), "read:user read:org");
  assert.equal(authorize.searchParams.get("code_challenge_method"), "S256");
  state.challenge = authorize.searchParams.get("code_challenge")!;
  const res = await browser.follow(
    `hub/oauth_callback?code=the-code&state=${
      authorize.searchParams.get("state")
    }`,
  );
  return { browser, res };
}

const GITHUB = (gh: string) => ({
  preset: "github",
  issuer: "",
  "client_id": "gh-client",
  "client_secret": "gh-secret",
  "github_url": gh,
  "github_api_url": gh,
  "allowed_groups": ["school"],
  "admin_groups": ["school:teachers"],
});

looseTest(
  "GitHub: the login's requests have GitHub's shapes; org members get in, a team makes admins",
  async () => {
    const state: GithubState = {
      user: "octocat",
      orgs: ["school"],
      teams: [["school", "teachers"]],
      seen: [],
    };
    await using gh = await standIn(state);
    await using h = await startOidcHub(GITHUB(gh.origin));
    const { browser, res } = await signIn(h.url, gh.origin, state);
    await res.body?.cancel();
    const me = await (await browser.request("hub/api/user")).json();
    assert.deepEqual([me.name, me.admin], ["octocat", true]);
    assert.deepEqual(state.seen, [
      "POST /login/oauth/access_token",
      "GET /user",
      "GET /user/orgs",
      "GET /user/teams",
    ]);
  },
);

looseTest(
  "GitHub: someone outside the organisation is a 403; GitHub's refusals and failures are 400 and 502",
  async (t) => {
    for (
      const [label, change, status, message] of [
        [
          "outsider",
          { orgs: ["elsewhere"] },
          403,
          /User stranger is not allowed/,
        ],
        [
          "token refused",
          { fail: "token" as const },
          400,
          /GitHub refused the login \(bad_verification_code\)/,
        ],
        [
          "API down",
          { fail: "api" as const },
          502,
          /GitHub answered 500 for \/user/,
        ],
      ] as const
    ) {
      await t.step(label, async () => {
        const state: GithubState = {
          user: "stranger",
          orgs: ["school"],
          teams: [],
          seen: [],
          ...change,
        };
        await using gh = await standIn(state);
        await using h = await startOidcHub(GITHUB(gh.origin));
        const { browser, res } = await signIn(h.url, gh.origin, state);
        assert.equal(res.status, status);
        assert.match(await res.text(), message);
        const me = await browser.request("hub/api/user");
        assert.equal(me.status, 403, "no session");
        await me.body?.cancel();
      });
    }
  },
);

looseTest(
  "GitHub: the token is kept and handed to the server; a spawn checks it again, and a revoked token or a left organisation refuses it",
  async () => {
    const state: GithubState = {
      user: "daemon",
      orgs: ["school"],
      teams: [],
      seen: [],
    };
    await using gh = await standIn(state);
    const fake = new FakeSpawner();
    await using h = await startOidcHub(
      {
        ...GITHUB(gh.origin),
        "token_env": "GITHUB_TOKEN",
        "auth_refresh_age": 0,
      },
      { spawner: { "min_uid": 1 } },
      { spawner: fake },
    );
    const { res } = await signIn(h.url, gh.origin, state);
    await res.body?.cancel();
    const row = (await getUser(h.db, "daemon"))!;
    assert.equal(
      h.authState.open(row.id, row.auth_state)!.access_token,
      "gho_token",
    );
    const { token } = await issueToken(h.db, row, {
      note: "test",
      expiresInSeconds: null,
      now: new Date(),
    });
    const spawn = () => spawnWithToken(h, "daemon");
    state.seen.length = 0;
    assert.equal((await spawn()).status, 201);
    assert.equal(fake.lastRequest("daemon")!.env.GITHUB_TOKEN, "gho_token");
    assert.deepEqual(state.seen, [
      "GET /user",
      "GET /user/orgs",
      "GET /user/teams",
    ]);
    await fetch(`${h.url}hub/api/users/daemon/server`, {
      method: "DELETE",
      headers: { authorization: `token ${token}` },
    }).then((r) => r.body?.cancel());
    state.orgs = [];
    let refused = await spawn();
    assert.equal(refused.status, 403);
    assert.match(refused.text, /User daemon is not allowed to use this hub/);
    state.revoked = true;
    refused = await spawn();
    assert.equal(refused.status, 403);
    assert.match(
      refused.text,
      /Your sign-in with the provider has ended \(GitHub refused the token\): log out and sign in again/,
    );
    assert.equal(fake.startsOf("daemon"), 1);
  },
);
