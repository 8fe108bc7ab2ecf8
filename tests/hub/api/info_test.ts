import assert from "node:assert/strict";
import { createTestHub, type TestHub } from "../../_helpers/test_hub.ts";
import { syncConfigAccess } from "../../../hub/config/access.ts";
import { silentLogger } from "../../../hub/observe/log.ts";
import {
  assertError,
  obj,
  serverToken as ownServerToken,
} from "./_fixtures.ts";
import { adminToken, userToken } from "../../_helpers/api_setup.ts";

const VERSION = "5.3.0";

/** The token a singleuser server gets: activity does not count as the user's. */
function serverToken(hub: TestHub, name: string): Promise<string> {
  return ownServerToken(hub, name, [
    "users:activity!user",
    "read:users:activity!user",
    `access:servers!server=${name}/`,
  ]);
}

// ---- GET /hub/api ----

Deno.test("GET /hub/api answers the version with and without a trailing slash, no credentials needed", async (t) => {
  await using hub = await createTestHub();
  for (const path of ["/hub/api", "/hub/api/"]) {
    await t.step(path, async () => {
      const res = await hub.request(path);
      assert.equal(res.status, 200);
      assert.deepEqual(await obj(res), { version: VERSION });
      assert.equal(res.headers.get("x-jupyterhub-version"), VERSION);
      assert.equal(res.headers.get("access-control-allow-origin"), "*");
    });
  }
});

Deno.test("GET /hub/api reports a PEP 440 version", async () => {
  await using hub = await createTestHub();
  const { version } = await obj(await hub.request("/hub/api")) as {
    version: string;
  };
  // The singleuser server and the culler parse it with packaging.version.
  assert.match(version, /^\d+(\.\d+)*$/);
});

Deno.test("every hub response carries X-JupyterHub-Version, errors and pages included", async (t) => {
  await using hub = await createTestHub();
  const token = await userToken(hub, "alice");
  const rows: Array<
    [string, string, RequestInit & { token?: string }, number]
  > = [
    ["api root", "/hub/api/", {}, 200],
    ["api 403", "/hub/api/users", {}, 403],
    ["api 404 route", "/hub/api/nope", {}, 404],
    ["api 404 user", "/hub/api/users/ghost", { token }, 404],
    ["api 400", "/hub/api/users/alice/activity", {
      method: "POST",
      token,
      body: "{",
    }, 400],
    ["health", "/hub/health", {}, 200],
    ["login page", "/hub/login", {}, 200],
    ["page 404", "/hub/no-such-page", {}, 404],
    ["redirect", "/hub/", {}, 302],
  ];
  for (const [label, path, init, status] of rows) {
    await t.step(label, async () => {
      const res = await hub.request(path, init);
      await res.body?.cancel();
      assert.equal(res.status, status);
      assert.equal(res.headers.get("x-jupyterhub-version"), VERSION);
    });
  }
});

Deno.test("API responses carry the API security headers", async () => {
  await using hub = await createTestHub();
  const res = await hub.request("/hub/api/nope");
  await res.body?.cancel();
  assert.equal(
    res.headers.get("content-security-policy"),
    "frame-ancestors 'none'; default-src 'none'",
  );
  assert.equal(
    res.headers.get("access-control-allow-headers"),
    "accept, content-type, authorization",
  );
});

// ---- GET /hub/api/info ----

Deno.test("GET /hub/api/info describes the hub to a caller with read:hub", async () => {
  await using hub = await createTestHub();
  const token = await adminToken(hub, { scopes: ["read:hub"] });
  const res = await hub.request("/hub/api/info", { token });
  assert.equal(res.status, 200);
  const info = await obj(res);
  assert.equal(info.version, VERSION);
  assert.equal(typeof info.sys_executable, "string");
  const authenticator = info.authenticator as Record<string, unknown>;
  assert.equal(authenticator.class, "onehub.auth.dummy");
  assert.equal(typeof authenticator.version, "string");
  assert.equal(
    typeof (info.spawner as Record<string, unknown>).class,
    "string",
  );
});

Deno.test("GET /hub/api/info answers 403 without read:hub", async () => {
  await using hub = await createTestHub();
  const token = await userToken(hub, "alice");
  await assertError(
    await hub.request("/hub/api/info", { token }),
    403,
    /^Action is not authorized with current scopes; requires any of \[read:hub\]$/,
  );
  await assertError(
    await hub.request("/hub/api/info"),
    403,
    /^Missing or invalid credentials\.$/,
  );
});

// ---- GET /hub/api/user ----

Deno.test("GET /hub/api/user identifies a token's owner with token_id and session_id", async () => {
  await using hub = await createTestHub();
  const token = await userToken(hub, "alice");
  const res = await hub.request("/hub/api/user", { token });
  assert.equal(res.status, 200);
  const model = await obj(res);
  assert.equal(model.kind, "user");
  assert.equal(model.name, "alice");
  assert.equal(model.admin, false);
  assert.deepEqual(model.groups, []);
  assert.equal(model.session_id, null);
  assert.match(model.token_id as string, /^a\d+$/);
  const scopes = model.scopes as string[];
  assert.deepEqual(scopes, [...scopes].sort());
  assert.ok(scopes.includes("read:users!user=alice"));
  assert.equal("auth_state" in model, false);
});

Deno.test("GET /hub/api/user gives a server token its own name, groups and activity only", async () => {
  await using hub = await createTestHub();
  await hub.addUser("alice");
  const token = await serverToken(hub, "alice");
  const model = await obj(await hub.request("/hub/api/user", { token }));
  assert.deepEqual(Object.keys(model).sort(), [
    "admin",
    "groups",
    "kind",
    "last_activity",
    "name",
    "scopes",
    "session_id",
    "token_id",
  ]);
  assert.deepEqual(model.scopes, [
    "access:servers!server=alice/",
    "read:users:activity!user=alice",
    "read:users:groups!user=alice",
    "read:users:name!user=alice",
    "users:activity!user=alice",
  ]);
  // A server token's use is not the user's activity.
  assert.equal(model.last_activity, null);
});

Deno.test("GET /hub/api/user identifies a cookie session with null token_id and session_id", async () => {
  await using hub = await createTestHub();
  await hub.addUser("alice");
  const { cookie } = await hub.login("alice");
  const res = await hub.request("/hub/api/user", { headers: { cookie } });
  assert.equal(res.status, 200);
  const model = await obj(res);
  assert.equal(model.name, "alice");
  assert.equal(model.token_id, null);
  assert.equal(model.session_id, null);
  assert.ok((model.scopes as string[]).includes("servers!user=alice"));
});

Deno.test("GET /hub/api/user answers 403 Forbidden without credentials", async () => {
  await using hub = await createTestHub();
  await assertError(await hub.request("/hub/api/user"), 403, /^Forbidden$/);
  await assertError(
    await hub.request("/hub/api/user", { token: "x".repeat(43) }),
    403,
    /^Forbidden$/,
  );
});

// ---- 403/404 shapes (JupyterHub's REST API reference) ----

Deno.test("scoped endpoints distinguish missing credentials, missing scopes and filtered scopes", async () => {
  await using hub = await createTestHub();
  await hub.addUser("alice");
  await hub.addUser("bob");
  const token = await hub.tokenFor("alice");
  await assertError(
    await hub.request("/hub/api/users/bob"),
    403,
    /^Missing or invalid credentials\.$/,
  );
  await assertError(
    await hub.request("/hub/api/users", { token }),
    403,
    /^Action is not authorized with current scopes; requires any of \[list:users\]$/,
  );
  await assertError(
    await hub.request("/hub/api/users/bob", { token }),
    404,
    /^No access to resources or resources not found$/,
  );
});

// ---- health, unknown paths ----

Deno.test("GET and HEAD /hub/health and /hub/api/health answer 200 with an empty body, no credentials", async (t) => {
  await using hub = await createTestHub();
  for (const path of ["/hub/health", "/hub/api/health"]) {
    for (const method of ["GET", "HEAD"]) {
      await t.step(`${method} ${path}`, async () => {
        const res = await hub.request(path, { method });
        assert.equal(res.status, 200);
        assert.equal(await res.text(), "");
        assert.equal(res.headers.get("x-jupyterhub-version"), VERSION);
      });
    }
  }
});

Deno.test("an unknown path under /hub/api answers a JSON 404", async (t) => {
  await using hub = await createTestHub();
  const token = await userToken(hub, "alice");
  const rows: Array<[string, string]> = [
    ["GET", "/hub/api/nope"],
    ["GET", "/hub/api/users/alice/nope"],
    ["GET", "/hub/api/nope/deeper/still"],
  ];
  for (const [method, path] of rows) {
    await t.step(`${method} ${path}`, async () => {
      await assertError(
        await hub.request(path, { method, token }),
        404,
        /^No API endpoint /,
      );
    });
  }
});

Deno.test("a known API path asked with another method is 405 with Allow; OPTIONS is 200 (tornado's and JupyterHub's APIHandler.options)", async (t) => {
  await using hub = await createTestHub();
  const token = await userToken(hub, "alice");
  const rows: Array<[string, string, string]> = [
    ["POST", "/hub/api/info", "GET"],
    ["PUT", "/hub/api/users/alice", "DELETE, GET, PATCH, POST"],
    ["GET", "/hub/api/shutdown", "POST"],
  ];
  for (const [method, path, allow] of rows) {
    await t.step(`${method} ${path}`, async () => {
      const res = await hub.request(path, { method, token });
      assert.equal(res.headers.get("allow"), allow);
      await assertError(res, 405, new RegExp(`^${method} is not allowed on `));
    });
  }
  for (const path of ["/hub/api/users", "/hub/api/users/alice/tokens"]) {
    const res = await hub.request(path, { method: "OPTIONS" });
    assert.equal(res.status, 200, path);
    assert.equal(await res.text(), "");
  }
});

Deno.test("POST /hub/api/authorizations/token always answers 404 naming the replacement", async () => {
  await using hub = await createTestHub();
  await assertError(
    await hub.request("/hub/api/authorizations/token", { method: "POST" }),
    404,
    /^Deprecated endpoint \/hub\/api\/authorizations\/token is removed in JupyterHub 2\.0\. Use \/hub\/api\/users\/:user\/tokens instead\.$/,
  );
});

Deno.test("GET /hub/api/services answers an empty object without services (the built-in culler off)", async () => {
  await using hub = await createTestHub({
    services: { cull: { enabled: false } },
  });
  const token = await adminToken(hub);
  const res = await hub.request("/hub/api/services", { token });
  assert.equal(res.status, 200);
  assert.deepEqual(await obj(res), {});
});

Deno.test("GET /hub/api/info names the configured spawner and authenticator", async (t) => {
  for (const spawner of ["local", "systemd"]) {
    await t.step(spawner, async () => {
      await using hub = await createTestHub({ spawner: { type: spawner } });
      const token = await adminToken(hub, { scopes: ["read:hub"] });
      const info = await obj(await hub.request("/hub/api/info", { token }));
      assert.deepEqual(info.spawner, {
        class: `onehub.spawners.${spawner}`,
        version: VERSION,
      });
      assert.equal(
        (info.authenticator as Record<string, unknown>).class,
        "onehub.auth.dummy",
      );
    });
  }
});

Deno.test("GET /hub/api/authorizations/token/{token} (deprecated, jhub-client) answers the token owner's model; 404 for an unknown token, 403 without credentials", async () => {
  await using hub = await createTestHub();
  await hub.addUser("alice");
  const caller = await userToken(hub, "svc-user");
  const alice = await hub.tokenFor("alice");
  const res = await hub.request(`/hub/api/authorizations/token/${alice}`, {
    token: caller,
  });
  assert.equal(res.status, 200);
  const model = await res.json();
  assert.equal(model.kind, "user");
  assert.equal(model.name, "alice");
  assert.deepEqual(model.groups, []);
  assert.equal("servers" in model, false, "only what the caller may see");
  await assertError(
    await hub.request("/hub/api/authorizations/token/not-a-token", {
      token: caller,
    }),
    404,
  );
  await assertError(
    await hub.request(`/hub/api/authorizations/token/${alice}`),
    403,
  );
});

Deno.test("custom_scopes (JupyterHub's custom_scopes): a role may grant one, a token may carry it, GET /user lists it filtered", async () => {
  await using hub = await createTestHub({
    "custom_scopes": {
      "custom:grader:read": { description: "Read one's grades" },
      "custom:grader:all": {
        description: "Everything about grades",
        subscopes: ["custom:grader:read"],
      },
    },
    roles: [{
      name: "grader",
      scopes: ["custom:grader:all!user"],
      users: ["alice"],
    }],
  });
  await syncConfigAccess(hub.handle.db, hub.config, { logger: silentLogger });
  const token = await hub.tokenFor("alice", ["custom:grader:read!user"]);
  const me = await (await hub.request("/hub/api/user", { token })).json();
  assert.ok(
    (me.scopes as string[]).includes("custom:grader:read!user=alice"),
    String(me.scopes),
  );
  assert.ok(!(me.scopes as string[]).includes("custom:grader:all!user=alice"));
});
