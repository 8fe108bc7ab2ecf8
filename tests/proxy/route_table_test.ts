import assert from "node:assert/strict";
import { normalizePrefix, RouteTable } from "../../proxy/route_table.ts";

Deno.test("normalizePrefix() adds a leading slash and drops trailing ones", async (t) => {
  const rows: Array<[string, string]> = [
    ["", "/"],
    ["/", "/"],
    ["//", "/"],
    ["user/alice", "/user/alice"],
    ["/user/alice/", "/user/alice"],
    ["/user/alice//", "/user/alice"],
    ["/user/a b", "/user/a b"],
    ["/user//alice", "/user//alice"],
  ];
  for (const [input, expected] of rows) {
    await t.step(`${JSON.stringify(input)} → ${expected}`, () => {
      assert.equal(normalizePrefix(input), expected);
    });
  }
});

function table(...prefixes: string[]): RouteTable {
  const routes = new RouteTable();
  for (const p of prefixes) {
    routes.set(p, { target: `http://127.0.0.1:1/${p}` });
  }
  return routes;
}

Deno.test("RouteTable.match() picks the longest prefix by whole segments", async (t) => {
  const routes = table(
    "/",
    "/user/alice",
    "/user/alice/gpu",
    "/services/cull",
    "/user/a b",
  );
  const rows: Array<[string, string | undefined]> = [
    ["/user/alice", "/user/alice"],
    ["/user/alice/", "/user/alice"],
    ["/user/alice/lab/tree", "/user/alice"],
    ["/user/alicebob", "/"],
    ["/user/alicebob/lab", "/"],
    ["/user/alice/gpu", "/user/alice/gpu"],
    ["/user/alice/gpu/", "/user/alice/gpu"],
    ["/user/alice/gpu/api/kernels", "/user/alice/gpu"],
    ["/user/alice/gpux", "/user/alice"],
    ["/user/bob", "/"],
    ["/user", "/"],
    ["/", "/"],
    ["/hub/login", "/"],
    ["/user//alice", "/"],
    ["//user/alice", "/user/alice"],
    ["/services/cull/api", "/services/cull"],
    ["/user/a b/lab", "/user/a b"],
    ["/USER/alice", "/"],
  ];
  for (const [path, expected] of rows) {
    await t.step(`${path} → ${expected}`, () => {
      assert.equal(routes.match(path)?.prefix, expected);
    });
  }
});

Deno.test("RouteTable.match() finds nothing without a / route", async (t) => {
  const routes = table("/user/alice");
  const rows: Array<[string, string | undefined]> = [
    ["/user/alice/lab", "/user/alice"],
    ["/user/alicebob", undefined],
    ["/", undefined],
    ["/user", undefined],
  ];
  for (const [path, expected] of rows) {
    await t.step(`${path} → ${expected}`, () => {
      assert.equal(routes.match(path)?.prefix, expected);
    });
  }
});

Deno.test("RouteTable.set() normalises the key and replaces an existing route", () => {
  const routes = new RouteTable();
  routes.set("user/alice/", {
    target: "http://127.0.0.1:1",
    data: { user: "alice" },
  });
  const replaced = routes.set("/user/alice", {
    target: "http://127.0.0.1:2",
    data: { user: "alice", "server_name": "" },
  });
  assert.equal(routes.size, 1);
  assert.deepEqual(replaced, {
    prefix: "/user/alice",
    target: "http://127.0.0.1:2",
    data: { user: "alice", "server_name": "" },
  });
  assert.deepEqual(routes.get("/user/alice/"), replaced);
  assert.equal(routes.match("/user/alice/api")?.target, "http://127.0.0.1:2");
});

Deno.test("RouteTable.get() returns only a route stored exactly at the key", () => {
  const routes = table("/user/alice/gpu");
  assert.equal(routes.get("/user/alice"), undefined);
  assert.equal(routes.get("/user"), undefined);
  assert.equal(routes.get("/user/alice/gpu/x"), undefined);
  assert.equal(routes.get("/user/alice/gpu/")?.prefix, "/user/alice/gpu");
});

Deno.test("RouteTable.delete() removes one route and keeps its parent and children", () => {
  const routes = table("/", "/user/alice", "/user/alice/gpu");
  assert.equal(routes.delete("/user/alice/"), true);
  assert.equal(routes.size, 2);
  assert.equal(routes.match("/user/alice/lab")?.prefix, "/");
  assert.equal(routes.match("/user/alice/gpu/lab")?.prefix, "/user/alice/gpu");
  assert.equal(routes.delete("/user/alice"), false);
  assert.equal(routes.delete("/user/nobody"), false);
  assert.equal(
    routes.delete("/user"),
    false,
    "an inner trie node is not a route",
  );
  assert.equal(routes.size, 2);
});

Deno.test("RouteTable.delete() leaves nothing behind after add/delete churn of deep keys", () => {
  const routes = table("/");
  for (let i = 0; i < 100; i++) {
    routes.set(`/user/u${i}/named/server`, { target: "http://127.0.0.1:1" });
    routes.delete(`/user/u${i}/named/server`);
  }
  assert.equal(routes.size, 1);
  assert.equal(routes.match("/user/u1/named/server")?.prefix, "/");
  assert.deepEqual(routes.list().map((r) => r.prefix), ["/"]);
});

Deno.test("RouteTable.delete() of / leaves the other routes", () => {
  const routes = table("/", "/user/alice");
  assert.equal(routes.delete("/"), true);
  assert.equal(routes.match("/hub/login"), undefined);
  assert.equal(routes.match("/user/alice")?.prefix, "/user/alice");
});

Deno.test("RouteTable.list() returns every route sorted by prefix", () => {
  const routes = table(
    "/user/bob",
    "/",
    "/user/alice/gpu",
    "/services/x",
    "/user/alice",
  );
  assert.deepEqual(routes.list().map((r) => r.prefix), [
    "/",
    "/services/x",
    "/user/alice",
    "/user/alice/gpu",
    "/user/bob",
  ]);
});
