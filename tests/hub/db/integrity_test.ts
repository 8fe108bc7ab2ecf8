/**
 * The database check before start: `onehub db check` and `onehub serve`
 * against a healthy, empty, truncated, corrupted, foreign and lost file;
 * file modes; restore from a backup.
 */
import assert from "node:assert/strict";
import { DatabaseSync } from "node:sqlite";
import { runMain } from "../../_helpers/serve_process.ts";
import { backupsOf, databaseProblem } from "../../../hub/db/integrity.ts";

/** A data dir whose database holds a user (made through the CLI). */
async function healthyDataDir(): Promise<string> {
  const dir = await Deno.makeTempDir({ prefix: "onehub-integrity-" });
  await Deno.writeTextFile(`${dir}/config.yaml`, `data_dir: ${dir}\n`);
  const made = await runMain([
    "user",
    "add",
    "ada",
    "--config",
    `${dir}/config.yaml`,
  ]);
  assert.equal(made.code, 0, made.stderr);
  // The hub's first start would have made the cookie secret.
  await Deno.writeTextFile(`${dir}/cookie_secret`, "x".repeat(64));
  return dir;
}

const damage: Array<[string, (db: string) => Promise<void>, RegExp]> = [
  [
    "a 0-byte file",
    (db) => Deno.writeFile(db, new Uint8Array()),
    /is empty \(0 bytes\)/,
  ],
  [
    "a truncated file",
    async (db) => {
      const bytes = await Deno.readFile(db);
      await Deno.writeFile(db, bytes.subarray(0, bytes.length - 1000));
    },
    /is truncated/,
  ],
  [
    "a file with a corrupted page",
    async (db) => {
      const bytes = await Deno.readFile(db);
      const pageSize = (bytes[16]! << 8) | bytes[17]!;
      // Page 2 onwards holds the schema's tables: overwrite one whole page.
      bytes.fill(0x5a, pageSize, pageSize * 2);
      await Deno.writeFile(db, bytes);
    },
    /integrity check failed|cannot read it|malformed/,
  ],
  [
    "a file that is not SQLite",
    (db) => Deno.writeTextFile(db, "x".repeat(4096)),
    /not a SQLite database/,
  ],
  [
    "a lost file (cookie secret present)",
    (db) => Deno.remove(db),
    /is missing/,
  ],
];

Deno.test("onehub db check and serve refuse a damaged database with one line naming it and the backup, and change nothing", async (t) => {
  for (const [label, harm, problem] of damage) {
    await t.step(label, async () => {
      const dir = await healthyDataDir();
      try {
        const db = `${dir}/onehub.sqlite`;
        // Checkpoint the WAL so the main file holds everything, then back up.
        const raw = new DatabaseSync(db);
        raw.exec("PRAGMA wal_checkpoint(TRUNCATE)");
        raw.exec(`VACUUM INTO '${db}.2026-01-01T00-00-00-000Z.bak'`);
        raw.close();
        await Deno.remove(`${db}-wal`).catch(() => {});
        await Deno.remove(`${db}-shm`).catch(() => {});
        await harm(db);
        const before = await Deno.readFile(db).catch(() => null);
        const checked = await runMain([
          "db",
          "check",
          "--config",
          `${dir}/config.yaml`,
        ]);
        assert.equal(checked.code, 1);
        assert.match(checked.stderr, problem);
        assert.match(checked.stderr, new RegExp(`"${db}"`));
        assert.match(
          checked.stderr,
          /onehub db restore .*2026-01-01T00-00-00-000Z\.bak/,
        );
        const served = await runMain([
          "serve",
          "--auth",
          "dummy",
          "--port",
          "0",
          "--hub-port",
          "0",
          "--config",
          `${dir}/config.yaml`,
        ]);
        assert.equal(served.code, 1);
        assert.match(served.stderr, /Refusing to start: the database/);
        assert.match(served.stderr, problem);
        assert.doesNotMatch(served.stderr, /^\s+at /m, "no stack trace");
        assert.deepEqual(await Deno.readFile(db).catch(() => null), before);

        const restored = await runMain([
          "db",
          "restore",
          `${db}.2026-01-01T00-00-00-000Z.bak`,
          "--config",
          `${dir}/config.yaml`,
        ]);
        assert.equal(restored.code, 0, restored.stderr);
        assert.equal(await databaseProblem(db), null);
        assert.equal((await Deno.stat(db)).mode! & 0o777, 0o600);
        const users = await runMain([
          "user",
          "list",
          "--config",
          `${dir}/config.yaml`,
        ]);
        assert.match(users.stdout, /ada/);
      } finally {
        await Deno.remove(dir, { recursive: true });
      }
    });
  }
});

Deno.test("a first start makes the database files 0600 and the data dir 0700, and keeps a few backups", async () => {
  const dir = await healthyDataDir();
  try {
    await Deno.chmod(dir, 0o755);
    await Deno.chmod(`${dir}/onehub.sqlite`, 0o644);
    const listed = await runMain([
      "user",
      "list",
      "--config",
      `${dir}/config.yaml`,
    ]);
    assert.equal(listed.code, 0, listed.stderr);
    for (
      const name of ["onehub.sqlite", "onehub.sqlite-wal", "onehub.sqlite-shm"]
    ) {
      const info = await Deno.stat(`${dir}/${name}`).catch(() => null);
      if (info) assert.equal(info.mode! & 0o777, 0o600, name);
    }
    assert.equal((await Deno.stat(dir)).mode! & 0o777, 0o700);
    assert.deepEqual(await backupsOf(`${dir}/onehub.sqlite`), []);
    const checked = await runMain([
      "db",
      "check",
      "--config",
      `${dir}/config.yaml`,
    ]);
    assert.equal(checked.code, 0, checked.stderr);
    assert.match(checked.stdout, /onehub\.sqlite: ok/);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
