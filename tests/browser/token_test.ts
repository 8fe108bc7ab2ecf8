/**
 * The token page in Chromium: create a token, use it on the API, revoke
 * it, and see the API refuse it afterwards.
 */
import assert from "node:assert/strict";
import { browserTest, screenshot } from "./_browser.ts";

browserTest({
  name: "token page creates a token that works on the API until it is revoked",
  as: "student",
  next: "token",
}, async ({ hub, page }) => {
  assert.ok(new URL(page.url()).pathname.endsWith("/hub/token"));

  await page.getByLabel("Note (what the token is for)").fill("homework");
  await page.getByLabel("Expires in").selectOption({ label: "1 day" });
  await page.click("#token-submit");
  // The box is shown only after the token is in the field.
  await page.locator("#new-token-box").waitFor({ state: "visible" });
  const output = page.locator("#new-token");
  const token = await output.inputValue();
  const row = page.locator("#token-body tr", { hasText: "homework" });
  await row.waitFor();
  await screenshot(page, "token-created");

  const api = (t: string) =>
    fetch(`${hub.url}hub/api/user`, {
      headers: { Authorization: `token ${t}` },
    });
  const ok = await api(token);
  assert.equal(ok.status, 200);
  assert.equal((await ok.json()).name, "student");

  await row.getByRole("button", { name: /^Revoke token/ }).click();
  await row.waitFor({ state: "detached" });
  await screenshot(page, "token-revoked");
  const refused = await api(token);
  assert.equal(refused.status, 403);
  await refused.body?.cancel();
});
