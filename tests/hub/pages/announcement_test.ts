/**
 * The announcement banner (hub/announcement.ts, the admin page's form): the
 * config's text on the login and home pages, an admin's text winning and
 * kept across restarts, escaping, and the refusals.
 */
import assert from "node:assert/strict";
import { createTestHub, type TestHub } from "../../_helpers/test_hub.ts";
import { assertStatus } from "../../_helpers/responses.ts";

async function page(hub: TestHub, path: string, cookie = ""): Promise<string> {
  const res = await hub.request(path, cookie ? { headers: { cookie } } : {});
  return await res.text();
}

async function post(
  hub: TestHub,
  session: { cookie: string; xsrf: string },
  text: string,
): Promise<Response> {
  return await hub.request("/hub/admin/announcement", {
    method: "POST",
    headers: {
      cookie: session.cookie,
      "content-type": "application/x-www-form-urlencoded",
    },
    body: new URLSearchParams({ _xsrf: session.xsrf, text }).toString(),
  });
}

Deno.test("the config's announcement shows on the login and home pages, escaped", async () => {
  await using hub = await createTestHub({
    announcement: "Exam on <b>Friday</b>",
  });
  const login = await page(hub, "/hub/login");
  assert.match(
    login,
    /<p id="announcement" class="announcement" role="note">Exam on &lt;b&gt;Friday&lt;\/b&gt;<\/p>/,
  );
  const { cookie } = await hub.login("alice");
  assert.match(await page(hub, "/hub/home", cookie), /id="announcement"/);
});

Deno.test("an admin's announcement wins over the config's, is cleared back to it, and survives a restart", async () => {
  const dir = await Deno.makeTempDir({ prefix: "onehub-announce-" });
  try {
    const dbPath = `${dir}/hub.sqlite`;
    {
      await using hub = await createTestHub({ announcement: "from config" }, {
        dbPath,
      });
      await hub.addUser("teacher", { admin: true });
      const teacher = await hub.login("teacher");
      const res = await post(hub, teacher, "Lab closed\r\nuntil noon");
      assert.equal(res.status, 302);
      assert.match(await page(hub, "/hub/login"), /Lab closed\nuntil noon/);
      const admin = await page(hub, "/hub/admin", teacher.cookie);
      assert.match(
        admin,
        /<textarea[^>]*name="text"[^>]*>Lab closed\nuntil noon<\/textarea>/,
      );
    }
    {
      await using hub = await createTestHub({ announcement: "from config" }, {
        dbPath,
      });
      assert.match(await page(hub, "/hub/login"), /Lab closed/);
      const teacher = await hub.login("teacher");
      await (await post(hub, teacher, "   ")).body?.cancel();
      assert.match(await page(hub, "/hub/login"), />from config</);
    }
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("setting the announcement needs admin-ui, the form's XSRF token and at most 1000 characters", async () => {
  await using hub = await createTestHub();
  await hub.addUser("teacher", { admin: true });
  const student = await hub.login("alice");
  await assertStatus(await post(hub, student, "hacked"), 403);
  const teacher = await hub.login("teacher");
  await assertStatus(
    await post(hub, { cookie: teacher.cookie, xsrf: "wrong" }, "x"),
    403,
  );
  const res = await post(hub, teacher, "x".repeat(1001));
  assert.equal(res.status, 400);
  assert.match(await res.text(), /1001 characters; keep it to 1000/);
  assert.doesNotMatch(await page(hub, "/hub/login"), /id="announcement"/);
});
