/**
 * Filtered scopes on routes whose path names no resource (red team, issue
 * 23 item 8): `admin:users!group=x` must not create any user, nor
 * `admin:groups!group=x` any group; `/proxy`, `/shutdown`, `/info` need
 * their scope unfiltered. Lists, which narrow their results themselves,
 * still take filtered scopes.
 */
import assert from "node:assert/strict";
import { type FakeHub, fakeHub } from "../../_helpers/test_hub.ts";
import { syncConfigAccess } from "../../../hub/config/access.ts";
import { silentLogger } from "../../../hub/observe/log.ts";
import { assertStatus } from "../../_helpers/responses.ts";
import { assertAnswer } from "../../_helpers/api_cases.ts";
import { adminToken } from "../../_helpers/api_setup.ts";
import { errorSteps } from "../../_helpers/api_cases.ts";

/** A hub where `sys` holds every scope below, filtered to the group `students`. */
async function filteredHub(scopes: string[]): Promise<FakeHub> {
  const hub = await fakeHub({
    groups: { students: { users: ["daemon"] } },
    roles: [{ name: "limited", scopes, users: ["sys"] }],
  });
  await hub.addUser("sys");
  await syncConfigAccess(hub.handle.db, hub.config, { logger: silentLogger });
  return hub;
}

const FILTERED = [
  "admin:users!group=students",
  "admin:groups!group=students",
  "proxy!group=students",
  "shutdown!group=students",
  "read:hub!group=students",
  "list:users!group=students",
  "list:groups!group=students",
  "list:services!group=students",
];

Deno.test("a filtered scope grants nothing on a route that names no resource; lists still narrow themselves", async (t) => {
  await using hub = await filteredHub(FILTERED);
  const token = await hub.tokenFor("sys");
  const refused: Array<{ send: string; json?: unknown }> = [
    { send: "POST /hub/api/users", json: { usernames: ["newcomer"] } },
    { send: "POST /hub/api/groups", json: { groups: ["newgroup"] } },
    ...["GET", "POST", "PATCH"].map((method) => ({
      send: `${method} /hub/api/proxy`,
    })),
    { send: "POST /hub/api/shutdown" },
    { send: "GET /hub/api/info" },
  ];
  await errorSteps(
    t,
    hub,
    refused.map((row) => ({
      ...row,
      token,
      status: 403,
      message: /without a filter/,
      why: "to a filtered scope, doing nothing",
    })),
  );
  const users = await hub.handle.db.selectFrom("users").select("name")
    .execute();
  assert.ok(!users.some((u) => u.name === "newcomer"));
  const groups = await hub.handle.db.selectFrom("groups").select("name")
    .execute();
  assert.ok(!groups.some((g) => g.name === "newgroup"));
  await t.step("GET /users lists only what the filter reaches", async () => {
    const res = await hub.request("/hub/api/users", { token });
    assert.equal(res.status, 200);
    const names = (await res.json() as { name: string }[]).map((u) => u.name);
    assert.deepEqual(names, ["daemon"]);
  });
  await t.step("GET /groups lists only the group itself", async () => {
    const res = await hub.request("/hub/api/groups", { token });
    assert.equal(res.status, 200);
    const names = (await res.json() as { name: string }[]).map((g) => g.name);
    assert.deepEqual(names, ["students"]);
  });
  await t.step("GET /services answers (an empty list here)", async () => {
    await assertStatus(await hub.request("/hub/api/services", { token }), 200);
  });
});

Deno.test("the same routes with the scopes unfiltered are allowed (an admin)", async () => {
  await using hub = await fakeHub({});
  const token = await adminToken(hub, { name: "sys" });
  for (const path of ["/hub/api/proxy", "/hub/api/info"]) {
    const res = await hub.request(path, { token });
    assert.equal(res.status, 200, path);
    await res.body?.cancel();
  }
  await assertAnswer(hub, {
    send: "POST /hub/api/users",
    token,
    json: { usernames: ["newcomer"] },
    status: 201,
  });
});
