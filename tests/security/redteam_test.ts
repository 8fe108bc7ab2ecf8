/**
 * The red team's findings (issue 23) replayed as attacks against one real
 * `onehub serve` process, from the outside, the way a student, a teaching
 * assistant or a local process would try them. Each case fails on the code
 * before its fix. Cases that need a real single-user server or a booted
 * machine live with those tests and are named here:
 * - item 4 (revocation cuts live connections): tests/integration/spawn_test.ts,
 *   "alice shares her server with bob…" (a kernel WebSocket through a share
 *   is closed within 2 s of "Stop sharing");
 * - item 3 (a deleted named server takes its shares): tests/hub/api/shares_test.ts;
 * - item 6 (course files for accounts below spawner.min_uid, huge files):
 *   tests/hub/servers/course_files_test.ts.
 * - item 7 (one origin for the hub and every server): with `subdomain_host`,
 *   tests/browser/subdomain_test.ts (a script in a student's server, opened by
 *   the teacher, can neither read nor drive the hub as the teacher), with
 *   the proxy's half in tests/proxy/server_test.ts (host routing, no Domain
 *   cookies from a user's server) and the hub's in tests/hub/servers/urls_test.ts.
 */
import assert from "node:assert/strict";
import { runMain, startServe } from "../_helpers/serve_process.ts";
import { postLogin } from "../_helpers/login_form.ts";

const PASSWORD = "class-password";

const CONFIG = `
auth:
  type: dummy
  dummy: {password: ${PASSWORD}}
  throttle: {address_failures: 3, user_failures: 100, base_delay: 30}
users:
  allow_all: true
  admin: [teacher]
sharing: {enabled: true}
groups:
  students: {users: [alice]}
roles:
  - name: teaching-assistant
    scopes:
      - admin:users!group=students
      - admin:groups!group=students
      - proxy!group=students
      - shutdown!group=students
      - read:hub!group=students
    users: [tim]
`;

interface Target {
  url: string;
  hubUrl: string;
  token(user: string): Promise<string>;
  api(
    path: string,
    token: string,
    init?: { method?: string; json?: unknown },
  ): Promise<Response>;
}

function target(dir: string, url: string, hubUrl: string): Target {
  const config = `${dir}/config.yaml`;
  const t: Target = {
    url,
    hubUrl,
    async token(user) {
      const r = await runMain(["token", user, "--config", config]);
      assert.equal(r.code, 0, r.stderr);
      return r.stdout.trim();
    },
    api(path, token, init = {}) {
      return fetch(`${url}hub/api${path}`, {
        method: init.method ?? "GET",
        headers: {
          authorization: `token ${token}`,
          "content-type": "application/json",
        },
        ...(init.json !== undefined ? { body: JSON.stringify(init.json) } : {}),
      });
    },
  };
  return t;
}

/** The status of a request, its body read and dropped. */
async function status(res: Promise<Response>): Promise<number> {
  const r = await res;
  await r.body?.cancel();
  return r.status;
}

Deno.test("red team (issue 23): the attacks that got through now fail", async (t) => {
  const dir = await Deno.makeTempDir({ prefix: "onehub-redteam-" });
  await Deno.writeTextFile(`${dir}/config.yaml`, `data_dir: ${dir}\n${CONFIG}`);
  await using hub = await startServe(["--config", `${dir}/config.yaml`]);
  const hubUrl = /hub=(http:\/\/\S+)/.exec(hub.log())![1]!;
  const x = target(dir, hub.url, hubUrl);
  try {
    for (const name of ["alice", "bob", "tim"]) {
      await status(postLogin(hub.url, name, PASSWORD)); // made by logging in
    }
    const teacher = await x.token("teacher");
    let alice = await x.token("alice");
    const bob = await x.token("bob");

    await t.step(
      "1: a token noted 'Server at …' does not survive 'revoke all'",
      async () => {
        const made = await x.api("/users/alice/tokens", alice, {
          method: "POST",
          json: { note: "Server at /user/alice/" },
        });
        assert.equal(made.status, 201);
        const disguised = (await made.json()).token as string;
        assert.equal(
          await status(
            x.api("/users/alice/tokens", teacher, { method: "DELETE" }),
          ),
          200,
        );
        assert.equal(await status(x.api("/user", disguised)), 403);
        alice = await x.token("alice"); // her own went with it
      },
    );

    await t.step(
      "2: made-up X-Forwarded-For straight to the hub port are throttled as one client",
      async () => {
        const statuses: number[] = [];
        for (let i = 0; i < 6; i++) {
          statuses.push(
            await status(postLogin(`${x.hubUrl}/`, "bob", "guess", {
              "x-forwarded-for": `203.0.113.${i}`,
            })),
          );
        }
        assert.deepEqual(statuses.slice(-2), [429, 429], String(statuses));
      },
    );

    await t.step(
      "5: a share cannot grant what the sharer lacks, nor a malformed filter",
      async () => {
        const share = (scopes: string[]) =>
          x.api("/shares/alice/", alice, {
            method: "POST",
            json: { user: "bob", scopes },
          });
        assert.equal(await status(share(["admin:users!server=alice/"])), 403);
        assert.equal(
          await status(share(["tokens!server=alice/!user=bob"])),
          400,
        );
        assert.equal(await status(share(["access:servers!user=alice"])), 400);
      },
    );

    await t.step(
      "3: after a rename, a new user of the old name inherits no share",
      async () => {
        assert.equal(
          await status(x.api("/shares/alice/", alice, {
            method: "POST",
            json: { user: "bob" },
          })),
          200,
        );
        assert.equal(
          await status(x.api("/users/alice", teacher, {
            method: "PATCH",
            json: { name: "alice2" },
          })),
          200,
        );
        assert.equal(
          await status(x.api("/users/alice", teacher, { method: "POST" })),
          201,
        );
        const scopes = (await (await x.api("/user", bob)).json()).scopes;
        assert.ok(scopes.includes("access:servers!server=alice2/"), scopes);
        assert.ok(!scopes.includes("access:servers!server=alice/"), scopes);
      },
    );

    await t.step(
      "8: a group-filtered TA can neither create users or groups nor reach /proxy, /shutdown, /info",
      async () => {
        const tim = await x.token("tim");
        const calls: Array<[string, string, unknown?]> = [
          ["POST", "/users", { usernames: ["intruder"] }],
          ["POST", "/groups", { groups: ["intruders"] }],
          ["GET", "/proxy"],
          ["POST", "/shutdown"],
          ["GET", "/info"],
        ];
        for (const [method, path, json] of calls) {
          const res = x.api(path, tim, { method, json });
          assert.equal(await status(res), 403, `${method} ${path}`);
        }
        assert.equal(await status(x.api("/users/intruder", teacher)), 404);
      },
    );
  } finally {
    await hub.stop();
  }

  await t.step(
    "6: course_files.branch cannot smuggle a git option",
    async () => {
      await Deno.writeTextFile(
        `${dir}/config.yaml`,
        `data_dir: ${dir}\ncourse_files:\n  source: https://example.org/c.git\n  branch: "--upload-pack=touch ${dir}/pwned"\n`,
      );
      const r = await runMain(["serve", "--config", `${dir}/config.yaml`]);
      assert.notEqual(r.code, 0);
      assert.match(r.stderr, /course_files\.branch/);
      assert.equal(await Deno.stat(`${dir}/pwned`).catch(() => null), null);
    },
  );
  await Deno.remove(dir, { recursive: true });
});
