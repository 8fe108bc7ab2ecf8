import assert from "node:assert/strict";
import { errorWith } from "../../_helpers/assert_error.ts";
import {
  CONFIG_KEYS,
  type ConfigLayers,
  envName,
  type HubConfig,
  type KeySpec,
  keySpec,
  parseValueText,
  resolveConfig,
  suggestKey,
  toRawConfig,
  validateRaw,
  validateValue,
} from "../../../hub/config/mod.ts";
import { getAt, leafKeys } from "../../../hub/config/edit.ts";
import { ConfigError } from "../../../hub/errors.ts";

function spec(key: string): KeySpec {
  const found = keySpec(key);
  assert.ok(found, `no spec for ${key}`);
  return found;
}

/** Asserts that `fn` throws a ConfigError whose message contains every part. */
function assertConfigError(fn: () => unknown, ...parts: string[]): void {
  assert.throws(fn, errorWith(ConfigError, ...parts));
}

/** For each [input, expected] row, `layersOf(input)` resolves to `expected` as `read` reads it. */
function assertResolvesEach(
  rows: [string, string][],
  { layersOf, read }: {
    layersOf: (input: string) => ConfigLayers;
    read: (config: HubConfig) => string;
  },
): void {
  for (const [input, expected] of rows) {
    assert.equal(read(resolveConfig(layersOf(input))), expected, input);
  }
}

Deno.test("resolveConfig() returns every default when given nothing", () => {
  const config = resolveConfig();
  assert.equal(config.http.port, 8000);
  assert.equal(config.baseUrl, "/");
  assert.equal(config.dbPath, "/var/lib/onehub/onehub.sqlite");
  assert.equal(config.cookieSecretFile, "/var/lib/onehub/cookie_secret");
  assert.deepEqual(config.users.admin, []);
  assert.equal(config.users.allowExisting, true);
});

Deno.test("resolveConfig() applies defaults < file < env < flags", () => {
  const cases: {
    name: string;
    layers: Parameters<typeof resolveConfig>[0];
    port: number;
  }[] = [
    { name: "default", layers: {}, port: 8000 },
    { name: "file", layers: { file: { http: { port: 1 } } }, port: 1 },
    {
      name: "env over file",
      layers: { file: { http: { port: 1 } }, env: { ONEHUB_HTTP_PORT: "2" } },
      port: 2,
    },
    {
      name: "flags over env",
      layers: {
        file: { http: { port: 1 } },
        env: { ONEHUB_HTTP_PORT: "2" },
        flags: { "http.port": 3 },
      },
      port: 3,
    },
    {
      name: "flags over file",
      layers: { file: { http: { port: 1 } }, flags: { "http.port": 3 } },
      port: 3,
    },
  ];
  for (const { name, layers, port } of cases) {
    assert.equal(resolveConfig(layers).http.port, port, name);
  }
});

Deno.test("resolveConfig() parses env text per kind", () => {
  const config = resolveConfig({
    env: {
      ONEHUB_USERS_ADMIN: "alice, bob,,",
      ONEHUB_USERS_ALLOW_ALL: "yes",
      ONEHUB_API_PAGE_MAX_LIMIT: "300",
      ONEHUB_LOG_LEVEL: "debug",
      ONEHUB_UNRELATED: "x",
    },
  });
  assert.deepEqual(config.users.admin, ["alice", "bob"]);
  assert.equal(config.users.allowAll, true);
  assert.equal(config.api.pageMaxLimit, 300);
  assert.equal(config.logLevel, "debug");
});

Deno.test("resolveConfig() names key, value and accepted form for each kind", () => {
  const cases: { file: Record<string, unknown>; parts: string[] }[] = [
    {
      file: { http: { port: "80" } },
      parts: ['"http.port"', '"80"', "an integer from 0 to 65535"],
    },
    {
      file: { http: { port: 70000 } },
      parts: ['"http.port"', "70000", "an integer from 0 to 65535"],
    },
    { file: { http: { port: 1.5 } }, parts: ['"http.port"', "1.5", "integer"] },
    {
      file: { users: { allow_all: "yes" } },
      parts: ['"users.allow_all"', '"yes"', "true or false"],
    },
    {
      file: { users: { admin: "alice" } },
      parts: ['"users.admin"', '"alice"', "a list of strings"],
    },
    {
      file: { users: { admin: ["a", 1] } },
      parts: ['"users.admin"', "a list of strings"],
    },
    {
      file: { auth: { type: "ldap" } },
      parts: ['"auth.type"', '"ldap"', 'one of "pam", "dummy"'],
    },
    {
      file: { base_url: "/a b/" },
      parts: ['"base_url"', '"/a b/"', "a URL path"],
    },
    { file: { data_dir: 5 }, parts: ['"data_dir"', "5", "a string"] },
  ];
  for (const { file, parts } of cases) {
    assertConfigError(
      () => resolveConfig({ file, fileName: "/etc/x.yaml" }),
      "/etc/x.yaml",
      ...parts,
    );
  }
});

Deno.test("resolveConfig() names the env variable when its text is invalid", () => {
  assertConfigError(
    () => resolveConfig({ env: { ONEHUB_HTTP_PORT: "eighty" } }),
    "ONEHUB_HTTP_PORT",
    '"eighty"',
    "integer",
  );
  assertConfigError(
    () => resolveConfig({ env: { ONEHUB_USERS_ALLOW_ALL: "maybe" } }),
    "true or false",
  );
});

Deno.test("resolveConfig() rejects unknown keys in the file and in flags", () => {
  assertConfigError(
    () => resolveConfig({ file: { http: { prot: 1 } } }),
    'Unknown key "http.prot"',
    '"http.port"',
  );
  assertConfigError(
    () => resolveConfig({ file: { nonsense: 1 } }),
    'Unknown key "nonsense"',
    "onehub config keys",
  );
  assertConfigError(
    () => resolveConfig({ flags: { "no.such": 1 } }),
    'Unknown key "no.such"',
    "command-line flags",
  );
});

Deno.test("resolveConfig() reports a section holding a value, or a key holding a mapping", () => {
  assertConfigError(
    () => resolveConfig({ file: { http: 80 } }),
    'Invalid value for "http"',
    "a mapping",
  );
  assertConfigError(
    () => resolveConfig({ file: { base_url: { a: 1 } } }),
    'Invalid value for "base_url"',
  );
  assert.equal(
    resolveConfig({ file: { http: null, users: {} } }).http.port,
    8000,
  );
});

Deno.test("resolveConfig() treats `key: ~` as the default", () => {
  assert.equal(
    resolveConfig({ file: { http: { port: null } } }).http.port,
    8000,
  );
});

Deno.test("resolveConfig() normalises base_url", () => {
  const cases: [string, string][] = [
    ["/", "/"],
    ["", "/"],
    ["jupyter", "/jupyter/"],
    ["/jupyter", "/jupyter/"],
    ["/a/b/", "/a/b/"],
  ];
  const read = (config: HubConfig) => config.baseUrl;
  assertResolvesEach(cases, {
    layersOf: (v) => ({ file: { base_url: v } }),
    read,
  });
  assertResolvesEach(cases, {
    layersOf: (v) => ({ flags: { base_url: v } }),
    read,
  });
  for (const bad of ["/a//b/", "/../", "/a/./b", "/a?b", "http://x/"]) {
    assertConfigError(
      () => resolveConfig({ file: { base_url: bad } }),
      '"base_url"',
      "URL path",
    );
  }
});

Deno.test("resolveConfig() accepts a public_url origin and rejects anything else", () => {
  const good: [string, string][] = [
    ["", ""],
    ["https://hub.example.org", "https://hub.example.org"],
    ["https://hub.example.org/", "https://hub.example.org"],
    ["http://HUB.example.org:8443", "http://hub.example.org:8443"],
  ];
  assertResolvesEach(good, {
    layersOf: (v) => ({ file: { public_url: v } }),
    read: (config) => config.publicUrl,
  });
  const bad = [
    "hub.example.org",
    "ftp://hub.example.org",
    "https://hub.example.org/hub/",
    "https://hub.example.org/?x=1",
    "https://hub.example.org/?",
    "https://hub.example.org/#top",
    "https://user:pw@hub.example.org",
  ];
  for (const input of bad) {
    assertConfigError(
      () => resolveConfig({ file: { public_url: input } }),
      '"public_url"',
      "an origin",
      input,
    );
  }
});

Deno.test("resolveConfig() reports a username_pattern that is not a regular expression", () => {
  assertConfigError(
    () => resolveConfig({ file: { users: { username_pattern: "[a-z" } } }),
    '"users.username_pattern"',
    '"[a-z"',
    "a regular expression",
  );
  assert.equal(
    resolveConfig({ file: { users: { username_pattern: "^[a-z]+$" } } }).users
      .usernamePattern,
    "^[a-z]+$",
  );
});

Deno.test("resolveConfig() requires page_default_limit <= page_max_limit", () => {
  assertConfigError(
    () => resolveConfig({ file: { api: { page_default_limit: 300 } } }),
    '"api.page_default_limit"',
    "300",
    "api.page_max_limit (200)",
  );
  assert.equal(
    resolveConfig({
      file: { api: { page_default_limit: 300, page_max_limit: 300 } },
    }).api.pageDefaultLimit,
    300,
  );
  // env can raise the max that the file's default needs
  const config = resolveConfig({
    file: { api: { page_default_limit: 300 } },
    env: { ONEHUB_API_PAGE_MAX_LIMIT: "400" },
  });
  assert.equal(config.api.pageMaxLimit, 400);
});

Deno.test("resolveConfig() derives db_path and cookie_secret_file from data_dir", () => {
  const config = resolveConfig({ file: { data_dir: "/srv/hub/" } });
  assert.equal(config.dataDir, "/srv/hub");
  assert.equal(config.dbPath, "/srv/hub/onehub.sqlite");
  assert.equal(config.cookieSecretFile, "/srv/hub/cookie_secret");
  assert.equal(resolveConfig({ file: { db_path: "/x.db" } }).dbPath, "/x.db");
});

Deno.test("parseValueText() follows tljh-config rules per kind", () => {
  const cases: [string, string, unknown][] = [
    ["http.port", "8080", 8080],
    ["http.port", " 8080 ", 8080],
    ["users.allow_all", "true", true],
    ["users.allow_all", "FALSE", false],
    ["users.admin", "alice,bob", ["alice", "bob"]],
    ["users.admin", "", []],
    ["http.ip", "0.0.0.0", "0.0.0.0"],
    ["auth.type", "dummy", "dummy"],
  ];
  for (const [key, text, expected] of cases) {
    assert.deepEqual(
      parseValueText(spec(key), { text, source: "test" }),
      expected,
      `${key}=${text}`,
    );
  }
  assertConfigError(
    () => parseValueText(spec("http.port"), { text: "1.5", source: "test" }),
    '"http.port"',
    '"1.5"',
    "integer",
  );
  assertConfigError(
    () =>
      parseValueText(spec("users.allow_all"), { text: "on", source: "test" }),
    "true or false",
  );
});

Deno.test("validateValue() returns canonical copies", () => {
  const list = ["a"];
  const out = validateValue(spec("users.admin"), { value: list });
  assert.deepEqual(out, list);
  assert.notEqual(out, list);
});

Deno.test("validateRaw() drops nulls and canonicalises", () => {
  assert.deepEqual(
    validateRaw({ base_url: "hub", http: { port: null } }, "f"),
    { base_url: "/hub/" },
  );
  assertConfigError(
    () => validateRaw([] as unknown as Record<string, unknown>, "f"),
    "top level must be a mapping",
  );
});

Deno.test("toRawConfig() covers exactly the schema keys", () => {
  const raw = toRawConfig(resolveConfig());
  assert.deepEqual(leafKeys(raw).sort(), CONFIG_KEYS.map((k) => k.key).sort());
  for (const k of CONFIG_KEYS) {
    if (
      !["db_path", "cookie_secret_file", "auth.crypt_key_file"].includes(k.key)
    ) {
      assert.deepEqual(getAt(raw, k.key), k.default, k.key);
    }
  }
  // and it round-trips through the file layer
  assert.deepEqual(resolveConfig({ file: raw }), resolveConfig());
});

Deno.test("CONFIG_KEYS defaults are valid and env names are unique", () => {
  for (const k of CONFIG_KEYS) {
    assert.deepEqual(validateValue(k, { value: k.default }), k.default, k.key);
  }
  const names = CONFIG_KEYS.map((k) => envName(k.key));
  assert.equal(new Set(names).size, names.length);
  assert.equal(
    envName("auth.dummy.allow_public"),
    "ONEHUB_AUTH_DUMMY_ALLOW_PUBLIC",
  );
});

Deno.test("suggestKey() finds near misses and bare last segments", () => {
  assert.equal(suggestKey("http.prot"), "http.port");
  assert.equal(suggestKey("port"), "http.port");
  assert.equal(suggestKey("users.admins"), "users.admin");
  assert.equal(suggestKey("completely.different"), undefined);
});

type Same<A, B> = (<T>() => T extends A ? 1 : 2) extends
  (<T>() => T extends B ? 1 : 2) ? true
  : false;

Deno.test('spawner.min_free_memory: a memory size, 256M by default; "" and "0" check nothing; its errors name it', () => {
  const minFree = (value?: string) =>
    resolveConfig({
      file: value === undefined
        ? {}
        : { spawner: { "min_free_memory": value } },
    }).spawner.minFreeMemoryBytes;
  assert.equal(minFree(), 256 * 1024 ** 2);
  assert.equal(minFree("1G"), 1024 ** 3);
  assert.equal(minFree("536870912"), 512 * 1024 ** 2);
  assert.equal(minFree(""), null);
  assert.equal(minFree("0"), null);
  assertConfigError(
    () => minFree("lots"),
    '"spawner.min_free_memory"',
    '"lots"',
    'bytes or a size such as "512M" or "2G"',
  );
  assert.equal(spec("spawner.min_free_memory").reload, "live");
  const env = resolveConfig({ env: { ONEHUB_SPAWNER_MIN_FREE_MEMORY: "" } });
  assert.equal(env.spawner.minFreeMemoryBytes, null);
  // The file form keeps the size (in bytes) and the "no check".
  for (const value of ["1G", ""]) {
    const config = resolveConfig({
      file: { spawner: { "min_free_memory": value } },
    });
    assert.equal(
      resolveConfig({ file: toRawConfig(config) }).spawner.minFreeMemoryBytes,
      config.spawner.minFreeMemoryBytes,
    );
  }
});

Deno.test("limits.cpu, limits.memory and spawner.min_free_memory take a YAML number as its text; other strings do not", () => {
  const config = resolveConfig({
    file: {
      limits: { cpu: 1.5, memory: 1073741824 },
      spawner: { "min_free_memory": 536870912 },
    },
  });
  assert.equal(config.limits.cpu, 1.5);
  assert.equal(config.limits.memoryBytes, 1024 ** 3);
  assert.equal(config.spawner.minFreeMemoryBytes, 512 * 1024 ** 2);
  assertConfigError(
    () => resolveConfig({ file: { limits: { cpu: true } } }),
    '"limits.cpu"',
  );
  assertConfigError(
    () => resolveConfig({ file: { spawner: { "default_url": 7 } } }),
    '"spawner.default_url"',
  );
});

Deno.test("HubConfig's type follows the schema: each field typed by its kind or its resolve", () => {
  // Compile-time: a wrong field type or a missing field fails `deno check`.
  const checks: true[] = [
    true satisfies Same<HubConfig["auth"]["pam"]["timeoutSeconds"], number>,
    true satisfies Same<HubConfig["auth"]["type"], "pam" | "dummy" | "oauth">,
    true satisfies Same<HubConfig["limits"]["memoryBytes"], number | null>,
    true satisfies Same<HubConfig["users"]["allowed"], string[]>,
    true satisfies Same<HubConfig["https"]["hsts"], boolean>,
  ];
  assert.equal(checks.length, 5);
});

Deno.test("every schema row has its own field, and a resolved config has exactly those fields", () => {
  const fields = CONFIG_KEYS.map((k) => k.field);
  assert.equal(new Set(fields).size, fields.length);
  const config = resolveConfig({});
  assert.deepEqual(
    leafKeys(config as unknown as Record<string, unknown>).sort(),
    [...fields].sort(),
  );
});

Deno.test("course_files.source takes a directory or a git URL of the five schemes; branch takes a branch name, never an option", () => {
  const course = (values: Record<string, unknown>) =>
    resolveConfig({ file: { "course_files": values } }).courseFiles;
  for (
    const source of [
      "/srv/course",
      "https://example.org/c.git",
      "http://h/c.git",
      "git://h/c",
      "ssh://git@h/c.git",
      "file:///srv/repo",
    ]
  ) assert.equal(course({ source }).source, source);
  for (const source of ["ext::sh -c touch% /tmp/pwned", "git@h:c.git", "-u"]) {
    assert.throws(
      () => course({ source }),
      errorWith(ConfigError, '"course_files.source"', "ssh://"),
    );
  }
  for (const branch of ["main", "2026/spring", "v1.2_fix-3"]) {
    assert.equal(course({ branch }).branch, branch);
  }
  for (
    const branch of [
      "--upload-pack=touch /tmp/pwned",
      "-b",
      "a..b",
      "a b",
      "x.lock",
      "dir/",
    ]
  ) {
    assert.throws(
      () => course({ branch }),
      errorWith(ConfigError, '"course_files.branch"', "not starting with"),
    );
  }
});

Deno.test("resolveConfig() takes subdomain_host as an origin with a host name, and as the public origin", () => {
  const config = resolveConfig({
    file: { "subdomain_host": "http://HUB.localhost:8000/" },
  });
  assert.equal(config.subdomainHost, "http://hub.localhost:8000");
  assert.equal(config.publicUrl, "http://hub.localhost:8000");
  assert.equal(
    resolveConfig({
      file: {
        "subdomain_host": "https://hub.example.org",
        "public_url": "https://hub.example.org/",
      },
    }).publicUrl,
    "https://hub.example.org",
  );
  for (const bad of ["hub.example.org", "https://hub.example.org/x/"]) {
    assertConfigError(
      () => resolveConfig({ file: { "subdomain_host": bad } }),
      '"subdomain_host"',
      "an origin",
    );
  }
  assertConfigError(
    () => resolveConfig({ file: { "subdomain_host": "http://10.0.0.5:8000" } }),
    '"subdomain_host"',
    "not an IP address",
  );
  assertConfigError(
    () =>
      resolveConfig({
        file: {
          "subdomain_host": "https://hub.example.org",
          "public_url": "https://other.example.org",
        },
      }),
    "different origins",
  );
});

Deno.test("resolveConfig() checks custom_scopes: custom: names, a description, subscopes that exist; roles may then name them", () => {
  const rows: Array<[Record<string, unknown>, RegExp]> = [
    [{ grader: { description: "x" } }, /names start with "custom:"/],
    [{ "custom:a": { description: "" } }, /"description" must be a non-empty/],
    [{ "custom:a": "text" }, /expected \{description/],
    [{ "custom:a": { description: "x", extra: 1 } }, /unknown key "extra"/],
    [
      { "custom:a": { description: "x", subscopes: ["custom:b"] } },
      /subscope "custom:b" is neither/,
    ],
  ];
  for (const [scopes, message] of rows) {
    assert.throws(
      () => resolveConfig({ file: { "custom_scopes": scopes } }),
      message,
    );
  }
  assert.throws(
    () =>
      resolveConfig({
        file: { roles: [{ name: "r-x", scopes: ["custom:a"] }] },
      }),
    /does not exist: define it in custom_scopes/,
  );
  const config = resolveConfig({
    file: {
      "custom_scopes": {
        "custom:a": { description: "x", subscopes: ["read:users"] },
      },
      roles: [{ name: "r-x", scopes: ["custom:a!user"] }],
    },
  });
  assert.deepEqual(config.roles[0]!.scopes, ["custom:a!user"]);
});
