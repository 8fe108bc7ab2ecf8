import assert from "node:assert/strict";
import { sql } from "kysely";
import { migratedBefore } from "./_before.ts";
import { up } from "../../../../hub/db/migrations/0009_share_base_scopes.ts";
import { sharesOfUser } from "../../../../hub/db/shares.ts";

Deno.test("0009 keeps shares' base scopes; they are read back filtered by the owner's current name", async () => {
  const handle = await migratedBefore("0009_share_base_scopes");
  try {
    const db = handle.db;
    await sql`INSERT INTO users (id, name, admin, created) VALUES
      (1, 'alice', 0, 'x'), (2, 'bob', 0, 'x')`.execute(db);
    await sql`INSERT INTO shares (owner_id, server_name, user_id, scopes, created)
      VALUES (1, 'gpu', 2, ${
      JSON.stringify([
        "read:servers!server=alice/gpu",
        "access:servers!server=alice/gpu",
      ])
    }, 'x')`.execute(db);
    await sql`INSERT INTO share_codes (owner_id, server_name, code_hash, scopes, created, expires_at)
      VALUES (1, 'gpu', 'h', ${
      JSON.stringify(["access:servers!server=alice/gpu"])
    }, 'x', 'y')`.execute(db);
    await up(db as never);
    const stored = await sql<{ scopes: string }>`
      SELECT scopes FROM shares UNION ALL SELECT scopes FROM share_codes`
      .execute(db);
    assert.deepEqual(stored.rows.map((r) => JSON.parse(r.scopes)), [
      ["access:servers", "read:servers"],
      ["access:servers"],
    ]);
    await sql`UPDATE users SET name = 'alicia' WHERE id = 1`.execute(db);
    const [share] = await sharesOfUser(db, 2, false);
    assert.deepEqual(share!.scopes, [
      "access:servers!server=alicia/gpu",
      "read:servers!server=alicia/gpu",
    ]);
  } finally {
    await handle.close();
  }
});
