/**
 * The admin page starts and stops a student's real server (Debian's
 * jupyterhub-singleuser as a throwaway Linux user) and the status changes
 * in the table without a reload. Needs root, the singleuser and Chromium.
 */
import assert from "node:assert/strict";
import { SPAWN_WAIT_MS } from "../_helpers/open_server.ts";
import {
  addUserInForm,
  assertNoAlert,
  browserTest,
  screenshot,
  skipWithoutJupyter,
} from "./_browser.ts";
import { createSystemUser } from "../_helpers/system_users.ts";

browserTest({
  name:
    "admin page starts and stops a student's server and shows each status live",
  config: "spawner:\n  http_timeout: 300\n  poll_interval: 1\n",
  as: "teacher",
  next: "admin",
  ignore: skipWithoutJupyter("admin_servers_test"),
}, async ({ page }) => {
  await using student = await createSystemUser({ prefix: "ohbr" });
  await addUserInForm(page, student.name);
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
  await assertNoAlert(page);
});
