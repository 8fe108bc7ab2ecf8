/**
 * install.sh on a REAL systemd: a fresh Debian 12 booted with systemd as
 * PID 1 in a container (../shared/testbed; it shares the host's loopback).
 * The installer and a tarball of this checkout are served from loopback
 * and run exactly as a user would (`curl … | bash`); then, from the host:
 * a PAM user logs in and reaches a running server (a kernel prints 42),
 * `systemctl restart onehub` keeps the server reachable, `onehub config
 * set` + `systemctl reload onehub` changes a setting live, re-running the
 * installer keeps users and tokens, `--uninstall` removes the service and
 * keeps the data. The container is torn down at the end, even on failure.
 * A few minutes (debootstrap, apt-get install jupyterhub). Needs root.
 */
import assert from "node:assert/strict";
import { freePorts } from "../_helpers/free_ports.ts";
import { waitFor } from "../_helpers/wait_for.ts";
import { CookieClient } from "../_helpers/cookie_client.ts";
import { openKernelSocket, runInKernel } from "../_helpers/jupyter.ts";
import { openServer } from "../_helpers/open_server.ts";
import { printErr } from "../../hub/cli/_print.ts";
import { REAL_PROCESSES } from "../_helpers/system_users.ts";
import {
  container,
  serveCheckout,
  skipWithoutTestbed,
} from "../_helpers/testbed.ts";

const ignore = await skipWithoutTestbed("install_test");

const NAME = "onehub-install";

/** The test's container. */
const box = container(NAME);
/** Runs a shell line inside the container; fails the test on a non-zero exit. */
const inside = box.inside;

/** Waits (polling) until `check` holds, for at most `seconds`. */
async function waitUntil(
  what: string,
  check: () => Promise<boolean>,
  seconds = 60,
): Promise<void> {
  await waitFor(check, {
    timeoutMs: seconds * 1000,
    intervalMs: 250,
    description: what,
  });
}

Deno.test({
  name:
    "install.sh on a booted systemd: curl | bash to a running hub, login, restart, reload, re-run, uninstall",
  ignore,
  ...REAL_PROCESSES,
  fn: async (t) => {
    await box.down();
    let failed = false;
    const step = async (name: string, fn: () => Promise<void>) => {
      if (!await t.step(name, fn)) failed = true;
    };
    const [filePort, port, hubPort, proxyApiPort] = freePorts(4) as [
      number,
      number,
      number,
      number,
    ];
    const files = await serveCheckout(filePort);
    // The container shares this host's network: its hub port must be free here too.
    const base = `http://127.0.0.1:${port}/`;
    const install =
      `curl -fsSL ${files.installer} | bash -s -- --admin teacher --port ${port} --hub-port ${hubPort} --from-source ${files.tarball}`;
    try {
      await box.boot();
      const started = performance.now();
      let installedAt = 0;

      await step(
        "curl | bash installs and starts an enabled service",
        async () => {
          const r = await box.run("bash", "-c", install);
          assert.equal(r.code, 0, `install.sh failed:\n${r.out}\n${r.err}`);
          installedAt = performance.now();
          assert.match(r.err, /onehub is running: http:\/\//);
          await box.expectInside("systemctl is-active onehub", "active");
          await box.expectInside("systemctl is-enabled onehub", "enabled");
          await box.expectInside("stat -c %a /var/lib/onehub", "700");
          assert.match(
            await inside("cat /etc/onehub/config.yaml"),
            /admin:\n\s+- teacher/,
          );
        },
      );

      const password = "Onehub-test-1";
      await inside(
        // As a teacher does: a Linux account, then the hub user (allow_existing),
        // and a server profile with a memory limit, applied live.
        `useradd -m student && echo 'student:${password}' | chpasswd && onehub user add student && onehub config set profiles '[{"slug": "small", "display_name": "Small", "limits": {"memory": "256M"}}]' && systemctl reload onehub`,
      );
      const browser = new CookieClient(base);
      /** Asserts student's server answers its status API through the hub (200). */
      const assertServerAnswers = async (why?: string) => {
        const res = await browser.follow("user/student/api/status");
        await res.body?.cancel();
        assert.equal(res.status, 200, why);
      };
      await step(
        "a PAM user of the machine logs in from the host and reaches a running server",
        async () => {
          const login = await browser.login("student", password);
          await login.body?.cancel();
          assert.equal(login.status, 302);
          // As the spawn-pending page's script does: its progress stream, then
          // the server's OAuth handshake (however long the first start takes).
          const page = await openServer(browser, "student");
          await page.body?.cancel();
          const status = await browser.request("user/student/api/status");
          await status.body?.cancel();
          assert.equal(status.status, 200, "the server answers its API");
          const { out } = await runInKernel(browser, "student");
          assert.equal(out.trim(), "42");
          printErr(
            `install_test: curl | bash → logged-in user's running server: ${
              ((performance.now() - started) / 1000).toFixed(1)
            } s (install ${((installedAt - started) / 1000).toFixed(1)} s)`,
          );
          assert.match(
            await inside(
              "systemctl list-units --plain --no-legend 'onehub-*.service'",
            ),
            /onehub-student\.service\s+loaded active running/,
          );
        },
      );

      await step(
        "the server runs under the profile's MemoryMax=256M and an allocation over it is killed",
        async () => {
          assert.match(
            await inside("systemctl show onehub-student -p MemoryMax"),
            /^MemoryMax=268435456$/m,
          );
          const kernel = await runInKernel(browser, "student");
          await assert.rejects(
            runInKernel(
              browser,
              "student",
              kernel.id,
              "x = b'a' * (400 * 1024 * 1024)\nprint('survived')",
              15_000,
            ),
            "a 400 MB allocation never prints",
          );
          assert.match(
            await inside("dmesg | tail -50"),
            /oom_memcg=[^,]*onehub-student\.service/,
            "the memory cgroup's limit killed it",
          );
          // cgroup v1 (this container): systemd cannot see the OOM kill of a
          // child of the server, so the server lives on with a fresh kernel;
          // on cgroup v2 OOMPolicy=stop ends the unit and the hub reports the
          // server stopped.
          await assertServerAnswers();
        },
      );

      await step(
        "systemctl restart onehub keeps the server reachable",
        async () => {
          await inside("systemctl restart onehub");
          await waitUntil("the hub answers again", async () => {
            const res = await fetch(`${base}hub/health`);
            await res.body?.cancel();
            return res.ok;
          });
          await assertServerAnswers();
        },
      );

      const token = (await inside("onehub token teacher")).trim();
      const adminOf = async (name: string) => {
        const res = await fetch(`${base}hub/api/users/${name}`, {
          headers: { authorization: `token ${token}` },
        });
        return (await res.json()).admin as boolean;
      };
      await step(
        "onehub config set + systemctl reload onehub changes a setting live",
        async () => {
          assert.equal(await adminOf("student"), false);
          await inside(
            "onehub config add-item users.admin student && systemctl reload onehub",
          );
          await waitUntil("student is admin", () => adminOf("student"), 20);
          await box.expectInside("systemctl is-active onehub", "active");
          await assertServerAnswers("the server survived the reload");
        },
      );

      await step(
        "re-running the installer upgrades in place and keeps users, tokens and config",
        async () => {
          const r = await box.run("bash", "-c", install);
          assert.equal(r.code, 0, `re-run failed:\n${r.err}`);
          assert.match(
            r.err,
            /keeping the existing \/etc\/onehub\/config\.yaml/,
          );
          await waitUntil("the hub answers again", async () => {
            const res = await fetch(`${base}hub/health`);
            await res.body?.cancel();
            return res.ok;
          });
          assert.equal(await adminOf("student"), true);
          await assertServerAnswers("the server survived the upgrade");
        },
      );

      await step(
        "re-running with --proxy-unit moves the proxy into its own service: restarting the hub keeps an open kernel WebSocket",
        async () => {
          const r = await box.run(
            "bash",
            "-c",
            `${install} --proxy-unit --proxy-api-port ${proxyApiPort}`,
          );
          assert.equal(r.code, 0, `re-run with --proxy-unit failed:\n${r.err}`);
          await box.expectInside("systemctl is-active onehub-proxy", "active");
          await box.expectInside("onehub config get proxy.mode", "external");
          await box.expectInside("stat -c %a /etc/onehub/proxy.env", "600");
          await waitUntil(
            "the server answers through the new proxy",
            async () => {
              const res = await browser.follow("user/student/tree");
              await res.body?.cancel();
              return res.status === 200;
            },
          );
          const kernel = await runInKernel(browser, "student");
          const socket = await openKernelSocket(browser, "student", kernel.id);
          try {
            assert.equal((await socket.run("print(1+1)")).trim(), "2");
            await inside("systemctl restart onehub");
            await waitUntil("the hub answers again", async () => {
              const res = await fetch(`${base}hub/health`);
              await res.body?.cancel();
              return res.ok;
            });
            assert.ok(
              socket.open,
              "the WebSocket stayed open across the restart",
            );
            assert.equal((await socket.run("print(3+4)")).trim(), "7");
          } finally {
            await socket.close();
          }
          const again = await box.run("bash", "-c", install);
          assert.equal(again.code, 0, again.err);
          assert.match(again.err, /keeping onehub-proxy running/);
        },
      );

      await step(
        "--uninstall removes the service and the program, keeps the data",
        async () => {
          const r = await box.run(
            "bash",
            "-c",
            "bash /dev/stdin --uninstall < <(curl -fsSL http://127.0.0.1:" +
              filePort + "/install.sh)",
          );
          assert.equal(r.code, 0, `uninstall failed:\n${r.err}`);
          const enabled = await box.run("systemctl", "is-enabled", "onehub");
          assert.notEqual(enabled.code, 0);
          assert.equal(
            (await box.run("test", "-e", "/usr/local/bin/onehub")).code,
            1,
          );
          assert.equal(
            (await box.run(
              "test",
              "-e",
              "/etc/systemd/system/onehub-proxy.service",
            )).code,
            1,
            "the proxy unit is gone too",
          );
          assert.equal(
            (await box.run("test", "-f", "/var/lib/onehub/onehub.sqlite")).code,
            0,
          );
          assert.equal(
            (await box.run("test", "-f", "/etc/onehub/config.yaml"))
              .code,
            0,
          );
          assert.doesNotMatch(
            await inside(
              "systemctl list-units --plain --no-legend 'onehub-*.service' || true",
            ),
            /onehub-student/,
          );
        },
      );
    } catch (error) {
      failed = true;
      throw error;
    } finally {
      if (failed) {
        await box.printJournalTail({
          test: "install_test",
          units: ["onehub", "onehub-student"],
          lines: 60,
        });
      }
      await files[Symbol.asyncDispose]();
      await box.down();
    }
  },
});
