import assert from "node:assert/strict";
import { createTestHub, type TestHub } from "../../_helpers/test_hub.ts";
import { getUser } from "../../../hub/db/users.ts";
import {
  assertRedirect,
  assertSendsToLogin,
  assertStatus,
} from "../../_helpers/responses.ts";

/** GET the form: returns the hidden token and the cookie header for it. */
async function openForm(hub: TestHub, path = "/hub/login") {
  const res = await hub.request(path);
  const html = await res.text();
  const xsrf = /name="_xsrf" value="([^"]+)"/.exec(html)?.[1] ?? "";
  const cookie = res.headers.getSetCookie().map((c) => c.split(";")[0]!).join(
    "; ",
  );
  return { res, html, xsrf, cookie };
}

function post(
  hub: TestHub,
  path: string,
  form: Record<string, string>,
  headers: Record<string, string> = {},
) {
  return hub.request(path, {
    method: "POST",
    headers: {
      "content-type": "application/x-www-form-urlencoded",
      ...headers,
    },
    body: new URLSearchParams(form).toString(),
  });
}

/** Opens the form (for its XSRF token and cookie), then posts `username` and `password` ("x") to `path`. */
async function submit(
  hub: TestHub,
  user: { username: string; password?: string },
  path = "/hub/login",
): Promise<Response> {
  const { xsrf, cookie } = await openForm(hub);
  const form = { password: "x", ...user, _xsrf: xsrf };
  return await post(hub, path, form, { cookie });
}

async function sessionCount(hub: TestHub): Promise<number> {
  const row = await hub.handle.db.selectFrom("login_sessions").select((eb) =>
    eb.fn.countAll<number>().as("n")
  )
    .executeTakeFirstOrThrow();
  return Number(row.n);
}

Deno.test("GET /hub/login renders a labelled form with an XSRF field and keeps a safe next", async () => {
  await using hub = await createTestHub();
  const { res, html, xsrf } = await openForm(
    hub,
    "/hub/login?next=%2Fhub%2Ftoken",
  );
  assert.equal(res.status, 200);
  assert.ok(xsrf.length >= 20);
  assert.match(html, /<label for="username">/);
  assert.match(html, /<label for="password">/);
  assert.match(html, /action="\/hub\/login\?next=%2Fhub%2Ftoken"/);
  assert.match(
    res.headers.get("content-security-policy") ?? "",
    /frame-ancestors 'none'/,
  );
  assert.equal(res.headers.get("x-jupyterhub-version"), "5.3.0");
});

Deno.test("POST /hub/login starts a session with safe cookie attributes and redirects to next", async () => {
  await using hub = await createTestHub();
  const res = await submit(
    hub,
    { username: "Alice" },
    "/hub/login?next=%2Fhub%2Ftoken",
  );
  await res.body?.cancel();
  assert.equal(res.status, 302);
  assert.equal(res.headers.get("location"), "/hub/token");
  const login = res.headers.getSetCookie().find((c) =>
    c.startsWith("jupyterhub-hub-login=")
  )!;
  assert.match(login, /HttpOnly/i);
  assert.match(login, /SameSite=Lax/i);
  assert.match(login, /Path=\/hub\//);
  assert.doesNotMatch(login, /Secure/);
  // The user was created (normalised), and the stored session is a hash, not the cookie.
  const value = login.split(";")[0]!.split("=")[1]!;
  const rows = await hub.handle.db.selectFrom("login_sessions").selectAll()
    .execute();
  assert.equal(rows.length, 1);
  assert.notEqual(rows[0]!.hash, value);
  const me = await hub.request("/hub/api/user", {
    headers: { cookie: login.split(";")[0]! },
  });
  assert.equal((await me.json()).name, "alice");
});

Deno.test("POST /hub/login marks cookies Secure when the public URL is https", async () => {
  await using hub = await createTestHub({
    public_url: "https://hub.example.org",
  });
  const res = await submit(hub, { username: "alice" });
  await res.body?.cancel();
  assert.match(
    res.headers.getSetCookie().find((c) =>
      c.startsWith("jupyterhub-hub-login=")
    )!,
    /Secure/,
  );
});

Deno.test("POST /hub/login ignores a next that leaves the hub", async () => {
  await using hub = await createTestHub();
  await assertRedirect(
    await submit(
      hub,
      { username: "alice" },
      "/hub/login?next=https%3A%2F%2Fevil.example%2F",
    ),
    "/hub/home",
  );
});

Deno.test("POST /hub/login refuses a missing or wrong XSRF token with 403 and no session", async (t) => {
  await using hub = await createTestHub();
  const { xsrf, cookie } = await openForm(hub);
  const cases: Array<[string, Record<string, string>, Record<string, string>]> =
    [
      ["no cookie", { username: "a", password: "x", _xsrf: xsrf }, {}],
      ["no field", { username: "a", password: "x" }, { cookie }],
      ["wrong field", { username: "a", password: "x", _xsrf: "x".repeat(43) }, {
        cookie,
      }],
      ["cross-site origin", { username: "a", password: "x", _xsrf: xsrf }, {
        cookie,
        origin: "https://evil.example",
      }],
    ];
  for (const [label, form, headers] of cases) {
    await t.step(label, async () => {
      const res = await post(hub, "/hub/login", form, headers);
      assert.equal(res.status, 403);
      assert.match(await res.text(), /expired or came from another site/);
      assert.equal(
        res.headers.getSetCookie().some((c) =>
          c.startsWith("jupyterhub-hub-login=")
        ),
        false,
      );
    });
  }
  assert.equal(await sessionCount(hub), 0);
});

Deno.test("POST /hub/login re-renders the form with the error when the password is wrong", async () => {
  await using hub = await createTestHub({
    auth: { type: "dummy", dummy: { password: "sesame" } },
  });
  const res = await submit(hub, { username: "alice", password: "wrong" });
  assert.equal(res.status, 403);
  const html = await res.text();
  assert.match(html, /role="alert"[^>]*>Invalid username or password/);
  assert.match(html, /value="alice"/);
  assert.equal(await sessionCount(hub), 0);
  await assertStatus(
    await submit(hub, { username: "alice", password: "sesame" }),
    302,
  );
});

Deno.test("POST /hub/login applies the allow rules", async (t) => {
  await using hub = await createTestHub({
    users: {
      allow_all: false,
      allowed: ["alice"],
      blocked: ["mallory"],
      admin: ["root1"],
    },
  });
  const rows: Array<[string, number]> = [["alice", 302], ["root1", 302], [
    "bob",
    403,
  ], ["mallory", 403]];
  for (const [name, status] of rows) {
    await t.step(`${name} → ${status}`, async () => {
      const res = await submit(hub, { username: name });
      const body = await res.text();
      assert.equal(res.status, status);
      if (status === 403) assert.match(body, /not allowed to use this hub/);
    });
  }
  const admin = await hub.handle.db.selectFrom("users").select([
    "name",
    "admin",
  ]).where("name", "=", "root1")
    .executeTakeFirstOrThrow();
  assert.equal(admin.admin, 1);
});

Deno.test("POST /hub/login rejects invalid and oversized usernames with 400", async () => {
  await using hub = await createTestHub();
  for (const username of ["a/b", "x".repeat(10_000), "a\u0001b"]) {
    const res = await submit(hub, { username });
    assert.equal(res.status, 400);
    assert.match(await res.text(), /That username is not valid/);
  }
  assert.equal(await sessionCount(hub), 0);
});

Deno.test("GET /hub/logout ends the session so the cookie stops working", async () => {
  await using hub = await createTestHub();
  const { cookie } = await hub.login("alice");
  await assertStatus(
    await hub.request("/hub/api/user", { headers: { cookie } }),
    200,
  );
  await assertRedirect(
    await hub.request("/hub/logout", { headers: { cookie } }),
    "/hub/login",
  );
  await assertStatus(
    await hub.request("/hub/api/user", { headers: { cookie } }),
    403,
  );
  assert.equal(await sessionCount(hub), 0);
});

Deno.test("a login session expires after session.max_age", async () => {
  await using hub = await createTestHub({ session: { max_age: 60 } });
  const { cookie } = await hub.login("alice");
  hub.now.setTime(hub.now.getTime() + 61_000);
  await assertStatus(
    await hub.request("/hub/api/user", { headers: { cookie } }),
    403,
  );
});

Deno.test("GET /hub/home sends anonymous visitors to the login page", async () => {
  await using hub = await createTestHub();
  await assertSendsToLogin(hub, "/hub/home");
});

Deno.test("a login without next lands on the user's running server directly, else on /hub/spawn", async () => {
  await using hub = await createTestHub({}, { spawner: "fake" });
  const postLogin = async (name: string) => {
    const form = await hub.request("/hub/login");
    const html = await form.text();
    const xsrf = /name="_xsrf" value="([^"]+)"/.exec(html)![1]!;
    const res = await hub.request("/hub/login", {
      method: "POST",
      headers: {
        cookie: form.headers.getSetCookie().map((c) => c.split(";")[0]!).join(
          "; ",
        ),
        "content-type": "application/x-www-form-urlencoded",
      },
      body: new URLSearchParams({ username: name, password: "pw", _xsrf: xsrf })
        .toString(),
    });
    await res.body?.cancel();
    assert.equal(res.status, 302);
    return res.headers.get("location");
  };
  assert.equal(await postLogin("daemon"), "/hub/spawn");
  await hub.servers!.start((await getUser(hub.handle.db, "daemon"))!, "");
  assert.equal(
    await hub.servers!.waitReady("daemon", "", { timeoutMs: 5000 }),
    true,
  );
  assert.equal(await postLogin("daemon"), "/user/daemon/");
});
