/**
 * `groups` and `roles` from the config (hub/config/access.ts) on a hub
 * with the fake spawner: the README's teaching-assistant role stops a
 * student's server and is refused on another user's; config groups merge
 * with API-made members; unknown members are refused before anything is
 * written; dropping the role takes the rights away at once.
 */
import assert from "node:assert/strict";
import { type FakeHub, fakeHub } from "../../_helpers/test_hub.ts";
import { syncConfigAccess } from "../../../hub/config/access.ts";
import { resolveConfig } from "../../../hub/config/mod.ts";
import { getUser } from "../../../hub/db/users.ts";
import { ConfigError } from "../../../hub/errors.ts";
import { silentLogger } from "../../../hub/observe/log.ts";

const TA_ROLE = {
  name: "teaching-assistant",
  description: "Helps the students",
  scopes: [
    "list:users",
    "read:users!group=students",
    "access:servers!group=students",
    "admin:servers!group=students",
  ],
  users: ["sys"],
};

async function classHub(roles: unknown[] = [TA_ROLE]): Promise<FakeHub> {
  const hub = await fakeHub({
    groups: {
      students: { users: ["daemon"], properties: { course: "intro" } },
    },
    roles,
  });
  await hub.addUser("sys");
  await syncConfigAccess(hub.handle.db, hub.config, { logger: silentLogger });
  return hub;
}

async function start(hub: FakeHub, name: string): Promise<void> {
  await hub.servers.start((await getUser(hub.handle.db, name))!, "");
  assert.equal(
    await hub.servers.waitReady(name, "", { timeoutMs: 5000 }),
    true,
  );
}

Deno.test("the teaching-assistant role stops a student's server and is refused on another user's", async () => {
  await using hub = await classHub();
  await start(hub, "daemon");
  await start(hub, "bin");
  const ta = await hub.tokenFor("sys");
  const me = await (await hub.request("/hub/api/user", { token: ta })).json();
  assert.ok(me.scopes.includes("admin:servers!group=students"));
  const list = await (await hub.request("/hub/api/users", { token: ta }))
    .json() as { name: string; servers?: unknown }[];
  assert.deepEqual(list.map((u) => u.name).sort(), ["bin", "daemon", "sys"]);
  assert.ok(
    list.find((u) => u.name === "daemon")!.servers,
    "a student's servers are visible",
  );
  assert.equal(list.find((u) => u.name === "bin")!.servers, undefined);
  let res = await hub.request("/hub/api/users/bin/server", {
    method: "DELETE",
    token: ta,
  });
  assert.ok(res.status === 403 || res.status === 404, `bin: ${res.status}`);
  await res.body?.cancel();
  res = await hub.request("/hub/api/users/daemon/server", {
    method: "DELETE",
    token: ta,
  });
  assert.equal(res.status, 204);
  const user = await (await hub.request("/hub/api/users/daemon", {
    token: ta,
  })).json();
  assert.deepEqual(user.servers, {});
  assert.deepEqual(user.roles.sort(), ["user"]);
});

Deno.test("roles appear in the user and group models; dropping the role takes the rights away at once", async () => {
  await using hub = await classHub();
  await hub.addUser("teacher", { admin: true });
  const admin = await hub.tokenFor("teacher");
  const ta = await hub.tokenFor("sys");
  const sys = await (await hub.request("/hub/api/users/sys", { token: admin }))
    .json();
  assert.deepEqual(sys.roles.sort(), ["teaching-assistant", "user"]);
  const before = await hub.request("/hub/api/users/daemon", { token: ta });
  assert.equal(before.status, 200);
  await before.body?.cancel();
  const without = resolveConfig({
    file: {
      auth: { type: "dummy" },
      groups: { students: { users: ["daemon"] } },
    },
  });
  await syncConfigAccess(hub.handle.db, without, { logger: silentLogger });
  const after = await hub.request("/hub/api/users/daemon", { token: ta });
  assert.equal(after.status, 404, "no read:users!group=students any more");
  await after.body?.cancel();
});

Deno.test("config groups: made with their users and properties; API-added members stay; properties merge", async () => {
  await using hub = await classHub();
  await hub.addUser("teacher", { admin: true });
  const admin = await hub.tokenFor("teacher");
  let res = await hub.request("/hub/api/groups/students/users", {
    method: "POST",
    token: admin,
    json: { users: ["bin"] },
  });
  assert.equal(res.status, 200);
  await res.body?.cancel();
  res = await hub.request("/hub/api/groups/students/properties", {
    method: "PUT",
    token: admin,
    json: { room: "B12" },
  });
  await res.body?.cancel();
  await syncConfigAccess(hub.handle.db, hub.config, { logger: silentLogger });
  const group = await (await hub.request("/hub/api/groups/students", {
    token: admin,
  })).json();
  assert.deepEqual(group.users.sort(), ["bin", "daemon"]);
  assert.deepEqual(group.properties, { room: "B12", course: "intro" });
});

Deno.test("a role naming a user the allow rules keep out, or an unknown service, stops the start; nothing is written", async (t) => {
  const rows: Array<[Record<string, unknown>, RegExp]> = [
    [
      { ...TA_ROLE, users: ["ghost"] },
      /names the user "ghost", who is not allowed on this hub: add them to users.allowed/,
    ],
    [{ ...TA_ROLE, users: ["a/b"] }, /names the user "a\/b": /],
    [
      { ...TA_ROLE, users: [], groups: ["x/y"] },
      /names the group "x\/y": it contains "\/"/,
    ],
    [
      { ...TA_ROLE, users: [], services: ["grader"] },
      /names the service "grader", which is not in services.list/,
    ],
  ];
  for (const [role, message] of rows) {
    await t.step(message.source.slice(0, 40), async () => {
      await using hub = await fakeHub({
        users: { "allow_all": false, allowed: ["daemon", "bin"] },
        roles: [role],
      });
      await assert.rejects(
        () =>
          syncConfigAccess(hub.handle.db, hub.config, {
            logger: silentLogger,
          }),
        (e) => e instanceof ConfigError && message.test(e.message),
      );
      const stored = await hub.handle.db.selectFrom("roles").selectAll()
        .execute();
      assert.deepEqual(stored, []);
    });
  }
});

Deno.test("roles and groups are checked in the config: bad scopes, names and keys name what is wrong", () => {
  const rows: Array<[Record<string, unknown>, RegExp]> = [
    [
      { roles: [{ name: "ta", scopes: [] }] },
      /role #1 in "roles": "name" is "ta"; expected 3–255 characters/,
    ],
    [
      { roles: [{ name: "helper", scopes: ["read:everything"] }] },
      /role "helper" in "roles": .*read:everything/,
    ],
    [
      { roles: [{ name: "helper", members: [] }] },
      /unknown key "members"; the keys are name, description, scopes/,
    ],
    [{ roles: [{ name: "admin", scopes: [] }] }, /the admin role is built in/],
    [
      { groups: { "a/b": {} } },
      /Invalid group name "a\/b" in "groups": it contains "\/"/,
    ],
    [
      { groups: { g: { members: [] } } },
      /group "g" in "groups": unknown key "members"/,
    ],
    [
      { groups: ["students"] },
      /Invalid value for "groups".*expected a mapping/,
    ],
  ];
  for (const [file, message] of rows) {
    assert.throws(
      () => resolveConfig({ file }),
      (e) => e instanceof ConfigError && message.test(e.message),
      JSON.stringify(file),
    );
  }
});

Deno.test("an admin assigns a config role through the API; others may not; unknown roles are refused", async () => {
  await using hub = await classHub();
  await hub.addUser("teacher", { admin: true });
  const admin = await hub.tokenFor("teacher");
  const patch = (token: string, roles: unknown) =>
    hub.request("/hub/api/users/bin", {
      method: "PATCH",
      token,
      json: { roles },
    });
  let res = await patch(await hub.tokenFor("daemon"), ["teaching-assistant"]);
  assert.equal(res.status, 403);
  await res.body?.cancel();
  res = await patch(admin, ["no-such-role"]);
  assert.equal(res.status, 400);
  assert.match((await res.json()).message, /No role named "no-such-role"/);
  res = await patch(admin, ["teaching-assistant"]);
  assert.equal(res.status, 200);
  assert.deepEqual((await res.json()).roles.sort(), [
    "teaching-assistant",
    "user",
  ]);
  const bin = await hub.tokenFor("bin");
  const me = await (await hub.request("/hub/api/user", { token: bin })).json();
  assert.ok(me.scopes.includes("admin:servers!group=students"));
  // A config re-apply keeps the API's assignment.
  await syncConfigAccess(hub.handle.db, hub.config, { logger: silentLogger });
  const again = await (await hub.request("/hub/api/users/bin", {
    token: admin,
  })).json();
  assert.ok(again.roles.includes("teaching-assistant"));
  res = await hub.request("/hub/api/groups/helpers", {
    method: "POST",
    token: admin,
    json: { users: ["bin"], roles: ["teaching-assistant"] },
  });
  assert.equal(res.status, 201);
  assert.deepEqual((await res.json()).roles, ["teaching-assistant"]);
});

Deno.test("users and groups a role names are made when missing and allowed (as JupyterHub)", async () => {
  await using hub = await fakeHub({
    roles: [{ ...TA_ROLE, users: ["newta"], groups: ["helpers"] }],
  });
  await syncConfigAccess(hub.handle.db, hub.config, { logger: silentLogger });
  assert.ok(await getUser(hub.handle.db, "newta"));
  await hub.addUser("teacher", { admin: true });
  const group = await (await hub.request("/hub/api/groups/helpers", {
    token: await hub.tokenFor("teacher"),
  })).json();
  assert.deepEqual(group.roles, ["teaching-assistant"]);
});
