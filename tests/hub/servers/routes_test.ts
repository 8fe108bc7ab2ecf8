import assert from "node:assert/strict";
import { serveLocal } from "../../_helpers/local_server.ts";
import { createProxy, createProxyApi } from "../../../proxy/mod.ts";
import { migrateToLatest, openDatabase } from "../../../hub/db/mod.ts";
import {
  inProcessControl,
  ProxyControlError,
  remoteControl,
  RouteService,
} from "../../../hub/servers/routes.ts";

async function memoryDb() {
  const handle = openDatabase(":memory:");
  await migrateToLatest(handle);
  return handle;
}

/** A database, an in-process proxy and the route service over both; disposing closes them. */
async function routeStack() {
  const stack = new AsyncDisposableStack();
  const handle = await memoryDb();
  stack.defer(() => handle.close());
  const proxy = createProxy();
  stack.defer(() => proxy.close());
  const routes = new RouteService(handle.db, inProcessControl(proxy));
  return {
    handle,
    proxy,
    routes,
    [Symbol.asyncDispose]: () => stack.disposeAsync(),
  };
}

Deno.test("RouteService.add() stores the route and puts it in the proxy; remove() undoes both", async () => {
  await using stack = await routeStack();
  const { handle, proxy, routes } = stack;
  await routes.add("/user/alice/", {
    target: "http://127.0.0.1:9",
    data: {
      user: "alice",
      "server_name": "",
    },
  });
  assert.equal(proxy.routes.get("/user/alice")?.target, "http://127.0.0.1:9");
  assert.deepEqual(proxy.routes.get("/user/alice")?.data, {
    user: "alice",
    "server_name": "",
    jupyterhub: true,
  });
  const rows = await handle.db.selectFrom("routes").selectAll().execute();
  assert.deepEqual(rows.map((r) => [r.prefix, r.target]), [[
    "/user/alice",
    "http://127.0.0.1:9",
  ]]);
  await routes.remove("/user/alice");
  assert.equal(proxy.routes.get("/user/alice"), undefined);
  assert.equal(
    (await handle.db.selectFrom("routes").selectAll().execute()).length,
    0,
  );
});

Deno.test("RouteService.sync() restores stored routes into a fresh proxy and drops stale hub routes", async () => {
  await using stack = new AsyncDisposableStack();
  const handle = await memoryDb();
  stack.defer(() => handle.close());
  const first = createProxy();
  stack.defer(() => first.close());
  await new RouteService(handle.db, inProcessControl(first)).add(
    "/user/alice",
    { target: "http://127.0.0.1:9", data: { user: "alice" } },
  );
  // "Restart": a new proxy with an old leftover hub route, a foreign route and the hub's own.
  const second = createProxy();
  stack.defer(() => second.close());
  second.addRoute("/user/gone", "http://127.0.0.1:10", { jupyterhub: true });
  second.addRoute("/extra", "http://127.0.0.1:11", {});
  second.addRoute("/", "http://127.0.0.1:12", { hub: true, jupyterhub: true });
  const result = await new RouteService(handle.db, inProcessControl(second))
    .sync(new Set(["/"]));
  assert.deepEqual(result, { added: ["/user/alice"], removed: ["/user/gone"] });
  assert.deepEqual(second.routes.list().map((r) => r.prefix), [
    "/",
    "/extra",
    "/user/alice",
  ]);
});

Deno.test("RouteService.removeOthers() drops a server's routes under other keys (subdomain_host changed), keeping the rest", async () => {
  await using stack = await routeStack();
  const { handle, proxy, routes } = stack;
  const alice = { user: "alice", "server_name": "" };
  await routes.add("/user/alice", {
    target: "http://127.0.0.1:9",
    data: alice,
  });
  await routes.add("/user/alice/gpu", {
    target: "http://127.0.0.1:8",
    data: {
      user: "alice",
      "server_name": "gpu",
    },
  });
  await routes.add("/user/bob", {
    target: "http://127.0.0.1:7",
    data: { user: "bob" },
  });
  await routes.add("/alice.hub.test/user/alice", {
    target: "http://127.0.0.1:9",
    data: alice,
  });
  await routes.removeOthers(
    { user: "alice", server: "" },
    "/alice.hub.test/user/alice/",
  );
  const left = (await handle.db.selectFrom("routes").select("prefix").execute())
    .map((r) => r.prefix).sort();
  assert.deepEqual(left, [
    "/alice.hub.test/user/alice",
    "/user/alice/gpu",
    "/user/bob",
  ]);
  assert.deepEqual(proxy.routes.list().map((r) => r.prefix), left);
});

Deno.test("remoteControl() drives a proxy through the configurable-http-proxy API", async () => {
  await using stack = new AsyncDisposableStack();
  const proxy = createProxy();
  stack.defer(() => proxy.close());
  const addr = await serveLocal(createProxyApi({ proxy, token: "s3cret" }));
  stack.defer(addr.close);
  const apiUrl = `http://127.0.0.1:${addr.port}`;
  const control = remoteControl({ apiUrl, token: "s3cret" });
  await control.add("/user/a b", "http://127.0.0.1:9", {
    user: "a b",
    jupyterhub: true,
  });
  assert.equal(proxy.routes.get("/user/a b")?.target, "http://127.0.0.1:9");
  const listed = await control.list();
  assert.equal(listed.get("/user/a b")?.data.user, "a b");
  assert.equal(typeof listed.get("/user/a b")?.lastActivity, "number");
  await control.remove("/user/a b");
  await control.remove("/user/a b"); // absent: tolerated
  assert.equal(proxy.routes.size, 0);
  await assert.rejects(
    remoteControl({ apiUrl, token: "wrong" }).list(),
    ProxyControlError,
  );
});
