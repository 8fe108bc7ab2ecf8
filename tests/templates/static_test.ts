/**
 * templates/static.ts and its route: the committed bundles match
 * templates/client/ (tools/bundle_client.ts), the hub serves every asset
 * with its type and a cache policy tied to the version, and pages link
 * them under a CSP without 'unsafe-inline'.
 */
import assert from "node:assert/strict";
import { generatedFiles } from "../../tools/bundle_client.ts";
import { STATIC_ASSETS, staticUrl } from "../../templates/mod.ts";
import { createTestHub } from "../_helpers/test_hub.ts";

Deno.test("each committed bundle and the versions module are what tools/bundle_client.ts makes", async (t) => {
  for (const { path, text } of await generatedFiles()) {
    const name = path.slice(path.indexOf("templates/static/"));
    await t.step(name, async () => {
      assert.equal(
        await Deno.readTextFile(path),
        text,
        `${name} is stale: run deno task bundle`,
      );
    });
  }
});

Deno.test("every asset is served with its type; the versioned URL may be cached for good", async (t) => {
  await using hub = await createTestHub();
  for (const [name, asset] of Object.entries(STATIC_ASSETS)) {
    await t.step(name, async () => {
      const versioned = await hub.request(staticUrl("/", name));
      assert.equal(versioned.status, 200);
      assert.equal(versioned.headers.get("content-type"), asset.contentType);
      assert.equal(
        versioned.headers.get("cache-control"),
        "public, max-age=31536000, immutable",
      );
      assert.equal(await versioned.text(), asset.body);
      const plain = await hub.request(`/hub/static/${name}`);
      await plain.body?.cancel();
      assert.equal(plain.headers.get("cache-control"), "no-cache");
      const again = await hub.request(`/hub/static/${name}`, {
        headers: { "if-none-match": plain.headers.get("etag")! },
      });
      assert.equal(again.status, 304);
    });
  }
  const missing = await hub.request("/hub/static/nope.js");
  assert.equal(missing.status, 404);
  assert.equal(await missing.text(), "No static file named nope.js");
  const proto = await hub.request("/hub/static/__proto__");
  await proto.body?.cancel();
  assert.equal(proto.status, 404);
});

Deno.test("pages link their script and stylesheet and send a CSP without 'unsafe-inline'", async () => {
  await using hub = await createTestHub({ users: { admin: ["teacher"] } });
  const { cookie } = await hub.login("teacher");
  for (
    const [path, script] of [
      ["/hub/home", "home.js"],
      ["/hub/token", "token.js"],
      ["/hub/admin", "admin.js"],
    ] as const
  ) {
    const res = await hub.request(path, { headers: { cookie } });
    const html = await res.text();
    assert.equal(res.status, 200, path);
    assert.ok(
      html.includes(`<script type="module" src="${staticUrl("/", script)}">`),
      path,
    );
    assert.ok(
      html.includes(
        `<link rel="stylesheet" href="${staticUrl("/", "style.css")}">`,
      ),
      path,
    );
    const csp = res.headers.get("content-security-policy") ?? "";
    assert.match(csp, /script-src 'self'/);
    assert.doesNotMatch(csp, /unsafe-inline/);
  }
});
