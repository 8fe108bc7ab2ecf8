/**
 * `subdomain_host` in Chromium with the REAL jupyterhub-singleuser: every
 * user's server on its own origin (`<name>.hub.localhost`, which Chromium
 * resolves to loopback by itself), the OAuth handshake across origins, and
 * the attack it exists for (issue 23, item 7): a script in a student's
 * server, opened by the teacher, can no longer read or drive the hub as
 * the teacher. Needs root (PAM users), the singleuser and Chromium.
 */
import assert from "node:assert/strict";
import { SPAWN_WAIT_MS } from "../_helpers/open_server.ts";
import { freePorts } from "../_helpers/free_ports.ts";
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
import type { Page } from "playwright-core";

const ignore = skipWithoutJupyter("subdomain_test");

/** Logs in through the hub's form and waits to land on `landed`. */
async function pamLogin(
  page: Page,
  hub: string,
  user: { name: string; password: string },
  landed: (url: URL) => boolean,
  next = "",
): Promise<void> {
  await page.goto(`${hub}hub/login${next ? `?next=${next}` : ""}`);
  await page.getByLabel("Username").fill(user.name);
  await page.getByLabel("Password").fill(user.password);
  await page.click("#login_submit");
  // The pending page moves on by itself; a navigation it replaces is aborted.
  await page.waitForURL(landed, {
    timeout: SPAWN_WAIT_MS,
    waitUntil: "commit",
  });
}

/** What a script in the student's page manages against the hub, as whoever opened it. */
function attackFromPage(page: Page, hub: string, victim: string) {
  return page.evaluate(async ({ hub, victim }) => {
    const tryFetch = async (url: string, init: RequestInit = {}) => {
      try {
        const r = await fetch(url, { credentials: "include", ...init });
        return `${r.status} ${r.type}`;
      } catch {
        return "blocked";
      }
    };
    return {
      hubApi: await tryFetch(`${hub}hub/api/user`),
      ownHostApi: await tryFetch("/hub/api/user"),
      hubHome: await tryFetch(`${hub}hub/home`),
      // Fire-and-forget: the response is opaque; the hub must refuse it.
      tokenPost: await tryFetch(`${hub}hub/api/users/${victim}/tokens`, {
        method: "POST",
        mode: "no-cors",
        headers: { "content-type": "text/plain" },
        body: JSON.stringify({ note: "stolen by a student's page" }),
      }),
      // `document` is the page's (this code runs in Chromium, not in Deno).
      cookies: (globalThis as unknown as { document: { cookie: string } })
        .document.cookie,
    };
  }, { hub, victim });
}

Deno.test({
  name:
    "with subdomain_host each server has its own origin: login, OAuth across origins, and a student's script cannot act as the teacher",
  ...BROWSER_TEST,
  ignore,
  fn: async () => {
    await ensurePamService();
    const dir = await Deno.makeTempDir({ prefix: "onehub-subdomain-" });
    await using student = await createSystemUser({ prefix: "ohsd" });
    await using teacher = await createSystemUser({ prefix: "ohst" });
    const [port] = freePorts(1);
    const hub = `http://hub.localhost:${port}/`;
    const home = `http://${student.name}.hub.localhost:${port}`;
    const config = await writeHubConfig(dir, [
      `subdomain_host: http://hub.localhost:${port}`,
      "users:",
      "  allow_all: true",
      `  admin: [${teacher.name}]`,
      "spawner:",
      "  http_timeout: 300",
      "  poll_interval: 1",
    ]);
    const serve = await startServe([
      "--config",
      config,
      "--auth",
      "pam",
      "--port",
      String(port),
    ]);
    await using browser = await startBrowser();
    await using teacherBrowser = await startBrowser();
    try {
      // 1. The student logs in on the hub's host and lands on their own.
      const { page } = browser;
      const hops: string[] = [];
      page.on("request", (r) => {
        if (r.isNavigationRequest() && r.frame() === page.mainFrame()) {
          const u = new URL(r.url());
          hops.push(u.host + u.pathname);
        }
      });
      await pamLogin(
        page,
        hub,
        student,
        (url) =>
          url.origin === home &&
          url.pathname.startsWith(`/user/${student.name}/tree`),
      );
      // deno-lint-ignore no-console
      console.log(`subdomain_test: ${hops.join(" -> ")}`);
      assert.ok(
        hops.some((h) =>
          h === `hub.localhost:${port}/hub/api/oauth2/authorize`
        ),
        "the OAuth handshake went through the hub's host",
      );
      await page.locator("#notebook_list").waitFor({ timeout: 30_000 });
      await screenshot(page, "subdomain-tree");
      const onServer = await browser.context.cookies(
        `${home}/user/${student.name}/tree`,
      );
      const names = onServer.map((c) => c.name);
      assert.ok(
        names.includes(`jupyterhub-user-${student.name}`),
        `the server's own cookie is on its host: ${names}`,
      );
      for (
        const hubCookie of ["jupyterhub-hub-login", "jupyterhub-session-id"]
      ) {
        assert.ok(
          !names.includes(hubCookie),
          `${hubCookie} never reaches the user's host: ${names}`,
        );
      }

      // 2. The teacher (admin) opens the student's server.
      const tp = teacherBrowser.page;
      await pamLogin(
        tp,
        hub,
        teacher,
        (url) => url.pathname === "/hub/home",
        "/hub/home",
      );
      await tp.goto(`${home}/user/${student.name}/tree`);
      // Another user's server: the hub asks the teacher first (JupyterHub's consent page).
      await tp.locator("#authorize").click();
      await tp.waitForURL((url) => url.origin === home, {
        waitUntil: "commit",
      });
      await tp.locator("#notebook_list").waitFor({ timeout: 30_000 });
      assert.equal(new URL(tp.url()).origin, home);

      // 3. A script there tries the hub as the teacher, and gets nothing.
      const got = await attackFromPage(tp, hub, teacher.name);
      // deno-lint-ignore no-console
      console.log(`subdomain_test: attack results ${JSON.stringify(got)}`);
      assert.equal(got.hubApi, "blocked", "no cross-origin read of the API");
      assert.equal(got.ownHostApi, "blocked", "no hub API on the user's host");
      assert.equal(got.hubHome, "blocked", "no reading of hub pages (xsrf)");
      assert.ok(!got.cookies.includes("jupyterhub"), got.cookies);
      // The teacher's own look at their tokens, as a navigation on the hub.
      const tokens = await tp.goto(
        `${hub}hub/api/users/${teacher.name}/tokens`,
      );
      assert.equal(tokens?.status(), 200);
      const list = (await tokens!.json()).api_tokens as { note: string }[];
      assert.ok(
        !list.some((t) => t.note.includes("stolen")),
        `no token was made: ${JSON.stringify(list)}`,
      );
    } catch (error) {
      await screenshot(browser.page, "subdomain-failure").catch(() => {});
      // deno-lint-ignore no-console
      console.error(
        `subdomain_test: student at ${browser.page.url()}, teacher at ${teacherBrowser.page.url()}\n--- hub log ---\n${
          serve.log().slice(-6000)
        }`,
      );
      throw error;
    } finally {
      await serve.stop();
      await new Deno.Command("pkill", { args: ["-KILL", "-u", student.name] })
        .output();
      await Deno.remove(dir, { recursive: true }).catch(() => {});
    }
  },
});
