import assert from "node:assert/strict";
import { runMain, startServe } from "../../_helpers/serve_process.ts";
import { flagsToKeys } from "../../../hub/cli/serve_command.ts";
import { loadAuthStateBox } from "../../../hub/auth/auth_state.ts";
import { openDatabase } from "../../../hub/db/mod.ts";
import { createUsers, updateUser } from "../../../hub/db/users.ts";

async function tempConfig(
  yaml: string,
): Promise<{ dir: string; path: string } & AsyncDisposable> {
  const dir = await Deno.makeTempDir({ prefix: "onehub-serve-" });
  const path = `${dir}/config.yaml`;
  await Deno.writeTextFile(path, `data_dir: ${dir}/data\n${yaml}`);
  return {
    dir,
    path,
    [Symbol.asyncDispose]: () => Deno.remove(dir, { recursive: true }),
  };
}

Deno.test("flagsToKeys() maps serve flags to config keys", () => {
  assert.deepEqual(
    flagsToKeys({
      ip: "0.0.0.0",
      port: "8080",
      auth: "dummy",
      "allow-dummy-public": true,
    }),
    {
      "http.ip": "0.0.0.0",
      "http.port": 8080,
      "auth.type": "dummy",
      "auth.dummy.allow_public": true,
    },
  );
  assert.throws(() => flagsToKeys({ port: "80x" }), /--port: "80x"/);
});

Deno.test("onehub serve refuses dummy auth on a public address unless forced", async () => {
  await using cfg = await tempConfig("auth:\n  type: dummy\n");
  const out = await runMain([
    "serve",
    "--config",
    cfg.path,
    "--ip",
    "0.0.0.0",
    "--port",
    "0",
  ]);
  assert.equal(out.code, 1);
  assert.match(
    out.stderr,
    /Refusing to serve dummy authentication on 0\.0\.0\.0/,
  );
  assert.match(out.stderr, /--allow-dummy-public/);
});

Deno.test("onehub serve refuses PAM when the service file is missing, naming it", async () => {
  await using cfg = await tempConfig(
    "auth:\n  type: pam\n  pam:\n    service: onehub-no-such-service\n",
  );
  const out = await runMain(["serve", "--config", cfg.path, "--port", "0"]);
  assert.equal(out.code, 1);
  assert.match(out.stderr, /\/etc\/pam\.d\/onehub-no-such-service/);
});

Deno.test("onehub serve reports a bad config value with the key and exits 1", async () => {
  await using cfg = await tempConfig("http:\n  port: eighty\n");
  const out = await runMain(["serve", "--config", cfg.path]);
  assert.equal(out.code, 1);
  assert.match(out.stderr, /"http\.port"/);
  assert.match(out.stderr, /eighty/);
});

Deno.test("onehub serve starts on loopback with dummy auth, makes a 0600 cookie secret, stops cleanly on SIGTERM", async () => {
  await using cfg = await tempConfig(
    "auth:\n  type: dummy\nlog:\n  level: info\n",
  );
  const hub = await startServe(["--config", cfg.path]);
  try {
    const health = await fetch(`${hub.url}hub/health`);
    assert.equal(health.status, 200);
    await health.body?.cancel();
    const api = await fetch(`${hub.url}hub/api`);
    assert.equal(api.headers.get("x-jupyterhub-version"), "5.3.0");
    assert.deepEqual(await api.json(), { version: "5.3.0" });
    const secret = await Deno.stat(`${cfg.dir}/data/cookie_secret`);
    assert.equal(secret.mode! & 0o777, 0o600);
    await Deno.stat(`${cfg.dir}/data/onehub.sqlite`);
  } finally {
    assert.equal(await hub.stop(), 0);
  }
  assert.match(hub.log(), /onehub stopped/);
});

Deno.test("a --config file that does not exist stops serve, export and token with the path and how to make it", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const missing = `${dir}/typo.yaml`;
    for (
      const args of [["serve"], ["export", "z2jh", "--out", `${dir}/out`], [
        "token",
        "alice",
      ]]
    ) {
      const out = await runMain([...args, "--config", missing]);
      assert.equal(out.code, 1, out.stderr);
      assert.match(
        out.stderr,
        /Config file ".*typo\.yaml" \(--config\) does not exist: check the path, or make it with "onehub config set KEY VALUE --config /,
      );
    }
    // Nothing was made on the defaults' behalf.
    assert.deepEqual([...Deno.readDirSync(dir)], []);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("SIGTERM the moment onehub serve says listening stops it cleanly (its handlers are already there)", async () => {
  await using cfg = await tempConfig("auth:\n  type: dummy\n");
  for (let i = 0; i < 3; i++) {
    const hub = await startServe(["--config", cfg.path]);
    assert.equal(await hub.stop(), 0, hub.log());
    assert.match(hub.log(), /onehub stopped/);
  }
});

Deno.test("onehub serve keeps sessions across a restart (persistent cookie secret and database)", async () => {
  await using cfg = await tempConfig("auth:\n  type: dummy\n");
  let cookie = "";
  {
    await using hub = await startServe(["--config", cfg.path]);
    const form = await fetch(`${hub.url}hub/login`);
    const xsrf = /name="_xsrf" value="([^"]+)"/.exec(await form.text())![1]!;
    const jar = form.headers.getSetCookie().map((c) => c.split(";")[0]!).join(
      "; ",
    );
    const res = await fetch(`${hub.url}hub/login`, {
      method: "POST",
      redirect: "manual",
      headers: {
        "content-type": "application/x-www-form-urlencoded",
        cookie: jar,
      },
      body: new URLSearchParams({
        username: "alice",
        password: "x",
        _xsrf: xsrf,
      }),
    });
    await res.body?.cancel();
    cookie = res.headers.getSetCookie().map((c) => c.split(";")[0]!).join("; ");
  }
  await using again = await startServe(["--config", cfg.path]);
  const me = await fetch(`${again.url}hub/api/user`, { headers: { cookie } });
  assert.equal(me.status, 200);
  assert.equal((await me.json()).name, "alice");
});

Deno.test("onehub serve refuses to start when the auth state key is lost, and db forget-auth-state lets it start again", async () => {
  await using cfg = await tempConfig("auth:\n  type: dummy\n");
  {
    await using _hub = await startServe(["--config", cfg.path]);
  }
  const keyFile = `${cfg.dir}/data/auth_state_key`;
  assert.equal((await Deno.stat(keyFile)).mode! & 0o777, 0o600);
  const handle = openDatabase(`${cfg.dir}/data/onehub.sqlite`);
  try {
    const box = await loadAuthStateBox(handle.db, { keyFile });
    const [alice] = await createUsers(handle.db, ["alice"], {
      admin: false,
      now: new Date().toISOString(),
    });
    await updateUser(handle.db, alice!.id, {
      authState: box.seal(alice!.id, { "access_token": "t" }),
    });
  } finally {
    await handle.close();
  }
  await Deno.remove(keyFile);
  const refused = await runMain(["serve", "--config", cfg.path, "--port", "0"]);
  assert.equal(refused.code, 1);
  assert.match(refused.stderr, /auth_state_key is missing/);
  assert.match(refused.stderr, /onehub db forget-auth-state/);
  const forget = await runMain([
    "db",
    "forget-auth-state",
    "--config",
    cfg.path,
  ]);
  assert.equal(forget.code, 0, forget.stderr);
  assert.match(forget.stdout, /dropped the auth state of 1 user/);
  await using again = await startServe(["--config", cfg.path]);
  const health = await fetch(`${again.url}hub/health`);
  assert.equal(health.status, 200);
  await health.body?.cancel();
});
