/**
 * End to end with the REAL jupyterhub-singleuser (Debian's `jupyterhub`
 * package): a Linux user logs in through the form with PAM, their server
 * starts as their uid, the OAuth handshake completes through onehub's
 * proxy, a kernel prints 42 over its WebSocket, other users are refused,
 * the server survives a hub restart (kernel included), and stop works.
 * Needs root (users, PAM) and /usr/bin/jupyterhub-singleuser.
 */
import assert from "node:assert/strict";
import {
  createSystemUser,
  ensurePamService,
  run,
  singleuserTest,
} from "../_helpers/system_users.ts";
import {
  runOnehub,
  startServe,
  writeHubConfig,
} from "../_helpers/serve_process.ts";
import { CookieClient } from "../_helpers/cookie_client.ts";
import { openKernelSocket, runInKernel } from "../_helpers/jupyter.ts";
import { hopList, openServer } from "../_helpers/open_server.ts";
import { waitFor } from "../_helpers/wait_for.ts";
import { printErr } from "../../hub/cli/_print.ts";
import { freePorts } from "../_helpers/free_ports.ts";

singleuserTest({
  file: "spawn_test",
  name:
    "a Linux user goes from the login form to Python output in their own Jupyter server",
}, async (t) => {
  await ensurePamService();
  const dir = await Deno.makeTempDir({ prefix: "onehub-spawn-" });
  await using alice = await createSystemUser({ prefix: "ohsu" });
  await using bob = await createSystemUser({ prefix: "ohsu" });
  const config = await writeHubConfig(dir, [
    "users:\n  allow_all: true\nspawner:\n  http_timeout: 60\n  poll_interval: 1\nsharing:\n  enabled: true\n",
  ]);
  // A fixed hub port: the running server keeps calling the API URL it was started with.
  const [hubPort] = freePorts(1);
  const hubArgs = [
    "--config",
    config,
    "--auth",
    "pam",
    "--hub-port",
    String(hubPort),
  ];
  let hub = await startServe(hubArgs);
  const base = hub.url;
  try {
    const a = new CookieClient(base);
    let kernel = "";
    await t.step(
      "login sends the browser to spawn, which starts the server",
      async () => {
        const res = await a.login(alice.name, alice.password);
        assert.equal(res.status, 302);
        assert.equal(res.headers.get("location"), "/hub/spawn");
        // Through spawn-pending (its progress stream) when the start is slow, then the OAuth handshake.
        const page = await openServer(a, alice.name);
        assert.equal(page.status, 200, hopList(a.hops));
        await page.body?.cancel();
        // The progress stream of a finished spawn replays the ready event.
        const progress = await a.request(
          `hub/api/users/${alice.name}/server/progress?_xsrf=x`,
        );
        const text = await progress.text();
        assert.match(text, /"ready":true/, text);
      },
    );
    await t.step("the server runs as the user's uid", async () => {
      const uid = Number((await run(["id", "-u", alice.name])).trim());
      const pids = (await run([
        "pgrep",
        "-u",
        String(uid),
        "-f",
        "jupyterhub-singleuser",
      ])).trim();
      assert.ok(pids.length > 0, "a singleuser process owned by the user");
    });
    await t.step(
      "the OAuth handshake completes and the API answers with cookies only",
      async () => {
        const page = await a.follow(`user/${alice.name}/tree`);
        assert.equal(page.status, 200, hopList(a.hops));
        await page.body?.cancel();
        // The OAuth dance ran (now or right after the spawn): the server set its own login cookie.
        assert.ok(
          a.cookie(`jupyterhub-user-${alice.name}`),
          "the server's OAuth cookie is set",
        );
        const status = await a.request(`user/${alice.name}/api/status`);
        assert.equal(status.status, 200);
        await status.body?.cancel();
      },
    );
    await t.step("a kernel prints 42 over its WebSocket", async () => {
      const { id, out } = await runInKernel(a, alice.name);
      kernel = id;
      assert.equal(out.trim(), "42");
    });
    await t.step(
      "another user's cookies and tokens are refused",
      async () => {
        const b = new CookieClient(base);
        assert.equal((await b.login(bob.name, bob.password)).status, 302);
        const res = await b.follow(`user/${alice.name}/tree`);
        assert.ok(
          res.status === 403 || res.status === 404,
          `status ${res.status}`,
        );
        await res.body?.cancel();
        const api = await b.request(`user/${alice.name}/api/status`);
        assert.notEqual(api.status, 200);
        await api.body?.cancel();
      },
    );
    await t.step(
      "alice shares her server with bob: he gets in after consenting; after she stops sharing a new login of his is refused",
      async () => {
        const aliceToken = await runOnehub([
          "token",
          alice.name,
          "--config",
          config,
        ]);
        const share = (method: string) =>
          fetch(`${base}hub/api/shares/${alice.name}/`, {
            method,
            headers: {
              authorization: `token ${aliceToken}`,
              "content-type": "application/json",
            },
            ...(method === "POST"
              ? { body: JSON.stringify({ user: bob.name }) }
              : {}),
          });
        const made = await share("POST");
        assert.equal(made.status, 200, await made.clone().text());
        await made.body?.cancel();
        const b = new CookieClient(base);
        await (await b.login(bob.name, bob.password)).body?.cancel();
        // A page (not /api, which answers 403 without a redirect) starts the OAuth dance.
        const consent = await b.follow(`user/${alice.name}/tree`);
        const page = await consent.text();
        assert.equal(consent.status, 200);
        assert.match(page, /name="scopes"/, "the consent page");
        const form = new URLSearchParams();
        form.set("_xsrf", /name="_xsrf" value="([^"]+)"/.exec(page)![1]!);
        for (const m of page.matchAll(/name="scopes" value="([^"]+)"/g)) {
          form.append("scopes", m[1]!);
        }
        const inside = await b.follow(b.hops.at(-1)!.url, {
          init: {
            method: "POST",
            body: form,
            headers: { "content-type": "application/x-www-form-urlencoded" },
          },
        });
        assert.equal(inside.status, 200, hopList(b.hops));
        await inside.body?.cancel();
        const api = await b.request(`user/${alice.name}/api/status`);
        assert.equal(
          api.status,
          200,
          "bob reaches alice's API with the shared scope",
        );
        await api.body?.cancel();
        // Bob runs code in alice's server over a kernel WebSocket.
        const kernel = await runInKernel(b, alice.name);
        assert.equal(kernel.out.trim(), "42");
        const socket = await openKernelSocket(b, alice.name, kernel.id);
        assert.equal((await socket.run("print(1+1)")).trim(), "2");
        const revokedAt = performance.now();
        const revoked = await share("DELETE");
        assert.equal(revoked.status, 204);
        await revoked.body?.cancel();
        // The open socket is cut at once (the proxy's fence), and neither
        // it nor a new request of bob's gets through, although the server
        // itself would remember bob for minutes.
        await waitFor(() => Promise.resolve(!socket.open), {
          timeoutMs: 2_000,
          description: "bob's kernel WebSocket to be closed",
        });
        printErr(
          `spawn_test: bob's kernel socket closed ${
            Math.round(performance.now() - revokedAt)
          } ms after the share was revoked`,
        );
        await assert.rejects(openKernelSocket(b, alice.name, kernel.id));
        const after = await b.request(`user/${alice.name}/api/status`);
        assert.equal(after.status, 403, "bob's session is fenced off");
        await after.body?.cancel();
        const again = new CookieClient(base);
        await (await again.login(bob.name, bob.password)).body?.cancel();
        const refused = await again.follow(`user/${alice.name}/tree`);
        assert.ok(
          refused.status === 403 || refused.status === 404,
          `status ${refused.status}`,
        );
        await refused.body?.cancel();
      },
    );
    await t.step(
      "a hub restart keeps the server and its kernel",
      async () => {
        assert.equal(await hub.stop(), 0);
        hub = await startServe(hubArgs);
        // Same port is not guaranteed with port 0: use the new public URL with the same cookies.
        const a2 = new CookieClient(hub.url);
        await a2.login(alice.name, alice.password);
        const page = await a2.follow(`user/${alice.name}/tree`);
        assert.equal(page.status, 200, hopList(a2.hops));
        await page.body?.cancel();
        const { out } = await runInKernel(a2, alice.name, kernel);
        assert.equal(out.trim(), "42");
      },
    );
    await t.step("stop ends the server", async () => {
      const admin = new CookieClient(hub.url);
      await admin.login(alice.name, alice.password);
      const xsrf = await (async () => {
        const home = await admin.follow("hub/home");
        await home.body?.cancel();
        return admin.cookie("_xsrf") ?? "";
      })();
      void xsrf;
      const token = await runOnehub([
        "token",
        alice.name,
        "--config",
        config,
      ]);
      const res = await fetch(
        `${hub.url}hub/api/users/${alice.name}/server`,
        {
          method: "DELETE",
          headers: { authorization: `token ${token}` },
        },
      );
      assert.equal(res.status, 204);
      await res.body?.cancel();
      const uid = Number((await run(["id", "-u", alice.name])).trim());
      await waitFor(async () => {
        const out = await new Deno.Command("pgrep", {
          args: ["-u", String(uid), "-f", "jupyterhub-singleuser"],
        })
          .output();
        return out.code === 1;
      }, { timeoutMs: 15_000, description: "the server process to end" });
    });
  } finally {
    await hub.stop();
    // Leave nothing running as the test users.
    for (const u of [alice.name, bob.name]) {
      await new Deno.Command("pkill", { args: ["-KILL", "-u", u] }).output();
    }
    await Deno.remove(dir, { recursive: true });
  }
});
