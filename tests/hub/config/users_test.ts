import assert from "node:assert/strict";
import { createTestHub } from "../../_helpers/test_hub.ts";
import { syncConfigUsers } from "../../../hub/config/users.ts";
import { resolveConfig } from "../../../hub/config/mod.ts";
import { ensureInstance } from "../../../hub/db/hub_state.ts";
import { updateUser } from "../../../hub/db/users.ts";
import { silentLogger } from "../../../hub/observe/log.ts";

Deno.test("syncConfigUsers() creates allowed and admin users, and takes admin only from users the config made admin", async () => {
  await using hub = await createTestHub();
  const db = hub.handle.db;
  const withUsers = (allowed: string[], admin: string[]) =>
    resolveConfig({ file: { users: { allowed, admin } } });
  const first = await syncConfigUsers(
    db,
    withUsers(["ada", "Bob"], ["root1"]),
    {
      logger: silentLogger,
    },
  );
  assert.deepEqual(first, {
    created: ["root1", "ada", "bob"],
    madeAdmin: ["root1"],
    adminRemoved: [],
  });
  const admin = await hub.tokenFor("root1");
  const listed = await hub.request("/hub/api/users", { token: admin });
  const users = await listed.json() as Array<{ name: string; admin: boolean }>;
  assert.deepEqual(
    users.map((u) => [u.name, u.admin]).sort(),
    [["ada", false], ["bob", false], ["root1", true]],
  );
  // An admin made through the API is left alone when the config drops its own.
  const api = users.find((u) => u.name === "ada")!;
  void api;
  await updateUser(
    db,
    (await hub.handle.db.selectFrom("users").select("id")
      .where("name", "=", "ada").executeTakeFirstOrThrow()).id,
    { admin: true },
  );
  const second = await syncConfigUsers(db, withUsers(["ada", "bob"], []), {
    logger: silentLogger,
  });
  assert.deepEqual(second, {
    created: [],
    madeAdmin: [],
    adminRemoved: ["root1"],
  });
  const after = await (await hub.request("/hub/api/users", {
    token: await hub.tokenFor("ada"),
  })).json() as Array<{ name: string; admin: boolean }>;
  assert.deepEqual(
    after.map((u) => [u.name, u.admin]).sort(),
    [["ada", true], ["bob", false], ["root1", false]],
  );
  const third = await syncConfigUsers(db, withUsers(["ada", "bob"], []), {
    logger: silentLogger,
  });
  assert.deepEqual(third, { created: [], madeAdmin: [], adminRemoved: [] });
});

Deno.test("syncConfigUsers() refuses an invalid name, naming the key", async () => {
  await using hub = await createTestHub();
  await assert.rejects(
    syncConfigUsers(
      hub.handle.db,
      resolveConfig({ file: { users: { admin: ["a/b"] } } }),
      { logger: silentLogger },
    ),
    /Invalid username "a\/b" in users\.admin: it contains "\/"/,
  );
});

Deno.test("ensureInstance() keeps its id in the same place and makes a new one for a copied database", async () => {
  await using hub = await createTestHub();
  const db = hub.handle.db;
  const first = await ensureInstance(db, "/var/lib/onehub/onehub.sqlite@m1");
  assert.equal(first.movedFrom, null);
  const again = await ensureInstance(db, "/var/lib/onehub/onehub.sqlite@m1");
  assert.deepEqual(again, { id: first.id, movedFrom: null });
  const copy = await ensureInstance(db, "/srv/copy/onehub.sqlite@m1");
  assert.notEqual(copy.id, first.id);
  assert.equal(copy.movedFrom, "/var/lib/onehub/onehub.sqlite@m1");
});
