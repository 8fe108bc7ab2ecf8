/**
 * Moving a hub to and from the real JupyterHub 5.2.1: a fresh Debian 13
 * ("trixie", ../shared/testbed, `SUITE=trixie`) with `jupyterhub` from apt
 * (`--no-install-recommends`; its dependency node-configurable-http-proxy is
 * Debian's package of configurable-http-proxy from npm), run as a transient
 * unit on loopback ports with an admin's API token. The container shares
 * the host's network, so onehub runs on the host:
 *
 * - onehub A (`onehub serve`, dummy login, sharing on, a role `auditor`
 *   for dee from its config) gets users, an admin, a group with properties
 *   and shares of ada's server through its own REST API;
 * - `onehub export jupyterhub` (while A serves) pushes them; JupyterHub's
 *   own REST API shows them there; a second run changes nothing;
 * - the `load_roles` the export printed goes into jupyterhub_config.py,
 *   JupyterHub restarts, and dee's own token (made by the admin through the
 *   API) lists the users, while bob's is refused;
 * - `onehub import jupyterhub` brings users, admins, the group and dee's
 *   role into an empty onehub B; a second run changes nothing;
 * - last, `onehub export z2jh` of A writes values.yaml, and JupyterHub
 *   restarts configured as the Zero to JupyterHub chart would configure it
 *   from that file (tests/_helpers/z2jh_to_jupyterhub_config.ts:
 *   `hub.config` one to one onto the traitlets, `hub.loadRoles` and
 *   `hub.services` as lists), with only the test's listeners, a database
 *   file of its own and its admin added. A fresh database, so what the
 *   export pushed before cannot stand in for what the config makes, and
 *   last, so the steps before run on the JupyterHub they always had. It
 *   must start (with no trait its classes do not know, which traitlets
 *   would only warn about), and its REST API must show the group from
 *   `load_groups` with members and properties, ada an admin, dee's
 *   auditor role working (her token lists the users, bob's is refused) and
 *   the `user` role widened for sharing. A REPLACE-ME left in the values
 *   (a PAM hub's authenticator, say) fails the step, naming it.
 *
 * What the chart adds for Kubernetes stays out: KubeSpawner's settings
 * (`singleuser`) and the idle culler (`cull`, a managed service running
 * jupyterhub-idle-culler in the hub's image).
 *
 * About 1.5 to 2.5 minutes, most of it debootstrap and apt (jupyterhub with
 * nodejs). Needs root.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { freePorts } from "../_helpers/free_ports.ts";
import { waitFor } from "../_helpers/wait_for.ts";
import {
  runMain,
  runOnehub,
  startServe,
  writeHubConfig,
} from "../_helpers/serve_process.ts";
import { REAL_PROCESSES } from "../_helpers/system_users.ts";
import { container, skipWithoutTestbed } from "../_helpers/testbed.ts";
import { printErr } from "../../hub/cli/_print.ts";
import { loadConfig } from "../../hub/config/file.ts";
import { openDatabase } from "../../hub/db/mod.ts";
import { listRoleAssignments } from "../../hub/db/roles.ts";
import { allGroups } from "../../hub/migrate/onehub_state.ts";
import { z2jhToJupyterhubConfig } from "../_helpers/z2jh_to_jupyterhub_config.ts";

const ignore = await skipWithoutTestbed("jupyterhub5_sync_test");

const NAME = "onehub-jh5";
const box = container(NAME);
/** The JupyterHub admin's API token (`c.JupyterHub.api_tokens`). */
const ADMIN_TOKEN = crypto.getRandomValues(new Uint8Array(24)).toHex();

/**
 * The test's own jupyterhub_config.py lines: loopback ports, the database
 * file `db` in /srv/jh, and the admin's API token.
 */
function listenerLines(
  ports: readonly number[],
  db = "jupyterhub.sqlite",
): string[] {
  const [port, hubPort, apiPort] = ports;
  return [
    `c.JupyterHub.bind_url = "http://127.0.0.1:${port}"`,
    `c.JupyterHub.hub_bind_url = "http://127.0.0.1:${hubPort}"`,
    `c.ConfigurableHTTPProxy.api_url = "http://127.0.0.1:${apiPort}"`,
    `c.JupyterHub.db_url = "sqlite:////srv/jh/${db}"`,
    'c.JupyterHub.cookie_secret_file = "/srv/jh/cookie_secret"',
    'c.JupyterHub.pid_file = "/srv/jh/jupyterhub.pid"',
    `c.JupyterHub.api_tokens = {"${ADMIN_TOKEN}": "admin"}`,
  ];
}

/** jupyterhub_config.py: loopback ports, dummy login, an admin with a token. */
function jupyterhubConfig(ports: readonly number[], roles = ""): string {
  return [
    "c = get_config()  # noqa",
    ...listenerLines(ports),
    'c.JupyterHub.authenticator_class = "dummy"',
    "c.Authenticator.allow_all = True",
    'c.Authenticator.admin_users = {"admin"}',
    roles,
    "",
  ].join("\n");
}

/** (Re)starts JupyterHub as the transient unit jh5 with `config`; waits for its API. */
async function startJupyterHub(config: string, url: string): Promise<void> {
  await box.run("systemctl", "stop", "jh5");
  await box.inside(
    `mkdir -p /srv/jh && cat > /srv/jh/jupyterhub_config.py <<'EOF'\n${config}EOF`,
  );
  await box.inside(
    "systemd-run --unit=jh5 --working-directory=/srv/jh /usr/bin/python3 -m jupyterhub -f /srv/jh/jupyterhub_config.py",
  );
  await waitFor(async () => {
    const res = await fetch(`${url}hub/api/`).catch(() => null);
    await res?.body?.cancel();
    return res?.ok ?? false;
  }, { timeoutMs: 60_000, description: "JupyterHub's API answers" });
}

/** `onehub export jupyterhub ARGS`, the real command line; its status and output. */
async function exportOnce(args: string[]) {
  const { code, stdout, stderr } = await runMain([
    "export",
    "jupyterhub",
    ...args,
  ]);
  return { code, out: stdout + stderr };
}

/** A JupyterHub REST call with `token`; the parsed body. */
async function jh(
  url: string,
  path: string,
  init: RequestInit & { token?: string } = {},
) {
  const res = await fetch(`${url}hub/api/${path}`, {
    ...init,
    headers: { authorization: `token ${init.token ?? ADMIN_TOKEN}` },
  });
  return { status: res.status, body: await res.json() };
}

/**
 * The onehub A config: dummy login, sharing on, dee an auditor; two custom
 * scopes and a week-long session, which JupyterHub checks at its start
 * when they come from `onehub export z2jh`.
 */
const ONEHUB_A = [
  "auth:",
  "  type: dummy",
  "session:",
  "  max_age: 604800",
  "custom_scopes:",
  "  custom:grades:read:",
  "    description: Read the grades",
  "    subscopes: [custom:grades:list]",
  "  custom:grades:list:",
  "    description: List the grades",
  "sharing:",
  "  enabled: true",
  "roles:",
  "  - name: auditor",
  "    description: Reads every user",
  "    scopes: [list:users, read:users]",
  "    users: [dee]",
  "",
];

/** Fills the serving onehub A through its REST API as ada, its admin. */
async function fillOnehub(url: string, token: string): Promise<void> {
  const call = async (method: string, path: string, body: unknown) => {
    const res = await fetch(`${url}hub/api/${path}`, {
      method,
      headers: { authorization: `token ${token}` },
      body: JSON.stringify(body),
    });
    const text = await res.text();
    assert.ok(res.ok, `${method} ${path}: ${res.status} ${text}`);
  };
  await call("POST", "users", { usernames: ["bob", "cy"] });
  await call("POST", "groups/class", { users: ["bob", "cy"] });
  await call("PUT", "groups/class/properties", { course: "intro", seats: 30 });
  await call("POST", "shares/ada/", { user: "bob" });
  await call("POST", "shares/ada/", {
    group: "class",
    scopes: ["access:servers", "read:servers"],
  });
}

/** What JupyterHub holds, for comparing two runs (activity times left out). */
async function jupyterHubState(url: string) {
  const users = (await jh(url, "users")).body as Array<Record<string, unknown>>;
  const groups = (await jh(url, "groups")).body;
  const shares = (await jh(url, "shares/ada")).body.items;
  return {
    users: users.map((u) => [u.name, u.admin, u.roles, u.groups]),
    groups,
    shares: shares.map((
      s: Record<string, unknown>,
    ) => [s.user, s.group, s.scopes]),
  };
}

/** A new API token of `user` in JupyterHub, made by the admin. */
async function tokenOf(url: string, user: string): Promise<string> {
  const made = await jh(url, `users/${user}/tokens`, {
    method: "POST",
    body: JSON.stringify({ note: "jupyterhub5_sync_test" }),
  });
  assert.equal(made.status, 201, JSON.stringify(made.body));
  return made.body.token as string;
}

/** dee's auditor role works in JupyterHub: her own token lists the users, bob's is refused. */
async function assertAuditorRole(url: string): Promise<void> {
  const dee = await jh(url, "users", { token: await tokenOf(url, "dee") });
  assert.equal(dee.status, 200, JSON.stringify(dee.body));
  assert.deepEqual(
    dee.body.map((u: { name: string }) => u.name).sort(),
    ["ada", "admin", "bob", "cy", "dee"],
  );
  const bob = await jh(url, "users", { token: await tokenOf(url, "bob") });
  assert.equal(bob.status, 403);
  assert.match(bob.body.message, /requires any of \[list:users\]/);
}

/** The `c.JupyterHub.load_roles = [...]` lines of an export's output. */
function loadRolesOf(out: string): string {
  const m = /^c\.JupyterHub\.load_roles = \[\n(?:.*\n)*?\]$/m.exec(out);
  assert.ok(m, `no load_roles in:\n${out}`);
  return m[0];
}

/** The lines after the config made from values.yaml: the test's listeners, a fresh database, its admin added to the export's. */
function z2jhTail(ports: readonly number[]): string[] {
  return [
    "# jupyterhub5_sync_test's own: loopback ports, a fresh database, its admin",
    ...listenerLines(ports, "z2jh.sqlite"),
    'c.Authenticator.admin_users = {*c.Authenticator.get("admin_users", []), "admin"}',
    "",
  ];
}

/**
 * `onehub export z2jh` of onehub A, its values.yaml as the chart would
 * configure JupyterHub (tests/_helpers/z2jh_to_jupyterhub_config.ts) plus
 * {@linkcode z2jhTail}; JupyterHub restarted with it on a database file of
 * its own, so it holds only what the config made.
 */
async function z2jhStep(
  { url, ports, configA, out }: {
    url: string;
    ports: readonly number[];
    configA: string;
    out: string;
  },
): Promise<void> {
  const exported = await runMain([
    "export",
    "z2jh",
    "--out",
    out,
    "--config",
    configA,
  ]);
  assert.equal(exported.code, 0, exported.stdout + exported.stderr);
  const values = await Deno.readTextFile(join(out, "values.yaml"));
  const fromValues = await z2jhToJupyterhubConfig(values).catch((error) => {
    throw new Error(
      `values.yaml cannot configure JupyterHub: ${error.message}\n${values}`,
    );
  });
  assert.match(fromValues, /^c\.JupyterHub\.authenticator_class = "dummy"$/m);
  const config = [fromValues, ...z2jhTail(ports)].join("\n");
  printErr(`jupyterhub5_sync_test: from values.yaml:\n${config}`);
  await startJupyterHub(config, url);
  // traitlets only warns about a trait its class does not have.
  const log = await box.inside(
    "journalctl --no-pager -o cat _SYSTEMD_INVOCATION_ID=$(systemctl show -p InvocationID --value jh5)",
  );
  assert.match(log, /Using Authenticator: .*DummyAuthenticator/, log);
  assert.doesNotMatch(log, /not recognized by|Traceback/, log);
  await assertZ2jhState(url);
}

/** What JupyterHub holds after starting with the export's config: the group, the admins, the roles. */
async function assertZ2jhState(url: string): Promise<void> {
  const users = (await jh(url, "users")).body as Array<
    { name: string; admin: boolean; roles: string[] }
  >;
  assert.deepEqual(
    users.map((u) => [u.name, u.admin]).sort(),
    [["ada", true], ["admin", true], ["bob", false], ["cy", false], [
      "dee",
      false,
    ]],
  );
  const dee = users.find((u) => u.name === "dee");
  assert.deepEqual(dee?.roles.sort(), ["auditor", "user"]);
  const groups = (await jh(url, "groups")).body as Array<
    { name: string; users: string[]; properties: unknown }
  >;
  assert.deepEqual(
    groups.map((g) => [g.name, g.users.sort(), g.properties]),
    [["class", ["bob", "cy"], { course: "intro", seats: 30 }]],
  );
  await assertAuditorRole(url);
  // The `user` role of hub.loadRoles, widened for sharing as onehub does.
  const bob = await jh(url, "user", { token: await tokenOf(url, "bob") });
  assert.ok(
    bob.body.scopes.includes("shares!user=bob"),
    JSON.stringify(bob.body.scopes),
  );
}

Deno.test({
  name:
    "JupyterHub 5.2.1 from Debian 13: onehub export jupyterhub pushes users, admins, groups, properties and shares, twice changes nothing, its load_roles work there; onehub import jupyterhub brings them back; onehub export z2jh's hub.config starts it with the same groups, admins and roles",
  ignore,
  ...REAL_PROCESSES,
  fn: async (t) => {
    const started = performance.now();
    await box.down();
    const ports = freePorts(3);
    const url = `http://127.0.0.1:${ports[0]}/`;
    const dirA = await Deno.makeTempDir({ prefix: "onehub-jh5-a-" });
    const dirB = await Deno.makeTempDir({ prefix: "onehub-jh5-b-" });
    let failed = false;
    const step = async (name: string, fn: () => Promise<void>) => {
      if (!(await t.step(name, fn))) failed = true;
    };
    let serving: Awaited<ReturnType<typeof startServe>> | undefined;
    try {
      await box.boot({ suite: "trixie" });
      // No service start during apt: Debian's jupyterhub.service would take port 8000.
      await box.inside(
        "printf '#!/bin/sh\\nexit 101\\n' >/usr/sbin/policy-rc.d && chmod +x /usr/sbin/policy-rc.d && apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends jupyterhub >/tmp/apt.log 2>&1",
      );
      assert.match(await box.inside("jupyterhub --version"), /^5\.2\./);
      await startJupyterHub(jupyterhubConfig(ports), url);
      printErr(
        `jupyterhub5_sync_test: JupyterHub up after ${
          ((performance.now() - started) / 1000).toFixed(0)
        } s`,
      );

      const configA = await writeHubConfig(dirA, ONEHUB_A);
      await runOnehub(["user", "add", "ada", "--admin", "--config", configA]);
      serving = await startServe(["--config", configA]);
      const adaToken = await runOnehub(["token", "ada", "--config", configA]);
      await fillOnehub(serving.url, adaToken);
      await runOnehub(["token", "bob", "--config", configA]);
      const exportArgs = [
        "--url",
        url,
        "--token",
        ADMIN_TOKEN,
        "--config",
        configA,
      ];

      let snippet = "";
      await step(
        "the export pushes users, admins, groups with properties and shares (onehub A serving)",
        async () => {
          const dry = await exportOnce([...exportArgs, "--dry-run"]);
          assert.equal(dry.code, 0, dry.out);
          assert.match(dry.out, /Plan \(dry run: nothing was changed\):/);
          assert.equal(
            (await jh(url, "groups")).body.length,
            0,
            "a dry run changes nothing",
          );
          const first = await exportOnce(exportArgs);
          assert.equal(first.code, 0, first.out);
          printErr(`jupyterhub5_sync_test: first export:\n${first.out}`);
          assert.match(first.out, /\+ create user ada \(admin\)/);
          assert.match(
            first.out,
            /roles auditor, user .*not pushable: JupyterHub 5 has no REST API for roles/,
          );
          assert.match(
            first.out,
            /API tokens to re-issue .*: ada \(1\), bob \(1\)\./,
          );
          snippet = loadRolesOf(first.out);
          const users = (await jh(url, "users")).body as Array<
            { name: string; admin: boolean }
          >;
          const byName = new Map(users.map((u) => [u.name, u.admin]));
          assert.equal(byName.get("ada"), true);
          for (const n of ["bob", "cy", "dee"]) {
            assert.equal(byName.get(n), false, n);
          }
          const [group] = (await jh(url, "groups")).body;
          assert.deepEqual(group.users.sort(), ["bob", "cy"]);
          assert.deepEqual(group.properties, { course: "intro", seats: 30 });
          const shares = (await jh(url, "shares/ada")).body.items;
          assert.deepEqual(
            shares.map((
              s: {
                user: { name: string } | null;
                group: { name: string } | null;
                scopes: string[];
              },
            ) => [s.user?.name ?? s.group?.name, s.scopes]),
            [
              ["bob", ["access:servers!server=ada/"]],
              ["class", [
                "access:servers!server=ada/",
                "read:servers!server=ada/",
              ]],
            ],
          );
        },
      );

      await step("a second export changes nothing", async () => {
        const before = await jupyterHubState(url);
        const second = await exportOnce(exportArgs);
        assert.equal(second.code, 0, second.out);
        assert.match(
          second.out,
          /Nothing to change: JupyterHub already has all of it \(4 users, 1 group, 2 shares\)/,
        );
        assert.deepEqual(await jupyterHubState(url), before);
      });

      await step(
        "with the printed load_roles, dee's auditor role works in JupyterHub: her own token lists the users, bob's is refused",
        async () => {
          await startJupyterHub(jupyterhubConfig(ports, snippet), url);
          await assertAuditorRole(url);
        },
      );

      await step(
        "the import brings users, admins, the group and dee's role into an empty onehub B; twice changes nothing",
        async () => {
          const configB = await writeHubConfig(dirB, [
            "roles:",
            "  - name: auditor",
            "    scopes: [list:users, read:users]",
            "",
          ]);
          const args = [
            "import",
            "jupyterhub",
            "--url",
            url,
            "--config",
            configB,
          ];
          const env = { JUPYTERHUB_API_TOKEN: ADMIN_TOKEN };
          const first = await runMain(args, env);
          assert.equal(first.code, 0, first.stderr);
          printErr(`jupyterhub5_sync_test: first import:\n${first.stdout}`);
          assert.match(first.stdout, /~ give role auditor to user dee/);
          const list = await runOnehub(["user", "list", "--config", configB]);
          assert.match(list, /^ada\tyes\t/m);
          assert.match(list, /^admin\tyes\t/m);
          for (const n of ["bob", "cy", "dee"]) {
            assert.match(list, new RegExp(`^${n}\tno\t`, "m"));
          }
          const handle = openDatabase(
            (await loadConfig({ path: configB })).dbPath,
          );
          try {
            assert.deepEqual(await allGroups(handle.db), [{
              name: "class",
              users: ["bob", "cy"],
              properties: { course: "intro", seats: 30 },
            }]);
            const roles = (await listRoleAssignments(handle.db)).map((a) =>
              `${a.role}:${a.user}`
            );
            assert.deepEqual(roles, ["auditor:dee"]);
          } finally {
            await handle.close();
          }
          const second = await runMain(args, env);
          assert.equal(second.code, 0, second.stderr);
          assert.match(
            second.stdout,
            /Nothing to change: onehub already has all of it \(5 users, 1 group, 1 role assignment\)/,
          );
        },
      );

      await step(
        "onehub export z2jh: JupyterHub starts with the values' hub.config, hub.loadRoles and hub.services (a fresh database); groups, admins and roles are there",
        () => z2jhStep({ url, ports, configA, out: join(dirA, "z2jh") }),
      );
    } catch (error) {
      failed = true;
      throw error;
    } finally {
      if (failed) {
        await box.printJournalTail({
          test: "jupyterhub5_sync_test",
          units: ["jh5"],
          lines: 60,
        });
        if (serving) printErr(`onehub A's log:\n${serving.log().slice(-3000)}`);
      }
      await serving?.stop();
      await box.down();
      await Deno.remove(dirA, { recursive: true }).catch(() => {});
      await Deno.remove(dirB, { recursive: true }).catch(() => {});
      printErr(
        `jupyterhub5_sync_test: wall time ${
          ((performance.now() - started) / 1000).toFixed(0)
        } s`,
      );
    }
  },
});
