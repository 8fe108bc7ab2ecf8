/**
 * The profile form in Chromium: a student in the ML group sees both sizes
 * with the default checked, picks "Large", and the start records that
 * profile (read back through the API with the page's own cookie; ada has
 * no Linux account here, so the spawn itself fails after that).
 */
import assert from "node:assert/strict";
import { browserTest, screenshot } from "./_browser.ts";

const CONFIG = [
  "groups:",
  "  ml-course: { users: [ada] }",
  "profiles:",
  "  - { slug: small, display_name: Small, description: '1 CPU, 2 GB', default: true, limits: { memory: 2G } }",
  "  - { slug: large, display_name: Large, description: '4 CPU, 8 GB', limits: { memory: 8G }, groups: [ml-course] }",
  "",
].join("\n");

browserTest({
  name:
    "the spawn page's profile form: the default is checked, the choice is used",
  config: CONFIG,
  as: "ada",
  next: "spawn",
}, async ({ hub, page }) => {
  const form = page.locator("#spawn-form");
  await form.waitFor();
  assert.equal(await page.getByLabel(/Small/).isChecked(), true);
  assert.equal(await page.getByLabel(/Large/).isChecked(), false);
  await screenshot(page, "spawn-profiles");
  await page.getByLabel(/Large/).check();
  await page.click("#spawn-submit");
  await page.waitForURL(/\/hub\/(spawn-pending|user)\//);
  const res = await page.request.get(
    `${hub.url}hub/api/users/ada?include_stopped_servers=1`,
  );
  const user = await res.json();
  assert.equal(user.servers[""]?.user_options?.profile ?? null, "large");
});
