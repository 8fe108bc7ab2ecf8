/**
 * `groups` and `roles` on user create and update (hub/api/_user_fields.ts):
 * honoured, or a 400 naming what is wrong with nothing written.
 */
import assert from "node:assert/strict";
import { createTestHub, type TestHub } from "../../_helpers/test_hub.ts";
import { assertError, countRows, obj } from "./_fixtures.ts";
import { assertAnswer } from "../../_helpers/api_cases.ts";
import { adminToken } from "../../_helpers/api_setup.ts";

async function setup() {
  const hub = await createTestHub();
  const token = await adminToken(hub);
  await assertAnswer(hub, {
    send: "POST /hub/api/groups/students",
    token,
    status: 201,
  });
  return { hub, token };
}

async function model(hub: TestHub, token: string, name: string) {
  return await obj(await hub.request(`/hub/api/users/${name}`, { token }));
}

Deno.test("POST /hub/api/users puts the new users in the named groups and honours roles", async () => {
  const { hub, token } = await setup();
  await using _ = hub;
  const res = await hub.request("/hub/api/users", {
    method: "POST",
    token,
    json: { usernames: ["ada", "bob"], groups: ["students"], roles: ["user"] },
  });
  assert.equal(res.status, 201);
  const created = await res.json() as Array<Record<string, unknown>>;
  assert.deepEqual(created.map((u) => u.groups), [["students"], ["students"]]);
  const admins = await hub.request("/hub/api/users", {
    method: "POST",
    token,
    json: { usernames: ["ta"], roles: ["user", "admin"] },
  });
  assert.equal(admins.status, 201);
  const [ta] = await admins.json() as Array<Record<string, unknown>>;
  assert.equal(ta!.admin, true);
  assert.deepEqual(ta!.roles, ["user", "admin"]);
});

Deno.test("POST /hub/api/users/:name honours groups, roles and auth_state", async () => {
  const { hub, token } = await setup();
  await using _ = hub;
  await assertAnswer(hub, {
    send: "POST /hub/api/users/ada",
    token,
    json: { groups: ["students"], roles: ["admin"], auth_state: { k: 1 } },
    status: 201,
  });
  const ada = await model(hub, token, "ada");
  assert.deepEqual(ada.groups, ["students"]);
  assert.equal(ada.admin, true);
  const row = await hub.handle.db.selectFrom("users").select("auth_state")
    .where("name", "=", "ada").executeTakeFirstOrThrow();
  assert.match(row.auth_state!, /^v1:/, "stored sealed");
  assert.deepEqual(ada.auth_state, { k: 1 });
});

Deno.test("user create refuses unknown groups and roles with a 400 naming them, creating nothing", async (t) => {
  const { hub, token } = await setup();
  await using _ = hub;
  const rows: Array<[string, string, Record<string, unknown>, RegExp]> = [
    [
      "unknown group",
      "/hub/api/users",
      { usernames: ["x1"], groups: ["nope"] },
      /^No such group: "nope"/,
    ],
    ["unknown role", "/hub/api/users", {
      usernames: ["x1"],
      roles: ["teacher"],
    }, /^No role named "teacher": define it under "roles" in the config file/],
    [
      "server role",
      "/hub/api/users/x1",
      { roles: ["server"] },
      /^Role "server" is for servers, not users/,
    ],
    ["admin and roles disagree", "/hub/api/users", {
      usernames: ["x1"],
      admin: true,
      roles: ["user"],
    }, /contradicts "roles"/],
    [
      "groups not a list",
      "/hub/api/users/x1",
      { groups: "students" },
      /"groups" must be a list of strings/,
    ],
    ["name beside usernames", "/hub/api/users", {
      usernames: ["x1"],
      name: "x2",
    }, /list the names in "usernames"/],
    [
      "name unlike the URL",
      "/hub/api/users/x1",
      { name: "x2" },
      /differs from the name in the URL/,
    ],
  ];
  for (const [label, path, json, message] of rows) {
    await t.step(label, async () => {
      const before = await countRows(hub, "users");
      await assertError(
        await hub.request(path, { method: "POST", token, json }),
        400,
        message,
      );
      assert.equal(await countRows(hub, "users"), before);
    });
  }
});

Deno.test("PATCH /hub/api/users/:name sets the groups exactly and roles decide the admin flag", async () => {
  const { hub, token } = await setup();
  await using _ = hub;
  await hub.addUser("ada");
  const made = await hub.request("/hub/api/groups/tas", {
    method: "POST",
    token,
  });
  await made.body?.cancel();
  const patch = (json: unknown) =>
    hub.request("/hub/api/users/ada", { method: "PATCH", token, json });
  let res = await patch({
    groups: ["students", "tas"],
    roles: ["user", "admin"],
  });
  assert.equal(res.status, 200);
  let ada = await res.json();
  assert.deepEqual([...ada.groups].sort(), ["students", "tas"]);
  assert.equal(ada.admin, true);
  res = await patch({ groups: ["tas"], roles: ["user"] });
  ada = await res.json();
  assert.deepEqual(ada.groups, ["tas"]);
  assert.equal(ada.admin, false);
  await assertError(
    await patch({ groups: ["tas", "ghosts"] }),
    400,
    /No such group: "ghosts"/,
  );
  assert.deepEqual((await model(hub, token, "ada")).groups, ["tas"]);
});
