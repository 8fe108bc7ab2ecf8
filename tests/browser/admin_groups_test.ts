/**
 * The admin page's groups in Chromium: create a group, add and remove a
 * member, delete the group; and the page on a phone-sized screen.
 */
import assert from "node:assert/strict";
import {
  addUserInForm,
  assertNoAlert,
  browserTest,
  screenshot,
} from "./_browser.ts";

browserTest({
  name: "admin page creates a group, adds and removes a member, deletes it",
  as: "teacher",
  next: "admin",
}, async ({ page }) => {
  await addUserInForm(page, "ada");
  await page.locator('tr[data-user="ada"]').waitFor();

  await page.getByLabel("New group name").fill("period-1");
  await page.click("#add-group button[type=submit]");
  const group = page.locator('li[data-group="period-1"]');
  await group.waitFor();
  await group.getByLabel("User to add to period-1").fill("ada");
  await group.getByRole("button", { name: "Add member" }).click();
  await group.locator("ul.members li", { hasText: "ada" }).waitFor();
  await page.setViewportSize({ width: 390, height: 844 });
  await screenshot(page, "admin-group-phone");
  await page.setViewportSize({ width: 1280, height: 900 });

  await group.getByRole("button", { name: "Remove ada from period-1" })
    .click();
  await group.locator("ul.members li").first().waitFor({
    state: "detached",
  });
  page.once("dialog", (d) => void d.accept());
  await group.getByRole("button", { name: "Delete group period-1" }).click();
  await group.waitFor({ state: "detached" });
  await assertNoAlert(page);
});

browserTest({
  name: "admin page shows an API error in the alert region, not a blank page",
  as: "teacher",
  next: "admin",
}, async ({ page }) => {
  await page.locator('tr[data-user="teacher"]').waitFor();
  await addUserInForm(page, "teacher");
  const alert = page.locator("#alert");
  await alert.waitFor({ state: "visible" });
  assert.match(await alert.innerText(), /already exist/);
  assert.equal(await page.locator('tr[data-user="teacher"]').count(), 1);
  await screenshot(page, "admin-error-alert");
});

browserTest({
  name:
    "admin page: config groups and roles show; selected users join a group in one click",
  config: [
    "groups:",
    "  students: { users: [ada, brian] }",
    "roles:",
    "  - name: teaching-assistant",
    '    scopes: [list:users, "admin:servers!group=students"]',
    "    users: [tom]",
    "",
  ].join("\n"),
  as: "teacher",
  next: "admin",
}, async ({ page }) => {
  const tom = page.locator('tr[data-user="tom"] td[data-role="roles"]');
  await tom.waitFor();
  assert.equal(await tom.innerText(), "teaching-assistant");
  assert.equal(
    await page.locator('tr[data-user="teacher"] td[data-role="roles"]')
      .innerText(),
    "admin",
  );
  const students = page.locator('li[data-group="students"]');
  await students.locator("ul.members li", { hasText: "brian" }).waitFor();

  await page.getByLabel("Select tom").check();
  await page.getByLabel("Group for the selected users").selectOption(
    "students",
  );
  await page.getByRole("button", { name: "Add selected to group" }).click();
  await students.locator("ul.members li", { hasText: "tom" }).waitFor();
  await assertNoAlert(page);
  await screenshot(page, "admin-bulk-group");
});
