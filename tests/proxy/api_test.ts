import assert from "node:assert/strict";
import { createProxy } from "../../proxy/server.ts";
import { createProxyApi } from "../../proxy/api.ts";
import { manualClock } from "./_setup.ts";

const TOKEN = "secret-token";

function setup() {
  const clock = manualClock(Date.parse("2026-11-25T19:53:15.297Z"));
  const proxy = createProxy({ now: clock.now });
  const api = createProxyApi({ proxy, token: TOKEN });
  const call = (
    method: string,
    path: string,
    body?: unknown,
    auth = `token ${TOKEN}`,
  ) =>
    api(
      new Request(`http://127.0.0.1:8001${path}`, {
        method,
        headers: { authorization: auth },
        ...(body === undefined
          ? {}
          : { body: typeof body === "string" ? body : JSON.stringify(body) }),
      }),
    );
  return { proxy, clock, call };
}

Deno.test("createProxyApi() refuses a missing or wrong token with an empty 403", async (t) => {
  const { call } = setup();
  for (const auth of ["", "token wrong", `Bearer ${TOKEN}`]) {
    await t.step(JSON.stringify(auth), async () => {
      const res = await call("GET", "/api/routes", undefined, auth);
      assert.equal(res.status, 403);
      assert.equal(await res.text(), "");
    });
  }
});

Deno.test("createProxyApi() adds a route with its data and lists it with last_activity", async () => {
  const { call, proxy } = setup();
  const target = "http://127.0.0.1:47213";
  const add = await call("POST", "/api/routes/user/alice/", {
    target,
    user: "alice",
    "server_name": "",
  });
  assert.equal(add.status, 201);
  assert.equal(await add.text(), "");
  assert.equal(proxy.routes.match("/user/alice/lab")?.target, target);
  const list = await call("GET", "/api/routes");
  assert.deepEqual(await list.json(), {
    "/user/alice": {
      user: "alice",
      "server_name": "",
      target,
      "last_activity": "2026-11-25T19:53:15.297Z",
    },
  });
  const one = await call("GET", "/api/routes/user/alice");
  assert.equal((await one.json()).target, target);
});

Deno.test("createProxyApi() decodes the route path once", async () => {
  const { call, proxy } = setup();
  assert.equal(
    (await call("POST", "/api/routes/user/a%20b", {
      target: "http://127.0.0.1:1",
    })).status,
    201,
  );
  assert.deepEqual(proxy.routes.list().map((r) => r.prefix), ["/user/a b"]);
});

Deno.test("createProxyApi() filters the list with inactive_since", async () => {
  const { call, clock } = setup();
  await (await call("POST", "/api/routes/user/old", {
    target: "http://127.0.0.1:1",
  })).body?.cancel();
  clock.set(Date.parse("2026-11-26T00:00:00Z"));
  await (await call("POST", "/api/routes/user/new", {
    target: "http://127.0.0.1:2",
  })).body?.cancel();
  const res = await call(
    "GET",
    "/api/routes?inactive_since=2026-11-25T23:00:00Z",
  );
  assert.deepEqual(Object.keys(await res.json()), ["/user/old"]);
  const bad = await call("GET", "/api/routes?inactive_since=yesterday");
  assert.equal(bad.status, 400);
  assert.equal(
    await bad.text(),
    "Invalid datestamp 'yesterday' must be ISO8601.",
  );
});

Deno.test("createProxyApi() answers bad bodies, unknown routes and methods as CHP does", async (t) => {
  const { call } = setup();
  const rows: Array<[string, string, string, unknown, number]> = [
    ["not JSON", "POST", "/api/routes/x", "{", 400],
    ["no target", "POST", "/api/routes/x", { user: "a" }, 400],
    ["target not a string", "POST", "/api/routes/x", { target: 1 }, 400],
    ["GET unknown route", "GET", "/api/routes/nobody", undefined, 404],
    ["DELETE unknown route", "DELETE", "/api/routes/nobody", undefined, 404],
    ["PUT", "PUT", "/api/routes/x", "{}", 405],
    ["other path", "GET", "/api/other", undefined, 404],
  ];
  for (const [name, method, path, body, status] of rows) {
    await t.step(`${name} → ${status}`, async () => {
      const res = await call(method, path, body);
      assert.equal(res.status, status);
      await res.body?.cancel();
    });
  }
});

Deno.test("createProxyApi() deletes a route with 204", async () => {
  const { call, proxy } = setup();
  await (await call("POST", "/api/routes/user/alice", {
    target: "http://127.0.0.1:1",
  })).body?.cancel();
  const res = await call("DELETE", "/api/routes/user/alice/");
  assert.equal(res.status, 204);
  assert.equal(proxy.routes.size, 0);
});

Deno.test("createProxyApi() answers 413 to a streamed body over 64 KiB without reading it all", async () => {
  const clock = manualClock(Date.parse("2026-11-25T19:53:15.297Z"));
  const proxy = createProxy({ now: clock.now });
  const api = createProxyApi({ proxy, token: TOKEN });
  let sent = 0;
  const body = new ReadableStream<Uint8Array>({
    pull(controller) {
      if (sent >= 10 * 1024 * 1024) return controller.close();
      sent += 8192;
      controller.enqueue(new Uint8Array(8192).fill(0x20));
    },
  });
  const res = await api(
    new Request("http://127.0.0.1:8001/api/routes/user/alice/", {
      method: "POST",
      headers: { authorization: `token ${TOKEN}` },
      body,
    }),
  );
  assert.equal(res.status, 413);
  assert.match(await res.text(), /larger than 65536 bytes/);
  assert.ok(sent < 128 * 1024, `read ${sent} bytes`);
  assert.equal(proxy.routes.list().length, 0);
});
