/**
 * A real Linux user logs in to a real `onehub serve` process through the
 * login form with PAM (service /etc/pam.d/onehub), over a socket, with a
 * cookie jar. Needs root (useradd; PAM reads /etc/shadow).
 */
import { postLogin } from "../_helpers/login_form.ts";
import assert from "node:assert/strict";
import {
  createSystemUser,
  ensurePamService,
  run,
  skipUnlessRoot,
} from "../_helpers/system_users.ts";
import { startPamServe } from "../_helpers/serve_process.ts";

const ignore = skipUnlessRoot(
  "login_pam_test",
  "create users and read /etc/shadow through PAM",
);

/** GET the form, POST credentials; returns the POST response and cookies. */
async function login(base: string, username: string, password: string) {
  const res = await postLogin(base, username, password);
  const body = await res.text();
  return {
    res,
    body,
    cookies: res.headers.getSetCookie().map((c) => c.split(";")[0]!),
  };
}

Deno.test({
  name:
    "POST /hub/login with PAM admits a real user with their password and refuses others",
  ignore,
  sanitizeResources: false,
  fn: async (t) => {
    await ensurePamService();
    const dataDir = await Deno.makeTempDir({ prefix: "onehub-login-" });
    await using user = await createSystemUser();
    await using expired = await createSystemUser();
    await run(["chage", "-E", "0", expired.name]);
    try {
      // Nobody is allowed by default (JupyterHub 5): allow everyone PAM accepts.
      await using hub = await startPamServe(
        dataDir,
        "users:\n  allow_all: true\n",
      );
      assert.match(hub.log(), /auth=pam/);
      await t.step(
        "right password: 302 and a working session cookie",
        async () => {
          const { res, cookies } = await login(
            hub.url,
            user.name,
            user.password,
          );
          assert.equal(res.status, 302);
          assert.equal(
            res.headers.get("location"),
            "/hub/spawn",
            "after login JupyterHub goes to the server (redirect_to_server)",
          );
          const me = await fetch(`${hub.url}hub/api/user`, {
            headers: { cookie: cookies.join("; ") },
          });
          assert.equal(me.status, 200);
          assert.equal((await me.json()).name, user.name);
        },
      );
      await t.step(
        "wrong password: 403, the form again with the message, no session",
        async () => {
          const { res, body, cookies } = await login(
            hub.url,
            user.name,
            "not-the-password",
          );
          assert.equal(res.status, 403);
          assert.match(body, /Invalid username or password/);
          assert.equal(
            cookies.some((c) => c.startsWith("jupyterhub-hub-login=")),
            false,
          );
        },
      );
      await t.step("unknown user: the same 403 message", async () => {
        const { res, body } = await login(
          hub.url,
          "ohtest-nosuchuser",
          "whatever",
        );
        assert.equal(res.status, 403);
        assert.match(body, /Invalid username or password/);
      });
      await t.step(
        "expired account: 403 with PAM's expiry message",
        async () => {
          const { res, body } = await login(
            hub.url,
            expired.name,
            expired.password,
          );
          assert.equal(res.status, 403);
          assert.match(body, /expired/i);
        },
      );
      assert.doesNotMatch(hub.log(), new RegExp(user.password));
      assert.equal(await hub.stop(), 0);
    } finally {
      await Deno.remove(dataDir, { recursive: true });
    }
  },
});
