/**
 * hub/auth/identity.ts, the identity read model: a token costs one query
 * and then none while nothing changes; every change of what an identity is
 * made of (admin flag, groups, the token itself, another process's write)
 * is seen by the very next request.
 */
import assert from "node:assert/strict";
import type { Kysely, KyselyPlugin } from "kysely";
import {
  identityFromSession,
  identityFromToken,
} from "../../../hub/auth/identity.ts";
import {
  type DatabaseHandle,
  migrateToLatest,
  openDatabase,
} from "../../../hub/db/mod.ts";
import {
  createUsers,
  deleteUser,
  getUser,
  updateUser,
} from "../../../hub/db/users.ts";
import { addMembers, createGroups } from "../../../hub/db/groups.ts";
import { insertToken } from "../../../hub/db/tokens.ts";
import { changeStamp, registerChangeStamp } from "../../../hub/db/changes.ts";
import { hashSecret, newSecret, tokenPrefix } from "../../../hub/secrets.ts";
import type { Database } from "../../../hub/db/schema.ts";

const NOW = new Date("2026-12-01T10:00:00.000Z");

async function withDb(
  fn: (handle: DatabaseHandle, path: string) => Promise<void>,
) {
  const dir = await Deno.makeTempDir({ prefix: "onehub-identity-" });
  const path = `${dir}/hub.sqlite`;
  const handle = openDatabase(path);
  try {
    await migrateToLatest(handle);
    await fn(handle, path);
  } finally {
    await handle.close();
    await Deno.remove(dir, { recursive: true });
  }
}

async function userToken(
  handle: DatabaseHandle,
  name: string,
  scopes = ["inherit"],
) {
  await createUsers(handle.db, [name], {
    admin: false,
    now: NOW.toISOString(),
  });
  const user = (await getUser(handle.db, name))!;
  const token = newSecret();
  const row = await insertToken(handle.db, {
    userId: user.id,
    serviceId: null,
    prefix: tokenPrefix(token),
    hash: await hashSecret(token),
    scopes,
    note: "test",
    created: NOW.toISOString(),
    expiresAt: null,
  });
  return { user, token, row };
}

/** The handle's kysely with a SELECT counter (its own identity cache, the same change stamp). */
function counting(
  handle: DatabaseHandle,
): { selects: () => number; db: Kysely<Database> } {
  let selects = 0;
  const plugin: KyselyPlugin = {
    transformQuery(args) {
      if (args.node.kind === "SelectQueryNode") selects++;
      return args.node;
    },
    transformResult: (args) => Promise.resolve(args.result),
  };
  const db = handle.db.withPlugin(plugin);
  registerChangeStamp(db, () => changeStamp(handle.db));
  return { selects: () => selects, db };
}

Deno.test("a token is one query, then none while nothing changes", async () => {
  await withDb(async (handle) => {
    const { token } = await userToken(handle, "ada");
    const counted = counting(handle);
    assert.equal(
      (await identityFromToken(counted.db, token, NOW))?.name,
      "ada",
    );
    assert.equal(counted.selects(), 1, "token, owner and groups in one query");
    const later = new Date(NOW.getTime() + 1000); // within the activity resolution
    assert.equal(
      (await identityFromToken(counted.db, token, later))?.name,
      "ada",
    );
    assert.equal(
      counted.selects(),
      1,
      "the second request is served from the cache",
    );
  });
});

Deno.test("the next request sees admin, group and token changes", async (t) => {
  await withDb(async (handle) => {
    const { user, token, row } = await userToken(handle, "ada");
    const id = () => identityFromToken(handle.db, token, NOW);
    assert.equal((await id())?.admin, false);
    await t.step("made admin", async () => {
      await updateUser(handle.db, user.id, { admin: true });
      const now = await id();
      assert.equal(now?.admin, true);
      assert.ok(now?.scopes.has("admin:users"));
    });
    await t.step("joined a group", async () => {
      const [group] = await createGroups(handle.db, ["tas"], {
        memberIds: [],
        now: NOW.toISOString(),
      });
      await addMembers(handle.db, group!.id, [user.id]);
      assert.deepEqual((await id())?.groups, ["tas"]);
    });
    await t.step("token revoked", async () => {
      await handle.db.deleteFrom("api_tokens").where("id", "=", row.id)
        .execute();
      assert.equal(await id(), null);
    });
  });
});

Deno.test("a session's user is cached too, and a deleted user is gone at once", async () => {
  await withDb(async (handle) => {
    const { user } = await userToken(handle, "bob");
    const a = await identityFromSession(handle.db, user.id, "s1");
    const b = await identityFromSession(handle.db, user.id, "s2");
    assert.equal(a?.sessionId, "s1");
    assert.equal(b?.sessionId, "s2");
    assert.equal(
      a?.parsed,
      b?.parsed,
      "the parsed scopes are shared, not rebuilt",
    );
    await deleteUser(handle.db, user.id);
    assert.equal(await identityFromSession(handle.db, user.id, "s3"), null);
  });
});

Deno.test("a write by another process (onehub user admin …) is seen by the next request", async () => {
  await withDb(async (handle, path) => {
    const { user, token } = await userToken(handle, "cyd");
    assert.equal(
      (await identityFromToken(handle.db, token, NOW))?.admin,
      false,
    );
    const other = openDatabase(path);
    try {
      await updateUser(other.db, user.id, { admin: true });
    } finally {
      await other.close();
    }
    assert.equal((await identityFromToken(handle.db, token, NOW))?.admin, true);
  });
});

Deno.test("activity writes do not empty the cache", async () => {
  await withDb(async (handle) => {
    const { token } = await userToken(handle, "dee");
    const first = await identityFromToken(handle.db, token, NOW);
    // An hour later: the token's and the user's last_activity are written.
    const later = new Date(NOW.getTime() + 3_600_000);
    const second = await identityFromToken(handle.db, token, later);
    const third = await identityFromToken(handle.db, token, later);
    assert.equal(first, second, "the same cached identity");
    assert.equal(second, third);
    const row = await handle.db.selectFrom("api_tokens").select("last_activity")
      .executeTakeFirst();
    assert.equal(row?.last_activity, later.toISOString());
  });
});
