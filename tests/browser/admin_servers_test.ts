/**
 * The admin page starts and stops a student's real server (Debian's
 * jupyterhub-singleuser as a throwaway Linux user) and the status changes
 * in the table without a reload. Needs root, the singleuser and Chromium.
 */
import assert from "node:assert/strict";
import { SPAWN_WAIT_MS } from "../_helpers/open_server.ts";
import {
  BROWSER_TEST,
  chromiumMissing,
  login,
  screenshot,
  startBrowser,
  startClassHub,
} from "./_browser.ts";
import {
  createSystemUser,
  HAS_SINGLEUSER,
  IS_ROOT,
  SINGLEUSER,
} from "../_helpers/system_users.ts";

const ignore = chromiumMissing !== null || !IS_ROOT || !HAS_SINGLEUSER;
if (ignore && chromiumMissing === null) {
  // deno-lint-ignore no-console
  console.warn(
    `admin_servers_test: skipped: needs root and ${SINGLEUSER} (apt-get install -y jupyterhub)`,
  );
}

Deno.test({
  name:
    "admin page starts and stops a student's server and shows each status live",
  ...BROWSER_TEST,
  ignore,
  fn: async () => {
    await using student = await createSystemUser({ prefix: "ohbr" });
    await using hub = await startClassHub(
      "spawner:\n  http_timeout: 300\n  poll_interval: 1\n",
    );
    await using browser = await startBrowser();
    const { page } = browser;
    await login(page, hub.url, "teacher", { next: "admin" });
    await page.getByLabel("User name", { exact: true }).fill(student.name);
    await page.click("#add-user button[type=submit]");
    const row = page.locator(`tr[data-user="${student.name}"]`);
    await row.waitFor();
    const status = row.locator('[data-role="server-status"]');
    assert.equal(await status.innerText(), "stopped");

    await row.getByRole("button", { name: `Start server of ${student.name}` })
      .click();
    await row.locator('[data-role="server-status"]', { hasText: "running" })
      .waitFor({ timeout: SPAWN_WAIT_MS });
    assert.equal(
      await row.getByRole("link", { name: `Open server of ${student.name}` })
        .count(),
      1,
    );
    await screenshot(page, "admin-server-running");

    await row.getByRole("button", { name: `Stop server of ${student.name}` })
      .click();
    await row.locator('[data-role="server-status"]', { hasText: "stopped" })
      .waitFor({ timeout: 30_000 });
    await screenshot(page, "admin-server-stopped");
    assert.equal(await page.locator("#alert").isHidden(), true);
  },
});
