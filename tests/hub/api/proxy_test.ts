import assert from "node:assert/strict";
import { createTestHub } from "../../_helpers/test_hub.ts";
import { assertStatus } from "../../_helpers/responses.ts";

Deno.test("GET /hub/api/proxy lists routes by routespec with their data and last_activity", async () => {
  await using hub = await createTestHub({}, { withProxy: true });
  await hub.addUser("admin", { admin: true });
  await hub.routes!.add("/user/alice", "http://127.0.0.1:9", {
    user: "alice",
    "server_name": "",
  });
  const res = await hub.request("/hub/api/proxy", {
    token: await hub.tokenFor("admin"),
  });
  assert.equal(res.status, 200);
  const body = await res.json();
  assert.deepEqual(Object.keys(body), ["/user/alice/"]);
  assert.equal(body["/user/alice/"].routespec, "/user/alice/");
  assert.equal(body["/user/alice/"].target, "http://127.0.0.1:9");
  assert.equal(body["/user/alice/"].data.user, "alice");
  assert.equal("jupyterhub" in body["/user/alice/"].data, false);
  assert.match(
    body["/user/alice/"].data.last_activity,
    /^\d{4}-\d\d-\d\dT.*Z$/,
  );
});

Deno.test("POST and PATCH /hub/api/proxy re-sync the proxy with the stored routes", async (t) => {
  for (const method of ["POST", "PATCH"]) {
    await t.step(method, async () => {
      await using hub = await createTestHub({}, { withProxy: true });
      await hub.addUser("admin", { admin: true });
      await hub.routes!.add("/user/alice", "http://127.0.0.1:9", {
        user: "alice",
      });
      hub.proxy!.removeRoute("/user/alice"); // the proxy lost it (e.g. it restarted)
      hub.proxy!.addRoute("/user/stale", "http://127.0.0.1:8", {
        jupyterhub: true,
      });
      await assertStatus(
        await hub.request("/hub/api/proxy", {
          method,
          token: await hub.tokenFor("admin"),
          ...(method === "PATCH" ? { json: { "api_url": "http://x:1" } } : {}),
        }),
        200,
      );
      assert.deepEqual(hub.proxy!.routes.list().map((r) => r.prefix), [
        "/user/alice",
      ]);
    });
  }
});

Deno.test("/hub/api/proxy needs the proxy scope", async () => {
  await using hub = await createTestHub({}, { withProxy: true });
  await hub.addUser("alice");
  const res = await hub.request("/hub/api/proxy", {
    token: await hub.tokenFor("alice"),
  });
  assert.equal(res.status, 403);
  assert.match((await res.json()).message, /requires any of \[proxy\]/);
});

Deno.test("/hub/api/proxy answers 503 when the hub runs without a proxy", async () => {
  await using hub = await createTestHub();
  await hub.addUser("admin", { admin: true });
  const res = await hub.request("/hub/api/proxy", {
    token: await hub.tokenFor("admin"),
  });
  assert.equal(res.status, 503);
  assert.match((await res.json()).message, /without a proxy/);
});

Deno.test("GET /hub/api/proxy lists only the routes the hub added, as JupyterHub's get_all_routes (not a proxy's own)", async () => {
  await using hub = await createTestHub({}, { withProxy: true });
  await hub.addUser("admin", { admin: true });
  hub.proxy!.addRoute("/", "http://127.0.0.1:8081", { hub: true });
  hub.proxy!.addRoute("/extra", "http://127.0.0.1:7", {}); // not the hub's
  await hub.routes!.add("/user/alice", "http://127.0.0.1:9", { user: "alice" });
  const body = await (await hub.request("/hub/api/proxy", {
    token: await hub.tokenFor("admin"),
  })).json();
  assert.deepEqual(Object.keys(body).sort(), ["/", "/user/alice/"]);
  assert.equal(body["/"].data.hub, true);
});
