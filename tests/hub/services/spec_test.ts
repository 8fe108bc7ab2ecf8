/**
 * `services.list` (hub/services/spec.ts) through the config: defaults,
 * every refusal names the service, the key and the accepted form, the
 * environment's JSON form, and the file form back.
 */
import assert from "node:assert/strict";
import {
  needsRestart,
  resolveConfig,
  toRawConfig,
} from "../../../hub/config/mod.ts";
import { ConfigError } from "../../../hub/errors.ts";

const list = (services: unknown) =>
  resolveConfig({ file: { services: { list: services } } }).services;

Deno.test("services.list resolves with JupyterHub's defaults", () => {
  const [s] = list([{ name: "grader", url: "http://127.0.0.1:9000/" }]);
  assert.deepEqual(s, {
    name: "grader",
    url: "http://127.0.0.1:9000",
    command: [],
    apiToken: "",
    admin: false,
    scopes: [],
    allowAllUsers: false,
    oauthNoConfirm: false,
    oauthClientAllowedScopes: [],
    oauthClientId: "service-grader",
    oauthRedirectUri: "",
    environment: {},
    user: "",
    cwd: "",
    display: true,
    info: {},
  });
});

Deno.test("services.list refuses bad entries with the service, the key and the fix", async (t) => {
  const rows: Array<[unknown, RegExp]> = [
    ["grader", /expected a list of mappings/],
    [[{ url: "http://x" }], /#1: "name" is missing; expected letters, digits/],
    [[{ name: "a b" }], /#1: "name" is "a b"; expected letters/],
    [
      [{ name: "g", colour: 1 }],
      /"g": unknown key "colour"; the keys are name, url/,
    ],
    [
      [{ name: "g", url: "ftp://x" }],
      /"g": "url" is "ftp:\/\/x"; expected where the service listens/,
    ],
    [
      [{ name: "g", command: "run.sh" }],
      /"g": "command" is "run.sh"; expected a list of strings/,
    ],
    [
      [{ name: "g", admin: "yes" }],
      /"g": "admin" is "yes"; expected true or false/,
    ],
    [[{ name: "g", "api_token": "short" }], /"g": "api_token" is too short/],
    [
      [{ name: "g", scopes: ["read:everything"] }],
      /"g": "scopes": .*read:everything/,
    ],
    [
      [{ name: "g", environment: { "A-B": "1" } }],
      /"g": "environment" entry "A-B"/,
    ],
    [
      [{ name: "g", user: "Root Admin" }],
      /"g": "user" is "Root Admin"; expected a Linux user name/,
    ],
    [[{ name: "g" }, { name: "g" }], /"g": the name is used twice/],
    [[{ name: "cull-idle" }], /taken by the built-in idle culler/],
  ];
  for (const [value, message] of rows) {
    await t.step(JSON.stringify(value).slice(0, 60), () => {
      assert.throws(
        () => list(value),
        (e) => e instanceof ConfigError && message.test(e.message),
      );
    });
  }
});

Deno.test("services.list reads JSON from the environment and writes the file form back", () => {
  const config = resolveConfig({
    env: {
      "ONEHUB_SERVICES_LIST":
        '[{"name":"ann","url":"http://127.0.0.1:1","command":["x"],"admin":true}]',
    },
  });
  assert.equal(config.services[0]!.admin, true);
  const raw = toRawConfig(config) as { services: { list: unknown } };
  assert.deepEqual(raw.services.list, [{
    name: "ann",
    url: "http://127.0.0.1:1",
    command: ["x"],
    admin: true,
  }]);
  assert.throws(
    () => resolveConfig({ env: { "ONEHUB_SERVICES_LIST": "{nope" } }),
    /ONEHUB_SERVICES_LIST: "\{nope"; expected a list of mappings/,
  );
});

Deno.test("services.list needs a restart; the culler's keys apply on reload", () => {
  assert.equal(needsRestart("services.list"), true);
  for (
    const key of [
      "services.cull.enabled",
      "services.cull.timeout",
      "services.cull.every",
      "services.cull.users",
      "metrics.authenticate",
      "session.shutdown_on_logout",
      "events.retention_days",
    ]
  ) assert.equal(needsRestart(key), false, key);
});
