/**
 * A user of a real OpenID Provider (npm oidc-provider on loopback) signs in
 * to onehub and gets their own REAL jupyterhub-singleuser server, running
 * as the Linux account of the same name. Needs root and
 * /usr/bin/jupyterhub-singleuser.
 */
import assert from "node:assert/strict";
import { createSystemUser, singleuserTest } from "../_helpers/system_users.ts";
import { CookieClient } from "../_helpers/cookie_client.ts";
import { oidcLogin } from "../_helpers/oidc_provider.ts";
import { startOidcHub } from "../_helpers/oidc_hub.ts";
import { openServer } from "../_helpers/open_server.ts";

singleuserTest({
  file: "oidc_spawn_test",
  name: "an OpenID Connect user signs in and their own Jupyter server answers",
}, async () => {
  await using student = await createSystemUser({ prefix: "ohoi" });
  try {
    await using h = await startOidcHub({}, {
      spawner: { "http_timeout": 60 },
    });
    const browser = new CookieClient(h.url);
    const landed = await oidcLogin(browser, student.name);
    await landed.body?.cancel();
    assert.ok(
      browser.hops.some((hop) => hop.url.endsWith("/hub/spawn")),
      browser.hops.map((hop) => `${hop.status} ${hop.url}`).join(" -> "),
    );
    // Where the sign-in landed (spawn-pending while the server starts, else
    // the server): on from there as the page's script does.
    const opened = await openServer(browser, student.name, {
      from: browser.hops.at(-1)!.url,
    });
    assert.equal(opened.status, 200);
    await opened.body?.cancel();
    const page = await browser.follow(`user/${student.name}/tree`);
    assert.equal(page.status, 200);
    await page.body?.cancel();
    const api = await browser.request(`user/${student.name}/api/status`);
    assert.equal(api.status, 200, "the server's own OAuth cookie works");
    await api.body?.cancel();
  } finally {
    await new Deno.Command("pkill", { args: ["-KILL", "-u", student.name] })
      .output();
  }
});
