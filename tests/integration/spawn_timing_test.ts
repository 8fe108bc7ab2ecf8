/**
 * A login reaches the user's REAL jupyterhub-singleuser server whatever
 * the spawn takes, both ways round: a slow start (spawner.cmd is a wrapper
 * that sleeps 4 s, longer than /hub/spawn waits) lands on the spawn-pending
 * page, and openServer() follows its progress stream and the OAuth
 * handshake into the server; a server started first through the REST API
 * and waited ready makes the login land on the server directly, with no
 * pending page. In both, a kernel prints 42. Needs root (Linux users for
 * the servers) and /usr/bin/jupyterhub-singleuser.
 */
import assert from "node:assert/strict";
import {
  createSystemUser,
  SINGLEUSER,
  singleuserTest,
  type SystemUser,
} from "../_helpers/system_users.ts";
import { runOnehub, startServe } from "../_helpers/serve_process.ts";
import { CookieClient } from "../_helpers/cookie_client.ts";
import { runInKernel } from "../_helpers/jupyter.ts";
import {
  hopList,
  openServer,
  spawnDataOf,
  waitForReady,
} from "../_helpers/open_server.ts";

/** Longer than /hub/spawn's wait (SPAWN_PAGE_WAIT_MS, 1 s), so the login surely sees the pending page. */
const SLOW_START_SECONDS = 4;

/**
 * Writes the slow wrapper and the config into `dir`. The wrapper runs as
 * the user, so `dir` and it are world-readable; the data directory is a
 * subdirectory because the hub makes it 0700.
 */
async function writeSetup(dir: string): Promise<string> {
  await Deno.chmod(dir, 0o755);
  const wrapper = `${dir}/slow-singleuser.sh`;
  await Deno.writeTextFile(
    wrapper,
    `#!/bin/sh\nsleep ${SLOW_START_SECONDS}\nexec ${SINGLEUSER} "$@"\n`,
  );
  await Deno.chmod(wrapper, 0o755);
  const config = `${dir}/config.yaml`;
  await Deno.writeTextFile(
    config,
    [
      `data_dir: ${dir}/data`,
      "users: { allow_all: true }",
      `spawner: { http_timeout: 120, poll_interval: 1, cmd: [${
        JSON.stringify(wrapper)
      }] }`,
      "",
    ].join("\n"),
  );
  return config;
}

/** Logs `user` in through the form (dummy authenticator); the client and where the form sends it. */
async function logIn(
  base: string,
  user: SystemUser,
): Promise<{ client: CookieClient; location: string }> {
  const client = new CookieClient(base);
  const res = await client.login(user.name, user.password);
  await res.body?.cancel();
  assert.equal(res.status, 302);
  return { client, location: res.headers.get("location") ?? "" };
}

/** The server answers its API with the cookies the handshake set, and a kernel prints 42. */
async function assertServerWorks(
  client: CookieClient,
  user: string,
): Promise<void> {
  assert.ok(
    client.cookie(`jupyterhub-user-${user}`),
    "the server's OAuth cookie is set",
  );
  const status = await client.request(`user/${user}/api/status`);
  assert.equal(status.status, 200);
  await status.body?.cancel();
  const { out } = await runInKernel(client, user);
  assert.equal(out.trim(), "42");
}

/** Slow order: the login lands on spawn-pending; openServer waits for ready and goes on into the server. */
async function slowStart(base: string, user: SystemUser): Promise<void> {
  const { client, location } = await logIn(base, user);
  assert.equal(location, "/hub/spawn", "no server yet: the login starts one");
  const landed = await client.follow(location);
  const at = client.hops.at(-1)!.url;
  const html = await landed.text();
  assert.equal(
    landed.status,
    200,
    `${hopList(client.hops)}\n${html.slice(0, 1000)}`,
  );
  assert.equal(
    new URL(at).pathname,
    `/hub/spawn-pending/${user.name}`,
    `the login lands on the pending page: ${hopList(client.hops)}`,
  );
  assert.ok(spawnDataOf(html), "the pending page carries its spawn data");
  const page = await openServer(client, user.name, { from: at });
  assert.equal(page.status, 200);
  await page.body?.cancel();
  assert.ok(
    client.hops.some((h) => h.url.includes("/hub/api/oauth2/authorize")),
    `the OAuth handshake went through the hub: ${hopList(client.hops)}`,
  );
  await assertServerWorks(client, user.name);
}

/** Fast order: the server is started through the API and waited ready; the login then lands on it directly. */
async function startedFirst(
  base: string,
  user: SystemUser,
  token: string,
): Promise<void> {
  const headers = { authorization: `token ${token}` };
  const started = await fetch(`${base}hub/api/users/${user.name}/server`, {
    method: "POST",
    headers,
  });
  await started.body?.cancel();
  // 201 when ready within the API's own wait (10 s), else 202: either way, wait on the events.
  assert.ok(
    started.status === 201 || started.status === 202,
    `status ${started.status}`,
  );
  const events = await waitForReady(
    `${base}hub/api/users/${user.name}/server/progress`,
    { headers },
  );
  assert.equal(events.at(-1)?.ready, true);
  const { client, location } = await logIn(base, user);
  assert.equal(
    location,
    `/user/${user.name}/`,
    "the login sends the browser to the running server",
  );
  const landed = await client.follow(location);
  await landed.body?.cancel();
  const hops = hopList(client.hops);
  assert.equal(landed.status, 200, hops);
  assert.ok(
    !client.hops.some((h) => h.url.includes("/hub/spawn-pending/")),
    `no pending page on the way: ${hops}`,
  );
  assert.ok(
    new URL(client.hops.at(-1)!.url).pathname.startsWith(
      `/user/${user.name}/`,
    ),
    `the login lands on the running server: ${hops}`,
  );
  assert.ok(
    client.hops.some((h) => h.url.includes("/hub/api/oauth2/authorize")),
    `the OAuth handshake went through the hub: ${hops}`,
  );
  // openServer from /hub/spawn with the server running: straight there too.
  const page = await openServer(client, user.name);
  assert.equal(page.status, 200);
  await page.body?.cancel();
  assert.ok(
    !client.hops.some((h) => h.url.includes("/hub/spawn-pending/")),
    hopList(client.hops),
  );
  await assertServerWorks(client, user.name);
}

singleuserTest({
  file: "spawn_timing_test",
  name:
    "a login reaches the user's server after a slow start (via spawn-pending) and when the server was started first (directly)",
}, async (t) => {
  const dir = await Deno.makeTempDir({ prefix: "onehub-timing-" });
  await using slow = await createSystemUser({ prefix: "ohst" });
  await using first = await createSystemUser({ prefix: "ohst" });
  const config = await writeSetup(dir);
  const c = ["--config", config];
  await runOnehub(["user", "add", first.name, ...c]);
  const token = await runOnehub(["token", first.name, ...c]);
  const hub = await startServe([...c, "--auth", "dummy"]);
  try {
    await t.step(
      "a slow start: the login lands on spawn-pending, then in the server",
      () => slowStart(hub.url, slow),
    );
    await t.step(
      "a server started first: the login lands on it directly",
      () => startedFirst(hub.url, first, token),
    );
  } finally {
    await hub.stop();
    for (const u of [slow.name, first.name]) {
      await new Deno.Command("pkill", { args: ["-KILL", "-u", u] }).output();
    }
    await Deno.remove(dir, { recursive: true });
  }
});
