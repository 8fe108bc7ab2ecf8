import assert from "node:assert/strict";
import { sql } from "kysely";
import { migratedBefore } from "./_before.ts";
import { up } from "../../../../hub/db/migrations/0008_server_credentials.ts";
import { clientIdFor } from "../../../../hub/servers/single_user_env.ts";

Deno.test("0008 links each server's own token and client by relation; a token that only carries the note stays ordinary", async () => {
  const handle = await migratedBefore("0008_server_credentials");
  try {
    const db = handle.db;
    await sql`INSERT INTO users (id, name, admin, created) VALUES
      (1, 'alice', 0, 'x'), (2, 'bob', 0, 'x')`.execute(db);
    await sql`INSERT INTO servers (id, user_id, name, status, state, user_options, created)
      VALUES (10, 1, '', 'running', '{}', '{}', 'x'),
             (11, 1, 'gpu', 'running', '{}', '{}', 'x')`.execute(db);
    const clients: Array<[string, string]> = [
      [clientIdFor("alice", ""), "h-default"],
      [clientIdFor("alice", "gpu"), "h-gpu"],
    ];
    for (const [identifier, hash] of clients) {
      await sql`INSERT INTO oauth_clients
        (identifier, description, secret_hash, redirect_uri, allowed_scopes, created)
        VALUES (${identifier}, 'd', ${hash}, '/cb', '[]', 'x')`.execute(db);
    }
    const tokens: Array<[number, string, number]> = [
      // [id, hash, user]: the servers' own tokens are their clients' secrets.
      [1, "h-default", 1],
      [2, "h-gpu", 1],
      [3, "h-forged", 1], // noted "Server at …" by the user: no relation
    ];
    for (const [id, hash, user] of tokens) {
      await sql`INSERT INTO api_tokens
        (id, user_id, prefix, hash, scopes, note, created)
        VALUES (${id}, ${user}, ${`p${id}`}, ${hash}, '[]',
                'Server at /user/alice/', 'x')`.execute(db);
    }
    await up(db as never);
    const linked = await sql<{ id: number; server_id: number | null }>`
      SELECT id, server_id FROM api_tokens ORDER BY id`.execute(db);
    assert.deepEqual(linked.rows.map((r) => ({ ...r })), [
      { id: 1, "server_id": 10 },
      { id: 2, "server_id": 11 },
      { id: 3, "server_id": null },
    ]);
    const linkedClients = await sql<{ server_id: number | null }>`
      SELECT server_id FROM oauth_clients ORDER BY id`.execute(db);
    assert.deepEqual(linkedClients.rows.map((r) => r.server_id), [10, 11]);
    // Deleting a server deletes its credentials with it.
    await sql`DELETE FROM servers WHERE id = 11`.execute(db);
    const left = await sql<
      { id: number }
    >`SELECT id FROM api_tokens ORDER BY id`
      .execute(db);
    assert.deepEqual(left.rows.map((r) => r.id), [1, 3]);
  } finally {
    await handle.close();
  }
});
