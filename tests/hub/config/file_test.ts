import assert from "node:assert/strict";
import { errorWith } from "../../_helpers/assert_error.ts";
import {
  DEFAULT_CONFIG_PATH,
  defaultConfigPath,
  ensureCookieSecret,
  formatConfigYaml,
  loadConfig,
  parseConfigText,
  readConfigFile,
  withConfigLock,
  writeConfigFile,
} from "../../../hub/config/file.ts";
import { setAt } from "../../../hub/config/mod.ts";
import { ConfigError } from "../../../hub/errors.ts";

const posix = Deno.build.os !== "windows";

/** A temp dir removed when the returned object is disposed. */
async function tempDir(): Promise<{ path: string } & AsyncDisposable> {
  const path = await Deno.makeTempDir({ prefix: "onehub_config_file_" });
  return {
    path,
    [Symbol.asyncDispose]: () => Deno.remove(path, { recursive: true }),
  };
}

/** A temp dir (removed on dispose) whose config.yaml holds `text`. */
async function tempConfig(
  text: string,
): Promise<{ dir: string; path: string } & AsyncDisposable> {
  const dir = await tempDir();
  const path = `${dir.path}/config.yaml`;
  await Deno.writeTextFile(path, text);
  return {
    dir: dir.path,
    path,
    [Symbol.asyncDispose]: dir[Symbol.asyncDispose],
  };
}

async function assertConfigError(
  promise: Promise<unknown>,
  ...parts: string[]
): Promise<void> {
  await assert.rejects(promise, errorWith(ConfigError, ...parts));
}

Deno.test("defaultConfigPath() prefers a non-empty ONEHUB_CONFIG", () => {
  assert.equal(defaultConfigPath({}), DEFAULT_CONFIG_PATH);
  assert.equal(defaultConfigPath({ ONEHUB_CONFIG: "" }), DEFAULT_CONFIG_PATH);
  assert.equal(defaultConfigPath({ ONEHUB_CONFIG: "/x.yaml" }), "/x.yaml");
});

Deno.test("readConfigFile() returns {} when the file is missing", async () => {
  await using dir = await tempDir();
  assert.deepEqual(await readConfigFile(`${dir.path}/none.yaml`), {});
});

Deno.test("readConfigFile() returns {} for an empty or comment-only file", async () => {
  await using dir = await tempDir();
  await Deno.writeTextFile(`${dir.path}/c.yaml`, "# nothing yet\n");
  assert.deepEqual(await readConfigFile(`${dir.path}/c.yaml`), {});
});

Deno.test("readConfigFile() names the file, line and fix on a YAML syntax error", async () => {
  await using dir = await tempDir();
  const path = `${dir.path}/bad.yaml`;
  await Deno.writeTextFile(path, "http:\n  port: 80\nbase_url: [a\n");
  await assertConfigError(readConfigFile(path), path, "line 4", "fix the YAML");
  await Deno.writeTextFile(path, "http:\n  port: 80\n  port: 81\n");
  await assertConfigError(readConfigFile(path), path, "line 3", "unique");
});

Deno.test("parseConfigText() rejects a top level that is not a mapping", async () => {
  for (const text of ["- a\n- b\n", "just text\n", "42\n"]) {
    await assert.rejects(
      () => parseConfigText(text, "f.yaml"),
      (error: unknown) => {
        assert.ok(error instanceof ConfigError);
        assert.match(error.message, /f\.yaml: the top level must be a mapping/);
        return true;
      },
    );
  }
});

Deno.test("writeConfigFile() creates the parent dir and a 0600 file", async () => {
  await using dir = await tempDir();
  const path = `${dir.path}/etc/onehub/config.yaml`;
  await writeConfigFile(path, { http: { port: 9000 } });
  assert.deepEqual(await readConfigFile(path), { http: { port: 9000 } });
  if (posix) {
    assert.equal((await Deno.stat(path)).mode! & 0o777, 0o600);
    assert.equal((await Deno.stat(`${dir.path}/etc/onehub`)).isDirectory, true);
  }
  assert.deepEqual(
    [...Deno.readDirSync(`${dir.path}/etc/onehub`)].map((e) => e.name),
    ["config.yaml"],
  );
});

Deno.test("writeConfigFile() leaves the old file intact when validation fails", async () => {
  const before = "# my comment\nhttp:\n  port: 9000\n";
  await using cfg = await tempConfig(before);
  const path = cfg.path;
  await assertConfigError(
    writeConfigFile(path, { http: { port: "x" } }),
    '"http.port"',
    '"x"',
  );
  await assertConfigError(
    writeConfigFile(path, { nope: 1 }),
    'Unknown key "nope"',
  );
  await assertConfigError(
    writeConfigFile(path, { api: { page_default_limit: 500 } }),
    "api.page_max_limit",
  );
  assert.equal(await Deno.readTextFile(path), before);
  assert.deepEqual([...Deno.readDirSync(cfg.dir)].map((e) => e.name), [
    "config.yaml",
  ]);
});

Deno.test("writeConfigFile() keeps the admin's comments", async () => {
  await using cfg = await tempConfig(
    "# top comment\nhttp:\n  # the port\n  port: 9000\n  ip: 0.0.0.0\n",
  );
  const path = cfg.path;
  await writeConfigFile(path, {
    http: { port: 9001 },
    users: { admin: ["alice"] },
  });
  const text = await Deno.readTextFile(path);
  assert.match(text, /# top comment/);
  assert.match(text, /# the port\n {2}port: 9001/);
  assert.doesNotMatch(text, /ip:/);
  assert.deepEqual(await readConfigFile(path), {
    http: { port: 9001 },
    users: { admin: ["alice"] },
  });
});

Deno.test("formatConfigYaml() prunes emptied sections and falls back to a plain dump", async () => {
  assert.equal(await formatConfigYaml({}, "http:\n  port: 1\n"), "{}\n");
  assert.equal(
    await formatConfigYaml({ base_url: "/x/" }, "not: [valid\n"),
    "base_url: /x/\n",
  );
  assert.equal(
    await formatConfigYaml({ http: { port: 1 } }, "http: 5\n"),
    "http:\n  port: 1\n",
  );
  assert.equal(
    await formatConfigYaml({ http: { port: 1 } }),
    "http:\n  port: 1\n",
  );
});

Deno.test("loadConfig() merges the file with env and flags", async () => {
  await using cfg = await tempConfig(
    "http:\n  port: 9000\n  ip: 0.0.0.0\nbase_url: hub\n",
  );
  const path = cfg.path;
  const config = await loadConfig({
    path,
    env: { ONEHUB_HTTP_PORT: "9001" },
    flags: { "http.ip": "::1" },
  });
  assert.equal(config.http.port, 9001);
  assert.equal(config.http.ip, "::1");
  assert.equal(config.baseUrl, "/hub/");
  const viaEnv = await loadConfig({ env: { ONEHUB_CONFIG: path } });
  assert.equal(viaEnv.http.port, 9000);
});

Deno.test("loadConfig() reports an invalid file by name", async () => {
  await using cfg = await tempConfig("auth:\n  type: ldap\n");
  const path = cfg.path;
  await assertConfigError(
    loadConfig({ path, env: {} }),
    path,
    '"auth.type"',
    '"ldap"',
  );
});

Deno.test("withConfigLock() lets concurrent read-edit-write cycles both land", async () => {
  await using dir = await tempDir();
  const path = `${dir.path}/config.yaml`;
  const users = ["a", "b", "c", "d", "e", "f"];
  await Promise.all(users.map((user) =>
    withConfigLock({ path }, async () => {
      const raw = await readConfigFile(path);
      const admins = (raw.users as { admin?: string[] } | undefined)?.admin ??
        [];
      await new Promise((resolve) => setTimeout(resolve, 5)); // widen the race window
      await writeConfigFile(
        path,
        setAt(raw, { key: "users.admin", value: [...admins, user] }),
      );
    })
  ));
  const raw = await readConfigFile(path);
  assert.deepEqual([...(raw.users as { admin: string[] }).admin].sort(), users);
  await assert.rejects(Deno.stat(`${path}.lock`), Deno.errors.NotFound);
});

Deno.test("withConfigLock() releases the lock when the edit throws", async () => {
  await using dir = await tempDir();
  const path = `${dir.path}/config.yaml`;
  await assert.rejects(
    withConfigLock({ path }, () => Promise.reject(new Error("boom"))),
    /boom/,
  );
  assert.equal(await withConfigLock({ path }, () => Promise.resolve(7)), 7);
});

Deno.test("withConfigLock() times out with the fix when the lock stays held", async () => {
  await using dir = await tempDir();
  const path = `${dir.path}/config.yaml`;
  await Deno.writeTextFile(`${path}.lock`, "1\n");
  await assertConfigError(
    withConfigLock(
      { path, timeoutMs: 30, staleMs: 60_000 },
      () => Promise.resolve(),
    ),
    `${path}.lock`,
    "delete",
  );
});

Deno.test("withConfigLock() removes a stale lock", async () => {
  await using dir = await tempDir();
  const path = `${dir.path}/config.yaml`;
  await Deno.writeTextFile(`${path}.lock`, "1\n");
  const old = new Date(Date.now() - 60_000);
  await Deno.utime(`${path}.lock`, old, old);
  assert.equal(
    await withConfigLock(
      { path, timeoutMs: 30, staleMs: 1000 },
      () => Promise.resolve("ok"),
    ),
    "ok",
  );
});

Deno.test("ensureCookieSecret() generates 32 bytes in a 0600 hex file, then reuses them", async () => {
  await using dir = await tempDir();
  const path = `${dir.path}/state/cookie_secret`;
  const first = await ensureCookieSecret(path);
  assert.equal(first.length, 32);
  const text = await Deno.readTextFile(path);
  assert.match(text, /^[0-9a-f]{64}\n$/);
  if (posix) {
    assert.equal((await Deno.stat(path)).mode! & 0o777, 0o600);
    assert.equal((await Deno.stat(`${dir.path}/state`)).mode! & 0o777, 0o700);
  }
  assert.deepEqual(await ensureCookieSecret(path), first);
  assert.deepEqual(
    [...Deno.readDirSync(`${dir.path}/state`)].map((e) => e.name),
    ["cookie_secret"],
  );
});

Deno.test("ensureCookieSecret() agrees on one secret when called concurrently", async () => {
  await using dir = await tempDir();
  const path = `${dir.path}/cookie_secret`;
  const secrets = await Promise.all(
    [1, 2, 3, 4].map(() => ensureCookieSecret(path)),
  );
  for (const secret of secrets) assert.deepEqual(secret, secrets[0]);
});

Deno.test("ensureCookieSecret() refuses a group- or world-readable file", {
  ignore: !posix,
}, async () => {
  await using dir = await tempDir();
  const path = `${dir.path}/cookie_secret`;
  await Deno.writeTextFile(path, "ab".repeat(32), { mode: 0o644 });
  await Deno.chmod(path, 0o644);
  await assertConfigError(
    ensureCookieSecret(path),
    path,
    "0644",
    `chmod 600 ${path}`,
  );
  await Deno.chmod(path, 0o640);
  await assertConfigError(ensureCookieSecret(path), "0640");
  await Deno.chmod(path, 0o600);
  assert.deepEqual(
    await ensureCookieSecret(path),
    new Uint8Array(32).fill(0xab),
  );
});

Deno.test("ensureCookieSecret() refuses a file that is not 64 hex characters", async () => {
  await using dir = await tempDir();
  const path = `${dir.path}/cookie_secret`;
  for (const bad of ["", "abc", "zz".repeat(32), "ab".repeat(33)]) {
    await Deno.writeTextFile(path, bad, { mode: 0o600 });
    await assertConfigError(
      ensureCookieSecret(path),
      path,
      "64 hex characters",
      "deleting the file",
    );
  }
});
