import assert from "node:assert/strict";
import {
  describeExport,
  exportToJupyterHub,
  planExport,
  readJupyterHub,
} from "../../../hub/migrate/export_jupyterhub.ts";
import { readOnehub } from "../../../hub/migrate/onehub_state.ts";
import {
  JupyterHubApiError,
  JupyterHubClient,
} from "../../../hub/migrate/jupyterhub_api.ts";
import { formatReport } from "../../../hub/migrate/report.ts";
import { createUsers } from "../../../hub/db/users.ts";
import {
  ADMIN_SCOPES,
  ADMIN_TOKEN,
  type FakeJupyterHub,
  startFakeJupyterHub,
} from "./_fake_jupyterhub.ts";
import { classDb, NOW } from "./_onehub_db.ts";

/** A JupyterHub that already has bob, eve (admin) and a class with eve in it. */
function hubWithSomeone(): FakeJupyterHub {
  const hub = startFakeJupyterHub();
  hub.state.users.set("bob", { admin: false, roles: [], servers: [""] });
  hub.state.users.set("eve", { admin: true, roles: [], servers: [""] });
  hub.state.groups.set("class", {
    users: ["eve"],
    properties: { room: 1, floor: 3 },
    roles: [],
  });
  return hub;
}

function client(hub: FakeJupyterHub, token = ADMIN_TOKEN) {
  return new JupyterHubClient(hub.url, { token });
}

Deno.test("planExport() creates what is missing, adds members, merges properties, shares, and skips with why", async () => {
  await using hub = hubWithSomeone();
  await using handle = await classDb();
  const onehub = await readOnehub(handle.db, new Date(NOW));
  const plan = planExport(onehub, await readJupyterHub(client(hub), onehub));
  assert.deepEqual(plan.actions.map((a) => describeExport(a).text), [
    "create user ada (admin)",
    "create user cy",
    "create user dee",
    "add bob, cy to group class",
    'set properties of group class to {"room":2,"floor":3,"course":"intro"}',
    "share ada/ with user bob (access:servers!server=ada/)",
    "share ada/ with group class (access:servers!server=ada/ read:servers!server=ada/)",
  ]);
  assert.deepEqual(plan.unchanged, ["1 user", "0 groups", "0 shares"]);
  const skipped = plan.skipped.map((s) => `${s.what}: ${s.why}`);
  assert.match(
    skipped[0]!,
    /^share of ada\/gpu with user cy: JupyterHub has no record of the named server ada\/gpu: .*POST \/users\/ada\/servers\/gpu/,
  );
  assert.match(
    skipped[1]!,
    /^roles auditor, grader \(2 assignments\): not pushable: JupyterHub 5 has no REST API for roles; put them in load_roles \(onehub export z2jh writes hub.loadRoles\)/,
  );
  assert.match(skipped[2]!, /^1 API token: tokens cannot move/);
  assert.match(plan.notes[0]!, /c\.JupyterHub\.load_roles = \[/);
  assert.match(
    plan.notes[0]!,
    /\{"name": "auditor", "description": "Reads every user", "scopes": \["list:users", "read:users"\], "users": \["dee"\]\},/,
  );
  assert.match(plan.notes[0]!, /"name": "grader".*"groups": \["class"\]/);
  assert.match(plan.notes[1]!, /API tokens to re-issue .*: bob \(1\)\./);
  assert.deepEqual(hub.writes(), [], "planning writes nothing");
});

Deno.test("a dry run changes nothing; the export then makes it so, and a second run finds nothing to do", async () => {
  await using hub = hubWithSomeone();
  await using handle = await classDb();
  const dry = await exportToJupyterHub(handle.db, client(hub), {
    dryRun: true,
  });
  assert.equal(dry.planned.length, 7);
  assert.deepEqual(dry.done, []);
  assert.deepEqual(hub.writes(), []);
  const text = formatReport(dry, { dryRun: true, other: "JupyterHub" });
  assert.match(
    text,
    /^Plan \(dry run: nothing was changed\):\n {2}\+ create user ada \(admin\)/,
  );
  assert.match(
    text,
    /Summary: would create 5; would update 2; unchanged 1 user, 0 groups, 0 shares; skipped 3/,
  );

  const done: string[] = [];
  const first = await exportToJupyterHub(handle.db, client(hub), {
    dryRun: false,
    onDone: (c) => done.push(c.text),
  });
  assert.equal(first.done.length, 7);
  assert.deepEqual(done, first.done.map((c) => c.text));
  assert.deepEqual(first.failed, []);
  const s = hub.state;
  assert.deepEqual([...s.users.keys()].sort(), [
    "ada",
    "bob",
    "cy",
    "dee",
    "eve",
  ]);
  assert.equal(s.users.get("ada")!.admin, true);
  assert.equal(s.users.get("eve")!.admin, true, "never demoted");
  assert.deepEqual(s.groups.get("class")!.users, ["eve", "bob", "cy"]);
  assert.deepEqual(s.groups.get("class")!.properties, {
    room: 2,
    floor: 3,
    course: "intro",
  });
  assert.deepEqual(s.shares.map((x) => [x.user ?? x.group, x.scopes]), [
    ["bob", ["access:servers!server=ada/"]],
    ["class", ["access:servers!server=ada/", "read:servers!server=ada/"]],
  ]);

  const writes = hub.writes().length;
  const second = await exportToJupyterHub(handle.db, client(hub), {
    dryRun: false,
  });
  assert.deepEqual(second.planned, []);
  assert.equal(hub.writes().length, writes, "the second run writes nothing");
  assert.deepEqual(second.unchanged, ["4 users", "1 group", "2 shares"]);
  assert.match(
    formatReport(second, { dryRun: false, other: "JupyterHub" }),
    /^Nothing to change: JupyterHub already has all of it \(4 users, 1 group, 2 shares\)\./,
  );

  // Once JupyterHub has started ada's named server, its share goes too.
  s.users.get("ada")!.servers.push("gpu");
  const third = await exportToJupyterHub(handle.db, client(hub), {
    dryRun: false,
  });
  assert.deepEqual(third.done.map((c) => c.text), [
    "share ada/gpu with user cy (access:servers!server=ada/gpu)",
  ]);
});

Deno.test("a token without the scopes stops the export before any change, naming them", async () => {
  await using hub = startFakeJupyterHub();
  await using handle = await classDb();
  hub.state.tokens.set("users-only", {
    kind: "service",
    name: "mover",
    admin: false,
    scopes: ADMIN_SCOPES.filter((s) => !["admin:groups", "shares"].includes(s)),
  });
  await assert.rejects(
    exportToJupyterHub(handle.db, client(hub, "users-only"), { dryRun: false }),
    (e: unknown) => {
      assert.ok(e instanceof JupyterHubApiError);
      assert.match(
        e.message,
        /^The token \(service mover\) lacks admin:groups, shares, which the export needs; nothing was changed/,
      );
      return true;
    },
  );
  assert.deepEqual(hub.writes(), []);
  const dry = await exportToJupyterHub(
    handle.db,
    client(hub, "users-only"),
    { dryRun: true },
  );
  assert.match(
    dry.notes.at(-1)!,
    /^Warning: the token lacks admin:groups, shares/,
  );
});

Deno.test("with a token of a non-admin, users are made but admin is skipped with JupyterHub's rule", async () => {
  await using hub = startFakeJupyterHub();
  await using handle = await classDb();
  hub.state.tokens.set("manager", {
    kind: "service",
    name: "manager",
    admin: false,
    scopes: ADMIN_SCOPES,
  });
  const report = await exportToJupyterHub(handle.db, client(hub, "manager"), {
    dryRun: false,
  });
  assert.equal(report.done[0]!.text, "create user ada");
  assert.equal(hub.state.users.get("ada")!.admin, false);
  assert.match(
    report.skipped[0]!.why,
    /service manager, who is not an admin, and JupyterHub lets only admins grant admin/,
  );
});

Deno.test("an item JupyterHub refuses is reported and what needs it is left out; the rest goes on", async () => {
  await using hub = startFakeJupyterHub();
  await using handle = await classDb();
  await createUsers(handle.db, ["bad-name"], { admin: false, now: NOW });
  const report = await exportToJupyterHub(handle.db, client(hub), {
    dryRun: false,
  });
  assert.deepEqual(report.failed.map((f) => f.what), ["create user bad-name"]);
  assert.match(report.failed[0]!.why, /400: Invalid username: bad-name/);
  assert.ok(hub.state.users.has("dee"), "the users after it were made");
  assert.match(
    formatReport(report, { dryRun: false, other: "JupyterHub" }),
    /Failed \(JupyterHub refused\):\n {2}! create user bad-name: POST \/users\/bad-name: 400/,
  );
});

Deno.test("an older JupyterHub without sharing gets users and groups; shares are skipped with why", async () => {
  await using hub = startFakeJupyterHub({ version: "4.1.6" });
  await using handle = await classDb();
  const report = await exportToJupyterHub(handle.db, client(hub), {
    dryRun: false,
  });
  assert.ok(hub.state.groups.has("class"));
  assert.deepEqual(hub.state.shares, []);
  assert.match(
    report.skipped.find((s) => s.what === "3 shares")!.why,
    /JupyterHub 4\.1\.6 has no sharing \(it came with JupyterHub 5\.0\)/,
  );
});
