/**
 * The server API (JupyterHub's REST API reference) against a real ServerManager with
 * the fake spawner: start, stop, progress stream, named servers, limits,
 * scopes. Hub users are named after existing non-root Linux accounts
 * (`daemon`, `bin`) because the manager looks the account up.
 */
import assert from "node:assert/strict";
import { createTestHub, type TestHub } from "../../_helpers/test_hub.ts";
import { FakeSpawner } from "../../_helpers/fake_spawner.ts";
import type { ProgressEvent } from "../../../hub/servers/manager.ts";
import { assertError, obj } from "./_fixtures.ts";
import { assertStatus } from "../../_helpers/responses.ts";

const API = "/hub/api";

async function fakeHub(
  file: Record<string, unknown> = {},
  fake = new FakeSpawner(),
): Promise<TestHub & { fake: FakeSpawner }> {
  const hub = await createTestHub(file, { spawner: fake });
  await hub.addUser("daemon");
  await hub.addUser("bin");
  await hub.addUser("root-admin", { admin: true });
  return hub as TestHub & { fake: FakeSpawner };
}

async function post(hub: TestHub, path: string, token: string, json?: unknown) {
  return await hub.request(API + path, {
    method: "POST",
    token,
    ...(json !== undefined ? { json } : {}),
  });
}

async function del(hub: TestHub, path: string, token: string, json?: unknown) {
  return await hub.request(API + path, {
    method: "DELETE",
    token,
    ...(json !== undefined ? { json } : {}),
  });
}

/** Reads progress events until `until` holds for one (or the stream ends). */
async function readEvents(
  res: Response,
  options: {
    until?: (e: ProgressEvent) => boolean;
    onEvent?: (e: ProgressEvent) => void;
  } = {},
): Promise<{ events: ProgressEvent[]; ended: boolean; raw: string }> {
  const until = options.until ?? ((e) => Boolean(e.ready || e.failed));
  const reader = res.body!.pipeThrough(new TextDecoderStream()).getReader();
  const events: ProgressEvent[] = [];
  let buf = "";
  let raw = "";
  while (true) {
    const { value, done } = await reader.read();
    if (done) return { events, ended: true, raw };
    buf += value;
    raw += value;
    let i;
    while ((i = buf.indexOf("\n\n")) >= 0) {
      const chunk = buf.slice(0, i);
      buf = buf.slice(i + 2);
      if (!chunk.startsWith("data: ")) continue;
      const event = JSON.parse(chunk.slice("data: ".length)) as ProgressEvent;
      events.push(event);
      options.onEvent?.(event);
      if (until(event)) {
        await reader.cancel();
        return { events, ended: false, raw };
      }
    }
  }
}

async function serverRow(hub: TestHub, user: string, name = "") {
  return await hub.handle.db.selectFrom("servers").innerJoin(
    "users",
    "users.id",
    "servers.user_id",
  ).selectAll("servers").where("users.name", "=", user).where(
    "servers.name",
    "=",
    name,
  ).executeTakeFirst();
}

/** How many API tokens carry `note` (a server's own token is noted "Server at <url>"). */
async function serverTokens(hub: TestHub, note: string): Promise<number> {
  const rows = await hub.handle.db.selectFrom("api_tokens").select("id")
    .where("note", "=", note).execute();
  return rows.length;
}

async function oauthClient(hub: TestHub, id: string) {
  return await hub.handle.db.selectFrom("oauth_clients").selectAll().where(
    "identifier",
    "=",
    id,
  ).executeTakeFirst();
}

const routePrefixes = (hub: TestHub) =>
  hub.proxy!.routes.list().map((r) => r.prefix);

Deno.test("POST /users/{name}/server answers 201 text/plain when the server is ready within the wait", async () => {
  await using hub = await fakeHub();
  const res = await post(
    hub,
    "/users/daemon/server",
    await hub.tokenFor("daemon"),
  );
  assert.equal(res.status, 201);
  assert.match(res.headers.get("content-type") ?? "", /^text\/plain/);
  assert.equal(await res.text(), "");
  assert.equal(hub.fake.startsOf("daemon"), 1);
  const request = hub.fake.lastRequest("daemon")!;
  assert.equal(request.user.name, "daemon");
  assert.equal(request.env.JUPYTERHUB_SERVICE_PREFIX, "/user/daemon/");
  assert.equal(request.env.JUPYTERHUB_API_URL, "http://127.0.0.1:1/hub/api");
  assert.deepEqual(routePrefixes(hub), ["/user/daemon"]);
  assert.equal(
    hub.proxy!.routes.list()[0]!.target,
    `http://127.0.0.1:${request.port}`,
  );
  const row = await serverRow(hub, "daemon");
  assert.equal(row?.status, "running");
  assert.equal(JSON.parse(row!.state).port, request.port);
  assert.equal(await serverTokens(hub, "Server at /user/daemon/"), 1);
  assert.ok(await oauthClient(hub, "jupyterhub-user-daemon"));
});

Deno.test("POST stores a given body as user_options and re-uses it when the next start has none", async () => {
  await using hub = await fakeHub();
  const token = await hub.tokenFor("daemon");
  assert.equal(
    (await post(hub, "/users/daemon/server", token, { profile: "gpu" })).status,
    201,
  );
  assert.equal((await del(hub, "/users/daemon/server", token)).status, 204);
  assert.equal((await post(hub, "/users/daemon/server", token)).status, 201);
  const row = await serverRow(hub, "daemon");
  assert.deepEqual(JSON.parse(row!.user_options), { profile: "gpu" });
  const bad = await post(hub, "/users/daemon/server", token, [1]);
  await assertError(bad, 400);
});

Deno.test("a slow server: POST answers 202 after spawner.slow_spawn_timeout, then the progress stream runs to ready", async () => {
  await using hub = await fakeHub(
    { spawner: { "slow_spawn_timeout": 1 } },
    new FakeSpawner("slow"),
  );
  const token = await hub.tokenFor("daemon");
  const res = await post(hub, "/users/daemon/server", token);
  assert.equal(res.status, 202);
  assert.equal(await res.text(), "");
  const stream = await hub.request(`${API}/users/daemon/server/progress`, {
    token,
  });
  assert.equal(stream.status, 200);
  assert.match(stream.headers.get("content-type") ?? "", /^text\/event-stream/);
  // JupyterHub's REST API reference shows no-cache; the hub's API middleware makes it no-store (stricter, fine for SSE).
  assert.match(stream.headers.get("cache-control") ?? "", /^no-(cache|store)$/);
  const { events, raw } = await readEvents(stream, {
    onEvent: (e) => {
      if (e.progress === 75) hub.fake.release("daemon");
    },
  });
  assert.ok(raw.startsWith("\n\n"), "a keep-alive comes first");
  assert.doesNotMatch(raw, /^(event|id):/m);
  assert.deepEqual(events[0], { progress: 0, message: "Server requested" });
  assert.deepEqual(events[1], { progress: 50, message: "Spawning server..." });
  const progress = events.map((e) => e.progress!);
  assert.deepEqual(progress, [...progress].sort((a, b) => a - b));
  assert.ok(events.slice(0, -1).every((e) => e.ready === undefined));
  const last = events.at(-1)!;
  assert.equal(last.ready, true);
  assert.equal(last.progress, 100);
  assert.equal(last.url, "/user/daemon/");
  assert.equal(last.message, "Server ready at /user/daemon/");
  assert.equal(
    last["html_message"],
    'Server ready at <a href="/user/daemon/">/user/daemon/</a>',
  );
  assert.deepEqual(routePrefixes(hub), ["/user/daemon"]);
});

Deno.test("the progress stream of a ready server is one ready event, then the stream ends", async () => {
  await using hub = await fakeHub();
  const token = await hub.tokenFor("daemon");
  assert.equal((await post(hub, "/users/daemon/server", token)).status, 201);
  const res = await hub.request(`${API}/users/daemon/server/progress`, {
    token,
  });
  const { events, ended } = await readEvents(res, { until: () => false });
  assert.ok(ended);
  assert.equal(events.length, 1);
  assert.equal(events[0]!.ready, true);
  assert.equal(events[0]!.url, "/user/daemon/");
  // JupyterHub 5 (apihandlers/users.py, the ready event) sends html_message too.
  assert.equal(
    events[0]!["html_message"],
    'Server ready at <a href="/user/daemon/">/user/daemon/</a>',
  );
});

Deno.test("a second POST while the spawn is pending answers 202 and starts nothing more", async () => {
  await using hub = await fakeHub({}, new FakeSpawner("slow"));
  const token = await hub.tokenFor("daemon");
  const first = post(hub, "/users/daemon/server", token);
  await hub.fake.started("daemon");
  await assertStatus(await post(hub, "/users/daemon/server", token), 202);
  hub.fake.release("daemon");
  assert.equal((await first).status, 201);
  assert.equal(hub.fake.startsOf("daemon"), 1);
});

Deno.test("two POSTs at the same moment start one process", async () => {
  await using hub = await fakeHub();
  const token = await hub.tokenFor("daemon");
  const answers = await Promise.all([
    post(hub, "/users/daemon/server", token),
    post(hub, "/users/daemon/server", token),
  ]);
  for (const res of answers) {
    await res.body?.cancel();
    assert.ok([201, 202].includes(res.status), `status ${res.status}`);
  }
  assert.equal(hub.fake.startsOf("daemon"), 1);
  assert.deepEqual(routePrefixes(hub), ["/user/daemon"]);
});

Deno.test("POST for a running server answers 400 '…is already running'", async () => {
  await using hub = await fakeHub();
  const token = await hub.tokenFor("daemon");
  assert.equal((await post(hub, "/users/daemon/server", token)).status, 201);
  await assertError(
    await post(hub, "/users/daemon/server", token),
    400,
    /^daemon's server is already running$/,
  );
  assert.equal(hub.fake.startsOf("daemon"), 1);
});

Deno.test("POST for a server whose process died starts it again", async () => {
  await using hub = await fakeHub();
  const token = await hub.tokenFor("daemon");
  assert.equal((await post(hub, "/users/daemon/server", token)).status, 201);
  hub.fake.kill("daemon");
  assert.equal((await post(hub, "/users/daemon/server", token)).status, 201);
  assert.equal(hub.fake.startsOf("daemon"), 2);
  assert.equal(await serverTokens(hub, "Server at /user/daemon/"), 1);
});

Deno.test("past spawner.concurrent_limit with the line full (spawner.queue_limit) a start answers 429 with Retry-After", async () => {
  await using hub = await fakeHub(
    { spawner: { "concurrent_limit": 1, "queue_limit": 0 } },
    new FakeSpawner("slow"),
  );
  const first = post(hub, "/users/daemon/server", await hub.tokenFor("daemon"));
  await hub.fake.started("daemon");
  const res = await post(hub, "/users/bin/server", await hub.tokenFor("bin"));
  const retry = Number(res.headers.get("retry-after"));
  await assertError(
    res,
    429,
    /^Too many users trying to log in right now\. Try again in \d+ seconds\.$/,
  );
  assert.ok(Number.isInteger(retry) && retry > 0, `Retry-After ${retry}`);
  assert.equal(hub.fake.startsOf("bin"), 0);
  hub.fake.release("daemon");
  assert.equal((await first).status, 201);
});

/**
 * With one spawn slot: daemon's slow spawn holds it, bin's start (202)
 * waits in line. Returns daemon's pending POST and bin's token.
 */
async function binWaitsBehindDaemon(hub: TestHub & { fake: FakeSpawner }) {
  const first = post(hub, "/users/daemon/server", await hub.tokenFor("daemon"));
  await hub.fake.started("daemon");
  const bin = await hub.tokenFor("bin");
  assert.equal((await post(hub, "/users/bin/server", bin)).status, 202);
  return { first, bin };
}

Deno.test("past spawner.concurrent_limit a start waits in line, its progress says its place, and it spawns when a slot frees", async () => {
  await using hub = await fakeHub(
    { spawner: { "concurrent_limit": 1, "slow_spawn_timeout": 1 } },
    new FakeSpawner("slow"),
  );
  const { first } = await binWaitsBehindDaemon(hub);
  assert.equal(hub.fake.startsOf("bin"), 0, "not spawned while it waits");
  assert.deepEqual(hub.servers!.progress("bin", "")?.events, [{
    progress: 0,
    message: "Waiting for a free spawn slot: you are next",
  }]);
  hub.fake.release("daemon");
  assert.equal((await first).status, 202, "slower than slow_spawn_timeout");
  await hub.fake.started("bin");
  hub.fake.release("bin");
  assert.equal(
    await hub.servers!.waitReady("bin", "", { timeoutMs: 5000 }),
    true,
  );
});

Deno.test("a start stopped while it waits in line ends cancelled and never reaches the spawner", async () => {
  await using hub = await fakeHub(
    { spawner: { "concurrent_limit": 1, "slow_spawn_timeout": 1 } },
    new FakeSpawner("slow"),
  );
  const { first, bin } = await binWaitsBehindDaemon(hub);
  const stop = await hub.request(`${API}/users/bin/server`, {
    method: "DELETE",
    token: bin,
  });
  await stop.body?.cancel();
  assert.equal(stop.status, 204);
  assert.equal(
    hub.servers!.progress("bin", "")?.events.at(-1)?.message,
    "Spawn cancelled",
  );
  assert.equal(hub.servers!.isPending("bin", ""), false);
  hub.fake.release("daemon");
  assert.equal((await first).status, 202, "slower than slow_spawn_timeout");
  assert.equal(
    await hub.servers!.waitReady("daemon", "", { timeoutMs: 5000 }),
    true,
  );
  assert.equal(hub.fake.startsOf("bin"), 0);
});

Deno.test("a failing spawn answers 500 with the reason, leaves nothing behind and streams failed: true", async () => {
  await using hub = await fakeHub({}, new FakeSpawner("fails"));
  const token = await hub.tokenFor("daemon");
  await assertError(
    await post(hub, "/users/daemon/server", token),
    500,
    /^Spawn failed: boom$/,
  );
  const row = await serverRow(hub, "daemon");
  assert.equal(row?.status, "stopped");
  assert.equal(row?.started, null);
  assert.equal(await serverTokens(hub, "Server at /user/daemon/"), 0);
  assert.equal(await oauthClient(hub, "jupyterhub-user-daemon"), undefined);
  assert.deepEqual(routePrefixes(hub), []);
  const res = await hub.request(`${API}/users/daemon/server/progress`, {
    token,
  });
  assert.equal(res.status, 200);
  const { events, ended } = await readEvents(res, { until: () => false });
  assert.ok(ended);
  assert.deepEqual(events, [{
    progress: 100,
    failed: true,
    message: "Spawn failed: boom",
  }]);
});

Deno.test("a progress stream open during a failing spawn ends with failed: true", async () => {
  await using hub = await fakeHub(
    { spawner: { "http_timeout": 1 } },
    new FakeSpawner("never"),
  );
  const token = await hub.tokenFor("daemon");
  const spawn = post(hub, "/users/daemon/server", token);
  await hub.fake.started("daemon");
  const res = await hub.request(`${API}/users/daemon/server/progress`, {
    token,
  });
  const { events } = await readEvents(res);
  assert.equal(events[0]!.message, "Server requested");
  const last = events.at(-1)!;
  assert.equal(last.failed, true);
  assert.match(last.message, /^Spawn failed: the server never answered at /);
  await assertError(await spawn, 500, /never answered/);
  assert.equal(hub.fake.stopsOf("daemon"), 1, "the process is stopped");
  assert.equal(hub.fake.running("daemon"), false);
});

Deno.test("a server that exits before answering fails the spawn with its last output", async () => {
  await using hub = await fakeHub({}, new FakeSpawner("dies"));
  const message = await assertError(
    await post(hub, "/users/daemon/server", await hub.tokenFor("daemon")),
    500,
    /^Spawn failed: the server exited before answering/,
  );
  assert.match(message, /fake server crashed/);
  assert.equal((await serverRow(hub, "daemon"))?.status, "stopped");
});

Deno.test("a server whose port was taken before it bound it starts again on a new port", async () => {
  const fake = new FakeSpawner().behave("daemon", "port-taken");
  await using hub = await fakeHub({}, fake);
  // The second start finds its port free.
  fake.started("daemon").then(() => fake.behave("daemon", "starts"));
  const res = await post(
    hub,
    "/users/daemon/server",
    await hub.tokenFor("daemon"),
  );
  assert.equal(res.status, 201, await res.text());
  assert.equal(fake.startsOf("daemon"), 2);
  const [first, second] = fake.requests.filter((r) => r.id === "daemon");
  assert.notEqual(first!.port, second!.port, "a new port the second time");
  assert.equal((await serverRow(hub, "daemon"))?.status, "running");
});

Deno.test("while a server starts, the hub asks the spawner whether it lives once a second, not at every HTTP try", async () => {
  await using hub = await fakeHub(
    { spawner: { "slow_spawn_timeout": 0 } },
    new FakeSpawner("slow"),
  );
  const res = await post(
    hub,
    "/users/daemon/server",
    await hub.tokenFor("daemon"),
  );
  await res.body?.cancel();
  await new Promise((r) => setTimeout(r, 1500));
  hub.fake.release("daemon");
  assert.equal(
    await hub.servers!.waitReady("daemon", "", { timeoutMs: 5000 }),
    true,
  );
  const polls = hub.fake.calls.filter((c) =>
    c.op === "poll" && c.id === "daemon"
  );
  // At 0 s and 1 s (HTTP was tried ~50 times meanwhile); one more at most.
  assert.ok(polls.length >= 2 && polls.length <= 3, `${polls.length} polls`);
});

Deno.test("a port taken three times in a row fails the spawn with the server's words", async () => {
  await using hub = await fakeHub({}, new FakeSpawner("port-taken"));
  const message = await assertError(
    await post(hub, "/users/daemon/server", await hub.tokenFor("daemon")),
    500,
    /^Spawn failed: the server exited before answering/,
  );
  assert.match(message, /port \d+ is not available/);
  assert.equal(hub.fake.startsOf("daemon"), 3);
  assert.equal((await serverRow(hub, "daemon"))?.status, "stopped");
});

Deno.test("named servers: refused when disabled", async () => {
  await using hub = await fakeHub();
  await assertError(
    await post(hub, "/users/daemon/servers/gpu", await hub.tokenFor("daemon")),
    400,
    /^Named servers are not enabled\.$/,
  );
  assert.equal(hub.fake.calls.length, 0);
});

Deno.test("named servers: started under their own prefix, capped by named_server_limit", async () => {
  await using hub = await fakeHub({
    spawner: { "named_servers": true, "named_server_limit": 1 },
  });
  const token = await hub.tokenFor("daemon");
  assert.equal(
    (await post(hub, "/users/daemon/servers/gpu", token)).status,
    201,
  );
  assert.equal(hub.fake.startsOf("daemon-gpu"), 1);
  assert.deepEqual(routePrefixes(hub), ["/user/daemon/gpu"]);
  assert.equal(
    hub.fake.lastRequest("daemon-gpu")!.env.JUPYTERHUB_SERVER_NAME,
    "gpu",
  );
  await assertError(
    await post(hub, "/users/daemon/servers/cpu", token),
    400,
    /^User daemon already has the maximum of 1 named servers\. {2}One must be deleted before a new server can be created$/,
  );
  // Stopping keeps the name: the limit still counts it…
  assert.equal(
    (await del(hub, "/users/daemon/servers/gpu", token)).status,
    204,
  );
  await assertError(await post(hub, "/users/daemon/servers/cpu", token), 400);
  // …until it is removed.
  assert.equal(
    (await del(hub, "/users/daemon/servers/gpu", token, { remove: true }))
      .status,
    204,
  );
  assert.equal(await serverRow(hub, "daemon", "gpu"), undefined);
  assert.equal(
    (await post(hub, "/users/daemon/servers/cpu", token)).status,
    201,
  );
  // The default server is not a named server.
  assert.equal((await post(hub, "/users/daemon/server", token)).status, 201);
});

Deno.test("DELETE stops the server: 204, route gone, process stopped, token and OAuth client deleted", async () => {
  await using hub = await fakeHub();
  const token = await hub.tokenFor("daemon");
  assert.equal((await post(hub, "/users/daemon/server", token)).status, 201);
  const res = await del(hub, "/users/daemon/server", token);
  assert.equal(res.status, 204);
  assert.equal(await res.text(), "");
  assert.deepEqual(routePrefixes(hub), []);
  assert.equal(hub.fake.stopsOf("daemon"), 1);
  assert.equal(hub.fake.running("daemon"), false);
  const row = await serverRow(hub, "daemon");
  assert.equal(row?.status, "stopped");
  assert.equal(row?.state, "{}");
  assert.equal(await serverTokens(hub, "Server at /user/daemon/"), 0);
  assert.equal(await oauthClient(hub, "jupyterhub-user-daemon"), undefined);
});

Deno.test("DELETE of a stopped or never-started server answers 204 and stops nothing", async () => {
  await using hub = await fakeHub();
  const token = await hub.tokenFor("daemon");
  assert.equal((await del(hub, "/users/daemon/server", token)).status, 204);
  assert.equal((await post(hub, "/users/daemon/server", token)).status, 201);
  assert.equal((await del(hub, "/users/daemon/server", token)).status, 204);
  assert.equal((await del(hub, "/users/daemon/server", token)).status, 204);
  assert.equal(hub.fake.stopsOf("daemon"), 1);
});

Deno.test("DELETE of an unknown named server is 404; remove: true on the default server is 400", async () => {
  await using hub = await fakeHub({ spawner: { "named_servers": true } });
  const token = await hub.tokenFor("daemon");
  await assertError(
    await del(hub, "/users/daemon/servers/nope", token),
    404,
    /^daemon has no server named 'nope'$/,
  );
  await assertError(
    await del(hub, "/users/daemon/server", token, { remove: true }),
    400,
    /^Cannot delete the default server$/,
  );
});

Deno.test("DELETE during a pending spawn cancels it at once and answers 204", async () => {
  await using hub = await fakeHub({}, new FakeSpawner("slow"));
  const token = await hub.tokenFor("daemon");
  const spawn = post(hub, "/users/daemon/server", token);
  await hub.fake.started("daemon");
  const stream = await hub.request(`${API}/users/daemon/server/progress`, {
    token,
  });
  const t0 = Date.now();
  const res = await del(hub, "/users/daemon/server", token);
  assert.equal(res.status, 204);
  assert.ok(Date.now() - t0 < 5000, "the stop did not wait for the spawn");
  assert.equal(hub.fake.running("daemon"), false);
  assert.equal((await serverRow(hub, "daemon"))?.status, "stopped");
  assert.equal(await serverTokens(hub, "Server at /user/daemon/"), 0);
  assert.deepEqual(routePrefixes(hub), []);
  const { events } = await readEvents(stream);
  assert.deepEqual(events.at(-1), {
    progress: 100,
    failed: true,
    message: "Spawn cancelled",
  });
  await assertError(await spawn, 500, /^Spawn cancelled$/);
  // A cancelled spawn is not a failure: it can be started again.
  hub.fake.behaviour = "starts";
  assert.equal((await post(hub, "/users/daemon/server", token)).status, 201);
});

Deno.test("the user model follows the spawn: pending, then ready with the server URL, then stopped", async () => {
  await using hub = await fakeHub({}, new FakeSpawner("slow"));
  const token = await hub.tokenFor("daemon");
  const model = async () =>
    await obj(await hub.request(`${API}/users/daemon`, { token }));
  const before = await model();
  assert.equal(before.server, null);
  assert.equal(before.pending, null);
  assert.deepEqual(before.servers, {});

  const spawn = post(hub, "/users/daemon/server", token);
  await hub.fake.started("daemon");
  const during = await model();
  assert.equal(during.server, null);
  assert.equal(during.pending, "spawn");
  const s1 = (during.servers as Record<string, Record<string, unknown>>)[""]!;
  assert.equal(s1.ready, false);
  assert.equal(s1.pending, "spawn");
  assert.equal(s1.stopped, false);
  assert.equal(s1.url, "/user/daemon/");
  assert.equal(s1["progress_url"], "/hub/api/users/daemon/server/progress");

  hub.fake.release("daemon");
  assert.equal((await spawn).status, 201);
  const after = await model();
  assert.equal(after.server, "/user/daemon/");
  assert.equal(after.pending, null);
  const s2 = (after.servers as Record<string, Record<string, unknown>>)[""]!;
  assert.equal(s2.ready, true);
  assert.equal(s2.pending, null);
  assert.equal(s2.stopped, false);
  assert.equal(typeof s2.started, "string");

  assert.equal((await del(hub, "/users/daemon/server", token)).status, 204);
  const stopped = await model();
  assert.equal(stopped.server, null);
  assert.deepEqual(stopped.servers, {});
});

Deno.test("progress of a server that is not starting is 400; of an unknown named server 404", async () => {
  await using hub = await fakeHub({ spawner: { "named_servers": true } });
  const token = await hub.tokenFor("daemon");
  await assertError(
    await hub.request(`${API}/users/daemon/server/progress`, { token }),
    400,
    /^daemon's server is not starting\.\.\.$/,
  );
  await assertError(
    await hub.request(`${API}/users/daemon/servers/nope/progress`, { token }),
    404,
  );
  // Stopped after running: not starting either.
  assert.equal((await post(hub, "/users/daemon/server", token)).status, 201);
  assert.equal((await del(hub, "/users/daemon/server", token)).status, 204);
  await assertError(
    await hub.request(`${API}/users/daemon/server/progress`, { token }),
    400,
  );
});

Deno.test("server routes check scopes: another user's token is refused, nothing starts or stops", async () => {
  await using hub = await fakeHub();
  const mine = await hub.tokenFor("daemon");
  const theirs = await hub.tokenFor("bin");
  await assertError(await post(hub, "/users/daemon/server", theirs), 404);
  assert.equal(hub.fake.calls.length, 0);
  assert.equal((await post(hub, "/users/daemon/server", mine)).status, 201);
  await assertError(await del(hub, "/users/daemon/server", theirs), 404);
  await assertError(
    await hub.request(`${API}/users/daemon/server/progress`, {
      token: theirs,
    }),
    404,
  );
  assert.equal(hub.fake.stopsOf("daemon"), 0);
  const readOnly = await hub.tokenFor("daemon", ["read:users!user"]);
  await assertError(
    await del(hub, "/users/daemon/server", readOnly),
    403,
    /delete:servers/,
  );
  await assertError(await post(hub, "/users/daemon/server", readOnly), 403);
  // An admin may stop anyone's server.
  const admin = await hub.tokenFor("root-admin");
  assert.equal((await del(hub, "/users/daemon/server", admin)).status, 204);
  assert.equal(hub.fake.stopsOf("daemon"), 1);
});

Deno.test("POST /users/{name}/server for an unknown user is 404", async () => {
  await using hub = await fakeHub();
  const admin = await hub.tokenFor("root-admin");
  await assertError(
    await post(hub, "/users/nosuchuser/server", admin),
    404,
    /No such user/,
  );
});

Deno.test("the server's own token reports activity for its server once the servers row exists", async () => {
  await using hub = await fakeHub({ spawner: { "named_servers": true } });
  const token = await hub.tokenFor("daemon");
  // Later than the spawn (the hub clock is 12:00): older reports never move activity back.
  const at = "2026-11-25T12:30:00.000Z";
  const report = (t: string) =>
    hub.request(`${API}/users/daemon/activity`, {
      method: "POST",
      token: t,
      json: { servers: { gpu: { "last_activity": at } } },
    });
  await assertError(await report(token), 400, /No such server/);
  assert.equal(
    (await post(hub, "/users/daemon/servers/gpu", token)).status,
    201,
  );
  const serverToken = hub.fake.lastRequest("daemon-gpu")!.env
    .JUPYTERHUB_API_TOKEN!;
  const res = await report(serverToken);
  assert.equal(res.status, 200, await res.text());
  assert.equal((await serverRow(hub, "daemon", "gpu"))?.["last_activity"], at);
  // The server token only reports activity: it cannot start servers.
  await assertError(await post(hub, "/users/daemon/server", serverToken), 403);
  assert.equal(hub.fake.startsOf("daemon"), 0);
});

Deno.test("the ready event of a running server carries the server URL escaped like the spawn's (`@` kept)", async () => {
  await using hub = await fakeHub();
  await hub.addUser("a@b");
  const id = await hub.handle.db.selectFrom("users").select("id").where(
    "name",
    "=",
    "a@b",
  ).executeTakeFirstOrThrow();
  const now = hub.now.toISOString();
  await hub.handle.db.insertInto("servers").values({
    "user_id": id.id,
    name: "",
    status: "running",
    url: "/user/a@b/",
    state: "{}",
    "user_options": "{}",
    started: now,
    "last_activity": now,
    created: now,
  }).execute();
  const res = await hub.request(`${API}/users/a%40b/server/progress`, {
    token: await hub.tokenFor("a@b"),
  });
  const { events } = await readEvents(res, { until: () => false });
  assert.equal(events.length, 1);
  assert.equal(events[0]!.url, "/user/a@b/");
  assert.equal(events[0]!.message, "Server ready at /user/a@b/");
});

Deno.test("server names break one rule everywhere: API and spawn page answer 400 naming it, nothing starts", async (t) => {
  await using hub = await fakeHub({ spawner: { named_servers: true } });
  const token = await hub.tokenFor("daemon");
  const { cookie } = await hub.login("daemon");
  const rows: Array<[string, string, RegExp]> = [
    ["NUL", "a%00b", /control characters/],
    ["escape", "a%1Bb", /control characters/],
    ["newline", "a%0Ab", /control characters/],
    ["leading space", "%20gpu", /whitespace/],
    ["too long", "x".repeat(256), /longer than 255 characters/],
  ];
  for (const [label, encoded, rule] of rows) {
    await t.step(label, async () => {
      const message = await assertError(
        await post(hub, `/users/daemon/servers/${encoded}`, token),
        400,
        /^Invalid server name "[^\n]*": it /,
      );
      assert.match(message, rule);
      const page = await hub.request(`/hub/spawn/daemon/${encoded}`, {
        headers: { cookie },
      });
      assert.equal(page.status, 400);
      assert.match(await page.text(), rule);
    });
  }
  assert.equal(hub.fake.calls.length, 0);
  assert.equal(await countServers(hub), 0);
});

async function countServers(hub: TestHub): Promise<number> {
  const rows = await hub.handle.db.selectFrom("servers").select("id")
    .execute();
  return rows.length;
}
