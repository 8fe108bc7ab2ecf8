/**
 * `onehub config reload` (SIGHUP) against a running `onehub serve`: live
 * keys applied, restart keys named, sessions kept, a bad file changes
 * nothing.
 */
import assert from "node:assert/strict";
import { runMain, startServe } from "../../_helpers/serve_process.ts";
import { CookieClient } from "../../_helpers/cookie_client.ts";
import { createTestHub } from "../../_helpers/test_hub.ts";
import { resolveConfig } from "../../../hub/config/mod.ts";
import type { Db } from "../../../hub/db/mod.ts";
import { silentLogger } from "../../../hub/observe/log.ts";
import { reloadConfig } from "../../../hub/cli/serve_reload.ts";

Deno.test("config reload applies live keys to a running hub, names the restart ones and keeps sessions", async () => {
  const dir = await Deno.makeTempDir({ prefix: "onehub-reload-" });
  try {
    const config = `${dir}/config.yaml`;
    await Deno.writeTextFile(
      config,
      `data_dir: ${dir}\nusers:\n  allowed: [ada]\n`,
    );
    await using hub = await startServe(["--auth", "dummy", "--config", config]);
    const browser = new CookieClient(hub.url);
    const login = await browser.login("ada", "pw");
    await login.body?.cancel();
    assert.equal(login.status, 302);

    const set = await runMain([
      "config",
      "set",
      "users.admin",
      "teacher",
      "--config",
      config,
    ]);
    assert.equal(set.code, 0, set.stderr);
    assert.match(set.stdout, /onehub config reload/);
    const port = await runMain([
      "config",
      "set",
      "auth.throttle.window",
      "60",
      "--config",
      config,
    ]);
    assert.match(port.stdout, /systemctl restart onehub/);

    const reload = await runMain(["config", "reload", "--config", config]);
    assert.equal(reload.code, 0, reload.stderr);
    assert.match(reload.stdout, /^Applied: users\.admin$/m);
    assert.match(
      reload.stdout,
      /^Not applied \(needs systemctl restart onehub\): auth\.throttle\.window$/m,
    );
    assert.match(
      hub.log(),
      /config reloaded applied=users.admin restart_needed=auth.throttle.window/,
    );

    const token = await runMain(["token", "teacher", "--config", config]);
    assert.equal(token.code, 0, token.stderr);
    const users = await fetch(`${hub.url}hub/api/users`, {
      headers: { authorization: `token ${token.stdout.trim()}` },
    });
    const list = await users.json() as Array<{ name: string; admin: boolean }>;
    assert.deepEqual(list.map((u) => [u.name, u.admin]).sort(), [
      ["ada", false],
      ["teacher", true],
    ]);

    const home = await browser.request("hub/home");
    await home.body?.cancel();
    assert.equal(home.status, 200, "the session survived the reload");

    await Deno.writeTextFile(
      config,
      `data_dir: ${dir}\napi:\n  page_default_limit: -5\n`,
    );
    const bad = await runMain(["config", "reload", "--config", config]);
    assert.equal(bad.code, 1);
    assert.match(
      bad.stderr,
      /The hub kept its config.*: Invalid value for "api\.page_default_limit"/,
    );
    const still = await fetch(`${hub.url}hub/api/users/teacher`, {
      headers: { authorization: `token ${token.stdout.trim()}` },
    });
    assert.equal((await still.json()).admin, true);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("config reload says clearly when no hub runs", async () => {
  const dir = await Deno.makeTempDir({ prefix: "onehub-reload-" });
  try {
    await Deno.writeTextFile(`${dir}/config.yaml`, `data_dir: ${dir}\n`);
    const res = await runMain([
      "config",
      "reload",
      "--config",
      `${dir}/config.yaml`,
    ]);
    assert.equal(res.code, 1);
    assert.match(
      res.stderr,
      /No running hub found: .*onehub\.pid does not exist/,
    );
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("reloadConfig() changes nothing when the new users are invalid, and writes why", async () => {
  await using hub = await createTestHub();
  const dir = await Deno.makeTempDir({ prefix: "onehub-reload-" });
  try {
    const live = resolveConfig({
      file: { data_dir: dir, users: { allowed: ["ada"] } },
    });
    const path = `${dir}/config.yaml`;
    await Deno.writeTextFile(
      path,
      `data_dir: ${dir}\nusers:\n  allowed: [ada, "x/y"]\n  allow_all: true\n`,
    );
    const result = await reloadConfig({
      live,
      path,
      flags: {},
      env: {},
      db: hub.handle.db,
      logger: silentLogger,
    });
    assert.match(
      result.error ?? "",
      /Invalid username "x\/y" in users\.allowed/,
    );
    assert.deepEqual(live.users.allowed, ["ada"]);
    assert.equal(live.users.allowAll, false);
    const written = JSON.parse(await Deno.readTextFile(`${dir}/reload.json`));
    assert.equal(written.error, result.error);
    assert.equal(await countUsers(hub), 0);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

async function countUsers(hub: { handle: { db: Db } }): Promise<number> {
  return (await hub.handle.db.selectFrom("users").select("id").execute())
    .length;
}
