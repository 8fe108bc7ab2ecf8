/** The login page in Chromium: a wrong password shows the error in the page. */
import assert from "node:assert/strict";
import { browserTest, screenshot } from "./_browser.ts";

browserTest({
  name: "login page shows the error for a wrong password and starts no session",
}, async ({ hub, browser, page }) => {
  await page.goto(`${hub.url}hub/login`);
  await page.getByLabel("Username").fill("student1");
  await page.getByLabel("Password").fill("not-the-password");
  await page.click("#login_submit");
  const error = page.locator("#login-error");
  await error.waitFor();
  assert.match(await error.innerText(), /\S/);
  assert.ok(new URL(page.url()).pathname.endsWith("/hub/login"));
  assert.equal(await page.getByLabel("Username").inputValue(), "student1");
  await screenshot(page, "login-wrong-password");
  const cookies = await browser.context.cookies();
  assert.ok(!cookies.some((c) => c.name === "jupyterhub-hub-login"));
});
