/**
 * `readSnapshot`: what an export reads of the database (users, groups,
 * role assignments with their source, token holders, shares, the admin's
 * announcement), from a real SQLite database.
 */
import assert from "node:assert/strict";
import { migrateToLatest, openDatabase } from "../../../hub/db/mod.ts";
import { createUsers } from "../../../hub/db/users.ts";
import { createGroups } from "../../../hub/db/groups.ts";
import { setHubState } from "../../../hub/db/hub_state.ts";
import { insertToken } from "../../../hub/db/tokens.ts";
import {
  replaceConfigAssignments,
  setApiRoles,
} from "../../../hub/db/roles.ts";
import { addShare } from "../../../hub/db/shares.ts";
import { readSnapshot } from "../../../hub/migrate/snapshot.ts";

const NOW = "2027-01-04T09:00:00.000Z";

Deno.test("readSnapshot reads users, groups, role assignments, token holders, shares and the announcement", async () => {
  const handle = openDatabase(":memory:");
  try {
    await migrateToLatest(handle);
    const db = handle.db;
    const [ada, bob, carol] = await createUsers(db, ["ada", "bob", "carol"], {
      admin: false,
      now: NOW,
    });
    await createUsers(db, ["root"], { admin: true, now: NOW });
    const [students] = await createGroups(db, ["students"], {
      memberIds: [carol!.id, bob!.id],
      now: NOW,
      properties: '{"course":"intro"}',
    });
    await replaceConfigAssignments(db, [{ role: "ta", to: { user: bob!.id } }]);
    await setApiRoles(db, { group: students!.id }, ["ta"]);
    const token = (
      userId: number,
      extra: { expiresAt?: string; sessionId?: string },
    ) =>
      insertToken(db, {
        userId,
        serviceId: null,
        prefix: "abcd",
        hash: crypto.randomUUID(),
        scopes: [],
        note: "",
        created: NOW,
        expiresAt: extra.expiresAt ?? null,
        sessionId: extra.sessionId ?? null,
      });
    await token(ada!.id, {});
    await token(ada!.id, {});
    await token(bob!.id, { expiresAt: "2026-01-01T00:00:00.000Z" }); // expired
    await token(carol!.id, { sessionId: "s1" }); // a login's token
    await addShare(db, { id: ada!.id, server: "" }, {
      to: { user: bob!.id },
      scopes: ["access:servers"],
      now: NOW,
    });
    await setHubState(db, "announcement", "Lab closed");

    const snap = await readSnapshot(db, new Date(NOW));
    assert.deepEqual(snap.users, [
      { name: "ada", admin: false },
      { name: "bob", admin: false },
      { name: "carol", admin: false },
      { name: "root", admin: true },
    ]);
    assert.deepEqual(snap.groups, [
      {
        name: "students",
        users: ["bob", "carol"],
        properties: { course: "intro" },
      },
    ]);
    assert.deepEqual(snap.roleAssignments, [
      { role: "ta", source: "config", user: "bob", group: null, service: null },
      {
        role: "ta",
        source: "api",
        user: null,
        group: "students",
        service: null,
      },
    ]);
    assert.deepEqual(snap.tokens, [{ user: "ada", tokens: 2 }]);
    assert.equal(snap.shares, 1);
    assert.equal(snap.announcement, "Lab closed");
  } finally {
    await handle.close();
  }
});
