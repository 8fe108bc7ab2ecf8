/**
 * A onehub database for the migration tests, filled through onehub's own
 * query modules: users (ada an admin), a group with members and
 * properties, shares of ada's default and named server, a custom role
 * given by the config and another through the API, and a personal token.
 *
 * @module
 */
import {
  type DatabaseHandle,
  migrateToLatest,
  openDatabase,
} from "../../../hub/db/mod.ts";
import { createUsers, getUser } from "../../../hub/db/users.ts";
import { createGroups, getGroup } from "../../../hub/db/groups.ts";
import { addShare } from "../../../hub/db/shares.ts";
import {
  replaceConfigAssignments,
  setApiRoles,
  setRoleDefinition,
} from "../../../hub/db/roles.ts";
import { insertToken } from "../../../hub/db/tokens.ts";

export const NOW = "2026-05-01T10:00:00.000Z";

/** An open database that closes when disposed. */
export type TestDb = DatabaseHandle & AsyncDisposable;

/** An empty, migrated database at `path` (":memory:" by default). */
export async function emptyDb(path = ":memory:"): Promise<TestDb> {
  const handle = openDatabase(path);
  await migrateToLatest(handle);
  return { ...handle, [Symbol.asyncDispose]: () => handle.close() };
}

/** A database holding a small class (module doc). */
export async function classDb(path = ":memory:"): Promise<TestDb> {
  const handle = await emptyDb(path);
  const db = handle.db;
  await createUsers(db, ["ada"], { admin: true, now: NOW });
  await createUsers(db, ["bob", "cy", "dee"], { admin: false, now: NOW });
  const id = async (name: string) => (await getUser(db, name))!.id;
  await createGroups(db, ["class"], {
    memberIds: [await id("bob"), await id("cy")],
    now: NOW,
    properties: JSON.stringify({ course: "intro", room: 2 }),
  });
  const classId = (await getGroup(db, "class"))!.id;
  const ada = { id: await id("ada"), server: "" };
  await addShare(db, ada, {
    to: { user: await id("bob") },
    scopes: ["access:servers"],
    now: NOW,
  });
  await addShare(db, ada, {
    to: { group: classId },
    scopes: ["access:servers", "read:servers"],
    now: NOW,
  });
  await addShare(db, { id: ada.id, server: "gpu" }, {
    to: { user: await id("cy") },
    scopes: ["access:servers"],
    now: NOW,
  });
  await setRoleDefinition(db, "auditor", {
    description: "Reads every user",
    scopes: ["list:users", "read:users"],
  });
  await setRoleDefinition(db, "grader", {
    description: "Grades",
    scopes: ["admin:servers!group=class"],
  });
  await replaceConfigAssignments(db, [{
    role: "auditor",
    to: { user: await id("dee") },
  }]);
  await setApiRoles(db, { group: classId }, ["grader"]);
  await insertToken(db, {
    userId: await id("bob"),
    serviceId: null,
    prefix: "abcd",
    hash: "0".repeat(64),
    scopes: ["inherit"],
    note: "script",
    created: NOW,
    expiresAt: null,
  });
  return handle;
}
