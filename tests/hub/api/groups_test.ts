/**
 * The groups API (hub/api/groups.ts): list, create, read, delete, members
 * and properties, scope filters, races with deletions, and the events each
 * change leaves.
 */
import assert from "node:assert/strict";
import { createTestHub } from "../../_helpers/test_hub.ts";
import {
  assertAnswer,
  assertErrorCase,
  errorSteps,
} from "../../_helpers/api_cases.ts";
import {
  adminToken,
  groupMembers as members,
  makeGroup,
  recordedEvents,
  tableRows,
  userToken,
} from "../../_helpers/api_setup.ts";
import {
  assertError,
  body,
  countRows,
  gatedBody,
  obj,
  PAGINATED,
} from "./_fixtures.ts";

// ---- list ----

Deno.test("GET /hub/api/groups returns a bare list of group models", async () => {
  await using hub = await createTestHub();
  const token = await adminToken(hub);
  await hub.addUser("alice");
  await makeGroup(hub, "students", { token: token, users: ["alice"] });
  await makeGroup(hub, "staff", { token: token });
  const res = await hub.request("/hub/api/groups", { token });
  assert.equal(res.status, 200);
  assert.deepEqual(await body(res), [
    {
      kind: "group",
      name: "students",
      users: ["alice"],
      roles: [],
      properties: {},
    },
    { kind: "group", name: "staff", users: [], roles: [], properties: {} },
  ]);
});

Deno.test("GET /hub/api/groups returns the pagination envelope when asked", async () => {
  await using hub = await createTestHub();
  const token = await adminToken(hub);
  for (const g of ["g1", "g2", "g3"]) await makeGroup(hub, g, { token: token });
  const page = await obj(
    await hub.request("/hub/api/groups?limit=2&offset=1", {
      token,
      headers: PAGINATED,
    }),
  );
  assert.deepEqual(
    (page.items as Array<{ name: string }>).map((g) => g.name),
    ["g2", "g3"],
  );
  assert.deepEqual(page._pagination, {
    offset: 1,
    limit: 2,
    total: 3,
    next: null,
  });
});

Deno.test("GET /hub/api/groups with list:groups!group=x lists only x, by name", async () => {
  await using hub = await createTestHub();
  const admin = await adminToken(hub);
  await makeGroup(hub, "g1", { token: admin });
  await makeGroup(hub, "g2", { token: admin });
  const token = await hub.tokenFor("admin", ["list:groups!group=g2"]);
  const list = await body(await hub.request("/hub/api/groups", { token }));
  assert.deepEqual(list, [{ kind: "group", name: "g2" }]);
});

// ---- create many ----

Deno.test("POST /hub/api/groups creates several groups with members and answers 201", async () => {
  await using hub = await createTestHub();
  const token = await adminToken(hub);
  await hub.addUser("alice");
  await hub.addUser("bob");
  const res = await hub.request("/hub/api/groups", {
    method: "POST",
    token,
    json: { groups: ["a", "b"], users: ["alice", "bob"] },
  });
  assert.equal(res.status, 201);
  const created = await body(res) as Array<Record<string, unknown>>;
  assert.deepEqual(created.map((g) => g.name), ["a", "b"]);
  assert.deepEqual(created[0]!.users, ["alice", "bob"]);
  assert.deepEqual(await members(hub, "b"), ["alice", "bob"]);
});

// ---- one group ----

Deno.test("POST /hub/api/groups/:name creates a group, optionally with users and properties", async () => {
  await using hub = await createTestHub();
  const token = await adminToken(hub);
  await hub.addUser("alice");
  const bare = await hub.request("/hub/api/groups/empty", {
    method: "POST",
    token,
  });
  assert.equal(bare.status, 201);
  assert.deepEqual(await body(bare), {
    kind: "group",
    name: "empty",
    users: [],
    roles: [],
    properties: {},
  });
  const full = await hub.request("/hub/api/groups/full", {
    method: "POST",
    token,
    json: { users: ["alice"], properties: { course: "101" } },
  });
  assert.equal(full.status, 201);
  const model = await obj(full);
  assert.deepEqual(model.users, ["alice"]);
  assert.deepEqual(model.properties, { course: "101" });
});

Deno.test("POST /hub/api/groups/:name answers 400 for an unknown user and creates nothing", async () => {
  await using hub = await createTestHub();
  await assertErrorCase(hub, {
    send: "POST /hub/api/groups/g",
    token: await adminToken(hub),
    json: { users: ["ghost"] },
    status: 400,
    message: /^No such user: "ghost"$/,
  });
  assert.equal(await countRows(hub, "groups"), 0);
});

Deno.test("GET /hub/api/groups/:name returns the model or 404", async () => {
  await using hub = await createTestHub();
  const token = await adminToken(hub);
  await makeGroup(hub, "g", { token: token });
  const res = await hub.request("/hub/api/groups/g", { token });
  assert.equal(res.status, 200);
  assert.equal((await obj(res)).name, "g");
  await assertError(
    await hub.request("/hub/api/groups/nope", { token }),
    404,
    /^No such group: "nope"$/,
  );
});

Deno.test("GET /hub/api/groups/:name trims the model to read:groups:name and refuses other groups", async () => {
  await using hub = await createTestHub();
  const admin = await adminToken(hub);
  for (const group of ["g", "h"]) await makeGroup(hub, group, { token: admin });
  const token = await hub.tokenFor("admin", ["read:groups:name!group=g"]);
  assert.deepEqual(
    await body(await hub.request("/hub/api/groups/g", { token })),
    { kind: "group", name: "g" },
  );
  await assertError(
    await hub.request("/hub/api/groups/h", { token }),
    404,
    /^No access to resources or resources not found$/,
  );
});

Deno.test("DELETE /hub/api/groups/:name deletes the group and its memberships", async () => {
  await using hub = await createTestHub();
  const token = await adminToken(hub);
  await hub.addUser("alice");
  await makeGroup(hub, "g", { token: token, users: ["alice"] });
  const res = await hub.request("/hub/api/groups/g", {
    method: "DELETE",
    token,
  });
  assert.equal(res.status, 204);
  assert.equal(await res.text(), "");
  assert.equal(await countRows(hub, "groups"), 0);
  assert.equal(await countRows(hub, "user_group_map"), 0);
  assert.equal(await countRows(hub, "users"), 2);
  await assertError(
    await hub.request("/hub/api/groups/g", { method: "DELETE", token }),
    404,
    /^No such group: "g"$/,
  );
});

// ---- members ----

Deno.test("POST /hub/api/groups/:name/users adds members and ignores existing ones", async () => {
  await using hub = await createTestHub();
  const token = await adminToken(hub);
  await hub.addUser("alice");
  await hub.addUser("bob");
  await makeGroup(hub, "g", { token: token, users: ["alice"] });
  const res = await hub.request("/hub/api/groups/g/users", {
    method: "POST",
    token,
    json: { users: ["alice", "bob"] },
  });
  assert.equal(res.status, 200);
  assert.deepEqual((await obj(res)).users, ["alice", "bob"]);
  assert.deepEqual(await members(hub, "g"), ["alice", "bob"]);
});

Deno.test("DELETE /hub/api/groups/:name/users removes members", async () => {
  await using hub = await createTestHub();
  const token = await adminToken(hub);
  await hub.addUser("alice");
  await hub.addUser("bob");
  await makeGroup(hub, "g", { token: token, users: ["alice", "bob"] });
  const res = await hub.request("/hub/api/groups/g/users", {
    method: "DELETE",
    token,
    json: { users: ["alice"] },
  });
  assert.equal(res.status, 200);
  assert.deepEqual((await obj(res)).users, ["bob"]);
  assert.deepEqual(await members(hub, "g"), ["bob"]);
});

Deno.test("POST /hub/api/groups/:name/users with groups!group=g reaches g only", async () => {
  await using hub = await createTestHub();
  const admin = await adminToken(hub);
  await hub.addUser("alice");
  await makeGroup(hub, "g", { token: admin });
  await makeGroup(hub, "h", { token: admin });
  const token = await hub.tokenFor("admin", ["groups!group=g"]);
  await assertAnswer(hub, {
    send: "POST /hub/api/groups/g/users",
    token,
    json: { users: ["alice"] },
    status: 200,
  });
  await assertError(
    await hub.request("/hub/api/groups/h/users", {
      method: "POST",
      token,
      json: { users: ["alice"] },
    }),
    404,
  );
  assert.deepEqual(await members(hub, "h"), []);
});

// ---- properties ----

Deno.test("PUT /hub/api/groups/:name/properties replaces the properties", async () => {
  await using hub = await createTestHub();
  const token = await adminToken(hub);
  const made = await hub.request("/hub/api/groups/g", {
    method: "POST",
    token,
    json: { properties: { a: 1, b: 2 } },
  });
  await made.body?.cancel();
  const res = await hub.request("/hub/api/groups/g/properties", {
    method: "PUT",
    token,
    json: { c: [1, 2], d: { e: null } },
  });
  assert.equal(res.status, 200);
  assert.deepEqual((await obj(res)).properties, { c: [1, 2], d: { e: null } });
  const stored = await hub.handle.db.selectFrom("groups").select("properties")
    .executeTakeFirstOrThrow();
  assert.deepEqual(JSON.parse(stored.properties), {
    c: [1, 2],
    d: { e: null },
  });
});

// ---- refusals ----

Deno.test("the groups API refuses bad requests with JupyterHub's error and changes nothing", async (t) => {
  await using hub = await createTestHub();
  const admin = await adminToken(hub);
  const alice = await userToken(hub, "alice");
  await makeGroup(hub, "b", { token: admin });
  await makeGroup(hub, "g", { token: admin });
  const groupsOnly = await hub.tokenFor("admin", ["groups"]);
  const readGroups = await hub.tokenFor("admin", ["read:groups"]);
  const stored = () =>
    tableRows(hub, {
      groups: ["id", "name", "properties"],
      "user_group_map": ["user_id", "group_id"],
    });
  const before = await stored();
  const badLists: Array<[string, unknown, RegExp]> = [
    ["no groups key", { users: [] }, /groups/],
    ["empty list", { groups: [] }, /groups is empty/],
    ["not a list", { groups: "a" }, /"groups" must be a list of strings/],
    ["numbers", { groups: [1] }, /"groups" must be a list of strings/],
    ["slash", { groups: ["a/b"] }, /^Invalid group name "a\/b"/],
    ["blank", { groups: [" x"] }, /^Invalid group name/],
    ["unknown key", { groups: ["a"], admin: true }, /^Invalid JSON keys/],
  ];
  await errorSteps(t, hub, [
    {
      send: "/hub/api/groups",
      token: alice,
      status: 403,
      message: /requires any of \[list:groups\]/,
      why: "without list:groups",
    },
    {
      send: "/hub/api/groups?offset=x",
      token: admin,
      status: 400,
      message: /offset and limit must be integers/,
      why: "for a non-integer offset",
    },
    {
      send: "POST /hub/api/groups",
      token: admin,
      json: { groups: ["a", "b"] },
      status: 409,
      message: /^Group b already exists$/,
      why: "when any group exists",
    },
    {
      send: "POST /hub/api/groups",
      token: admin,
      json: { groups: ["a"], users: ["alice", "ghost"] },
      status: 400,
      message: /^No such user: "ghost"$/,
      why: "for an unknown user",
    },
    ...badLists.map(([label, json, message]) => ({
      send: "POST /hub/api/groups",
      token: admin,
      json,
      status: 400,
      message,
      why: `for a missing, empty or invalid list: ${label}`,
    })),
    {
      send: "POST /hub/api/groups",
      token: alice,
      json: { groups: ["mine"] },
      status: 403,
      message: /requires any of \[admin:groups\]/,
      why: "without admin:groups",
    },
    {
      send: "POST /hub/api/groups/g",
      token: admin,
      status: 409,
      message: /^Group g already exists$/,
      why: "when the group exists",
    },
    {
      send: "DELETE /hub/api/groups/g",
      token: groupsOnly,
      status: 403,
      message: /requires any of \[delete:groups\]/,
      why: "without delete:groups",
    },
    {
      send: "POST /hub/api/groups/g/users",
      token: admin,
      json: { users: ["alice", "ghost"] },
      status: 400,
      message: /^No such user: "ghost"$/,
      why: "and adds nobody when a user is unknown",
    },
    {
      send: "POST /hub/api/groups/g/users",
      token: admin,
      json: {},
      status: 400,
      message: /users/,
      why: "without a users list",
    },
    {
      send: "POST /hub/api/groups/g/users",
      token: admin,
      json: { users: "alice" },
      status: 400,
      message: /"users" must be a list of strings/,
      why: "when users is not a list",
    },
    {
      send: "POST /hub/api/groups/nope/users",
      token: admin,
      json: { users: [] },
      status: 404,
      why: "for a missing group",
    },
    ...[[1], "x", 3, null].map((json) => ({
      send: "PUT /hub/api/groups/g/properties",
      token: admin,
      json,
      status: 400,
      message: /must be a JSON object/,
      why: `for the body ${JSON.stringify(json)}, not an object`,
    })),
    {
      send: "PUT /hub/api/groups/g/properties",
      token: readGroups,
      json: { x: 1 },
      status: 403,
      message: /requires any of \[groups\]/,
      why: "without the groups scope",
    },
  ], { after: async () => assert.equal(await stored(), before) });
});

// ---- concurrent requests ----

Deno.test("POST /hub/api/groups answers 409, not 500, when two requests create the same group", async () => {
  await using hub = await createTestHub();
  const token = await adminToken(hub);
  const responses = await Promise.all([
    hub.request("/hub/api/groups", {
      method: "POST",
      token,
      json: { groups: ["g"] },
    }),
    hub.request("/hub/api/groups/g", { method: "POST", token }),
  ]);
  const statuses = [];
  for (const res of responses) {
    statuses.push(res.status);
    if (res.status === 409) {
      await assertError(res, 409, /^Group g already exists$/);
    } else await res.body?.cancel();
  }
  assert.deepEqual(statuses.sort(), [201, 409]);
  assert.equal(await countRows(hub, "groups"), 1);
});

Deno.test("a request on a group answers 404, not 500, when the group is deleted meanwhile", async (t) => {
  const cases: Array<[string, string, unknown, "groups" | "user_group_map"]> = [
    ["PUT", "/hub/api/groups/g/properties", { a: 1 }, "groups"],
    ["POST", "/hub/api/groups/g/users", { users: ["alice"] }, "user_group_map"],
  ];
  for (const [method, path, json, table] of cases) {
    await t.step(`${method} ${path}`, async () => {
      await using hub = await createTestHub();
      const token = await adminToken(hub);
      await hub.addUser("alice");
      await makeGroup(hub, "g", { token: token });
      // The body arrives only after the group is gone.
      const gated = gatedBody(json);
      const pending = hub.request(path, {
        method,
        token,
        headers: { "content-type": "application/json" },
        body: gated.body,
      });
      await assertAnswer(hub, {
        send: "DELETE /hub/api/groups/g",
        token,
        status: 204,
      });
      gated.open();
      await assertError(await pending, 404, /^No such group: "g"$/);
      assert.equal(
        await countRows(hub, table as "groups" | "user_group_map"),
        0,
      );
    });
  }
});

Deno.test("POST /hub/api/groups/:name/users racing the member's deletion answers 400, not 500", async () => {
  await using hub = await createTestHub();
  const token = await adminToken(hub);
  await hub.addUser("alice");
  await makeGroup(hub, "g", { token: token });
  const [add, del] = await Promise.all([
    hub.request("/hub/api/groups/g/users", {
      method: "POST",
      token,
      json: { users: ["alice"] },
    }),
    hub.request("/hub/api/users/alice", { method: "DELETE", token }),
  ]);
  await del!.body?.cancel();
  assert.equal(del!.status, 204);
  if (add!.status === 200) await add!.body?.cancel();
  else await assertError(add!, 400, /^No such user: "alice"$/);
  assert.deepEqual(await members(hub, "g"), []);
});

Deno.test("group changes are admin changes: each leaves an event with the actor", async () => {
  await using hub = await createTestHub();
  await hub.addUser("teacher", { admin: true });
  await hub.addUser("alice");
  const token = await hub.tokenFor("teacher");
  const send = async (method: string, path: string, json?: unknown) => {
    const res = await hub.request(`/hub/api${path}`, {
      method,
      token,
      ...(json !== undefined ? { json } : {}),
    });
    assert.ok(res.status < 300, `${method} ${path}: ${res.status}`);
    await res.body?.cancel();
  };
  await send("POST", "/groups/physics");
  await send("POST", "/groups/physics/users", { users: ["alice"] });
  await send("DELETE", "/groups/physics/users", { users: ["alice"] });
  await send("DELETE", "/groups/physics");
  const rows = await recordedEvents(hub, { kind: "group." });
  assert.deepEqual(
    rows.map((r) => [r.kind, r.actor, JSON.parse(r.data)]),
    [
      ["group.created", "teacher", { group: "physics" }],
      ["group.members_added", "teacher", { group: "physics", users: "alice" }],
      ["group.members_removed", "teacher", {
        group: "physics",
        users: "alice",
      }],
      ["group.deleted", "teacher", { group: "physics" }],
    ],
  );
});

Deno.test("POST /hub/api/groups/{name} takes JupyterHub's group model (a name key) and normalises member names as at login", async () => {
  await using hub = await createTestHub();
  const token = await adminToken(hub);
  await hub.addUser("alice");
  await assertAnswer(hub, {
    send: "POST /hub/api/groups/class",
    token,
    json: { name: "class", users: ["Alice"] },
    status: 201,
  });
  assert.deepEqual(await members(hub, "class"), ["alice"]);
  await assertError(
    await hub.request("/hub/api/groups/other", {
      method: "POST",
      token,
      json: { name: 5 },
    }),
    400,
    /"name" must be a string/,
  );
  await assertAnswer(hub, {
    send: "DELETE /hub/api/groups/class/users",
    token,
    json: { users: ["ALICE"] },
    status: 200,
  });
  assert.deepEqual(await members(hub, "class"), []);
});
