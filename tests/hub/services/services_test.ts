/**
 * Services end to end (hub/services/): a real hub over HTTP with three
 * services from `services.list`: a managed Python service using
 * `jupyterhub.services.auth.HubOAuth` from Debian's jupyterhub package, a
 * managed TypeScript service doing the OAuth flow by hand, and an external
 * one with a configured API token and scopes. Checks the API models, the
 * services' own tokens, the browser's OAuth login into each service through
 * the proxy, consent, restart after a crash, and removal from the config.
 */
import assert from "node:assert/strict";
import { resolveConfig } from "../../../hub/config/mod.ts";
import { migrateToLatest, openDatabase } from "../../../hub/db/mod.ts";
import { createAuthenticator } from "../../../hub/auth/mod.ts";
import { createLogger, silentLogger } from "../../../hub/observe/log.ts";
import { createHub } from "../../../hub/mod.ts";
import { CookieClient } from "../../_helpers/cookie_client.ts";
import { freePorts } from "../../_helpers/free_ports.ts";
import { repoPath } from "../../_helpers/paths.ts";
import { waitFor } from "../../_helpers/wait_for.ts";
import { createUsers } from "../../../hub/db/users.ts";
import { issueToken } from "../../../hub/api/mod.ts";
import { getUser } from "../../../hub/db/users.ts";
import { eventsSince } from "../../../hub/db/events.ts";
import { printErr } from "../../../hub/cli/_print.ts";
import { assertStatus } from "../../_helpers/responses.ts";
import { looseTest } from "../../_helpers/loose_test.ts";

const PYTHON = "/usr/bin/python3";
const GRADER_TOKEN = "grader-token-0123456789abcdef";
const HAS_JUPYTERHUB = await Deno.stat(
  "/usr/lib/python3/dist-packages/jupyterhub/services/auth.py",
).then(() => true, () => false);
if (!HAS_JUPYTERHUB) {
  printErr(
    "services_test: the HubOAuth service test is skipped: needs Debian's jupyterhub package (apt-get install -y jupyterhub)",
  );
}

function servicesFile(pyPort: number, tsPort: number) {
  return [
    {
      name: "py-whoami",
      url: `http://127.0.0.1:${pyPort}`,
      command: [
        PYTHON,
        repoPath("tests/_helpers/services/whoami_hub_oauth.py"),
      ],
      "allow_all_users": true,
      "oauth_no_confirm": true,
    },
    {
      name: "ts-whoami",
      url: `http://127.0.0.1:${tsPort}`,
      command: [
        Deno.execPath(),
        "run",
        "--allow-net",
        "--allow-env",
        repoPath("tests/_helpers/services/whoami_oauth.ts"),
      ],
      environment: {
        "NO_COLOR": "1",
        "DENO_DIR": Deno.env.get("DENO_DIR") ??
          `${Deno.env.get("HOME")}/.cache/deno`,
      },
    },
    {
      name: "grader",
      "api_token": GRADER_TOKEN,
      scopes: ["list:users", "read:users"],
      info: { course: "intro" },
    },
  ];
}

async function startHubWith(dir: string, services: unknown[]) {
  const config = resolveConfig({
    file: {
      "data_dir": dir,
      auth: { type: "dummy" },
      users: { "allow_all": true },
      http: { ip: "127.0.0.1", port: 0 },
      hub: { port: 0 },
      services: { list: services },
    },
  });
  const handle = openDatabase(config.dbPath);
  await migrateToLatest(handle);
  await createUsers(handle.db, ["teacher"], {
    admin: true,
    now: new Date().toISOString(),
  });
  const hub = await createHub({
    config,
    db: handle.db,
    authenticator: createAuthenticator(config),
    logger: Deno.env.get("DEBUG_SERVICES")
      ? createLogger({ level: "debug" })
      : silentLogger,
    cookieSecret: new Uint8Array(32).fill(3),
  });
  const urls = await hub.start();
  const { token: admin } = await issueToken(
    handle.db,
    (await getUser(handle.db, "teacher"))!,
    { note: "test", expiresInSeconds: null, now: new Date() },
  );
  return {
    hub,
    url: urls.publicUrl,
    admin,
    db: handle.db,
    async [Symbol.asyncDispose]() {
      await hub.stop();
      await handle.close();
    },
  };
}

async function api(url: string, path: string, token: string) {
  const res = await fetch(`${url}hub/api${path}`, {
    headers: { authorization: `token ${token}` },
  });
  return { status: res.status, body: await res.json() };
}

/** Logs a browser in as `name`, then opens the service and follows every redirect. */
async function visit(url: string, name: string, service: string) {
  const browser = new CookieClient(url);
  const login = await browser.login(name, "any");
  await login.body?.cancel();
  const res = await browser.follow(`services/${service}/`);
  return { browser, res };
}

Deno.test({
  name:
    "services: API models, service tokens, OAuth logins through Python HubOAuth and TypeScript, restarts",
  ignore: !HAS_JUPYTERHUB,
  sanitizeOps: false,
  sanitizeResources: false,
  fn: async (t) => {
    const dir = await Deno.makeTempDir({ prefix: "onehub-services-" });
    const [pyPort, tsPort] = freePorts(2);
    try {
      await using h = await startHubWith(dir, servicesFile(pyPort!, tsPort!));
      const { url, admin } = h;
      await waitFor(async () => {
        const a = await fetch(`http://127.0.0.1:${pyPort}/`, {
          redirect: "manual",
        }).then(
          (r) => (r.body?.cancel(), true),
          () => false,
        );
        const b = await fetch(`http://127.0.0.1:${tsPort}/`, {
          redirect: "manual",
        }).then(
          (r) => (r.body?.cancel(), true),
          () => false,
        );
        return a && b;
      }, { timeoutMs: 30_000, description: "both managed services listen" });

      await t.step(
        "GET /hub/api/services lists them with JupyterHub's model",
        async () => {
          const { status, body } = await api(url, "/services", admin);
          assert.equal(status, 200);
          assert.deepEqual(Object.keys(body).sort(), [
            "cull-idle",
            "grader",
            "py-whoami",
            "ts-whoami",
          ]);
          const py = body["py-whoami"];
          assert.equal(py.kind, "service");
          assert.equal(py.prefix, "/services/py-whoami/");
          assert.equal(py.url, `http://127.0.0.1:${pyPort}`);
          assert.ok(py.pid > 0);
          assert.deepEqual(body.grader.info, { course: "intro" });
          assert.equal(body.grader.pid, 0);
          const one = await api(url, "/services/grader", admin);
          assert.equal(one.body.name, "grader");
          assert.equal((await api(url, "/services/nope", admin)).status, 404);
        },
      );

      await t.step(
        "an external service's token has its scopes and reads itself on /hub/api/user",
        async () => {
          const me = await api(url, "/user", GRADER_TOKEN);
          assert.equal(me.status, 200);
          assert.equal(me.body.kind, "service");
          assert.equal(me.body.name, "grader");
          assert.ok(me.body.scopes.includes("list:users"));
          const users = await api(url, "/users", GRADER_TOKEN);
          assert.equal(users.status, 200);
          assert.ok(
            users.body.some((u: { name: string }) => u.name === "teacher"),
          );
          await assertStatus(
            await fetch(`${url}hub/api/users/teacher`, {
              method: "DELETE",
              headers: { authorization: `token ${GRADER_TOKEN}` },
            }),
            403,
          );
        },
      );

      await t.step(
        "a managed service's token works and names the service",
        async () => {
          const res = await fetch(
            `http://127.0.0.1:${tsPort}/services/ts-whoami/whoami-service`,
          );
          const self = await res.json();
          assert.equal(self.kind, "service");
          assert.equal(self.name, "ts-whoami");
        },
      );

      await t.step(
        "a user logs in to the Python HubOAuth service through the hub (allow_all_users, no consent)",
        async () => {
          const { browser, res } = await visit(url, "alice", "py-whoami");
          const text = await res.text();
          assert.equal(
            res.status,
            200,
            `${text} ${
              browser.hops.map((h) => `${h.status} ${h.url}`).join(" -> ")
            }`,
          );
          const user = JSON.parse(text);
          assert.equal(user.name, "alice");
          assert.equal(user.kind, "user");
          assert.ok(user.scopes.includes("access:services!service=py-whoami"));
          assert.ok(
            browser.hops.some((h) =>
              h.url.includes("/hub/api/oauth2/authorize")
            ),
          );
        },
      );

      await t.step(
        "without allow_all_users a user is refused; an admin consents, then gets in",
        async () => {
          const { res } = await visit(url, "bob", "ts-whoami");
          assert.equal(res.status, 403);
          assert.match(
            await res.text(),
            /do not have permission to access Service ts-whoami/,
          );
          const teacher = await visit(url, "teacher", "ts-whoami");
          const consent = await teacher.res.text();
          assert.equal(teacher.res.status, 200);
          assert.match(consent, /name="scopes"/, "the consent page");
          const form = new URLSearchParams();
          form.set("_xsrf", /name="_xsrf" value="([^"]+)"/.exec(consent)![1]!);
          for (const m of consent.matchAll(/name="scopes" value="([^"]+)"/g)) {
            form.append("scopes", m[1]!);
          }
          const action = teacher.browser.hops.at(-1)!.url;
          const done = await teacher.browser.follow(action, {
            init: {
              method: "POST",
              body: form,
              headers: { "content-type": "application/x-www-form-urlencoded" },
            },
          });
          const user = await done.json();
          assert.equal(user.name, "teacher");
          assert.equal(user.admin, true);
        },
      );

      await t.step(
        "a managed service that dies is restarted, and the event log says so",
        async () => {
          const before =
            (await api(url, "/services/ts-whoami", admin)).body.pid;
          Deno.kill(before, "SIGKILL");
          const after = await waitFor(async () => {
            const pid = (await api(url, "/services/ts-whoami", admin)).body.pid;
            return pid && pid !== before ? pid : 0;
          }, { timeoutMs: 15_000, description: "a new pid" });
          assert.notEqual(after, before);
          await h.hub.events.flush();
          const kinds = (await eventsSince(h.db, {
            since: "2000-01-01",
            limit: 100,
            kind: "service.",
          }))
            .map((e) => e.kind);
          assert.ok(kinds.includes("service.exit"));
          assert.ok(kinds.filter((k) => k === "service.start").length >= 3);
        },
      );

      await t.step(
        "health checks: both managed services answer; /hub/metrics says they are up",
        async () => {
          // ts-whoami was just restarted: give it the moment it needs to listen again.
          await waitFor(async () => {
            await h.hub.services.checkHealth();
            return h.hub.services.up()["ts-whoami"] === 1;
          }, { timeoutMs: 15_000, description: "ts-whoami answers again" });
          const text = await (await fetch(`${url}hub/metrics`, {
            headers: { authorization: `token ${admin}` },
          })).text();
          assert.match(text, /^onehub_service_up\{service="py-whoami"\} 1$/m);
          assert.match(text, /^onehub_service_up\{service="ts-whoami"\} 1$/m);
          assert.doesNotMatch(
            text,
            /service="grader"/,
            "no url, no process: nothing to check",
          );
        },
      );

      await t.step(
        "the admin page shows the services and their state",
        async () => {
          const browser = new CookieClient(url);
          await (await browser.login("teacher", "x")).body?.cancel();
          const page = await (await browser.request("hub/admin")).text();
          assert.match(page, /data-service="py-whoami"/);
          const home = await (await browser.request("hub/home")).text();
          assert.match(
            home,
            /<a href="\/services\/py-whoami\/">py-whoami<\/a>/,
          );
          assert.doesNotMatch(home, /services\/grader/, "no url: no link");
          assert.match(page, /status-running/);
          assert.match(page, /data-service="grader"[\s\S]*?external/);
        },
      );
    } finally {
      await Deno.remove(dir, { recursive: true }).catch(() => {});
    }
  },
});

looseTest(
  "services: a service removed from the config loses its row, token, client and route at the next start",
  async () => {
    const dir = await Deno.makeTempDir({ prefix: "onehub-services-" });
    try {
      const external = [{
        name: "grader",
        "api_token": GRADER_TOKEN,
        url: "http://127.0.0.1:9",
      }];
      {
        await using h = await startHubWith(dir, external);
        assert.equal((await api(h.url, "/user", GRADER_TOKEN)).status, 200);
        const routes = await h.hub.routes.list();
        assert.ok(routes.has("/services/grader"));
        // Nothing listens on port 9: the check says so.
        await h.hub.services.checkHealth();
        assert.deepEqual(h.hub.services.up(), { grader: 0 });
        assert.equal(h.hub.services.status()[0]!.answers, false);
      }
      await using h = await startHubWith(dir, []);
      assert.equal((await api(h.url, "/user", GRADER_TOKEN)).status, 403);
      assert.ok(!(await h.hub.routes.list()).has("/services/grader"));
      const clients = await h.db.selectFrom("oauth_clients").select(
        "identifier",
      ).execute();
      assert.deepEqual(clients.map((c) => c.identifier), []);
    } finally {
      await Deno.remove(dir, { recursive: true }).catch(() => {});
    }
  },
);
