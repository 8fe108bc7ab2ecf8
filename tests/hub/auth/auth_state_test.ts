import assert from "node:assert/strict";
import {
  AuthStateBox,
  loadAuthStateBox,
  parseCryptKeys,
} from "../../../hub/auth/auth_state.ts";
import { migrateToLatest, openDatabase } from "../../../hub/db/mod.ts";
import { createUsers, getUser, updateUser } from "../../../hub/db/users.ts";
import { ConfigError } from "../../../hub/errors.ts";

const key = (fill: number) => new Uint8Array(32).fill(fill);

Deno.test("AuthStateBox seals and opens; a changed byte, another user or another key does not open", () => {
  const box = new AuthStateBox([key(1)]);
  const sealed = box.seal(7, { "access_token": "abc", n: 1 });
  assert.match(sealed, /^v1:[0-9a-f]{8}:[\w-]+:[\w-]+$/);
  assert.ok(!sealed.includes("abc"));
  assert.deepEqual(box.open(7, sealed), { "access_token": "abc", n: 1 });
  // Two seals of one state differ (fresh IV).
  assert.notEqual(box.seal(7, { n: 1 }), box.seal(7, { n: 1 }));
  const parts = sealed.split(":");
  const body = parts[3]!;
  const flipped = body[5] === "A" ? "B" : "A";
  const tampered = [
    ...parts.slice(0, 3),
    body.slice(0, 5) + flipped + body.slice(6),
  ]
    .join(":");
  assert.equal(box.open(7, tampered), null);
  assert.equal(box.open(8, sealed), null);
  assert.equal(new AuthStateBox([key(2)]).open(7, sealed), null);
  assert.equal(box.open(7, "v1:garbage"), null);
  assert.equal(box.open(7, null), null);
  // Written before sealing: read as is.
  assert.deepEqual(box.open(7, '{"k":1}'), { k: 1 });
});

Deno.test("AuthStateBox with two keys seals with the first and opens with both (key rotation)", () => {
  const old = new AuthStateBox([key(1)]);
  const sealedOld = old.seal(1, { v: "old" });
  const rotated = new AuthStateBox([key(2), key(1)]);
  assert.deepEqual(rotated.open(1, sealedOld), { v: "old" });
  const sealedNew = rotated.seal(1, { v: "new" });
  assert.equal(sealedNew.split(":")[1], rotated.keyIds[0]);
  assert.equal(old.open(1, sealedNew), null);
});

Deno.test("parseCryptKeys reads hex and base64 keys separated by ; and names a bad one", () => {
  const hex = "ab".repeat(32);
  const b64 = btoa(String.fromCharCode(...key(9)));
  const keys = parseCryptKeys(`${hex};${b64}`, "JUPYTERHUB_CRYPT_KEY");
  assert.equal(keys.length, 2);
  assert.deepEqual(keys[1], key(9));
  assert.throws(
    () => parseCryptKeys(`${hex};short`, "JUPYTERHUB_CRYPT_KEY"),
    (e: Error) =>
      e instanceof ConfigError &&
      /Key 2 of JUPYTERHUB_CRYPT_KEY/.test(e.message) &&
      /openssl rand -hex 32/.test(e.message),
  );
  assert.throws(() => parseCryptKeys(" ; ", "X"), ConfigError);
});

async function withDb(
  fn: (db: ReturnType<typeof openDatabase>["db"], dir: string) => Promise<void>,
) {
  const dir = await Deno.makeTempDir({ prefix: "onehub-authstate-" });
  const handle = openDatabase(`${dir}/db.sqlite`);
  try {
    await migrateToLatest(handle);
    await fn(handle.db, dir);
  } finally {
    await handle.close();
    await Deno.remove(dir, { recursive: true });
  }
}

Deno.test("loadAuthStateBox makes a 0600 key file, seals states stored in the clear, and reuses the file", async () => {
  await withDb(async (db, dir) => {
    const [alice] = await createUsers(db, ["alice"], {
      admin: false,
      now: "2026-01-01T00:00:00Z",
    });
    await updateUser(db, alice!.id, { authState: '{"access_token":"plain"}' });
    const keyFile = `${dir}/auth_state_key`;
    const box = await loadAuthStateBox(db, { keyFile });
    assert.equal((await Deno.stat(keyFile)).mode! & 0o777, 0o600);
    const stored = (await getUser(db, "alice"))!.auth_state!;
    assert.match(stored, /^v1:/);
    assert.deepEqual(box.open(alice!.id, stored), { "access_token": "plain" });
    const again = await loadAuthStateBox(db, { keyFile });
    assert.deepEqual(again.open(alice!.id, stored), {
      "access_token": "plain",
    });
  });
});

Deno.test("loadAuthStateBox refuses to start when the key of stored states is missing or another, and says how to fix it", async () => {
  await withDb(async (db, dir) => {
    const [alice] = await createUsers(db, ["alice"], {
      admin: false,
      now: "2026-01-01T00:00:00Z",
    });
    const keyFile = `${dir}/auth_state_key`;
    const box = await loadAuthStateBox(db, { keyFile });
    await updateUser(db, alice!.id, {
      authState: box.seal(alice!.id, { a: 1 }),
    });
    await Deno.remove(keyFile);
    await assert.rejects(
      loadAuthStateBox(db, { keyFile }),
      (e: Error) =>
        e instanceof ConfigError &&
        e.message.includes(`${keyFile} is missing`) &&
        e.message.includes("onehub db forget-auth-state") &&
        e.message.includes("JUPYTERHUB_CRYPT_KEY"),
    );
    // Nothing was made in its place.
    await assert.rejects(Deno.stat(keyFile), Deno.errors.NotFound);
    await assert.rejects(
      loadAuthStateBox(db, { keyFile, envKey: "cd".repeat(32) }),
      /JUPYTERHUB_CRYPT_KEY holds none of their keys/,
    );
  });
});

Deno.test("loadAuthStateBox takes JUPYTERHUB_CRYPT_KEY over the file, and refuses a key file others can read", async () => {
  await withDb(async (db, dir) => {
    const keyFile = `${dir}/auth_state_key`;
    const hex = "ef".repeat(32);
    const box = await loadAuthStateBox(db, { keyFile, envKey: hex });
    assert.deepEqual(
      box.keyIds,
      new AuthStateBox(parseCryptKeys(hex, "x")).keyIds,
    );
    await assert.rejects(Deno.stat(keyFile), Deno.errors.NotFound);
    await Deno.writeTextFile(keyFile, "ab".repeat(32) + "\n", { mode: 0o644 });
    await Deno.chmod(keyFile, 0o644);
    await assert.rejects(
      loadAuthStateBox(db, { keyFile }),
      /Refusing to use auth state key .*chmod 600/,
    );
    await Deno.chmod(keyFile, 0o600);
    await Deno.writeTextFile(keyFile, "nothex\n");
    await assert.rejects(
      loadAuthStateBox(db, { keyFile }),
      /Invalid auth state key .*sign in again/,
    );
  });
});
