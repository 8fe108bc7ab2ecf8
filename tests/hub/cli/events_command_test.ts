/**
 * `onehub events` (hub/cli/events_command.ts): --since forms and errors,
 * filters, text and JSON output, read from the configured database.
 */
import assert from "node:assert/strict";
import { runMain } from "../../_helpers/serve_process.ts";
import { parseSince } from "../../../hub/cli/events_command.ts";
import { UsageError } from "../../../hub/errors.ts";
import { migrateToLatest, openDatabase } from "../../../hub/db/mod.ts";
import { insertEvents } from "../../../hub/db/events.ts";

Deno.test("parseSince reads durations and ISO dates and names what it accepts", () => {
  const now = new Date("2026-12-04T12:00:00Z");
  assert.equal(parseSince("30m", now), "2026-12-04T11:30:00.000Z");
  assert.equal(parseSince("2d", now), "2026-12-02T12:00:00.000Z");
  assert.equal(parseSince("1w", now), "2026-11-27T12:00:00.000Z");
  assert.equal(parseSince("2026-12-01", now), "2026-12-01T00:00:00.000Z");
  assert.equal(
    parseSince("2026-12-01T08:00Z", now),
    "2026-12-01T08:00:00.000Z",
  );
  for (const bad of ["yesterday", "5 minutes", "-1h", "2026-13-45"]) {
    assert.throws(
      () => parseSince(bad, now),
      (e) =>
        e instanceof UsageError &&
        /is not a time: use a duration such as 30m/.test(e.message),
      bad,
    );
  }
});

Deno.test("onehub events prints the configured hub's events, filtered, as text or JSON", async () => {
  const dir = await Deno.makeTempDir({ prefix: "onehub-cli-" });
  try {
    const config = `${dir}/config.yaml`;
    await Deno.writeTextFile(config, `data_dir: ${dir}/data\n`);
    await Deno.mkdir(`${dir}/data`, { mode: 0o700 });
    const handle = openDatabase(`${dir}/data/onehub.sqlite`);
    await migrateToLatest(handle);
    const now = Date.now();
    const at = (minutesAgo: number) =>
      new Date(now - minutesAgo * 60_000).toISOString();
    await insertEvents(handle.db, [
      {
        time: at(600),
        kind: "login.ok",
        user: "old",
        actor: null,
        reason: "",
        data: "{}",
      },
      {
        time: at(20),
        kind: "login.failed",
        user: "alice",
        actor: null,
        reason: "Invalid username or password",
        data: '{"address":"10.0.0.9"}',
      },
      {
        time: at(10),
        kind: "cull.server",
        user: "bob",
        actor: "cull-idle",
        reason: "idle 700 s",
        data: '{"server":""}',
      },
    ]);
    await handle.close();
    const c = ["--config", config];
    let out = await runMain(["events", "--since", "1h", ...c]);
    assert.equal(out.code, 0, out.stderr);
    const lines = out.stdout.trim().split("\n");
    assert.equal(lines.length, 2);
    assert.match(
      lines[0]!,
      /^\S+Z login\.failed user=alice reason="Invalid username or password" address=10\.0\.0\.9$/,
    );
    assert.match(
      lines[1]!,
      /cull\.server user=bob actor=cull-idle reason="idle 700 s" server=""/,
    );
    out = await runMain(["events", "--since", "1d", "--kind", "login.", ...c]);
    assert.equal(out.stdout.trim().split("\n").length, 2);
    out = await runMain(["events", "--user", "bob", "--json", ...c]);
    const row = JSON.parse(out.stdout.trim());
    assert.equal(row.kind, "cull.server");
    assert.deepEqual(row.data, { server: "" });
    out = await runMain(["events", "--since", "soon", ...c]);
    assert.equal(out.code, 2);
    assert.match(out.stderr, /--since "soon" is not a time/);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("onehub user and onehub token leave events with the actor cli:<unix user>", async () => {
  const dir = await Deno.makeTempDir({ prefix: "onehub-cli-" });
  try {
    const config = `${dir}/config.yaml`;
    await Deno.writeTextFile(config, `data_dir: ${dir}/data\n`);
    const c = ["--config", config];
    for (
      const args of [
        ["user", "add", "bob", "--admin"],
        ["token", "bob"],
        ["user", "admin", "bob", "--off"],
        ["user", "rm", "bob"],
      ]
    ) {
      const out = await runMain([...args, ...c]);
      assert.equal(out.code, 0, out.stderr);
    }
    const out = await runMain(["events", "--json", ...c]);
    const rows = out.stdout.trim().split("\n").map((l) => JSON.parse(l));
    assert.deepEqual(rows.map((r) => [r.kind, r.user]), [
      ["user.created", "bob"],
      ["token.created", "bob"],
      ["user.admin", "bob"],
      ["user.deleted", "bob"],
    ]);
    assert.ok(rows.every((r) => /^cli:\S+$/.test(r.actor)));
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
