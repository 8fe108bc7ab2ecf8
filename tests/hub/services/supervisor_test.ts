/**
 * Managed services' processes (hub/services/supervisor.ts): the service
 * environment, process groups stopped whole, and the groups a killed hub
 * left running stopped by the next one (never a reused pid).
 */
import assert from "node:assert/strict";
import { DatabaseSync } from "node:sqlite";
import {
  serviceEnv,
  stopLeftovers,
  Supervisor,
} from "../../../hub/services/supervisor.ts";
import { parseServices } from "../../../hub/services/spec.ts";
import { EventLog } from "../../../hub/observe/events.ts";
import { HubMetrics } from "../../../hub/observe/metrics.ts";
import { silentLogger } from "../../../hub/observe/log.ts";
import { migrateToLatest, openDatabase } from "../../../hub/db/mod.ts";
import { readProcStat } from "../../../spawners/mod.ts";
import { waitFor } from "../../_helpers/wait_for.ts";
import { startServe } from "../../_helpers/serve_process.ts";
import { looseTest } from "../../_helpers/loose_test.ts";

/** Whether any process runs `sleep <seconds>` (our marker). */
async function sleeping(seconds: string): Promise<boolean> {
  const out = await new Deno.Command("pgrep", {
    args: ["-f", `^sleep ${seconds}$`],
    stdout: "null",
  }).output();
  return out.code === 0;
}

Deno.test("serviceEnv gives JupyterHub's service variables", () => {
  const [spec] = parseServices([{
    name: "ann",
    url: "http://127.0.0.1:10101",
    command: ["x"],
    environment: { "EXTRA": "1" },
  }]);
  const env = serviceEnv(spec!, {
    token: "tok",
    baseUrl: "/jh/",
    hubApiUrl: "http://127.0.0.1:8081/jh/hub/api",
    home: "/root",
  });
  const expected: Record<string, string> = {
    JUPYTERHUB_SERVICE_NAME: "ann",
    JUPYTERHUB_SERVICE_URL: "http://127.0.0.1:10101",
    JUPYTERHUB_SERVICE_PREFIX: "/jh/services/ann/",
    JUPYTERHUB_API_TOKEN: "tok",
    JUPYTERHUB_API_URL: "http://127.0.0.1:8081/jh/hub/api",
    JUPYTERHUB_BASE_URL: "/jh/",
    JUPYTERHUB_CLIENT_ID: "service-ann",
    JUPYTERHUB_OAUTH_CALLBACK_URL: "/jh/services/ann/oauth_callback",
    JUPYTERHUB_OAUTH_ACCESS_SCOPES: '["access:services!service=ann"]',
    EXTRA: "1",
  };
  for (const [name, value] of Object.entries(expected)) {
    assert.equal(env[name], value, name);
  }
});

Deno.test("stop() ends a service's whole process group; its exit is not restarted", async () => {
  const handle = openDatabase(":memory:");
  await migrateToLatest(handle);
  const events = new EventLog({ db: handle.db, logger: silentLogger });
  const remembered: unknown[] = [];
  const supervisor = new Supervisor({
    logger: silentLogger,
    events,
    metrics: new HubMetrics(),
    baseUrl: "/",
    hubApiUrl: () => "http://127.0.0.1:1/hub/api",
    remember: (groups) => (remembered.push(groups), Promise.resolve()),
  });
  const specs = parseServices([{
    name: "shell",
    command: ["/bin/sh", "-c", "sleep 301 & wait"],
  }]);
  supervisor.start(specs, new Map([["shell", "t"]]));
  await waitFor(() => sleeping("301"), { description: "the child sleeps" });
  assert.ok(supervisor.pid("shell"));
  await supervisor.stop();
  assert.equal(await sleeping("301"), false, "the grandchild went too");
  assert.equal(supervisor.status("shell")?.state, "stopped");
  assert.deepEqual(remembered.at(-1), []);
  await events.close();
  await handle.close();
});

Deno.test("stopLeftovers stops a group a killed hub left, and not a pid reused since", async () => {
  const child = new Deno.Command("/bin/sh", {
    args: ["-c", "sleep 302 & wait"],
    detached: true,
    stdout: "null",
  }).spawn();
  const stat = (await readProcStat(child.pid))!;
  await waitFor(() => sleeping("302"));
  const wrongStart = await stopLeftovers([{
    name: "old",
    pid: child.pid,
    starttime: stat.starttime + 1,
  }]);
  assert.deepEqual(wrongStart, []);
  assert.equal(
    await sleeping("302"),
    true,
    "a different start time: untouched",
  );
  const stopped = await stopLeftovers([{
    name: "old",
    pid: child.pid,
    starttime: stat.starttime,
  }]);
  assert.deepEqual(stopped, ["old"]);
  await child.status;
  await waitFor(async () => !(await sleeping("302")), {
    description: "the group's sleep to end",
  });
});

/** Whether the hub's database holds the running services' process groups (a sleeper's among them). */
function rememberedGroups(dbPath: string): Promise<boolean> {
  const db = new DatabaseSync(dbPath, { readOnly: true });
  try {
    const row = db.prepare("SELECT value FROM hub_state WHERE key = ?").get(
      "service_process_groups",
    ) as { value: string } | undefined;
    return Promise.resolve(row?.value.includes('"sleeper"') ?? false);
  } catch {
    return Promise.resolve(false); // not created yet
  } finally {
    db.close();
  }
}

/** How many processes run `sleep <seconds>`. */
async function countSleeping(seconds: string): Promise<number> {
  const out = await new Deno.Command("pgrep", {
    args: ["-c", "-f", `^sleep ${seconds}$`],
  }).output();
  return Number(new TextDecoder().decode(out.stdout).trim() || "0");
}

looseTest(
  "a hub killed with SIGKILL leaves its managed service running; the next hub stops it before starting its own",
  async () => {
    const dir = await Deno.makeTempDir({ prefix: "onehub-leftover-" });
    const config = `${dir}/config.yaml`;
    await Deno.writeTextFile(
      config,
      `data_dir: ${dir}
services:
  list:
    - { name: sleeper, command: [/bin/sh, -c, "sleep 303 & wait"] }
`,
    );
    const args = ["--config", config, "--auth", "dummy"];
    try {
      const first = await startServe(args);
      await waitFor(async () => (await countSleeping("303")) === 1, {
        timeoutMs: 10_000,
        description: "the service runs",
      });
      // The hub writes the group down right after it started it: a kill
      // before that leaves nothing for the next hub to find (a race of the
      // test, seen on a loaded machine, not of the hub).
      await waitFor(() => rememberedGroups(`${dir}/onehub.sqlite`), {
        timeoutMs: 10_000,
        description: "the hub to remember the service's process group",
      });
      Deno.kill(first.pid, "SIGKILL");
      await first.stop();
      assert.equal(await countSleeping("303"), 1, "orphaned, still running");
      await using second = await startServe(args);
      await waitFor(async () => (await countSleeping("303")) === 1, {
        timeoutMs: 10_000,
        description: "one sleeper: the old one stopped, a new one started",
      });
      assert.match(
        second.log(),
        /stopped services an earlier hub left running services=sleeper/,
      );
      assert.equal(await second.stop(), 0);
      assert.equal(await countSleeping("303"), 0, "stopping the hub stops it");
    } finally {
      await new Deno.Command("pkill", { args: ["-f", "^sleep 303$"] }).output();
      await Deno.remove(dir, { recursive: true });
    }
  },
);
