/**
 * The home page in Chromium with a real server (Debian's
 * jupyterhub-singleuser as a throwaway Linux user): "Open my server" shows
 * only while the server runs, and its status follows Start and Stop
 * without a reload. Needs root, the singleuser and Chromium.
 */
import assert from "node:assert/strict";
import { SPAWN_WAIT_MS } from "../_helpers/open_server.ts";
import {
  browserTest,
  login,
  screenshot,
  skipWithoutJupyter,
} from "./_browser.ts";
import { createSystemUser } from "../_helpers/system_users.ts";

browserTest({
  name:
    "home page: Start shows 'Open my server', Stop hides it again (the hidden attribute wins over .button)",
  config: "spawner:\n  http_timeout: 300\n  poll_interval: 1\n",
  ignore: skipWithoutJupyter("home_test"),
}, async ({ hub, page }) => {
  await using student = await createSystemUser({ prefix: "ohhm" });
  await login(page, hub.url, student.name);
  const status = page.locator("#server-status");
  const open = page.locator("#open");
  await page.locator("#server-status", { hasText: "stopped" }).waitFor();
  assert.equal(await open.isVisible(), false, "hidden while stopped");

  await page.click("#start");
  await page.locator("#server-status", { hasText: "running" })
    .waitFor({ timeout: SPAWN_WAIT_MS });
  await open.waitFor({ state: "visible" });
  assert.match(
    (await open.getAttribute("href")) ?? "",
    new RegExp(`/user/${student.name}/$`),
  );
  await screenshot(page, "home-running");

  await page.click("#stop");
  await page.locator("#server-status", { hasText: "stopped" })
    .waitFor({ timeout: 60_000 });
  await open.waitFor({ state: "hidden", timeout: 5_000 });
  assert.equal(await open.isVisible(), false, "hidden again after a stop");
  assert.equal(await status.innerText(), "stopped");
  await screenshot(page, "home-stopped");
});
