/**
 * Linux accounts: the TLJH naming rule (values computed with Python's
 * hashlib, as TLJH does), getent lookups, and creating an account on first
 * use (root only; the account and group are removed afterwards).
 */
import assert from "node:assert/strict";
import {
  ensureUser,
  lookupUser,
  SpawnError,
  systemUsername,
} from "../../spawners/mod.ts";
import { isValidSystemName } from "../../spawners/system_user.ts";
import { run, skipUnlessRoot } from "../_helpers/system_users.ts";

Deno.test("systemUsername() prefixes short names and shortens long ones with a hash (TLJH rule)", () => {
  const table: [string, string, string][] = [
    ["alice", "jupyter-", "jupyter-alice"],
    ["user@example.com", "jupyter-", "jupyter-user@example.com"],
    // 25 characters: kept; 26: cut to 26 + "-" + 5 hex of SHA-256(prefixed name).
    ["a".repeat(17), "jupyter-", `jupyter-${"a".repeat(17)}`],
    ["a".repeat(18), "jupyter-", `jupyter-${"a".repeat(18)}-3f1e4`],
    [
      "a-very-long-user-name-from-oidc",
      "jupyter-",
      "jupyter-a-very-long-user-n-4a6a1",
    ],
    // Python counts code points; so does the cut.
    [
      "émilie-the-very-long-username",
      "jupyter-",
      "jupyter-émilie-the-very-lo-1e774",
    ],
    ["abcdefghijklmnopqrstuvwxyz", "", "abcdefghijklmnopqrstuvwxyz-71c48"],
    ["bob", "", "bob"],
  ];
  for (const [name, prefix, expected] of table) {
    assert.equal(systemUsername(name, prefix), expected, `${prefix}${name}`);
  }
});

Deno.test("isValidSystemName() accepts what useradd accepts and nothing that looks like an option or a number", () => {
  for (
    const name of [
      "alice",
      "jupyter-a.b",
      "_svc",
      "a-1",
      "machine$",
      "a".repeat(32),
    ]
  ) {
    assert.ok(isValidSystemName(name), name);
  }
  for (
    const name of [
      "",
      "Alice",
      "0",
      "1000",
      "-rf",
      "a b",
      "a@b",
      "a:b",
      "a/b",
      "é",
      "a".repeat(33),
    ]
  ) {
    assert.ok(!isValidSystemName(name), name);
  }
});

Deno.test("lookupUser() finds root in the user database", async () => {
  const root = await lookupUser("root");
  assert.ok(root);
  assert.deepEqual(
    { name: root.name, uid: root.uid, gid: root.gid, home: root.home },
    { name: "root", uid: 0, gid: 0, home: "/root" },
  );
  assert.match(root.shell, /^\//);
});

Deno.test("lookupUser() returns null for an unknown or invalid name (never a uid)", async () => {
  assert.equal(await lookupUser("ohspawn-no-such-user"), null);
  assert.equal(await lookupUser("0"), null); // getent would find root by uid
  assert.equal(await lookupUser("--help"), null);
  assert.equal(await lookupUser(""), null);
});

Deno.test("ensureUser() refuses invalid user and group names", async () => {
  for (const name of ["Alice", "0", "-rf", "a@b.c", "a".repeat(33)]) {
    await assert.rejects(ensureUser(name), SpawnError, name);
  }
  await assert.rejects(
    ensureUser("ohspawn-x", { groups: ["bad group"] }),
    /not a valid Linux group name/,
  );
});

Deno.test({
  name:
    "ensureUser() creates a missing account with a closed home and its groups, then reuses it",
  ignore: skipUnlessRoot(
    "tests/spawners/system_user_test.ts",
    "create accounts",
  ),
  async fn() {
    const suffix = crypto.getRandomValues(new Uint8Array(3)).toHex();
    const name = `ohspawn-${suffix}`;
    const group = `ohspawng-${suffix}`;
    try {
      assert.equal(await lookupUser(name), null);

      const created = await ensureUser(name, { groups: [group] });

      assert.equal(created.name, name);
      assert.ok(created.uid > 0);
      assert.equal(created.shell, "/bin/bash");
      const home = await Deno.stat(created.home);
      assert.ok(home.isDirectory);
      assert.equal(home.uid, created.uid);
      assert.equal(home.mode! & 0o007, 0, "home open to others");
      const members =
        (await run(["getent", "group", group])).trim().split(":")[3];
      assert.deepEqual(members!.split(","), [name]);

      const again = await ensureUser(name, { groups: [group] });
      assert.deepEqual(again, created);
      assert.deepEqual(await lookupUser(name), created);
    } finally {
      await run(["userdel", "-r", name]).catch(() => {});
      await run(["groupdel", group]).catch(() => {});
    }
  },
});
