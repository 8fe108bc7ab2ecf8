/**
 * The stack a teacher installing today gets: a fresh Debian 13 ("trixie")
 * booted with systemd (../shared/testbed, `SUITE=trixie`), install.sh run
 * as a user would (`curl … | bash`), which takes JupyterHub 5.2's
 * single-user server and JupyterLab 4 from apt. Then, from the host, in
 * Chromium: a PAM user logs in and JupyterLab opens at /lab (through the
 * server's OAuth handshake with onehub), a notebook cell prints 42, a
 * terminal WebSocket echoes, activity reaches the hub, the hub extension's
 * "Hub Control Panel" and "Log Out" work, the home page stops the server;
 * `systemctl restart onehub` keeps a kernel; the local spawner runs the
 * same server; JupyterLab's shareable link opens on the opener's server. Debian 12's JupyterHub 3.0 stays covered by the rest of the
 * suite and install_test.ts. About 8 minutes (apt brings ~800 packages).
 * Needs root and Chromium.
 */
import assert from "node:assert/strict";
import type { Page } from "playwright-core";
import { freePorts } from "../_helpers/free_ports.ts";
import { waitFor } from "../_helpers/wait_for.ts";
import { CookieClient } from "../_helpers/cookie_client.ts";
import { runInKernel } from "../_helpers/jupyter.ts";
import { openServer, SPAWN_WAIT_MS } from "../_helpers/open_server.ts";
import { printErr } from "../../hub/cli/_print.ts";
import { REAL_PROCESSES } from "../_helpers/system_users.ts";
import {
  container,
  serveCheckout,
  skipWithoutTestbed,
} from "../_helpers/testbed.ts";
import {
  chromiumMissing,
  screenshot,
  startBrowser,
} from "../browser/_browser.ts";

const ignore = await skipWithoutTestbed("trixie_test") ||
  chromiumMissing !== null;

const NAME = "onehub-trixie";
const PASSWORD = "Onehub-test-13";

/** The test's container. */
const box = container(NAME);
/** Runs a shell line inside the container; fails the test on a non-zero exit. */
const inside = box.inside;

/** Logs in through the form; the page then goes wherever the hub sends it. */
async function formLogin(page: Page, base: string, next = ""): Promise<void> {
  await page.goto(`${base}hub/login${next ? `?next=${next}` : ""}`);
  await page.getByLabel("Username").fill("student");
  await page.getByLabel("Password").fill(PASSWORD);
  await page.click("#login_submit");
}

/**
 * Opens JupyterLab's File menu and clicks `item`; the last of that name,
 * which is the hub extension's (JupyterLab has a "Log Out" of its own).
 */
async function fileMenu(page: Page, item: string): Promise<void> {
  await page.locator(".lm-MenuBar-itemLabel", { hasText: /^File$/ }).click();
  await page.locator(".lm-Menu-itemLabel", {
    hasText: new RegExp(`^${item}$`),
  }).last().click();
}

/** Whether the page's server has a kernel that is idle with a client connected (the server's own API). */
async function kernelConnected(page: Page, prefix: string): Promise<boolean> {
  const xsrf = await serverXsrf(page, prefix);
  return await page.evaluate(async ({ prefix, xsrf }) => {
    const res = await fetch(`${prefix}api/kernels`, {
      headers: { "x-xsrftoken": xsrf },
    });
    if (!res.ok) return false;
    const kernels = await res.json() as Array<
      { execution_state: string; connections: number }
    >;
    return kernels.some((k) =>
      k.execution_state === "idle" && k.connections > 0
    );
  }, { prefix, xsrf });
}

/** The server's _xsrf cookie: a cookie-authenticated fetch needs it (JupyterHub 4.1+). */
async function serverXsrf(page: Page, prefix: string): Promise<string> {
  const cookies = await page.context().cookies(
    new URL(`${prefix}api/`, page.url()).href,
  );
  return decodeURIComponent(
    cookies.find((c) => c.name === "_xsrf")?.value ?? "",
  );
}

/** In the page (the server's origin): a terminal over its WebSocket echoes a computed line. */
async function terminalEcho(page: Page, prefix: string): Promise<string> {
  const xsrf = await serverXsrf(page, prefix);
  return await page.evaluate(async ({ prefix, xsrf }) => {
    const made = await fetch(`${prefix}api/terminals`, {
      method: "POST",
      headers: { "x-xsrftoken": xsrf },
    });
    const { name } = await made.json();
    const url = new URL(`${prefix}terminals/websocket/${name}`, location.href);
    url.protocol = url.protocol.replace("http", "ws");
    const ws = new WebSocket(url);
    return await new Promise<string>((resolve, reject) => {
      let seen = "";
      const timer = setTimeout(
        () => reject(new Error(`no echo: ${seen}`)),
        30_000,
      );
      ws.onopen = () =>
        ws.send(JSON.stringify(["stdin", "echo onehub-$((6*7))\r"]));
      ws.onerror = () => reject(new Error("terminal socket failed"));
      ws.onmessage = (e) => {
        const [kind, text] = JSON.parse(String(e.data));
        if (kind === "stdout") seen += text;
        if (/onehub-42/.test(seen)) {
          clearTimeout(timer);
          ws.close();
          resolve("onehub-42");
        }
      };
    });
  }, { prefix, xsrf });
}

Deno.test({
  name:
    "Debian 13: install.sh gives JupyterHub 5.2 and JupyterLab 4 from apt; login, /lab, a cell prints 42, terminal, activity, hub menu, stop, restart, both spawners",
  ignore,
  ...REAL_PROCESSES,
  fn: async (t) => {
    await box.down();
    let failed = false;
    let browser: Awaited<ReturnType<typeof startBrowser>> | undefined;
    let shots = 0;
    const step = async (name: string, fn: () => Promise<void>) => {
      if (await t.step(name, fn)) return;
      failed = true;
      if (browser) {
        await screenshot(browser.page, `trixie-failed-step-${++shots}`)
          .catch(() => {});
      }
    };
    const [filePort, port, hubPort] = freePorts(3) as [number, number, number];
    await using files = await serveCheckout(filePort);
    const base = `http://127.0.0.1:${port}/`;
    const install =
      `curl -fsSL ${files.installer} | bash -s -- --admin teacher --port ${port} --hub-port ${hubPort} --from-source ${files.tarball}`;
    try {
      await box.boot({ suite: "trixie" });
      assert.match(await inside("cat /etc/os-release"), /VERSION_ID="13"/);
      const started = performance.now();

      await step(
        "install.sh takes jupyterhub 5 and jupyterlab 4 from apt, without recommends, and servers open /lab",
        async () => {
          const r = await box.run("bash", "-c", install);
          assert.equal(r.code, 0, `install.sh failed:\n${r.out}\n${r.err}`);
          assert.match(r.err, /installing jupyterhub jupyterlab/);
          const versions = await inside(
            "dpkg-query -W -f='${Package} ${Version}\\n' jupyterhub jupyterlab",
          );
          assert.match(versions, /^jupyterhub 5\./m);
          assert.match(versions, /^jupyterlab 4\./m);
          const chromium = await box.run(
            "dpkg-query",
            "-W",
            "-f=${Status}",
            "chromium",
          );
          assert.doesNotMatch(
            chromium.out,
            /install ok installed/,
            "no recommends: no Chromium",
          );
          await box.expectInside(
            "onehub config get spawner.default_url",
            "/lab",
          );
          printErr(
            `trixie_test: install ${
              ((performance.now() - started) / 1000).toFixed(0)
            } s`,
          );
        },
      );
      // The server reports activity every 5 s instead of 300 (the variable
      // rides on spawner.environment, which JupyterHub applies last).
      await inside(
        `useradd -m student && echo 'student:${PASSWORD}' | chpasswd && onehub user add student && onehub config set spawner.environment '{"JUPYTERHUB_ACTIVITY_INTERVAL": "5"}' && systemctl reload onehub`,
      );

      browser = await startBrowser();
      const page = browser.page;
      await step(
        "a PAM user logs in; JupyterLab 4 opens at /lab through the server's OAuth; a notebook cell prints 42",
        async () => {
          const hops: string[] = [];
          page.on("request", (r) => {
            if (r.isNavigationRequest() && r.frame() === page.mainFrame()) {
              hops.push(new URL(r.url()).pathname);
            }
          });
          await formLogin(page, base);
          await page.waitForURL((u) => u.pathname === "/user/student/lab", {
            timeout: SPAWN_WAIT_MS,
            waitUntil: "commit",
          });
          printErr(`trixie_test: ${hops.join(" -> ")}`);
          assert.ok(hops.includes("/hub/api/oauth2/authorize"));
          await page.locator(".jp-LauncherCard[data-category='Notebook']")
            .first().click({ timeout: 60_000 });
          const editor = page.locator(".jp-Notebook .jp-Cell .cm-content")
            .first();
          // The editor may take focus late on a cold start: type until it holds the line.
          await waitFor(async () => {
            await editor.click({ timeout: 60_000 });
            await page.keyboard.press("Control+A");
            await page.keyboard.type("print(6*7)");
            return (await editor.innerText()).trim() === "print(6*7)";
          }, {
            timeoutMs: 60_000,
            intervalMs: 1000,
            description: "the cell holds print(6*7)",
          });
          // Run it once the kernel is connected and idle: a cell run before
          // that is skipped (JupyterLab moves on without executing).
          await waitFor(() => kernelConnected(page, "/user/student/"), {
            timeoutMs: SPAWN_WAIT_MS,
            intervalMs: 500,
            description: "the notebook's kernel idle and connected",
          });
          const output = page.locator(".jp-OutputArea-output", {
            hasText: /^\s*42\s*$/,
          }).first();
          await waitFor(async () => {
            if (await output.isVisible()) return true;
            await editor.click();
            await page.keyboard.press("Shift+Enter");
            await output.waitFor({ timeout: 20_000 }).catch(() => {});
            return await output.isVisible();
          }, {
            timeoutMs: 120_000,
            intervalMs: 1000,
            description: "the cell's output 42",
          });
          await screenshot(page, "trixie-lab-42");
        },
      );

      await step("a terminal WebSocket runs a command", async () => {
        assert.equal(await terminalEcho(page, "/user/student/"), "onehub-42");
      });

      const token = (await inside("onehub token teacher")).trim();
      const api = async (path: string, init: RequestInit = {}) =>
        await fetch(`${base}hub/api${path}`, {
          ...init,
          headers: { authorization: `token ${token}` },
        });
      await step("the server's activity reaches the hub", async () => {
        // Posted by the JupyterHub 5 server to POST /users/student/activity.
        const since = Date.now();
        await waitFor(async () => {
          const user = await (await api("/users/student")).json();
          const last = Date.parse(user.servers?.[""]?.last_activity ?? "");
          return last > since - 1000;
        }, {
          timeoutMs: 120_000,
          intervalMs: 2000,
          description: "a recent last_activity",
        });
      });

      await step(
        "the hub extension: File > Hub Control Panel opens the home page, File > Log Out logs out",
        async () => {
          const [panel] = await Promise.all([
            browser!.context.waitForEvent("page", { timeout: 30_000 }),
            fileMenu(page, "Hub Control Panel"),
          ]);
          await panel.waitForURL((u) => u.pathname === "/hub/home");
          await panel.close();
          await fileMenu(page, "Log Out");
          await page.waitForURL((u) => u.pathname === "/hub/login", {
            timeout: 30_000,
          });
        },
      );

      await step(
        "the home page stops the server, and 'Open my server' goes away",
        async () => {
          await formLogin(page, base, "/hub/home");
          await page.locator("#server-status", { hasText: "running" })
            .waitFor({ timeout: 30_000 });
          await page.click("#stop");
          await page.locator("#server-status", { hasText: "stopped" })
            .waitFor({ timeout: 60_000 });
          await page.locator("#open").waitFor({ state: "hidden" });
        },
      );

      const client = new CookieClient(base);
      await step(
        "systemctl restart onehub keeps a running kernel",
        async () => {
          const login = await client.login("student", PASSWORD);
          await login.body?.cancel();
          const opened = await openServer(client, "student");
          await opened.body?.cancel();
          const { id, out } = await runInKernel(client, "student");
          assert.equal(out.trim(), "42");
          await inside("systemctl restart onehub");
          await waitFor(async () => {
            const res = await fetch(`${base}hub/health`).catch(() => null);
            await res?.body?.cancel();
            return res?.ok ?? false;
          }, { timeoutMs: 60_000, description: "the hub answers again" });
          const again = await runInKernel(client, "student", id, "print(7*6)");
          assert.equal(again.out.trim(), "42");
        },
      );

      await step(
        "the local spawner runs the same server (a plain process, no unit)",
        async () => {
          const stop = await api("/users/student/server", { method: "DELETE" });
          await stop.body?.cancel();
          await waitFor(async () => {
            const user = await (await api("/users/student")).json();
            return !user.servers?.[""];
          }, { timeoutMs: 60_000, description: "the server stopped" });
          await inside(
            "onehub config set spawner.type local && systemctl restart onehub",
          );
          await waitFor(async () => {
            const res = await fetch(`${base}hub/health`).catch(() => null);
            await res?.body?.cancel();
            return res?.ok ?? false;
          }, { timeoutMs: 60_000, description: "the hub answers again" });
          const opened = await openServer(client, "student");
          await opened.body?.cancel();
          const { out } = await runInKernel(client, "student");
          assert.equal(out.trim(), "42");
          const units = await inside(
            "systemctl list-units --plain --no-legend 'onehub-student*' || true",
          );
          assert.equal(units.trim(), "", "no systemd unit for the server");
          assert.match(
            await inside("pgrep -u student -af jupyterhub-singleuser"),
            /jupyterhub-singleuser/,
          );
        },
      );

      await step(
        "JupyterLab's shareable link (/hub/user-redirect/…) opens the same path on the opener's own server",
        async () => {
          await inside(
            `useradd -m friend && echo 'friend:${PASSWORD}' | chpasswd && onehub user add friend`,
          );
          const friend = new CookieClient(base);
          const login = await friend.login("friend", PASSWORD);
          await login.body?.cancel();
          const opened = await openServer(friend, "friend");
          await opened.body?.cancel();
          const res = await friend.follow("hub/user-redirect/api/status");
          await res.body?.cancel();
          assert.equal(res.status, 200);
          assert.equal(
            new URL(friend.hops.at(-1)!.url).pathname,
            "/user/friend/api/status",
          );
        },
      );
    } catch (error) {
      failed = true;
      throw error;
    } finally {
      if (failed) {
        if (browser) {
          await screenshot(browser.page, "trixie-failure").catch(() => {});
        }
        await box.printJournalTail({
          test: "trixie_test",
          units: ["onehub", "onehub-student"],
          lines: 80,
        });
      }
      await browser?.[Symbol.asyncDispose]();
      await box.down();
    }
  },
});
