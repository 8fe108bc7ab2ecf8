import assert from "node:assert/strict";
import { idsIn, migrateToLatest, openDatabase } from "../../../hub/db/mod.ts";
import { createUsers, groupsAndRolesByUser } from "../../../hub/db/users.ts";
import { serversByUser } from "../../../hub/db/servers.ts";

Deno.test("idsIn: a long id list (one JSON parameter) selects exactly the rows a short one (one value per id) does", async () => {
  const handle = openDatabase(":memory:");
  try {
    await migrateToLatest(handle);
    const db = handle.db;
    const names = Array.from({ length: 30 }, (_, i) => `u${i}`);
    const users = await createUsers(db, names, { admin: false, now: "x" });
    const [group] = await db.insertInto("groups").values({
      name: "g",
      properties: "{}",
      created: "x",
    }).returningAll().execute();
    const members = users.filter((_, i) => i % 3 === 0);
    await db.insertInto("user_group_map").values(
      members.map((u) => ({ user_id: u.id, group_id: group!.id })),
    ).execute();
    const ids = users.map((u) => u.id);
    assert.ok(typeof idsIn(ids) === "object" && !Array.isArray(idsIn(ids)));
    assert.deepEqual(idsIn(ids.slice(0, 3)), ids.slice(0, 3));
    const long = await groupsAndRolesByUser(db, ids);
    for (const u of users) {
      const short = await groupsAndRolesByUser(db, [u.id]);
      assert.deepEqual(long.get(u.id), short.get(u.id), u.name);
    }
    assert.equal(
      [...long.values()].filter((v) => v.groups.includes("g")).length,
      members.length,
    );
    // Ids of no user select nothing, and the map keeps only asked-for ids.
    const some = await serversByUser(db, [...ids.slice(0, 10), 9999]);
    assert.equal(some.size, 11);
    assert.deepEqual(some.get(9999), []);
  } finally {
    await handle.close();
  }
});
