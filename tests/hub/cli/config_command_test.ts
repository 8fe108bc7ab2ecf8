import assert from "node:assert/strict";
import { errorWith } from "../../_helpers/assert_error.ts";
import {
  applyConfigEdit,
  configCommand,
  createConfigCommand,
  formatKeysTable,
  RELOAD_HINT,
  RESTART_HINT,
} from "../../../hub/cli/config_command.ts";
import { CONFIG_KEYS } from "../../../hub/config/mod.ts";
import { readConfigFile } from "../../../hub/config/file.ts";
import { ConfigError, UsageError } from "../../../hub/errors.ts";

/** A temp dir with a config path inside, removed on dispose. */
async function tempConfig(
  text?: string,
): Promise<{ path: string } & AsyncDisposable> {
  const dir = await Deno.makeTempDir({ prefix: "onehub_config_command_" });
  const path = `${dir}/onehub/config.yaml`;
  if (text !== undefined) {
    await Deno.mkdir(`${dir}/onehub`);
    await Deno.writeTextFile(path, text);
  }
  return {
    path,
    [Symbol.asyncDispose]: () => Deno.remove(dir, { recursive: true }),
  };
}

/** Runs the command with captured output and an empty environment. */
async function run(args: string[], env: Record<string, string> = {}) {
  const out: string[] = [];
  const err: string[] = [];
  const command = createConfigCommand({
    env,
    out: (t) => out.push(t),
    err: (t) => err.push(t),
  });
  const code = await command.run(args);
  return { code, out: out.join("\n"), err: err.join("\n") };
}

async function assertThrows(
  promise: Promise<unknown>,
  type: typeof UsageError | typeof ConfigError,
  ...parts: string[]
): Promise<void> {
  await assert.rejects(promise, errorWith(type, ...parts));
}

Deno.test("configCommand set writes the parsed value and prints the change and restart hint", async () => {
  await using cfg = await tempConfig();
  const result = await run(["set", "http.port", "9000", "--config", cfg.path]);
  assert.equal(result.code, 0);
  assert.match(result.out, /Set "http.port" to 9000 \(was 8000, the default\)/);
  assert.ok(result.out.includes(RESTART_HINT));
  assert.deepEqual(await readConfigFile(cfg.path), { http: { port: 9000 } });
  if (Deno.build.os !== "windows") {
    assert.equal((await Deno.stat(cfg.path)).mode! & 0o777, 0o600);
  }
});

Deno.test("configCommand set parses values per key kind", async () => {
  await using cfg = await tempConfig();
  const cases: [string, string, unknown][] = [
    ["users.allow_all", "true", true],
    ["users.admin", "alice,bob", ["alice", "bob"]],
    ["base_url", "jupyter", "/jupyter/"],
    ["auth.type", "dummy", "dummy"],
    ["http.ip", "0.0.0.0", "0.0.0.0"],
  ];
  for (const [key, text] of cases) {
    assert.equal((await run(["--config", cfg.path, "set", key, text])).code, 0);
  }
  assert.deepEqual(await readConfigFile(cfg.path), {
    users: { allow_all: true, admin: ["alice", "bob"] },
    base_url: "/jupyter/",
    auth: { type: "dummy" },
    http: { ip: "0.0.0.0" },
  });
});

Deno.test("configCommand set of the current value changes nothing", async () => {
  await using cfg = await tempConfig("# keep me\nhttp:\n  port: 9000\n");
  const result = await run(["set", "http.port", "9000", "--config", cfg.path]);
  assert.equal(result.code, 0);
  assert.match(result.out, /already 9000/);
  assert.ok(!result.out.includes(RESTART_HINT));
  assert.equal(
    await Deno.readTextFile(cfg.path),
    "# keep me\nhttp:\n  port: 9000\n",
  );
});

Deno.test("configCommand set rejects a bad value with key, value and form, leaving the file alone", async () => {
  await using cfg = await tempConfig("http:\n  port: 9000\n");
  const cases: [string, string, string[]][] = [
    ["http.port", "eighty", [
      '"http.port"',
      '"eighty"',
      "an integer from 0 to 65535",
    ]],
    ["http.port", "70000", ['"http.port"', "70000"]],
    ["users.allow_all", "maybe", [
      '"users.allow_all"',
      '"maybe"',
      "true or false",
    ]],
    ["auth.type", "ldap", ['"auth.type"', '"ldap"', 'one of "pam", "dummy"']],
    ["public_url", "hub.example.org", ['"public_url"', "an origin"]],
    ["users.username_pattern", "[a-", [
      '"users.username_pattern"',
      "a regular expression",
    ]],
    ["api.page_default_limit", "500", [
      '"api.page_default_limit"',
      "api.page_max_limit",
    ]],
  ];
  for (const [key, value, parts] of cases) {
    await assertThrows(
      run(["set", key, value, "--config", cfg.path]),
      ConfigError,
      ...parts,
    );
  }
  assert.equal(await Deno.readTextFile(cfg.path), "http:\n  port: 9000\n");
});

Deno.test("configCommand set accepts a negative-looking value after --", async () => {
  await using cfg = await tempConfig();
  await assertThrows(
    run(["--config", cfg.path, "set", "--", "http.port", "-1"]),
    ConfigError,
    "-1",
  );
  await assertThrows(
    run(["--config", cfg.path, "set", "http.port", "-1"]),
    UsageError,
  );
});

Deno.test("configCommand unset removes the key and prunes the section", async () => {
  await using cfg = await tempConfig("http:\n  port: 9000\nbase_url: /hub/\n");
  const result = await run(["unset", "http.port", "--config", cfg.path]);
  assert.equal(result.code, 0);
  assert.match(
    result.out,
    /Unset "http.port" \(was 9000; now the default, 8000\)/,
  );
  assert.ok(result.out.includes(RESTART_HINT));
  assert.deepEqual(await readConfigFile(cfg.path), { base_url: "/hub/" });
  const again = await run(["unset", "http.port", "--config", cfg.path]);
  assert.equal(again.code, 0);
  assert.match(again.out, /not set/);
});

Deno.test("configCommand unset can remove an unknown key that blocks every other edit", async () => {
  await using cfg = await tempConfig("htpp:\n  port: 1\nbase_url: /hub/\n");
  await assertThrows(
    run(["set", "http.port", "1", "--config", cfg.path]),
    ConfigError,
    'Unknown key "htpp.port"',
  );
  assert.equal((await run(["unset", "htpp", "--config", cfg.path])).code, 0);
  assert.deepEqual(await readConfigFile(cfg.path), { base_url: "/hub/" });
});

Deno.test("configCommand add-item appends once and remove-item removes", async () => {
  await using cfg = await tempConfig();
  assert.equal(
    (await run(["add-item", "users.admin", "alice", "--config", cfg.path]))
      .code,
    0,
  );
  assert.equal(
    (await run(["add-item", "users.admin", "bob", "--config", cfg.path])).code,
    0,
  );
  const dup = await run([
    "add-item",
    "users.admin",
    "alice",
    "--config",
    cfg.path,
  ]);
  assert.equal(dup.code, 0);
  assert.match(dup.out, /already in "users.admin"/);
  assert.deepEqual(await readConfigFile(cfg.path), {
    users: { admin: ["alice", "bob"] },
  });
  const removed = await run([
    "remove-item",
    "users.admin",
    "alice",
    "--config",
    cfg.path,
  ]);
  assert.match(
    removed.out,
    /Removed "alice" from "users.admin" \(now \["bob"\]\)/,
  );
  assert.ok(removed.out.includes(RELOAD_HINT));
  assert.deepEqual(await readConfigFile(cfg.path), {
    users: { admin: ["bob"] },
  });
});

Deno.test("configCommand remove-item of an absent value is a ConfigError", async () => {
  await using cfg = await tempConfig("users:\n  admin: [bob]\n");
  await assertThrows(
    run(["remove-item", "users.admin", "carol", "--config", cfg.path]),
    ConfigError,
    '"carol"',
    '"users.admin"',
    '["bob"]',
  );
});

Deno.test("configCommand add-item and remove-item refuse keys that are not lists", async () => {
  await using cfg = await tempConfig();
  for (const verb of ["add-item", "remove-item"]) {
    await assertThrows(
      run([verb, "http.port", "1", "--config", cfg.path]),
      UsageError,
      "not a list",
      "config set",
    );
  }
  await assertThrows(
    run(["add-item", "users.admin", " ", "--config", cfg.path]),
    ConfigError,
    "non-empty",
  );
  await assert.rejects(Deno.stat(cfg.path), Deno.errors.NotFound);
});

Deno.test("configCommand get prints the resolved value in the form set accepts", async () => {
  await using cfg = await tempConfig(
    "users:\n  admin: [alice, bob]\ndata_dir: /srv/hub\n",
  );
  const cases: [string, string][] = [
    ["users.admin", "alice,bob"],
    ["http.port", "8000"],
    ["db_path", "/srv/hub/onehub.sqlite"],
    ["users.allow_existing", "true"],
  ];
  for (const [key, expected] of cases) {
    const result = await run(["get", key, "--config", cfg.path]);
    assert.equal(result.code, 0);
    assert.equal(result.out, expected, key);
  }
  const overridden = await run(["get", "http.port", "--config", cfg.path], {
    ONEHUB_HTTP_PORT: "9100",
  });
  assert.equal(overridden.out, "9100");
  assert.match(overridden.err, /ONEHUB_HTTP_PORT is set/);
});

Deno.test("configCommand show prints the file; --resolved prints every key", async () => {
  await using cfg = await tempConfig("# comment\nhttp:\n  port: 9000\n");
  assert.equal(
    (await run(["show", "--config", cfg.path])).out,
    "http:\n  port: 9000\n",
  );
  const resolved = await run(["show", "--resolved", "--config", cfg.path]);
  assert.match(resolved.out, /^ {2}port: 9000$/m);
  assert.match(resolved.out, /^ {2}page_default_limit: 50$/m);
  assert.match(
    resolved.out,
    /^cookie_secret_file: \/var\/lib\/onehub\/cookie_secret$/m,
  );
});

Deno.test("configCommand show of a missing file prints {}", async () => {
  await using cfg = await tempConfig();
  assert.equal((await run(["show", "--config", cfg.path])).out, "{}\n");
  await assert.rejects(Deno.stat(cfg.path), Deno.errors.NotFound);
});

Deno.test("configCommand reads ONEHUB_CONFIG when --config is absent", async () => {
  await using cfg = await tempConfig();
  assert.equal(
    (await run(["set", "http.port", "9001"], { ONEHUB_CONFIG: cfg.path })).code,
    0,
  );
  assert.deepEqual(await readConfigFile(cfg.path), { http: { port: 9001 } });
});

Deno.test("configCommand keys lists every key with kind, default and env name", async () => {
  const result = await run(["keys"]);
  assert.equal(result.code, 0);
  const lines = result.out.split("\n");
  assert.equal(lines.length, CONFIG_KEYS.length + 1);
  assert.match(
    lines[0]!,
    /^KEY\s+KIND\s+DEFAULT\s+ENVIRONMENT\s+RELOAD\s+DOC$/,
  );
  assert.match(
    result.out,
    /^http\.port\s+int 0\.\.65535\s+8000\s+ONEHUB_HTTP_PORT\s+restart\s+Public port/m,
  );
  assert.match(
    result.out,
    /^users\.admin\s+list\s+\[\]\s+ONEHUB_USERS_ADMIN\s+live\s/m,
  );
  assert.match(
    result.out,
    /^auth\.type\s+enum pam\|dummy\|oauth\s+"pam"\s+ONEHUB_AUTH_TYPE/m,
  );
  assert.equal(formatKeysTable([]).split("\n").length, 1);
});

Deno.test("configCommand --help works for the command and every verb", async () => {
  const top = await run(["--help"]);
  assert.equal(top.code, 0);
  assert.match(top.out, /Usage: onehub config <verb>/);
  for (
    const verb of [
      "show",
      "get",
      "set",
      "unset",
      "add-item",
      "remove-item",
      "keys",
    ]
  ) {
    const result = await run([verb, "--help"]);
    assert.equal(result.code, 0, verb);
    assert.match(result.out, new RegExp(`^Usage: onehub config ${verb}`), verb);
  }
  assert.equal(configCommand.name, "config");
  assert.match(configCommand.help, /tljh-config/);
});

Deno.test("configCommand throws UsageError for wrong usage", async () => {
  await using cfg = await tempConfig();
  const cases: [string[], string][] = [
    [[], "Missing verb"],
    [["frob"], 'Unknown verb "frob"'],
    [["frob", "--help"], 'Unknown verb "frob"'],
    [["toString"], 'Unknown verb "toString"'],
    [["get"], "takes 1 argument, got 0"],
    [["set", "http.port"], "takes 2 arguments, got 1"],
    [["keys", "extra"], "takes no arguments, got 1"],
    [["get", "http.prot"], 'did you mean "http.port"'],
    [["set", "nope", "1"], 'Unknown key "nope"'],
    [["unset", "nope"], 'Unknown key "nope"'],
    [["get", "http.port", "--resolved"], "--resolved only applies"],
    [["show", "--bogus"], "--bogus"],
  ];
  for (const [args, part] of cases) {
    await assertThrows(
      configCommand.run([...args, "--config", cfg.path]),
      UsageError,
      part,
    );
  }
  await assertThrows(
    configCommand.run(["show", "--config", ""]),
    UsageError,
    "--config needs a file path",
  );
  await assert.rejects(Deno.stat(cfg.path), Deno.errors.NotFound);
});

Deno.test("configCommand reports a broken config file as a ConfigError naming the line", async () => {
  await using cfg = await tempConfig("http:\n  port: [80\n");
  for (
    const verb of [["show"], ["get", "http.port"], ["set", "http.port", "1"]]
  ) {
    await assertThrows(
      run([...verb, "--config", cfg.path]),
      ConfigError,
      cfg.path,
      "line",
    );
  }
});

Deno.test("configCommand concurrent sets both land", async () => {
  await using cfg = await tempConfig();
  const edits = [
    ["add-item", "users.admin", "a"],
    ["add-item", "users.admin", "b"],
    ["add-item", "users.admin", "c"],
    ["set", "http.port", "9000"],
    ["set", "base_url", "/hub/"],
  ];
  const results = await Promise.all(
    edits.map((e) => run([...e, "--config", cfg.path])),
  );
  assert.deepEqual(results.map((r) => r.code), [0, 0, 0, 0, 0]);
  const raw = await readConfigFile(cfg.path);
  assert.deepEqual([...(raw.users as { admin: string[] }).admin].sort(), [
    "a",
    "b",
    "c",
  ]);
  assert.deepEqual(raw.http, { port: 9000 });
  assert.equal(raw.base_url, "/hub/");
});

Deno.test("applyConfigEdit() is pure and reports what changed", () => {
  const raw = { users: { admin: ["alice"] } };
  const cases: [Parameters<typeof applyConfigEdit>[1], boolean, RegExp][] = [
    [
      { verb: "set", key: "http.port", value: "1" },
      true,
      /Set "http.port" to 1/,
    ],
    [{ verb: "unset", key: "users.admin" }, true, /Unset "users.admin"/],
    [{ verb: "unset", key: "http.port" }, false, /not set/],
    [
      { verb: "add-item", key: "users.admin", value: "bob" },
      true,
      /Added "bob"/,
    ],
    [
      { verb: "add-item", key: "users.admin", value: "alice" },
      false,
      /already in/,
    ],
    [
      { verb: "remove-item", key: "users.admin", value: "alice" },
      true,
      /now \[\]/,
    ],
  ];
  for (const [edit, changed, message] of cases) {
    const result = applyConfigEdit(raw, edit);
    assert.equal(result.changed, changed, JSON.stringify(edit));
    assert.match(result.message, message);
  }
  assert.deepEqual(raw, { users: { admin: ["alice"] } });
});

Deno.test("applyConfigEdit() rejects a list key whose file value is not a list", () => {
  assert.throws(
    () =>
      applyConfigEdit({ users: { admin: "alice" } }, {
        verb: "add-item",
        key: "users.admin",
        value: "bob",
      }),
    (error: unknown) =>
      error instanceof ConfigError &&
      /"users.admin" in the config file/.test(error.message),
  );
});
