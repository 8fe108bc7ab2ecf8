/**
 * ServerManager (hub/servers/manager.ts) with the fake spawner: readiness rule,
 * spawn ids, start/waitReady, stop order, re-adoption after a hub restart
 * (reconcile), the poll loop and shutdown. Hub users are named after
 * existing non-root Linux accounts (`daemon`, `bin`).
 */
import assert from "node:assert/strict";
import {
  createTestHub,
  type FakeHub,
  fakeHub,
  type TestHub,
} from "../../_helpers/test_hub.ts";
import { FakeSpawner } from "../../_helpers/fake_spawner.ts";
import { waitFor } from "../../_helpers/wait_for.ts";
import {
  autoSpawnSlots,
  ServerManager,
  spawnId,
  spawnSettings,
} from "../../../hub/servers/manager.ts";
import { resolveConfig } from "../../../hub/config/mod.ts";
import { syncConfigAccess } from "../../../hub/config/access.ts";
import { createLogger, silentLogger } from "../../../hub/observe/log.ts";
import { CourseFiles } from "../../../hub/servers/course_files.ts";
import type { UserRow } from "../../../hub/db/schema.ts";
import { getUser } from "../../../hub/db/users.ts";
import { upsertServerClient } from "../../../hub/db/oauth.ts";
import { insertToken } from "../../../hub/db/tokens.ts";

async function user(hub: TestHub, name: string): Promise<UserRow> {
  return (await getUser(hub.handle.db, name))!;
}

/** Starts a server and waits until it is ready. */
async function running(hub: FakeHub, name: string, server = "") {
  await hub.servers.start(await user(hub, name), server);
  assert.equal(
    await hub.servers.waitReady(name, server, { timeoutMs: 5000 }),
    true,
  );
}

/** A new manager over the same database, proxy and processes: the hub restarted. */
function restarted(
  hub: FakeHub,
  overrides: Partial<ConstructorParameters<typeof ServerManager>[0]> = {},
): ServerManager {
  return new ServerManager({
    db: hub.handle.db,
    config: hub.config,
    routes: hub.routes!,
    spawner: hub.fake,
    logger: silentLogger,
    hubApiUrl: () => "http://127.0.0.1:1/hub/api",
    now: () => hub.now,
    isReady: hub.fake.isReady,
    events: hub.events,
    metrics: hub.metrics,
    courseFiles: new CourseFiles({
      config: hub.config,
      logger: silentLogger,
      events: hub.events,
    }),
    ...overrides,
  });
}

async function row(hub: TestHub, name: string, server = "") {
  const owner = await user(hub, name);
  return await hub.handle.db.selectFrom("servers").selectAll().where(
    "user_id",
    "=",
    owner.id,
  ).where("name", "=", server).executeTakeFirst();
}

async function tokensNoted(hub: TestHub, note: string): Promise<number> {
  return (await hub.handle.db.selectFrom("api_tokens").select("id").where(
    "note",
    "=",
    note,
  ).execute()).length;
}

async function client(hub: TestHub, id: string) {
  return await hub.handle.db.selectFrom("oauth_clients").select("identifier")
    .where("identifier", "=", id).executeTakeFirst();
}

const routes = (hub: TestHub) => hub.proxy!.routes.list().map((r) => r.prefix);

/** Asserts nothing of a server is left: row stopped, no token, client or route. */
async function assertCleanedUp(hub: TestHub, name: string) {
  const r = await row(hub, name);
  assert.equal(r?.status, "stopped");
  assert.equal(r?.state, "{}");
  assert.equal(r?.started, null);
  assert.equal(await tokensNoted(hub, `Server at /user/${name}/`), 0);
  assert.equal(await client(hub, `jupyterhub-user-${name}`), undefined);
  assert.ok(!routes(hub).includes(`/user/${name}`), `route of ${name} left`);
}

Deno.test("spawnId: the Linux name, plus a safe label for a named server", () => {
  assert.equal(spawnId("daemon", ""), "daemon");
  assert.equal(spawnId("daemon", "gpu"), "daemon-gpu");
  const odd = spawnId("daemon", "My Server");
  assert.match(odd, /^daemon-my-server-[0-9a-f]{6}$/);
  assert.notEqual(odd, spawnId("daemon", "my-server"));
  assert.notEqual(spawnId("daemon", "A b"), spawnId("daemon", "a B"));
});

Deno.test("start → waitReady: false while pending, true once ready; a failure throws its reason as 500", async () => {
  await using hub = await fakeHub({}, new FakeSpawner("slow"));
  hub.fake.behave("bin", "fails");
  const daemon = await user(hub, "daemon");
  assert.deepEqual(await hub.servers.start(daemon, ""), { pending: true });
  assert.equal(hub.servers.isPending("daemon", ""), true);
  assert.equal(hub.servers.pendingCount, 1);
  assert.equal(
    await hub.servers.waitReady("daemon", "", { timeoutMs: 30 }),
    false,
  );
  await hub.fake.started("daemon");
  assert.equal((await row(hub, "daemon"))?.status, "spawning");
  hub.fake.release("daemon");
  assert.equal(
    await hub.servers.waitReady("daemon", "", { timeoutMs: 5000 }),
    true,
  );
  assert.equal(hub.servers.isPending("daemon", ""), false);
  assert.equal(hub.servers.pendingCount, 0);
  assert.equal((await row(hub, "daemon"))?.status, "running");
  assert.equal(hub.servers.lastFailure("daemon", ""), undefined);

  await hub.servers.start(await user(hub, "bin"), "");
  await assert.rejects(
    hub.servers.waitReady("bin", "", { timeoutMs: 5000 }),
    (e: Error & { status?: number }) =>
      e.status === 500 && e.message === "Spawn failed: boom",
  );
  assert.equal(hub.servers.lastFailure("bin", ""), "boom");
});

Deno.test("start refuses a hub user without a Linux account, and cleans up", async () => {
  await using hub = await fakeHub();
  await hub.addUser("no-such-linux-user-x");
  const ghost = await user(hub, "no-such-linux-user-x");
  await hub.servers.start(ghost, "");
  await assert.rejects(
    hub.servers.waitReady(ghost.name, "", { timeoutMs: 5000 }),
    /No Linux account named "no-such-linux-user-x"/,
  );
  assert.equal(hub.fake.calls.length, 0, "the spawner was never called");
  await assertCleanedUp(hub, "no-such-linux-user-x");
});

Deno.test("stop removes the proxy route before it stops the process, then cleans up", async () => {
  await using hub = await fakeHub();
  await running(hub, "daemon");
  assert.deepEqual(routes(hub), ["/user/daemon"]);
  const routesAtStop: string[][] = [];
  hub.fake.onStop = () => routesAtStop.push(routes(hub));
  await hub.servers.stop(await user(hub, "daemon"), "");
  assert.deepEqual(routesAtStop, [[]], "the route was gone when stop ran");
  assert.deepEqual(hub.fake.calls.map((c) => c.op).at(-1), "stop");
  assert.equal(hub.fake.running("daemon"), false);
  await assertCleanedUp(hub, "daemon");
  // Idempotent.
  await hub.servers.stop(await user(hub, "daemon"), "");
  assert.equal(hub.fake.stopsOf("daemon"), 1);
});

Deno.test("reconcile keeps a server whose process is alive and answering, and puts its route back", async () => {
  await using hub = await fakeHub();
  await running(hub, "daemon");
  const target = hub.proxy!.routes.list()[0]!.target;
  hub.proxy!.removeRoute("/user/daemon"); // e.g. the proxy restarted with the hub
  const result = await restarted(hub).reconcile();
  assert.deepEqual(result, { kept: ["daemon/"], cleaned: [] });
  assert.deepEqual(routes(hub), ["/user/daemon"]);
  assert.equal(hub.proxy!.routes.list()[0]!.target, target);
  const data = hub.proxy!.routes.list()[0]!.data;
  assert.equal(data.user, "daemon");
  assert.equal(data["server_name"], "");
  assert.equal((await row(hub, "daemon"))?.status, "running");
  assert.equal(await tokensNoted(hub, "Server at /user/daemon/"), 1);
  assert.ok(await client(hub, "jupyterhub-user-daemon"));
  assert.equal(hub.fake.stopsOf("daemon"), 0);
});

Deno.test("reconcile puts a kept server back to normal priority (a hub stopped while it was starting)", async () => {
  await using hub = await fakeHub();
  await running(hub, "daemon");
  // The fake has no priorities; this one notes what it is asked.
  const answered: unknown[] = [];
  Object.assign(hub.fake, {
    answered: (state: unknown) => {
      answered.push(state);
      return Promise.resolve();
    },
  });
  const result = await restarted(hub).reconcile();
  assert.deepEqual(result, { kept: ["daemon/"], cleaned: [] });
  assert.equal(answered.length, 1);
  assert.equal((answered[0] as { id?: string }).id, "daemon");
});

Deno.test("reconcile cleans up a server whose process died", async () => {
  await using hub = await fakeHub();
  await running(hub, "daemon");
  await running(hub, "bin");
  hub.fake.kill("daemon");
  const result = await restarted(hub).reconcile();
  assert.deepEqual(result, { kept: ["bin/"], cleaned: ["daemon/"] });
  await assertCleanedUp(hub, "daemon");
  assert.deepEqual(routes(hub), ["/user/bin"]);
});

Deno.test("reconcile stops and cleans up a server that runs but no longer answers", async () => {
  await using hub = await fakeHub();
  await running(hub, "daemon");
  const manager = restarted(hub, { isReady: () => Promise.resolve(false) });
  const result = await manager.reconcile();
  assert.deepEqual(result, { kept: [], cleaned: ["daemon/"] });
  assert.equal(hub.fake.stopsOf("daemon"), 1);
  assert.equal(hub.fake.running("daemon"), false);
  await assertCleanedUp(hub, "daemon");
});

Deno.test("reconcile cleans up a half-done spawn (row 'spawning', empty state) and stops its stray process", async () => {
  await using hub = await fakeHub();
  const daemon = await user(hub, "daemon");
  const now = hub.now.toISOString();
  // What a hub killed between spawner.start and saving the state leaves behind.
  const row = await hub.handle.db.insertInto("servers").values({
    "user_id": daemon.id,
    name: "",
    status: "spawning",
    url: "/user/daemon/",
    state: "{}",
    "user_options": "{}",
    started: now,
    "last_activity": now,
    created: now,
  }).returning("id").executeTakeFirstOrThrow();
  await insertToken(hub.handle.db, {
    userId: daemon.id,
    serviceId: null,
    prefix: "abcd",
    hash: "x",
    scopes: ["users:activity!user"],
    note: "Server at /user/daemon/",
    created: now,
    expiresAt: null,
    serverId: row.id,
  });
  await upsertServerClient(hub.handle.db, {
    user: "daemon",
    server: "",
    serverId: row.id,
    secret: "s3cret-s3cret-s3cret",
    redirectUri: "/user/daemon/oauth_callback",
    allowedScopes: ["access:servers!server=daemon/"],
    description: "Server at /user/daemon/",
    now: hub.now,
  });
  await hub.routes!.add("/user/daemon/", {
    target: "http://127.0.0.1:9",
    data: {
      user: "daemon",
      "server_name": "",
    },
  });
  const stray = await hub.fake.start({
    id: "daemon",
    user: { name: "daemon", uid: 1, gid: 1, home: "/", shell: "/bin/sh" },
    argv: ["jupyterhub-singleuser"],
    env: { "JUPYTERHUB_CLIENT_ID": "jupyterhub-user-daemon" },
    ip: "127.0.0.1",
    port: 9,
    cwd: "/",
  });
  assert.equal(hub.fake.running("daemon"), true);

  const result = await restarted(hub).reconcile();
  assert.deepEqual(result, { kept: [], cleaned: ["daemon/"] });
  await assertCleanedUp(hub, "daemon");
  assert.deepEqual(routes(hub), []);
  assert.equal(hub.fake.running("daemon"), false, "the stray process is gone");
  assert.deepEqual((await hub.fake.poll(stray.state)).running, false);
});

Deno.test("reconcile leaves stopped rows alone", async () => {
  await using hub = await fakeHub();
  await running(hub, "daemon");
  await hub.servers.stop(await user(hub, "daemon"), "");
  const calls = hub.fake.calls.length;
  assert.deepEqual(await restarted(hub).reconcile(), { kept: [], cleaned: [] });
  assert.equal(hub.fake.calls.length, calls);
});

Deno.test("pollAll cleans up a server whose process exited and keeps the others", async () => {
  await using hub = await fakeHub();
  await running(hub, "daemon");
  await running(hub, "bin");
  await hub.servers.pollAll();
  assert.deepEqual(routes(hub).sort(), ["/user/bin", "/user/daemon"]);
  hub.fake.kill("daemon");
  await hub.servers.pollAll();
  await assertCleanedUp(hub, "daemon");
  assert.deepEqual(routes(hub), ["/user/bin"]);
  assert.equal((await row(hub, "bin"))?.status, "running");
  // A new start works after the cleanup.
  await running(hub, "daemon");
  assert.equal(hub.fake.startsOf("daemon"), 2);
});

Deno.test("startPolling notices a dead server within the poll interval; shutdown stops the timer", async () => {
  await using hub = await fakeHub({ spawner: { "poll_interval": 1 } });
  await running(hub, "daemon");
  hub.servers.startPolling();
  hub.fake.kill("daemon");
  await waitFor(async () => (await row(hub, "daemon"))?.status === "stopped", {
    timeoutMs: 4000,
    description: "the poll loop to clean up daemon",
  });
  await assertCleanedUp(hub, "daemon");
  await hub.servers.shutdown(false);
});

Deno.test("shutdown(false) leaves servers running; shutdown(true) stops them all", async () => {
  await using hub = await fakeHub({ spawner: { "named_servers": true } });
  await running(hub, "daemon");
  await running(hub, "daemon", "gpu");
  await running(hub, "bin");
  await hub.servers.shutdown(false);
  assert.equal(hub.fake.calls.filter((c) => c.op === "stop").length, 0);
  assert.equal(routes(hub).length, 3);
  await hub.servers.shutdown(true);
  assert.equal(hub.fake.stopsOf("daemon"), 1);
  assert.equal(hub.fake.stopsOf("daemon-gpu"), 1);
  assert.equal(hub.fake.stopsOf("bin"), 1);
  assert.deepEqual(routes(hub), []);
  await assertCleanedUp(hub, "daemon");
  await assertCleanedUp(hub, "bin");
  assert.equal((await row(hub, "daemon", "gpu"))?.status, "stopped");
});

Deno.test("shutdown waits for a pending spawn before it stops the servers", async () => {
  await using hub = await fakeHub({}, new FakeSpawner("slow"));
  await hub.servers.start(await user(hub, "daemon"), "");
  await hub.fake.started("daemon");
  const done = hub.servers.shutdown(true);
  setTimeout(() => hub.fake.release("daemon"), 50);
  await done;
  assert.equal(hub.servers.isPending("daemon", ""), false);
  await assertCleanedUp(hub, "daemon");
  assert.equal(hub.fake.running("daemon"), false);
});

Deno.test("reconcile does not adopt, and never stops, a server another hub instance started (copied data dir)", async () => {
  await using hub = await fakeHub();
  await running(hub, "daemon");
  await hub.handle.db.updateTable("servers").set({
    "hub_instance": "the-original-hub",
  }).execute();
  const copy = restarted(hub, { instanceId: "the-copy" });
  const result = await copy.reconcile();
  assert.deepEqual(result, { kept: [], cleaned: ["daemon/"] });
  assert.equal(hub.fake.stopsOf("daemon"), 0);
  assert.equal(
    hub.fake.running("daemon"),
    true,
    "the original's process runs on",
  );
  assert.equal((await row(hub, "daemon"))?.status, "stopped");
  assert.deepEqual(routes(hub), []);
});

Deno.test("start fails after spawner.start_timeout when the spawner does not return, and a late start is stopped", async () => {
  await using hub = await fakeHub({ spawner: { start_timeout: 1 } });
  hub.fake.behave("daemon", "hangs");
  const daemon = await user(hub, "daemon");
  await hub.servers.start(daemon, "");
  await assert.rejects(
    hub.servers.waitReady("daemon", "", { timeoutMs: 5000 }),
    /did not start the server within 1 seconds \(spawner\.start_timeout\)/,
  );
  await assertCleanedUp(hub, "daemon");
  hub.fake.release("daemon"); // the spawner returns at last
  for (let i = 0; i < 100 && hub.fake.stopsOf("daemon") === 0; i++) {
    await new Promise((r) => setTimeout(r, 10));
  }
  assert.equal(
    hub.fake.running("daemon"),
    false,
    "the late server was stopped",
  );
  assert.equal(hub.fake.stopsOf("daemon"), 1);
});

Deno.test("a hub user named after a system account never gets a server as it (spawner.min_uid)", async () => {
  await using hub = await fakeHub({ spawner: { "min_uid": 1000 } });
  const daemon = (await getUser(hub.handle.db, "daemon"))!;
  await hub.servers.start(daemon, "");
  await assert.rejects(
    () => hub.servers.waitReady("daemon", "", { timeoutMs: 5000 }),
    /The Linux account "daemon" \(uid 1\) is a system account: servers never run as accounts below uid 1000 \(spawner\.min_uid\)/,
  );
  assert.equal(hub.fake.lastRequest("daemon"), undefined, "nothing started");
});

Deno.test("a server starts at spawner.start_nice (10 by default) and 0 turns it off", async (t) => {
  for (const [file, want] of [[{}, 10], [{ "start_nice": 0 }, undefined]]) {
    await t.step(`start_nice ${JSON.stringify(file)}`, async () => {
      await using hub = await fakeHub({ spawner: file });
      await running(hub, "daemon");
      assert.equal(hub.fake.requests.at(-1)?.startNice, want);
    });
  }
});

const MIB = 1024 ** 2;

/** A fake hub (users daemon and bin) whose machine has `free()` bytes available, and its warnings. */
async function memoryHub(
  file: Record<string, unknown>,
  free: () => number | null,
): Promise<FakeHub & { warnings: string[]; reads: () => number }> {
  const warnings: string[] = [];
  let reads = 0;
  const hub = await createTestHub(file, {
    spawner: new FakeSpawner(),
    memAvailable: () => (reads++, Promise.resolve(free())),
    logger: createLogger({ level: "warn", write: (l) => warnings.push(l) }),
  });
  await hub.addUser("daemon");
  await hub.addUser("bin");
  return Object.assign(hub as FakeHub, { warnings, reads: () => reads });
}

/** POST /hub/api/users/{name}/server as that user. */
async function postStart(hub: TestHub, name: string): Promise<Response> {
  return await hub.request(`/hub/api/users/${name}/server`, {
    method: "POST",
    token: await hub.tokenFor(name),
  });
}

const OUT_OF_MEMORY =
  "The machine is out of memory for a new server: 180 MiB available, a server needs 256 MiB (spawner.min_free_memory). Stop servers that are not in use (the admin page lists them with their memory) or add memory to the machine.";

Deno.test("below spawner.min_free_memory (256M by default) a spawn fails with the numbers, never asks the spawner and leaves nothing", async () => {
  await using hub = await memoryHub({}, () => 180 * MIB);
  const res = await postStart(hub, "daemon");
  assert.equal(res.status, 500);
  assert.equal((await res.json()).message, `Spawn failed: ${OUT_OF_MEMORY}`);
  assert.equal(hub.fake.calls.length, 0, "the spawner was never asked");
  assert.equal(hub.servers.lastFailure("daemon", ""), OUT_OF_MEMORY);
  const progress = await hub.request(
    "/hub/api/users/daemon/server/progress",
    { token: await hub.tokenFor("daemon") },
  );
  assert.match(
    await progress.text(),
    /"failed":true,"message":"Spawn failed: The machine is out of memory/,
  );
  // Checked before the row, the token and the OAuth client are made.
  assert.equal(await row(hub, "daemon"), undefined);
  assert.equal(await tokensNoted(hub, "Server at /user/daemon/"), 0);
  assert.equal(await client(hub, "jupyterhub-user-daemon"), undefined);
  assert.deepEqual(routes(hub), []);
  const metrics: string[] = [];
  hub.metrics.spawnDuration.render(metrics);
  assert.ok(
    metrics.includes(
      'jupyterhub_server_spawn_duration_seconds_count{status="failure"} 1',
    ),
  );
  assert.equal(hub.warnings.length, 1);
  assert.match(
    hub.warnings[0]!,
    /WARN {2}spawn refused: the machine is low on memory user=daemon server="" availableMiB=180 neededMiB=256$/,
  );
});

Deno.test('spawner.min_free_memory: enough memory starts; "" (or an unreadable figure) checks nothing', async (t) => {
  const cases: [string, Record<string, unknown>, number | null][] = [
    ["enough memory", { "min_free_memory": "1G" }, 1024 * MIB],
    ["no check", { "min_free_memory": "" }, 1],
    ["unreadable", {}, null],
  ];
  for (const [name, spawner, free] of cases) {
    await t.step(name, async () => {
      await using hub = await memoryHub({ spawner }, () => free);
      const res = await postStart(hub, "daemon");
      assert.equal(res.status, 201);
      await res.body?.cancel();
      assert.equal(hub.fake.startsOf("daemon"), 1);
      assert.deepEqual(hub.warnings, []);
    });
  }
});

Deno.test("the free memory is checked when a spawn's turn comes, not when it joins the line", async () => {
  let free = 1024 * MIB;
  const file = { spawner: { "concurrent_limit": 1, "slow_spawn_timeout": 0 } };
  await using hub = await memoryHub(file, () => free);
  hub.fake.behaviour = "slow";
  await (await postStart(hub, "daemon")).body?.cancel();
  await hub.fake.started("daemon");
  await (await postStart(hub, "bin")).body?.cancel();
  assert.equal(hub.reads(), 1, "bin waits in line, unchecked");
  free = 180 * MIB;
  hub.fake.release("daemon");
  await assert.rejects(
    hub.servers.waitReady("bin", "", { timeoutMs: 5000 }),
    { message: `Spawn failed: ${OUT_OF_MEMORY}` },
  );
  assert.equal(hub.reads(), 2);
  assert.equal(hub.fake.startsOf("bin"), 0);
  assert.equal((await row(hub, "daemon"))?.status, "running");
});

Deno.test("spawnSettings(): env_keep from the hub's environment, limits, notebook_dir, flags, and a profile's environment over spawner.environment", () => {
  const config = resolveConfig({
    file: {
      spawner: {
        environment: { COURSE: "base", LEVEL: 1 },
        "env_keep": ["ONEHUB_TEST_KEEP", "ONEHUB_TEST_UNSET"],
        "notebook_dir": "/srv/class/{username}",
        debug: true,
      },
    },
  });
  Deno.env.set("ONEHUB_TEST_KEEP", "kept");
  try {
    assert.deepEqual(
      spawnSettings(config, {
        user: "alice",
        choice: {
          profile: "large",
          limits: { memoryBytes: 1024, cpu: 2 },
          defaultUrl: "",
          environment: { COURSE: "ml" },
        },
      }),
      {
        kept: { "ONEHUB_TEST_KEEP": "kept" },
        clientAllowedScopes: [],
        limits: { memoryBytes: 1024, cpu: 2 },
        rootDir: "/srv/class/alice",
        debug: true,
        disableUserConfig: false,
        extra: { COURSE: "ml", LEVEL: "1" },
      },
    );
  } finally {
    Deno.env.delete("ONEHUB_TEST_KEEP");
  }
  assert.deepEqual(resolveConfig({}).spawner.envKeep, [
    "CONDA_DEFAULT_ENV",
    "CONDA_ROOT",
    "JUPYTERHUB_SINGLEUSER_APP",
    "LANG",
    "LC_ALL",
    "LD_LIBRARY_PATH",
    "PATH",
    "PYTHONPATH",
    "VIRTUAL_ENV",
  ]);
});

Deno.test("spawner.environment reaches the server last: it may point JUPYTERHUB_API_URL elsewhere (JupyterHub: 'called last to ensure highest priority')", async () => {
  await using hub = await fakeHub({
    spawner: {
      environment: { "JUPYTERHUB_API_URL": "http://10.0.0.1:8081/hub/api" },
    },
    limits: { memory: "1G" },
  });
  await hub.servers.start(await user(hub, "daemon"), "");
  await hub.fake.started("daemon");
  const env = hub.fake.lastRequest("daemon")!.env;
  assert.equal(env.JUPYTERHUB_API_URL, "http://10.0.0.1:8081/hub/api");
  assert.equal(env.MEM_LIMIT, String(1024 ** 3));
  assert.equal(env.USER, "daemon");
});

/** A fake hub with `file`'s roles stored, whose daemon server has started. */
async function startedWith(file: Record<string, unknown>): Promise<FakeHub> {
  const hub = await fakeHub(file);
  await syncConfigAccess(hub.handle.db, hub.config, { logger: silentLogger });
  await hub.servers.start(await user(hub, "daemon"), "");
  await hub.fake.started("daemon");
  return hub;
}

/** The stored scopes of daemon's server token. */
async function serverTokenScopes(hub: FakeHub): Promise<string[]> {
  const row = await hub.handle.db.selectFrom("api_tokens").select("scopes")
    .where("server_id", "is not", null).executeTakeFirstOrThrow();
  return JSON.parse(row.scopes);
}

Deno.test("a server's token gets the server role's scopes, and a redefined server role (nbgrader's inherit) is used (JupyterHub 5 user.py: roles_to_scopes(server role))", async () => {
  {
    await using hub = await startedWith({});
    assert.deepEqual(await serverTokenScopes(hub), [
      "users:activity!user",
      "access:servers!server=daemon/",
    ]);
    const token = hub.fake.lastRequest("daemon")!.env.JUPYTERHUB_API_TOKEN!;
    const res = await hub.request("/hub/api/users/daemon/tokens", { token });
    assert.equal(res.status, 403, "the default server token lists no tokens");
    await res.body?.cancel();
  }
  await using hub = await startedWith({
    roles: [{ name: "server", scopes: ["inherit"] }],
  });
  assert.deepEqual(await serverTokenScopes(hub), ["inherit"]);
  const token = hub.fake.lastRequest("daemon")!.env.JUPYTERHUB_API_TOKEN!;
  const res = await hub.request("/hub/api/users/daemon/tokens", { token });
  assert.equal(res.status, 200, "inherit: everything its owner may do");
  await res.body?.cancel();
});

Deno.test("spawner.server_token_scopes and spawner.oauth_client_allowed_scopes reach the token, the OAuth client and the environment, !server filled in", async () => {
  await using hub = await startedWith({
    spawner: {
      "server_token_scopes": ["read:users:name!user", "access:servers!server"],
      "oauth_client_allowed_scopes": ["read:users:groups!user"],
    },
  });
  assert.deepEqual(await serverTokenScopes(hub), [
    "read:users:name!user",
    "access:servers!server=daemon/",
  ]);
  const client = await hub.handle.db.selectFrom("oauth_clients")
    .select("allowed_scopes").where("identifier", "=", "jupyterhub-user-daemon")
    .executeTakeFirstOrThrow();
  assert.deepEqual(JSON.parse(client.allowed_scopes), [
    "access:servers!server=daemon/",
    "read:users:groups!user",
  ]);
  assert.equal(
    hub.fake.lastRequest("daemon")!.env.JUPYTERHUB_OAUTH_CLIENT_ALLOWED_SCOPES,
    '["read:users:groups!user"]',
  );
});

Deno.test("spawner.concurrent_limit 0 (the default) allows two spawns per core, at least 2", () => {
  assert.deepEqual([0, 1, 2, 8].map(autoSpawnSlots), [2, 2, 4, 16]);
  assert.equal(
    resolveConfig().spawner.concurrentLimit,
    0,
    "the default is the per-core rule",
  );
});
