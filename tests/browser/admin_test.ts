/**
 * The admin page in Chromium: the teacher bulk-adds a class, sees it,
 * deletes one student (accepting the confirmation); a student gets 403.
 */
import assert from "node:assert/strict";
import {
  assertNoAlert,
  browserAs,
  browserTest,
  login,
  screenshot,
  startBrowser,
} from "./_browser.ts";

browserTest({
  name: "admin page bulk-adds three users, lists them and deletes one",
  as: "teacher",
  next: "admin",
}, async ({ hub, page, pageErrors }) => {
  assert.ok(new URL(page.url()).pathname.endsWith("/hub/admin"));
  await page.locator('tr[data-user="teacher"]').waitFor();

  await page.getByLabel("User names, one per line").fill(
    "ada\nbrian\n  chen  \n",
  );
  await page.click("#bulk-add button[type=submit]");
  for (const name of ["ada", "brian", "chen"]) {
    await page.locator(`tr[data-user="${name}"]`).waitFor();
  }
  assert.match(await page.locator("#page-info").innerText(), /of 4 users/);
  await screenshot(page, "admin-bulk-added");

  page.once("dialog", (dialog) => {
    assert.equal(dialog.type(), "confirm");
    void dialog.accept();
  });
  await page.getByRole("button", { name: "Delete user brian" }).click();
  await page.locator('tr[data-user="brian"]').waitFor({ state: "detached" });
  assert.equal(await page.locator('tr[data-user="ada"]').count(), 1);
  await assertNoAlert(page);
  await screenshot(page, "admin-deleted-one");

  // The API agrees, read with the page's own cookie.
  const res = await page.request.get(`${hub.url}hub/api/users`, {
    headers: { "X-XSRFToken": await xsrfOf(page) },
  });
  const names = (await res.json() as { name: string }[]).map((u) => u.name);
  assert.deepEqual(names.sort(), ["ada", "chen", "teacher"]);
  assert.deepEqual(pageErrors, []);
});

browserTest({
  name: "admin page is a 403 error page for a student",
  as: "student",
}, async ({ hub, page }) => {
  const res = await page.goto(`${hub.url}hub/admin`);
  assert.equal(res?.status(), 403);
  assert.match(await page.locator("h1").innerText(), /^403/);
  assert.equal(await page.locator("#users").count(), 0);
  await screenshot(page, "admin-forbidden");
});

browserTest({
  name:
    "admin page: 'Revoke logins' logs a student out of their browser; the culler's settings are shown",
  config: "services:\n  cull: { timeout: 900, every: 120 }\n",
}, async ({ hub, page: student }) => {
  await login(student, hub.url, "student");
  const before = await student.request.get(`${hub.url}hub/api/user`);
  assert.equal(before.status(), 200);

  await using teacher = await browserAs(hub, "teacher", { next: "admin" });
  const { page, pageErrors } = teacher;
  assert.match(
    await page.locator("#culler-status").innerText(),
    /Stops servers idle for 15 min, checking every 2 min\./,
  );
  page.once("dialog", (dialog) => {
    assert.match(dialog.message(), /Log student out everywhere/);
    void dialog.accept();
  });
  await page.getByRole("button", {
    name: "Revoke logins and tokens of student",
  }).click();
  await page.locator("#status").filter({ hasText: "Revoked" }).waitFor();
  await assertNoAlert(page);
  await screenshot(page, "admin-revoked-logins");

  const after = await student.request.get(`${hub.url}hub/api/user`);
  assert.equal(after.status(), 403, "the student's browser is logged out");
  assert.deepEqual(pageErrors, []);
});

browserTest({
  name:
    "admin page sets the announcement; a student sees the banner on the login and home pages",
  as: "teacher",
  next: "admin",
}, async ({ hub, page }) => {
  await using studentBrowser = await startBrowser();
  await page.getByLabel(/Shown on the login and home pages/).fill(
    "Quiz on Friday <bring a pencil>",
  );
  await page.getByRole("button", { name: "Save announcement" }).click();
  await page.waitForURL(/\/hub\/admin$/);
  assert.equal(
    await page.locator("#announcement").innerText(),
    "Quiz on Friday <bring a pencil>",
  );
  const student = studentBrowser.page;
  await student.goto(`${hub.url}hub/login`);
  assert.equal(
    await student.getByRole("note").innerText(),
    "Quiz on Friday <bring a pencil>",
  );
  await screenshot(student, "login-announcement");
  await login(student, hub.url, "student");
  assert.match(await student.locator("#announcement").innerText(), /Quiz/);
});

/** The XSRF token from the page's data blob. */
async function xsrfOf(
  page: import("playwright-core").Page,
): Promise<string> {
  const text = await page.locator("#page-data").textContent();
  return JSON.parse(text ?? "{}").xsrf;
}
