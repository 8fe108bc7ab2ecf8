/**
 * "Sign in with …" in Chromium: the button on onehub's login page, the real
 * OpenID Provider's own login and consent pages, and back on onehub's home
 * page as that user.
 */
import assert from "node:assert/strict";
import { BROWSER_TEST, screenshot, startBrowser } from "./_browser.ts";
import { startOidcHub } from "../_helpers/oidc_hub.ts";

Deno.test({
  name: "Chromium signs in through the provider's login page and lands home",
  ...BROWSER_TEST,
  fn: async () => {
    await using h = await startOidcHub({
      "button_text": "Sign in with School ID",
    });
    await using browser = await startBrowser();
    const { page } = browser;
    await page.goto(`${h.url}hub/login?next=/hub/home`);
    await page.getByRole("link", { name: "Sign in with School ID" }).click();
    await page.waitForURL(new RegExp(`^${h.issuer}/interaction/`));
    await screenshot(page, "oidc-provider-login");
    await page.locator('input[name="login"]').fill("ada");
    await page.locator('input[name="password"]').fill("any");
    await page.locator('button[type="submit"]').click();
    // The provider's consent page, then back to onehub.
    await page.locator('button[type="submit"]').click();
    await page.waitForURL(`${h.url}hub/home`);
    assert.match(await page.locator("h1").innerText(), /Welcome, ada/);
  },
});
