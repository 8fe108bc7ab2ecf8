/**
 * `deno bench -A bench/term_ops_bench.ts`: the cost of a term's periodic
 * work, in process on an SQLite file (no HTTP):
 * - one idle-culler pass over 100 users with 100 running servers, none
 *   idle (the common case: read and decide);
 * - one pass that stops all 100 (routes, tokens, OAuth clients, rows and
 *   events written; the spawner's stop is a no-op stub, so this is the
 *   hub's own cost);
 * - `GET /hub/metrics` with 100 users and 100 running servers (the
 *   scrape's queries and the text).
 * Results: docs/benchmarks.md, "Issue 13".
 *
 * @module
 */
import { resolveConfig } from "../hub/config/mod.ts";
import { migrateToLatest, openDatabase } from "../hub/db/mod.ts";
import { createUsers } from "../hub/db/users.ts";
import { recordSpawning, setServerStatus } from "../hub/db/servers.ts";
import { silentLogger } from "../hub/observe/log.ts";
import { IdleCuller } from "../hub/servers/culler.ts";
import { buildParts } from "../hub/mod.ts";
import { createAuthenticator } from "../hub/auth/mod.ts";
import { issueToken } from "../hub/api/mod.ts";
import type { Spawner } from "../spawners/mod.ts";

const USERS = 100;
const dir = await Deno.makeTempDir({ prefix: "onehub-bench-term-" });
const config = resolveConfig({
  file: { "data_dir": dir, auth: { type: "dummy" } },
});
const handle = openDatabase(config.dbPath);
await migrateToLatest(handle);
const db = handle.db;
const now = new Date();
const names = Array.from({ length: USERS }, (_, i) => `student${i}`);
const users = await createUsers(db, ["teacher", ...names], {
  admin: false,
  now: now.toISOString(),
});
const stub: Spawner = {
  kind: "local",
  start: () => Promise.reject(new Error("not in this benchmark")),
  poll: () => Promise.resolve({ running: true }),
  stop: () => Promise.resolve(),
  stopStray: () => Promise.resolve(0),
  memory: () => Promise.resolve(null),
};
const parts = await buildParts({
  config,
  db,
  authenticator: createAuthenticator(config),
  logger: silentLogger,
  cookieSecret: new Uint8Array(32).fill(1),
  spawner: stub,
});
const { proxy, routes, servers, events, metrics } = parts;

/** Every student's default server running, last active `activeAt`. */
async function runAll(activeAt: Date): Promise<void> {
  for (const u of users.slice(1)) {
    await recordSpawning(db, {
      userId: u.id,
      name: "",
      url: `/user/${u.name}/`,
      userOptions: {},
      hubInstance: "",
      at: activeAt.toISOString(),
    });
    await setServerStatus(db, { userId: u.id, name: "" }, "running");
    await routes.add(`/user/${u.name}`, {
      target: "http://127.0.0.1:9",
      data: {
        user: u.name,
        "server_name": "",
      },
    });
  }
}

function culler(later: number): IdleCuller {
  return new IdleCuller({
    db,
    config,
    servers,
    events,
    metrics,
    logger: silentLogger,
    now: () => new Date(now.getTime() + later * 1000),
  });
}

await runAll(now);
const busy = culler(10);

Deno.bench("cull pass: 100 running servers, none idle", async () => {
  const pass = await busy.pass();
  if (pass.checked !== USERS || pass.stopped.length) throw new Error("bad");
});

Deno.bench("cull pass: 100 idle servers stopped", async (b) => {
  await runAll(now);
  await events.flush();
  const idle = culler(config.cull.timeoutSeconds + 60);
  b.start();
  const pass = await idle.pass();
  await events.flush();
  b.end();
  if (pass.stopped.length !== USERS) throw new Error("bad");
});

const teacher = users[0]!;
await db.updateTable("users").set({ admin: 1 }).where("id", "=", teacher.id)
  .execute();
const { token } = await issueToken(db, { ...teacher, admin: 1 }, {
  note: "bench",
  expiresInSeconds: null,
  now,
});
const hub = parts.app;
await runAll(now);

Deno.bench("GET /hub/metrics: 100 users, 100 running servers", async () => {
  const res = await hub.fetch(
    new Request("http://127.0.0.1/hub/metrics", {
      headers: { authorization: `token ${token}` },
    }),
  );
  if (res.status !== 200) throw new Error(`status ${res.status}`);
  await res.text();
});

globalThis.addEventListener("unload", () => {
  proxy?.close();
  handle.close().catch(() => {});
  Deno.removeSync(dir, { recursive: true });
});
