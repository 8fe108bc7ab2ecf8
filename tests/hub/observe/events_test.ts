/**
 * The event log (hub/observe/events.ts): one log line and one row per event,
 * batched; a bounded queue; pruning by age and by count.
 */
import assert from "node:assert/strict";
import { migrateToLatest, openDatabase } from "../../../hub/db/mod.ts";
import { EventLog, MAX_PENDING } from "../../../hub/observe/events.ts";
import { eventsSince } from "../../../hub/db/events.ts";
import { createLogger } from "../../../hub/observe/log.ts";

async function setup(now = () => new Date()) {
  const handle = openDatabase(":memory:");
  await migrateToLatest(handle);
  const lines: string[] = [];
  const logger = createLogger({ write: (l) => lines.push(l) });
  const events = new EventLog({
    db: handle.db,
    logger,
    now,
    retentionDays: () => 7,
    maxRows: () => 1000,
  });
  return {
    db: handle.db,
    events,
    lines,
    async [Symbol.asyncDispose]() {
      await events.close();
      await handle.close();
    },
  };
}

Deno.test("EventLog writes one journald-friendly line and one row per event", async () => {
  await using t = await setup();
  t.events.record("login.failed", {
    user: "alice",
    reason: "bad password",
    address: "10.0.0.1",
  });
  t.events.record("server.stop", {
    user: "bob",
    actor: "teacher",
    server: "",
  });
  await t.events.flush();
  assert.match(
    t.lines[0]!,
    /event login\.failed event=login\.failed user=alice reason="bad password" address=10\.0\.0\.1/,
  );
  const rows = await eventsSince(t.db, { since: "2000-01-01", limit: 10 });
  assert.deepEqual(
    rows.map((r) => [r.kind, r.user, r.actor, r.reason, JSON.parse(r.data)]),
    [
      ["login.failed", "alice", null, "bad password", { address: "10.0.0.1" }],
      ["server.stop", "bob", "teacher", "", { server: "" }],
    ],
  );
  const logins = await eventsSince(t.db, {
    since: "2000-01-01",
    limit: 10,
    kind: "login.",
  });
  assert.equal(logins.length, 1);
  const bobs = await eventsSince(t.db, {
    since: "2000-01-01",
    limit: 10,
    user: "bob",
  });
  assert.equal(bobs[0]!.kind, "server.stop");
});

Deno.test("EventLog stores a turn's events in one batch without waiting for a timer", async () => {
  await using t = await setup();
  for (let i = 0; i < 50; i++) t.events.record("login.ok", { user: `u${i}` });
  // The write is queued as a microtask: two turns later it is stored.
  await new Promise((r) => setTimeout(r, 0));
  await t.events.flush();
  const rows = await eventsSince(t.db, { since: "2000-01-01", limit: 100 });
  assert.equal(rows.length, 50);
});

Deno.test("EventLog keeps at most MAX_PENDING waiting events and says how many it dropped", async () => {
  await using t = await setup();
  for (let i = 0; i < MAX_PENDING + 7; i++) {
    t.events.record("login.failed", { user: "x" });
  }
  await t.events.flush();
  const rows = await eventsSince(t.db, {
    since: "2000-01-01",
    limit: 100000,
  });
  assert.equal(rows.length, MAX_PENDING);
  assert.ok(t.lines.some((l) => /events dropped.*dropped=7/.test(l)));
});

Deno.test("EventLog.prune deletes events past the retention and beyond max_rows", async () => {
  let now = new Date("2026-01-01T00:00:00Z");
  await using t = await setup(() => now);
  t.events.record("old", { user: "a" });
  await t.events.flush();
  now = new Date("2026-01-20T00:00:00Z");
  for (let i = 0; i < 1005; i++) t.events.record("new", { user: `u${i}` });
  await t.events.flush();
  const removed = await t.events.prune();
  assert.equal(removed, 1 + 5);
  const rows = await eventsSince(t.db, {
    since: "2000-01-01",
    limit: 100000,
  });
  assert.equal(rows.length, 1000);
  assert.equal(rows[0]!.user, "u5", "the oldest went first");
  assert.ok(rows.every((r) => r.kind === "new"));
});

Deno.test("EventLog cuts long field values (a body can name thousands of users)", async () => {
  await using t = await setup();
  t.events.record("group.members_added", { users: "u,".repeat(1000) });
  await t.events.flush();
  const [row] = await eventsSince(t.db, { since: "2000-01-01", limit: 1 });
  const users = JSON.parse(row!.data).users as string;
  assert.equal(users.length, 500 + "…(2000)".length);
  assert.ok(users.endsWith("…(2000)"));
  assert.ok(t.lines[0]!.length < 1000);
});

Deno.test("recordAtMostEvery keeps one event per key and window, then says how many it held back", async () => {
  let now = new Date("2026-01-01T00:00:00Z");
  await using t = await setup(() => now);
  for (let i = 0; i < 50; i++) {
    t.events.recordAtMostEvery("login.throttled", {
      key: "10.0.0.1",
      windowMs: 60_000,
      fields: { address: "10.0.0.1" },
    });
  }
  t.events.recordAtMostEvery("login.throttled", {
    key: "10.0.0.2",
    windowMs: 60_000,
    fields: { address: "10.0.0.2" },
  });
  now = new Date("2026-01-01T00:01:01Z");
  t.events.recordAtMostEvery("login.throttled", {
    key: "10.0.0.1",
    windowMs: 60_000,
    fields: { address: "10.0.0.1" },
  });
  await t.events.flush();
  const rows = await eventsSince(t.db, { since: "2000-01-01", limit: 100 });
  assert.deepEqual(rows.map((r) => JSON.parse(r.data)), [
    { address: "10.0.0.1" },
    { address: "10.0.0.2" },
    { address: "10.0.0.1", repeats: 49 },
  ]);
});
