/**
 * The browser side of spawning (JupyterHub's single-user server contract): /hub/spawn,
 * /hub/spawn-pending, /hub/user/<name>/… (a request for a server that
 * reached the hub), /user/<name>/… outside the hub prefix and
 * /hub/user-redirect/…, against a real ServerManager with the fake
 * spawner. Hub users are named after existing non-root Linux accounts.
 */
import { STATIC_ASSETS, staticUrl } from "../../../templates/mod.ts";
import assert from "node:assert/strict";
import {
  type FakeHub,
  fakeHub,
  type TestHub,
} from "../../_helpers/test_hub.ts";
import { FakeSpawner } from "../../_helpers/fake_spawner.ts";
import { getUser } from "../../../hub/db/users.ts";
import { assertStatus } from "../../_helpers/responses.ts";

/** A logged-in browser of `name`: GET (or another method) with its cookie. */
async function browser(hub: TestHub, name: string) {
  const session = await hub.login(name);
  const get = (path: string, init: RequestInit = {}) =>
    hub.request(path, {
      ...init,
      headers: { cookie: session.cookie, ...(init.headers ?? {}) },
    });
  return { ...session, get };
}

async function startAndWait(hub: FakeHub, name: string, server = "") {
  await hub.servers.start((await getUser(hub.handle.db, name))!, server);
  assert.equal(
    await hub.servers.waitReady(name, server, { timeoutMs: 5000 }),
    true,
  );
}

async function redirect(res: Response, status = 302): Promise<string> {
  const text = await res.text();
  assert.equal(res.status, status, text);
  return res.headers.get("location")!;
}

/** `b`'s GET of `path` redirects (302) to `location`. */
async function assertGoes(
  b: { get: (path: string) => Promise<Response> },
  path: string,
  location: string,
): Promise<void> {
  assert.equal(await redirect(await b.get(path)), location);
}

async function json424(res: Response): Promise<string> {
  assert.equal(res.status, 424);
  assert.match(res.headers.get("content-type") ?? "", /^application\/json/);
  const body = await res.json();
  assert.equal(body.status, 424);
  return body.message as string;
}

/** `name`'s browser after GET /hub/spawn, which sent it to spawn-pending. */
async function spawnedBy(hub: TestHub, name: string) {
  const b = await browser(hub, name);
  await assertGoes(b, "/hub/spawn", `/hub/spawn-pending/${name}`);
  return b;
}

Deno.test("a logged-out /hub/spawn goes to the login page with next", async () => {
  await using hub = await fakeHub();
  const res = await hub.request("/hub/spawn?next=%2Fuser%2Fdaemon%2Ftree");
  assert.equal(
    await redirect(res),
    "/hub/login?next=" +
      encodeURIComponent("/hub/spawn?next=%2Fuser%2Fdaemon%2Ftree"),
  );
  assert.equal(hub.fake.calls.length, 0);
});

Deno.test("/hub/spawn starts the server and sends the browser on; spawn-pending then goes to the server", async () => {
  await using hub = await fakeHub();
  const b = await browser(hub, "daemon");
  const to = await redirect(await b.get("/hub/spawn"));
  assert.ok(
    to === "/hub/spawn-pending/daemon" || to === "/user/daemon/",
    `unexpected redirect ${to}`,
  );
  assert.equal(hub.fake.startsOf("daemon"), 1);
  assert.deepEqual(hub.proxy!.routes.list().map((r) => r.prefix), [
    "/user/daemon",
  ]);
  await assertGoes(b, "/hub/spawn-pending/daemon", "/user/daemon/");
  // Already running: /hub/spawn goes straight to next (or the server).
  await assertGoes(
    b,
    "/hub/spawn?next=%2Fuser%2Fdaemon%2Flab",
    "/user/daemon/lab",
  );
  assert.equal(hub.fake.startsOf("daemon"), 1);
});

Deno.test("/hub/spawn keeps a safe next through spawn-pending and drops one that leaves the hub", async () => {
  await using hub = await fakeHub({}, new FakeSpawner("slow"));
  const b = await browser(hub, "daemon");
  const to = await redirect(
    await b.get("/hub/spawn/daemon?next=%2Fuser%2Fdaemon%2Ftree%2Fa.ipynb"),
  );
  assert.equal(
    to,
    "/hub/spawn-pending/daemon?next=%2Fuser%2Fdaemon%2Ftree%2Fa.ipynb",
  );
  hub.fake.release("daemon");
  assert.equal(
    await hub.servers.waitReady("daemon", "", { timeoutMs: 5000 }),
    true,
  );
  assert.equal(await redirect(await b.get(to)), "/user/daemon/tree/a.ipynb");
  assert.equal(
    await redirect(
      await b.get("/hub/spawn-pending/daemon?next=https%3A%2F%2Fevil.example"),
    ),
    "/user/daemon/",
  );
});

Deno.test("spawn-pending while pending renders the progress page with an EventSource URL carrying _xsrf", async () => {
  await using hub = await fakeHub({}, new FakeSpawner("slow"));
  const b = await spawnedBy(hub, "daemon");
  const res = await b.get("/hub/spawn-pending/daemon");
  assert.equal(res.status, 200);
  assert.match(res.headers.get("content-type") ?? "", /^text\/html/);
  const page = await res.text();
  const data = JSON.parse(
    /<script id="spawn-data" type="application\/json">([^<]*)<\/script>/
      .exec(page)![1]!,
  );
  assert.equal(
    data.progress,
    `/hub/api/users/daemon/server/progress?_xsrf=${encodeURIComponent(b.xsrf)}`,
  );
  assert.equal(data.next, "/user/daemon/");
  // The page's script (a static asset now) follows data.progress.
  assert.ok(
    page.includes(
      `<script type="module" src="${staticUrl("/", "spawn_pending.js")}">`,
    ),
  );
  assert.match(
    STATIC_ASSETS["spawn_pending.js"]!.body,
    /new EventSource\(data\.progress\)/,
  );
  // The browser's EventSource request (cookie + _xsrf in the URL) is accepted.
  const stream = await b.get(data.progress);
  assert.equal(stream.status, 200);
  assert.match(stream.headers.get("content-type") ?? "", /text\/event-stream/);
  const reader = stream.body!.pipeThrough(new TextDecoderStream())
    .getReader();
  let text = "";
  while (!text.includes('"Server requested"')) {
    text += (await reader.read()).value ?? "";
  }
  await reader.cancel();
  hub.fake.release("daemon");
  assert.equal(
    await hub.servers.waitReady("daemon", "", { timeoutMs: 5000 }),
    true,
  );
  await assertGoes(b, "/hub/spawn-pending/daemon", "/user/daemon/");
});

Deno.test("spawn-pending after a failed spawn shows the reason with status 500 and a retry link", async () => {
  await using hub = await fakeHub({}, new FakeSpawner("fails"));
  const b = await spawnedBy(hub, "daemon");
  const res = await b.get("/hub/spawn-pending/daemon");
  const page = await res.text();
  assert.equal(res.status, 500);
  assert.match(page, /Spawn failed: boom/);
  assert.match(
    page,
    /href="\/hub\/spawn\/daemon\?next=%2Fuser%2Fdaemon%2F"/,
  );
  // /hub/user/… after a failure leads to the pending page too (it shows the reason).
  assert.equal(
    await redirect(await b.get("/hub/user/daemon/tree"), 303),
    "/hub/spawn-pending/daemon?next=%2Fuser%2Fdaemon%2Ftree",
  );
  // The retry link starts again.
  hub.fake.behaviour = "starts";
  await redirect(await b.get("/hub/spawn/daemon?next=%2Fuser%2Fdaemon%2F"));
  assert.equal(hub.fake.startsOf("daemon"), 2);
  await assertGoes(b, "/hub/spawn-pending/daemon", "/user/daemon/");
});

Deno.test("spawn-pending of a stopped server is the 424 'not running' page with a start link, and starts nothing", async () => {
  await using hub = await fakeHub();
  const b = await browser(hub, "daemon");
  const res = await b.get("/hub/spawn-pending/daemon");
  const page = await res.text();
  assert.equal(res.status, 424);
  assert.match(page, /is not running/);
  assert.match(page, /href="\/hub\/spawn\/daemon\?next=%2Fuser%2Fdaemon%2F"/);
  assert.equal(hub.fake.calls.length, 0);
});

Deno.test("/hub/user/<name>/… of a stopped server: 424 page for browsers, 424 JSON for API-looking requests", async () => {
  await using hub = await fakeHub();
  const b = await browser(hub, "daemon");
  const res = await b.get("/hub/user/daemon/tree?x=1");
  const page = await res.text();
  assert.equal(res.status, 424);
  assert.match(res.headers.get("content-type") ?? "", /^text\/html/);
  assert.match(page, /is not running/);
  assert.match(
    page,
    /href="\/hub\/spawn\/daemon\?next=%2Fhub%2Fuser%2Fdaemon%2Ftree%3Fx%3D1"/,
  );

  const viaAccept = await json424(
    await b.get("/hub/user/daemon/tree", {
      headers: { accept: "application/json" },
    }),
  );
  assert.match(
    viaAccept,
    /^JupyterHub server no longer running at \/user\/daemon\/tree\. Restart the server at \/hub\/spawn\/daemon\?next=/,
  );
  const viaPath = await json424(await b.get("/hub/user/daemon/api/contents"));
  assert.match(viaPath, /no longer running at \/user\/daemon\/api\/contents\./);
  assert.match(viaPath, /\/hub\/spawn\/daemon/);
  const viaPost = await json424(
    await b.get("/hub/user/daemon/api/contents", { method: "POST" }),
  );
  assert.match(viaPost, /\/hub\/spawn\/daemon/);
  assert.equal(hub.fake.calls.length, 0, "nothing spawns implicitly");
});

Deno.test("/hub/user/<name>/… with token auth and a name escaped differently keeps the path", async () => {
  await using hub = await fakeHub();
  await hub.addUser("a@b");
  const token = await hub.tokenFor("a@b");
  const message = await json424(
    await hub.request("/hub/user/a%40b/api/contents/x", { token }),
  );
  assert.match(message, /no longer running at \/user\/a@b\/api\/contents\/x\./);
});

Deno.test("/hub/user/<name>/… while the spawn is pending: 303 to spawn-pending; API requests get 424", async () => {
  await using hub = await fakeHub({}, new FakeSpawner("slow"));
  const b = await browser(hub, "daemon");
  await redirect(await b.get("/hub/spawn"));
  assert.equal(
    await redirect(await b.get("/hub/user/daemon/lab"), 303),
    "/hub/spawn-pending/daemon?next=%2Fuser%2Fdaemon%2Flab",
  );
  await json424(await b.get("/hub/user/daemon/api/status"));
  hub.fake.release("daemon");
  assert.equal(
    await hub.servers.waitReady("daemon", "", { timeoutMs: 5000 }),
    true,
  );
});

Deno.test("/user/<name>/… reaching the hub is sent into the hub prefix; other methods get 405", async () => {
  await using hub = await fakeHub();
  const b = await browser(hub, "daemon");
  await assertGoes(b, "/user/daemon/tree/?a=1", "/hub/user/daemon/tree/?a=1");
  await assertGoes(b, "/user/daemon/x", "/hub/user/daemon/x");
  await assertStatus(await b.get("/user/daemon/x", { method: "POST" }), 405);
});

Deno.test("the redirect-loop guard: a running server without a route is retried, then 500 after 4 redirects", async () => {
  await using hub = await fakeHub();
  const b = await browser(hub, "daemon");
  await startAndWait(hub, "daemon");
  hub.proxy!.removeRoute("/user/daemon"); // the proxy lost it: requests keep reaching the hub
  await assertGoes(
    b,
    "/hub/user/daemon/tree?a=1",
    "/user/daemon/tree?a=1&redirects=1",
  );
  const res = await b.get("/hub/user/daemon/tree?a=1&redirects=4");
  const page = await res.text();
  assert.equal(res.status, 500);
  assert.match(page, /Redirect loop detected\./);
  await assertStatus(await b.get("/hub/user/daemon/tree?redirects=x"), 500);
  // Other methods are not redirected even when the server runs.
  await json424(await b.get("/hub/user/daemon/api/x", { method: "PUT" }));
});

Deno.test("the redirect-loop guard counts up, backing off between hops", async () => {
  await using hub = await fakeHub();
  const b = await browser(hub, "daemon");
  await startAndWait(hub, "daemon");
  const t0 = Date.now();
  await assertGoes(
    b,
    "/hub/user/daemon/tree?redirects=1",
    "/user/daemon/tree?redirects=2",
  );
  assert.ok(Date.now() - t0 >= 1900, "waited about 2 s before repeating");
});

Deno.test("/hub/user-redirect/… goes to spawn with next on my own server; logged out → login", async () => {
  await using hub = await fakeHub();
  const b = await browser(hub, "daemon");
  await assertGoes(
    b,
    "/hub/user-redirect/tree/x.ipynb",
    "/hub/spawn/daemon?next=" + encodeURIComponent("/user/daemon/tree/x.ipynb"),
  );
  const out = await hub.request("/hub/user-redirect/tree/x.ipynb");
  assert.match(await redirect(out), /^\/hub\/login\?next=/);
});

Deno.test("another user's server: /hub/user/<other>/ and /hub/spawn/<other> are 404", async () => {
  await using hub = await fakeHub();
  const b = await browser(hub, "daemon");
  for (
    const path of [
      "/hub/user/bin/",
      "/hub/user/bin/tree",
      "/hub/spawn/bin",
      "/hub/spawn-pending/bin",
    ]
  ) {
    const res = await b.get(path);
    await res.body?.cancel();
    assert.equal(res.status, 404, path);
  }
  await assertStatus(await b.get("/hub/user/nosuchuser/tree"), 404);
  assert.equal(hub.fake.calls.length, 0);
});

Deno.test("named servers: /hub/spawn/<me>/<name> starts one (when enabled) and /hub/user/<me>/<name>/… finds it", async () => {
  await using hub = await fakeHub({ spawner: { "named_servers": true } });
  const b = await browser(hub, "daemon");
  const to = await redirect(await b.get("/hub/spawn/daemon/gpu"));
  assert.ok(
    to === "/hub/spawn-pending/daemon/gpu" || to === "/user/daemon/gpu/",
    to,
  );
  assert.equal(hub.fake.startsOf("daemon-gpu"), 1);
  await assertGoes(b, "/hub/spawn-pending/daemon/gpu", "/user/daemon/gpu/");
  await hub.servers.stop((await getUser(hub.handle.db, "daemon"))!, "gpu");
  const res = await b.get("/hub/user/daemon/gpu/lab");
  const page = await res.text();
  assert.equal(res.status, 424);
  assert.match(page, /daemon\/gpu is not running/);
  assert.match(page, /href="\/hub\/spawn\/daemon\/gpu\?next=/);
});

Deno.test("named servers: /hub/spawn/<me>/<name> is 400 when they are disabled", async () => {
  await using hub = await fakeHub();
  const b = await browser(hub, "daemon");
  const res = await b.get("/hub/spawn/daemon/gpu");
  const page = await res.text();
  assert.equal(res.status, 400);
  assert.match(page, /Named servers are not enabled\./);
  assert.equal(hub.fake.calls.length, 0);
});
