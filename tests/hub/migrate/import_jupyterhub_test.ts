import assert from "node:assert/strict";
import { sql } from "kysely";
import {
  importEvents,
  importFromJupyterHub,
  type ImportOptions,
} from "../../../hub/migrate/import_jupyterhub.ts";
import { JupyterHubClient } from "../../../hub/migrate/jupyterhub_api.ts";
import { formatReport } from "../../../hub/migrate/report.ts";
import { createUsers, getUser } from "../../../hub/db/users.ts";
import { createGroups, getGroup } from "../../../hub/db/groups.ts";
import { listRoleAssignments } from "../../../hub/db/roles.ts";
import { allGroups } from "../../../hub/migrate/onehub_state.ts";
import {
  ADMIN_SCOPES,
  ADMIN_TOKEN,
  type FakeJupyterHub,
  startFakeJupyterHub,
} from "./_fake_jupyterhub.ts";
import { emptyDb, NOW, type TestDb } from "./_onehub_db.ts";

/** A JupyterHub with users, a group with roles, and names onehub refuses. */
function sourceHub(): FakeJupyterHub {
  const hub = startFakeJupyterHub();
  const user = (admin: boolean, roles: string[] = []) => ({
    admin,
    roles,
    servers: [""],
  });
  hub.state.users.set("ann", user(true, ["auditor"]));
  hub.state.users.set("ben", user(false, ["grader-x"]));
  hub.state.users.set("bad/name", user(false));
  hub.state.users.set("mallory", user(false));
  hub.state.groups.set("class", {
    users: ["ann", "ben", "bad/name"],
    properties: { course: "intro" },
    roles: ["grader"],
  });
  hub.state.groups.set("x/y", { users: [], properties: {}, roles: [] });
  return hub;
}

/** onehub already has ben in a class with properties of its own. */
async function targetDb(): Promise<TestDb> {
  const handle = await emptyDb();
  await createUsers(handle.db, ["ben"], { admin: false, now: NOW });
  await createGroups(handle.db, ["class"], {
    memberIds: [(await getUser(handle.db, "ben"))!.id],
    now: NOW,
    properties: JSON.stringify({ room: 5 }),
  });
  return handle;
}

const OPTIONS: ImportOptions = {
  dryRun: false,
  rules: { usernamePattern: "", blocked: ["mallory"] },
  configRoles: ["auditor", "grader"],
  now: new Date(NOW),
};

function client(hub: FakeJupyterHub, token = ADMIN_TOKEN) {
  return new JupyterHubClient(hub.url, { token });
}

Deno.test("the import plans users, members, properties and known roles; skips the rest with why", async () => {
  await using hub = sourceHub();
  await using handle = await targetDb();
  const { report, actions } = await importFromJupyterHub(
    handle.db,
    client(hub),
    { ...OPTIONS, dryRun: true },
  );
  assert.deepEqual(actions, [], "a dry run makes nothing");
  assert.deepEqual(report.planned.map((c) => c.text), [
    "create user ann (admin)",
    "add ann to group class",
    'set properties of group class to {"room":5,"course":"intro"}',
    "give role auditor to user ann",
    "give role grader to group class",
  ]);
  assert.deepEqual(report.unchanged, [
    "1 user",
    "0 groups",
    "0 role assignments",
  ]);
  assert.deepEqual(report.skipped.map((s) => s.what), [
    "user bad/name",
    "user mallory",
    "group x/y",
    "role grader-x (user ben)",
  ]);
  assert.match(
    report.skipped[0]!.why,
    /not a valid onehub username: it contains "\/"/,
  );
  assert.match(report.skipped[1]!.why, /in users\.blocked/);
  assert.match(
    report.skipped[3]!.why,
    /onehub does not define it, and JupyterHub's REST API names a role but never gives its scopes: add it to onehub's config under roles:/,
  );
  assert.equal(await getUser(handle.db, "ann"), undefined);
  assert.match(
    formatReport(report, { dryRun: true, other: "onehub" }),
    /Summary: would create 1; would update 4; unchanged 1 user, 0 groups, 0 role assignments; skipped 4/,
  );
});

Deno.test("the import writes it all; a second run finds nothing to do", async () => {
  await using hub = sourceHub();
  await using handle = await targetDb();
  const { report, actions } = await importFromJupyterHub(
    handle.db,
    client(hub),
    OPTIONS,
  );
  assert.equal(report.done.length, 5);
  assert.equal((await getUser(handle.db, "ann"))!.admin, 1);
  const [group] = await allGroups(handle.db);
  assert.deepEqual(group, {
    name: "class",
    users: ["ann", "ben"],
    properties: { room: 5, course: "intro" },
  });
  const roles = (await listRoleAssignments(handle.db)).map((a) =>
    `${a.role}:${a.user ?? a.group}:${a.source}`
  );
  assert.deepEqual(roles.sort(), ["auditor:ann:api", "grader:class:api"]);
  assert.deepEqual(importEvents(actions).map((e) => e.kind), [
    "user.created",
    "group.members_added",
  ]);
  assert.deepEqual(hub.writes(), [], "the import only reads JupyterHub");

  const again = await importFromJupyterHub(handle.db, client(hub), OPTIONS);
  assert.deepEqual(again.report.planned, []);
  assert.deepEqual(again.report.unchanged, [
    "2 users",
    "1 group",
    "2 role assignments",
  ]);
  assert.match(
    formatReport(again.report, { dryRun: false, other: "onehub" }),
    /^Nothing to change: onehub already has all of it/,
  );
});

Deno.test("the import is all or nothing: a write that fails leaves the database as it was", async () => {
  await using hub = sourceHub();
  await using handle = await targetDb();
  await sql`CREATE TRIGGER refuse_grader BEFORE INSERT ON role_assignments
    WHEN NEW.role_name = 'grader' BEGIN SELECT RAISE(ABORT, 'refused'); END`
    .execute(handle.db);
  await assert.rejects(
    importFromJupyterHub(handle.db, client(hub), OPTIONS),
    /refused/,
  );
  assert.equal(await getUser(handle.db, "ann"), undefined);
  const [group] = await allGroups(handle.db);
  assert.deepEqual(group!.users, ["ben"]);
  assert.deepEqual(group!.properties, { room: 5 });
  assert.ok(await getGroup(handle.db, "class"));
});

Deno.test("a token that cannot read roles says so; the rest is imported", async () => {
  await using hub = sourceHub();
  await using handle = await emptyDb();
  hub.state.tokens.set("no-roles", {
    kind: "service",
    name: "reader",
    admin: false,
    scopes: ADMIN_SCOPES.filter((s) => !s.startsWith("read:roles:")),
  });
  const { report } = await importFromJupyterHub(
    handle.db,
    client(hub, "no-roles"),
    OPTIONS,
  );
  assert.ok(report.planned.some((c) => c.text === "create user ben"));
  assert.ok(!report.planned.some((c) => c.text.startsWith("give role")));
  const why = Object.fromEntries(report.skipped.map((s) => [s.what, s.why]));
  assert.match(why["roles of users"]!, /the token lacks read:roles:users/);
  assert.match(why["roles of groups"]!, /the token lacks read:roles:groups/);
});
