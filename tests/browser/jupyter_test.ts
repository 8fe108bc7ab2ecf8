/**
 * The whole student path in Chromium with the REAL jupyterhub-singleuser
 * (Debian's `jupyterhub` package, classic notebook UI): a Linux user logs
 * in through the form with PAM, waits on the spawn-pending page, lands in
 * the Jupyter tree through onehub's proxy and OAuth, opens a notebook and
 * runs a cell that prints 42. Needs root, the singleuser and Chromium.
 */
import assert from "node:assert/strict";
import { SPAWN_WAIT_MS } from "../_helpers/open_server.ts";
import {
  BROWSER_TEST,
  screenshot,
  skipWithoutJupyter,
  startBrowser,
} from "./_browser.ts";
import {
  createSystemUser,
  ensurePamService,
} from "../_helpers/system_users.ts";
import { startServe, writeHubConfig } from "../_helpers/serve_process.ts";

const ignore = skipWithoutJupyter("jupyter_test");

Deno.test({
  name:
    "a PAM user logs in, waits on spawn-pending, lands in Jupyter and runs a cell that prints 42",
  ...BROWSER_TEST,
  ignore,
  fn: async () => {
    await ensurePamService();
    const dir = await Deno.makeTempDir({ prefix: "onehub-jupyter-" });
    await using student = await createSystemUser({ prefix: "ohju" });
    const config = await writeHubConfig(dir, [
      "users:\n  allow_all: true\nspawner:\n  http_timeout: 300\n  poll_interval: 1\n",
    ]);
    const hub = await startServe(["--config", config, "--auth", "pam"]);
    const browser = await startBrowser().catch(async (error) => {
      await hub.stop();
      throw error;
    });
    try {
      const { page } = browser;
      const name = student.name;
      const userPrefix = new URL(`user/${name}/`, hub.url).pathname;

      // 1. The login form.
      await page.goto(`${hub.url}hub/login`);
      await page.getByLabel("Username").fill(name);
      await page.getByLabel("Password").fill(student.password);
      // Every page the browser asks for, redirects included.
      const hops: string[] = [];
      page.on("request", (request) => {
        if (
          request.isNavigationRequest() && request.frame() === page.mainFrame()
        ) {
          hops.push(new URL(request.url()).pathname);
        }
      });
      // The pending page moves on by itself: screenshot it if it shows.
      let pendingShot: Promise<void> = Promise.resolve();
      page.on("framenavigated", (frame) => {
        if (
          frame === page.mainFrame() &&
          new URL(frame.url()).pathname.includes(`/hub/spawn-pending/${name}`)
        ) {
          pendingShot = screenshot(page, "jupyter-spawn-pending").catch(
            () => {/* it moved on before the screenshot */},
          );
        }
      });
      await page.click("#login_submit");

      // 2. spawn -> spawn-pending -> OAuth -> the notebook tree.
      await page.waitForURL(
        (url) =>
          /^\/tree\/?$/.test(url.pathname.slice(userPrefix.length - 1)) &&
          url.pathname.startsWith(userPrefix),
        { timeout: SPAWN_WAIT_MS },
      );
      await pendingShot;
      // deno-lint-ignore no-console
      console.log(`jupyter_test: ${hops.join(" -> ")}`);
      assert.ok(
        hops.some((h) => h.endsWith("/hub/api/oauth2/authorize")),
        "the OAuth handshake went through the hub",
      );
      await page.locator("#notebook_list").waitFor({ timeout: 30_000 });
      await screenshot(page, "jupyter-tree");

      // 3. A notebook, created with the page's own cookies and _xsrf.
      const xsrf = (await browser.context.cookies(page.url()))
        .find((c) => c.name === "_xsrf")?.value ?? "";
      assert.ok(xsrf, "the notebook server set its _xsrf cookie");
      const created = await page.request.put(
        `${hub.url}user/${name}/api/contents/test.ipynb`,
        {
          headers: {
            "content-type": "application/json",
            "x-xsrftoken": decodeURIComponent(xsrf),
            referer: page.url(),
          },
          data: JSON.stringify({ type: "notebook" }),
        },
      );
      const status = created.status();
      assert.ok(status === 201 || status === 200, `PUT status ${status}`);
      await page.goto(`${hub.url}user/${name}/notebooks/test.ipynb`);

      // 4. Kernel idle, type the cell, run it, read 42.
      await page.locator("#kernel_indicator_icon.kernel_idle_icon")
        .waitFor({ state: "attached", timeout: 60_000 });
      const cell = page.locator(".cell.code_cell").first();
      await cell.locator(".CodeMirror").click();
      await page.keyboard.type("print(6*7)");
      await page.keyboard.press("Shift+Enter");
      const output = cell.locator(".output_area .output_subarea")
        .filter({ hasText: /^\s*42\s*$/ });
      await output.first().waitFor({ timeout: 60_000 });
      assert.equal((await output.first().innerText()).trim(), "42");
      await screenshot(page, "jupyter-cell-42");
    } catch (error) {
      // Say where the browser got stuck, with the hub's log.
      await screenshot(browser.page, "jupyter-failure").catch(() => {});
      // deno-lint-ignore no-console
      console.error(
        `jupyter_test: failed at ${browser.page.url()}\n--- hub log ---\n${
          hub.log().slice(-6000)
        }`,
      );
      throw error;
    } finally {
      await browser[Symbol.asyncDispose]();
      await hub.stop();
      // Leave nothing running as the test user.
      await new Deno.Command("pkill", { args: ["-KILL", "-u", student.name] })
        .output();
      await Deno.remove(dir, { recursive: true }).catch(() => {});
    }
  },
});
