/**
 * "Share my server" on the home page in Chromium: a student shares with the
 * teacher, who gains access to exactly that server (their identity, read
 * with their own browser's cookie), then stops sharing, which takes it
 * away at once.
 */
import assert from "node:assert/strict";
import {
  assertNoAlert,
  browserAs,
  browserTest,
  screenshot,
} from "./_browser.ts";

browserTest({
  name:
    "home page: a student shares their server with the teacher and stops sharing",
  config: "sharing: { enabled: true }\n",
  as: "teacher",
}, async ({ hub, page: teacher }) => {
  const scopes = async () =>
    ((await (await teacher.request.get(`${hub.url}hub/api/user`)).json()) as {
      scopes: string[];
    }).scopes;
  assert.ok(!(await scopes()).includes("access:servers!server=student/"));

  await using student = await browserAs(hub, "student");
  const { page, pageErrors } = student;
  await page.getByLabel("User or group").fill("teacher");
  await page.getByRole("button", { name: "Share", exact: true }).click();
  await page.locator('li[data-share="teacher"]').waitFor();
  assert.equal(await page.locator("#share-empty").isHidden(), true);
  await screenshot(page, "home-shared");
  // The teacher (admin, but with this share's scope too) now holds it.
  assert.ok((await scopes()).includes("access:servers!server=student/"));

  await page.getByRole("button", { name: "Stop sharing with teacher" })
    .click();
  await page.locator('li[data-share="teacher"]').waitFor({
    state: "detached",
  });
  assert.ok(!(await scopes()).includes("access:servers!server=student/"));
  await assertNoAlert(page);
  assert.deepEqual(pageErrors, []);
});
