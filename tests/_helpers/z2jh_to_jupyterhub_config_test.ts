/**
 * tests/_helpers/z2jh_to_jupyterhub_config.ts: Python literals (read back
 * by Debian's python3 with `ast.literal_eval`), the chart's order and
 * shapes, and an export's values.yaml converted whole.
 */
import assert from "node:assert/strict";
import { resolveConfig } from "../../hub/config/mod.ts";
import { EMPTY_SNAPSHOT } from "../../hub/migrate/snapshot.ts";
import { exportZ2jh } from "../../hub/migrate/z2jh.ts";
import { renderValuesYaml } from "../../hub/migrate/z2jh_render.ts";
import {
  pythonLiteral,
  valuesToJupyterhubConfig,
  z2jhToJupyterhubConfig,
} from "./z2jh_to_jupyterhub_config.ts";

/** Python's reading of `literal` (`ast.literal_eval`), as JSON. */
async function pythonReads(literal: string): Promise<unknown> {
  const out = await new Deno.Command("/usr/bin/python3", {
    args: [
      "-c",
      "import ast, json, sys; print(json.dumps(ast.literal_eval(sys.argv[1])))",
      literal,
    ],
  }).output();
  assert.equal(out.code, 0, new TextDecoder().decode(out.stderr));
  return JSON.parse(new TextDecoder().decode(out.stdout));
}

Deno.test("pythonLiteral writes dicts, lists, strings, numbers, booleans and None that Python reads back as the same JSON", async () => {
  const value = {
    s: 'quote " backslash \\ newline \n tab \t unicode é ✓ \u0001',
    n: [0, -3, 30, 1.5, 1e21, 2.5e-7],
    b: [true, false],
    none: null,
    nested: { "key with space": [{ "a:b": [] }, {}] },
  };
  const literal = pythonLiteral(value);
  assert.match(literal, /"b": \[True, False\], "none": None/);
  assert.deepEqual(await pythonReads(literal), value);
});

Deno.test("pythonLiteral refuses what JSON has no form for", () => {
  assert.throws(() => pythonLiteral(Number.NaN), TypeError);
  assert.throws(() => pythonLiteral(Infinity), TypeError);
  assert.throws(() => pythonLiteral(new Date(0)), /Date.*not a JSON value/);
});

Deno.test("the chart's order: hub.* traits, services, load_roles (key as name unless set), then hub.config winning", () => {
  const py = valuesToJupyterhubConfig({
    hub: {
      baseUrl: "/jh/",
      allowNamedServers: true,
      namedServerLimitPerUser: 2,
      shutdownOnLogout: null,
      services: {
        grader: { url: "http://grader:8000", apiToken: "t0k" },
        other: { name: "renamed", command: ["x"] },
      },
      loadRoles: {
        auditor: { scopes: ["list:users"], users: ["dee"] },
        ta: { name: "teaching-assistant", groups: ["tas"] },
      },
      config: {
        JupyterHub: {
          "cookie_secret": "seeded by the chart",
          services: [],
          "load_groups": { class: { users: ["bob"], properties: {} } },
        },
        CryptKeeper: { keys: ["k"] },
        Authenticator: { "admin_users": ["ada"], "allow_all": false },
      },
    },
    singleuser: { memory: { limit: "1G" } },
  });
  assert.equal(
    py,
    [
      "c = get_config()  # noqa",
      'c.JupyterHub.base_url = "/jh/"',
      "c.JupyterHub.allow_named_servers = True",
      "c.JupyterHub.named_server_limit_per_user = 2",
      'c.JupyterHub.services = [{"name": "grader", "url": "http://grader:8000", "api_token": "t0k"}, {"name": "renamed", "command": ["x"]}]',
      'c.JupyterHub.load_roles = [{"name": "auditor", "scopes": ["list:users"], "users": ["dee"]}, {"name": "teaching-assistant", "groups": ["tas"]}]',
      'c.JupyterHub.load_groups = {"class": {"users": ["bob"], "properties": {}}}',
      'c.Authenticator.admin_users = ["ada"]',
      "c.Authenticator.allow_all = False",
      "",
    ].join("\n"),
  );
});

Deno.test("a REPLACE-ME placeholder, a lowercase section or a wrong shape stops the conversion, naming the path", () => {
  assert.throws(
    () =>
      valuesToJupyterhubConfig({
        hub: {
          config: {
            JupyterHub: { "authenticator_class": "REPLACE-ME-choose" },
            GenericOAuthenticator: { scope: ["openid", "REPLACE-ME: x"] },
          },
        },
      }),
    /2 REPLACE-ME placeholder\(s\)[^]*hub\.config\.JupyterHub\.authenticator_class = REPLACE-ME-choose\n {2}hub\.config\.GenericOAuthenticator\.scope\[1\]/,
  );
  assert.throws(
    () =>
      valuesToJupyterhubConfig({ hub: { config: { loadRoles: { a: {} } } } }),
    /hub\.config\.loadRoles: not a Configurable class name/,
  );
  assert.throws(
    () => valuesToJupyterhubConfig({ hub: { loadRoles: { a: ["x"] } } }),
    /hub\.loadRoles\.a is not a mapping/,
  );
  assert.throws(
    () =>
      valuesToJupyterhubConfig({
        hub: { config: { JupyterHub: { "not-a-trait": 1 } } },
      }),
    /hub\.config\.JupyterHub\.not-a-trait: not a trait name/,
  );
});

Deno.test("an export's values.yaml, read as YAML 1.1: a group named no stays a string; dummy auth, groups, roles", async () => {
  const config = resolveConfig({
    file: {
      auth: { type: "dummy" },
      users: { admin: ["ada"] },
      groups: { no: { users: ["bob"], properties: { seats: 30 } } },
      roles: [{ name: "auditor", scopes: ["list:users"], users: ["dee"] }],
    },
  });
  const result = exportZ2jh({ config, snapshot: EMPTY_SNAPSHOT }, {
    includeSecrets: false,
    discovery: null,
  });
  const py = await z2jhToJupyterhubConfig(
    await renderValuesYaml(result, {
      configPath: "config.yaml",
      dbPath: null,
      at: new Date(0),
      includeSecrets: false,
    }),
  );
  const lines = py.split("\n");
  assert.ok(lines.includes('c.JupyterHub.base_url = "/"'), py);
  assert.ok(lines.includes('c.JupyterHub.authenticator_class = "dummy"'), py);
  assert.ok(
    lines.includes(
      'c.JupyterHub.load_groups = {"no": {"users": ["bob"], "properties": {"seats": 30}}}',
    ),
    py,
  );
  assert.ok(
    lines.includes(
      'c.JupyterHub.load_roles = [{"name": "auditor", "scopes": ["list:users"], "users": ["dee"]}]',
    ),
    py,
  );
  assert.ok(lines.includes('c.Authenticator.admin_users = ["ada"]'), py);
});

Deno.test("a PAM hub's export cannot start a JupyterHub: its placeholder authenticator is named", async () => {
  const config = resolveConfig({ file: {} });
  const result = exportZ2jh({ config, snapshot: EMPTY_SNAPSHOT }, {
    includeSecrets: false,
    discovery: null,
  });
  const yaml = await renderValuesYaml(result, {
    configPath: "config.yaml",
    dbPath: null,
    at: new Date(0),
    includeSecrets: false,
  });
  await assert.rejects(
    z2jhToJupyterhubConfig(yaml),
    /hub\.config\.JupyterHub\.authenticator_class = REPLACE-ME-choose-an-authenticator/,
  );
});
