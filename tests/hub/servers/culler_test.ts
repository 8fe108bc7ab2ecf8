/**
 * The built-in idle culler (hub/servers/culler.ts) against a real ServerManager with
 * the fake spawner: what it stops and why, admins, max age, named servers,
 * idle users, the events and metrics it leaves, and its timer.
 */
import assert from "node:assert/strict";
import { waitFor } from "../../_helpers/wait_for.ts";
import { type FakeHub, fakeHub } from "../../_helpers/test_hub.ts";
import { cullReason, IdleCuller } from "../../../hub/servers/culler.ts";
import { getServer, touchServerActivity } from "../../../hub/db/servers.ts";
import { getUser } from "../../../hub/db/users.ts";
import { eventsSince } from "../../../hub/db/events.ts";
import { silentLogger } from "../../../hub/observe/log.ts";
import { resolveConfig } from "../../../hub/config/mod.ts";

const CULL = resolveConfig({
  file: { services: { cull: { timeout: 600, "max_age": 0 } } },
}).cull;

Deno.test("cullReason: idle past the timeout, past max_age, admins per admin_users", () => {
  const now = Date.parse("2026-12-01T12:00:00Z");
  const server = {
    userId: 1,
    userName: "a",
    admin: false,
    server: "",
    started: "2026-12-01T10:00:00Z",
    lastActivity: "2026-12-01T11:50:30Z",
  };
  assert.equal(cullReason(server, { cull: CULL, now }), null, "idle 570 s");
  assert.match(
    cullReason({ ...server, lastActivity: "2026-12-01T11:49:00Z" }, {
      cull: CULL,
      now,
    })!
      .text,
    /^idle 660 s \(services\.cull\.timeout 600 s\)$/,
  );
  assert.equal(
    cullReason({ ...server, lastActivity: null }, { cull: CULL, now })?.kind,
    "idle",
    "no activity at all: idle since it started",
  );
  assert.equal(
    cullReason(server, { cull: { ...CULL, maxAgeSeconds: 3600 }, now })?.kind,
    "max_age",
  );
  const admin = { ...server, admin: true, lastActivity: null };
  assert.equal(cullReason(admin, { cull: CULL, now })?.kind, "idle");
  assert.equal(
    cullReason(admin, { cull: { ...CULL, adminUsers: false }, now }),
    null,
  );
});

/** A culler for `hub` whose clock is the hub's plus `later` seconds. */
function cullerFor(hub: FakeHub, later: number) {
  return new IdleCuller({
    db: hub.handle.db,
    config: hub.config,
    servers: hub.servers,
    events: hub.events,
    metrics: hub.metrics,
    logger: silentLogger,
    now: () => new Date(hub.now.getTime() + later * 1000),
  });
}

async function startServer(hub: FakeHub, user: string, server = "") {
  const row = (await getUser(hub.handle.db, user))!;
  await hub.servers.start(row, server);
  assert.equal(
    await hub.servers.waitReady(user, server, { timeoutMs: 5000 }),
    true,
  );
  return row;
}

Deno.test("a pass stops idle servers only, logs cull.server and counts it", async () => {
  await using hub = await fakeHub({
    services: { cull: { timeout: 600 } },
  });
  const daemon = await startServer(hub, "daemon");
  await startServer(hub, "bin");
  // daemon was active 100 s ago (from the hub's point of view 700 s after the spawn).
  await touchServerActivity(
    hub.handle.db,
    { userId: daemon.id, name: "" },
    new Date(hub.now.getTime() + 600_000).toISOString(),
  );
  const pass = await cullerFor(hub, 700).pass();
  assert.deepEqual(pass.stopped, ["bin/"]);
  assert.equal(pass.checked, 2);
  const bin = (await getUser(hub.handle.db, "bin"))!;
  assert.equal((await getServer(hub.handle.db, bin.id, ""))!.status, "stopped");
  assert.equal(
    (await getServer(hub.handle.db, daemon.id, ""))!.status,
    "running",
  );
  await hub.events.flush();
  const culls = await eventsSince(hub.handle.db, {
    since: "2000-01-01",
    limit: 10,
    kind: "cull.",
  });
  assert.deepEqual(culls.map((e) => [e.kind, e.user, e.actor]), [[
    "cull.server",
    "bin",
    "cull-idle",
  ]]);
  assert.match(culls[0]!.reason, /^idle 700 s/);
  assert.match(
    hub.metrics.render({
      totalUsers: 0,
      runningServers: 0,
      pendingServers: 0,
      activeUsers: { "24h": 0, "7d": 0, "30d": 0 },
    }),
    /^onehub_culled_servers_total\{reason="idle"\} 1$/m,
  );
});

Deno.test("named servers are culled too, and removed with remove_named_servers", async () => {
  for (const remove of [false, true]) {
    await using hub = await fakeHub({
      spawner: { "named_servers": true },
      services: { cull: { timeout: 60, "remove_named_servers": remove } },
    });
    const daemon = await startServer(hub, "daemon", "gpu");
    const pass = await cullerFor(hub, 120).pass();
    assert.deepEqual(pass.stopped, ["daemon/gpu"]);
    const row = await getServer(hub.handle.db, daemon.id, "gpu");
    assert.equal(row === undefined, remove);
  }
});

Deno.test("max_age stops a busy server; admins are spared with admin_users false", async () => {
  await using hub = await fakeHub({
    services: {
      cull: { timeout: 600, "max_age": 300, "admin_users": false },
    },
  });
  await hub.addUser("sys", { admin: true });
  const daemon = await startServer(hub, "daemon");
  await startServer(hub, "sys");
  const busy = new Date(hub.now.getTime() + 350_000).toISOString();
  await touchServerActivity(
    hub.handle.db,
    { userId: daemon.id, name: "" },
    busy,
  );
  const pass = await cullerFor(hub, 360).pass();
  assert.deepEqual(pass.stopped, ["daemon/"]);
  await hub.events.flush();
  const [event] = await eventsSince(hub.handle.db, {
    since: "2000-01-01",
    limit: 1,
    kind: "cull.server",
  });
  assert.match(event!.reason, /services\.cull\.max_age 300 s/);
});

Deno.test("services.cull.users deletes idle users without servers, never admins or config users", async () => {
  await using hub = await fakeHub({
    users: { allowed: ["bin"] },
    services: { cull: { timeout: 60, users: true } },
  });
  await hub.addUser("sys", { admin: true });
  await hub.addUser("nobody");
  await startServer(hub, "daemon");
  const pass = await cullerFor(hub, 120).pass();
  // daemon's server is culled in this pass; the user goes in a later one.
  assert.deepEqual(pass.stopped, ["daemon/"]);
  assert.deepEqual(pass.deletedUsers.sort(), ["daemon", "nobody"]);
  assert.ok(await getUser(hub.handle.db, "bin"), "named in users.allowed");
  assert.ok(await getUser(hub.handle.db, "sys"), "an admin");
});

Deno.test("the culler's timer runs passes while enabled and stops cleanly", async () => {
  await using hub = await fakeHub({
    services: { cull: { timeout: 60, every: 1 } },
  });
  await startServer(hub, "daemon");
  // The pass timer, fired by hand: no waiting for real seconds.
  const timers: Array<{ ms: number; fire: () => void }> = [];
  const culler = new IdleCuller({
    db: hub.handle.db,
    config: hub.config,
    servers: hub.servers,
    events: hub.events,
    metrics: hub.metrics,
    logger: silentLogger,
    now: () => new Date(hub.now.getTime() + 120_000),
    after: (ms, fire) => {
      timers.push({ ms, fire });
      return () => {};
    },
  });
  hub.config.cull.enabled = false;
  culler.start();
  assert.deepEqual(timers.map((t) => t.ms), [1000], "services.cull.every");
  timers.shift()!.fire();
  assert.equal(culler.last, null, "disabled: no pass");
  assert.equal(timers.length, 1, "and the next tick is scheduled");
  hub.config.cull.enabled = true;
  timers.shift()!.fire();
  await waitFor(() => Promise.resolve(culler.last !== null), {
    timeoutMs: 10_000,
    description: "a pass once enabled",
  });
  await culler.stop();
  const last = culler.last as { stopped: string[] } | null;
  assert.deepEqual(last?.stopped, ["daemon/"]);
});
