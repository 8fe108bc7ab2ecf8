/**
 * A term's operations with the REAL jupyterhub-singleuser (Debian's
 * `jupyterhub` package) under `onehub serve`: the built-in idle culler with
 * second-scale settings keeps a server that is in use and stops it once it
 * is idle; the event log (`onehub events`) and `/hub/metrics` show the
 * cull; `POST /hub/api/shutdown` stops the hub process. Needs root (a
 * Linux user for the server) and /usr/bin/jupyterhub-singleuser.
 */
import assert from "node:assert/strict";
import { createSystemUser, singleuserTest } from "../_helpers/system_users.ts";
import {
  runOnehub,
  startServe,
  writeHubConfig,
} from "../_helpers/serve_process.ts";
import { waitFor } from "../_helpers/wait_for.ts";
import { waitForReady } from "../_helpers/open_server.ts";

singleuserTest({
  file: "term_ops_test",
  name:
    "the idle culler stops a real server once idle (not while in use); events, metrics and the shutdown API follow",
}, async (t) => {
  const dir = await Deno.makeTempDir({ prefix: "onehub-term-" });
  await using alice = await createSystemUser({ prefix: "ohcu" });
  const config = await writeHubConfig(dir, [
    "users: { allow_all: true }",
    "spawner: { http_timeout: 60, poll_interval: 1 }",
    "services:",
    "  cull: { timeout: 4, every: 1 }",
    "",
  ]);
  const c = ["--config", config];
  await runOnehub(["user", "add", "teacher", "--admin", ...c]);
  await runOnehub(["user", "add", alice.name, ...c]);
  const admin = await runOnehub(["token", "teacher", ...c]);
  const own = await runOnehub(["token", alice.name, ...c]);
  const hub = await startServe([...c, "--auth", "dummy"]);
  const api = (path: string, init: RequestInit = {}, token = admin) =>
    fetch(`${hub.url}hub/api${path}`, {
      ...init,
      headers: { authorization: `token ${token}`, ...init.headers },
    });
  const serverOf = async () => {
    const res = await api(`/users/${alice.name}`);
    return (await res.json()).servers?.[""];
  };
  const running = async () => (await serverOf())?.ready === true;
  try {
    await t.step("the server starts", async () => {
      const res = await api(`/users/${alice.name}/server`, {
        method: "POST",
      });
      await res.body?.cancel();
      assert.ok(res.status === 201 || res.status === 202);
      // The spawn's own ready event (bounded generously: a cold first start is slow).
      await waitForReady(
        `${hub.url}hub/api/users/${alice.name}/server/progress`,
        { headers: { authorization: `token ${admin}` } },
      );
      assert.equal(await running(), true);
    });
    await t.step("a server in use is kept past the timeout", async () => {
      const until = Date.now() + 7000;
      while (Date.now() < until) {
        const res = await fetch(`${hub.url}user/${alice.name}/api/status`, {
          headers: { authorization: `token ${own}` },
        });
        assert.equal(res.status, 200);
        await res.body?.cancel();
        await new Promise((r) => setTimeout(r, 500));
      }
      assert.equal(await running(), true);
    });
    await t.step(
      "left alone, it is culled within a few seconds",
      async () => {
        // Gone, not only stopping: the cull is recorded once the stop is done.
        await waitFor(async () => (await serverOf()) === undefined, {
          timeoutMs: 20_000,
          intervalMs: 250,
          description: "the culler to stop the server",
        });
      },
    );
    await t.step("onehub events shows the cull with its reason", async () => {
      const text = await runOnehub([
        "events",
        "--kind",
        "cull.",
        "--since",
        "1h",
        ...c,
      ]);
      assert.match(
        text,
        new RegExp(
          `cull\\.server user=${alice.name} actor=cull-idle reason="idle \\d+ s \\(services\\.cull\\.timeout 4 s\\)"`,
        ),
      );
      const all = await runOnehub(["events", "--user", alice.name, ...c]);
      assert.match(
        all,
        /server\.spawn[\s\S]*server\.ready[\s\S]*cull\.server/,
      );
    });
    await t.step(
      "/hub/metrics counts the cull and no running server",
      async () => {
        const text = await (await api("/metrics")).text();
        assert.match(
          text,
          /^onehub_culled_servers_total\{reason="idle"\} 1$/m,
        );
        assert.match(text, /^jupyterhub_running_servers 0$/m);
        assert.match(
          text,
          /^jupyterhub_server_spawn_duration_seconds_count\{status="success"\} 1$/m,
        );
      },
    );
    await t.step("POST /hub/api/shutdown stops the hub process", async () => {
      const res = await api("/shutdown", { method: "POST" });
      assert.equal(res.status, 202);
      assert.deepEqual(await res.json(), { message: "Shutting down Hub" });
      // The process exits by itself: no signal, so a SIGTERM arriving
      // after "onehub stopped" and before the exit cannot decide the status.
      assert.equal(await hub.exited(15_000), 0);
      assert.match(hub.log(), /onehub stopped/);
    });
  } finally {
    await hub.stop();
    await new Deno.Command("pkill", { args: ["-KILL", "-u", alice.name] })
      .output();
    await Deno.remove(dir, { recursive: true });
  }
});
