/**
 * SIGKILL of the hub in the middle of a spawn loses nothing: the next start
 * finds a consistent state (no half-registered server, no orphan process,
 * no stale route) and the user can start again. Uses the real
 * jupyterhub-singleuser behind a 2-second delay; needs root.
 */
import assert from "node:assert/strict";
import { SPAWN_WAIT_MS } from "../_helpers/open_server.ts";
import {
  createSystemUser,
  run,
  singleuserTest,
} from "../_helpers/system_users.ts";
import {
  runMain,
  startServe,
  writeHubConfig,
} from "../_helpers/serve_process.ts";
import { waitFor } from "../_helpers/wait_for.ts";

async function userProcesses(name: string): Promise<number> {
  const out = await new Deno.Command("pgrep", { args: ["-u", name] }).output();
  return new TextDecoder().decode(out.stdout).trim().split("\n").filter((l) =>
    l
  ).length;
}

singleuserTest({
  file: "spawn_kill_test",
  name: "a hub killed with SIGKILL mid-spawn restarts into a consistent state",
}, async () => {
  const dir = await Deno.makeTempDir({ prefix: "onehub-kill-" });
  await using user = await createSystemUser({ prefix: "ohkill" });
  const config = await writeHubConfig(dir, [
    "auth:",
    "  type: dummy",
    "spawner:",
    "  http_timeout: 300",
    "  cmd:",
    "    - /bin/sh",
    "    - -c",
    "    - sleep 2; exec jupyterhub-singleuser",
    "",
  ]);
  try {
    assert.equal(
      (await runMain(["user", "add", user.name, "--config", config])).code,
      0,
    );
    const token =
      (await runMain(["user", "add", "boss", "--admin", "--config", config]))
          .code === 0
        ? (await runMain(["token", "boss", "--config", config])).stdout.trim()
        : "";
    const auth = { authorization: `token ${token}` };
    const first = await startServe(["--config", config]);
    // Start the spawn and kill the hub while the server is still starting.
    const post = fetch(`${first.url}hub/api/users/${user.name}/server`, {
      method: "POST",
      headers: auth,
    })
      .then((r) => r.body?.cancel()).catch(() => {});
    await waitFor(async () => (await userProcesses(user.name)) > 0, {
      timeoutMs: 10_000,
      description: "the server process to start",
    });
    Deno.kill(first.pid, "SIGKILL");
    await first.stop();
    await post;
    assert.ok(
      await userProcesses(user.name) > 0,
      "the half-started server outlived the hub",
    );

    await using second = await startServe(["--config", config]);
    // The restarted hub cleaned up: nothing pending, no process, no route.
    const model =
      await (await fetch(`${second.url}hub/api/users/${user.name}`, {
        headers: auth,
      })).json();
    assert.equal(model.pending, null);
    assert.deepEqual(model.servers, {});
    await waitFor(async () => (await userProcesses(user.name)) === 0, {
      timeoutMs: 15_000,
      description: "the orphan to be stopped",
    });
    const routes =
      await (await fetch(`${second.url}hub/api/proxy`, { headers: auth }))
        .json();
    assert.deepEqual(
      Object.keys(routes),
      ["/"],
      "only the hub's own route: no stale server route",
    );
    // And the user can start again.
    const again = await fetch(
      `${second.url}hub/api/users/${user.name}/server`,
      { method: "POST", headers: auth },
    );
    await again.body?.cancel();
    assert.ok(
      again.status === 201 || again.status === 202,
      `status ${again.status}`,
    );
    await waitFor(async () => {
      const m = await (await fetch(`${second.url}hub/api/users/${user.name}`, {
        headers: auth,
      })).json();
      return m.servers?.[""]?.ready === true;
    }, {
      timeoutMs: SPAWN_WAIT_MS,
      description: "the new server to be ready",
    });
    const stop = await fetch(
      `${second.url}hub/api/users/${user.name}/server`,
      { method: "DELETE", headers: auth },
    );
    await stop.body?.cancel();
    assert.equal(stop.status, 204);
  } finally {
    await run(["pkill", "-KILL", "-u", user.name]).catch(() => {});
    await Deno.remove(dir, { recursive: true });
  }
});
