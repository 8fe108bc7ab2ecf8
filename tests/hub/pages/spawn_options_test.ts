/**
 * The spawn options form (`spawner.options_form`): GET /hub/spawn shows the
 * admin's fields with the XSRF token; POST starts the server with the
 * submitted fields as user_options; a forged POST starts nothing.
 */
import assert from "node:assert/strict";
import { createTestHub, type TestHub } from "../../_helpers/test_hub.ts";
import { FakeSpawner } from "../../_helpers/fake_spawner.ts";

const FORM =
  '<label for="size">Size</label><select id="size" name="size"><option>small</option>' +
  "<option>large</option></select>";

async function optionsHub(): Promise<TestHub & { fake: FakeSpawner }> {
  const fake = new FakeSpawner();
  const hub = await createTestHub({ spawner: { "options_form": FORM } }, {
    spawner: fake,
  });
  await hub.addUser("daemon");
  return hub as TestHub & { fake: FakeSpawner };
}

Deno.test("GET /hub/spawn shows the options form with the XSRF token instead of starting", async () => {
  await using hub = await optionsHub();
  const { cookie, xsrf } = await hub.login("daemon");
  const res = await hub.request("/hub/spawn", { headers: { cookie } });
  assert.equal(res.status, 200);
  const html = await res.text();
  assert.ok(html.includes(FORM), "the admin's fields are rendered as given");
  assert.ok(html.includes(`name="_xsrf" value="${xsrf}"`));
  assert.equal(hub.fake.requests.length, 0, "nothing started yet");
});

Deno.test("POST /hub/spawn starts the server with the submitted fields as user_options", async () => {
  await using hub = await optionsHub();
  const { cookie, xsrf } = await hub.login("daemon");
  const res = await hub.request("/hub/spawn", {
    method: "POST",
    headers: { cookie, "content-type": "application/x-www-form-urlencoded" },
    body: new URLSearchParams({ _xsrf: xsrf, size: "large" }).toString(),
  });
  await res.body?.cancel();
  assert.equal(res.status, 302);
  assert.match(res.headers.get("location")!, /^\/hub\/spawn-pending\/daemon/);
  const row = await hub.handle.db.selectFrom("servers").selectAll()
    .executeTakeFirstOrThrow();
  assert.deepEqual(JSON.parse(row.user_options), { size: ["large"] });
});

Deno.test("POST /hub/spawn without the session's XSRF token starts nothing", async () => {
  await using hub = await optionsHub();
  const { cookie } = await hub.login("daemon");
  const res = await hub.request("/hub/spawn", {
    method: "POST",
    headers: { cookie, "content-type": "application/x-www-form-urlencoded" },
    body: new URLSearchParams({ _xsrf: "forged", size: "large" }).toString(),
  });
  assert.equal(res.status, 403);
  assert.match(await res.text(), /form has expired/);
  assert.equal(hub.fake.requests.length, 0);
});
