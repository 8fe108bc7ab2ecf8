/**
 * Log files: tailFile() for error messages, and the checks that keep a user
 * from turning the root-run hub against another file (symbolic links,
 * foreign files, directories other users can write to).
 */
import assert from "node:assert/strict";
import {
  assertTrustedDirectory,
  prepareLogFile,
} from "../../spawners/_log_file.ts";
import { SpawnError, type SystemUser, tailFile } from "../../spawners/mod.ts";
import { skipUnlessRoot } from "../_helpers/system_users.ts";

const notRoot = skipUnlessRoot(
  "tests/spawners/log_file_test.ts",
  "chown files to another user",
);

/** A temp dir removed on dispose. */
async function tempDir(): Promise<AsyncDisposable & { path: string }> {
  const path = await Deno.makeTempDir({ prefix: "onehub-log-test-" });
  return {
    path,
    [Symbol.asyncDispose]: () => Deno.remove(path, { recursive: true }),
  };
}

const USER: SystemUser = {
  name: "ohspawn-log",
  uid: 64996,
  gid: 64995,
  home: "/nonexistent",
  shell: "/bin/sh",
};

Deno.test("tailFile() returns the whole of a short log without the final newline", async () => {
  await using dir = await tempDir();
  await Deno.writeTextFile(`${dir.path}/log`, "one\ntwo\n");
  assert.equal(await tailFile(`${dir.path}/log`), "one\ntwo");
});

Deno.test("tailFile() returns only whole lines from the last maxBytes", async () => {
  await using dir = await tempDir();
  await Deno.writeTextFile(`${dir.path}/log`, "first line\nsecond\nthird\n");
  assert.equal(await tailFile(`${dir.path}/log`, 10), "third");
  assert.equal(await tailFile(`${dir.path}/log`, 13), "second\nthird");
});

Deno.test("tailFile() of a missing file is empty", async () => {
  assert.equal(await tailFile("/nonexistent/onehub.log"), "");
});

Deno.test("tailFile() refuses a symbolic link and a directory", async () => {
  await using dir = await tempDir();
  await Deno.writeTextFile(`${dir.path}/secret`, "do not show\n");
  await Deno.symlink(`${dir.path}/secret`, `${dir.path}/log`);
  await assert.rejects(tailFile(`${dir.path}/log`), /symbolic link/);
  await assert.rejects(tailFile(dir.path), SpawnError);
});

Deno.test("prepareLogFile() refuses a symbolic link, even a dangling one", async () => {
  await using dir = await tempDir();
  await Deno.symlink(`${dir.path}/target`, `${dir.path}/log`);
  assert.throws(
    () => prepareLogFile(`${dir.path}/log`, USER),
    /Refusing to use log file .*symbolic link/,
  );
  await assert.rejects(Deno.lstat(`${dir.path}/target`), Deno.errors.NotFound);
});

Deno.test("prepareLogFile() refuses an existing file that belongs to someone else", async () => {
  await using dir = await tempDir();
  await Deno.writeTextFile(`${dir.path}/log`, "not yours\n");
  assert.throws(
    () => prepareLogFile(`${dir.path}/log`, USER),
    /belongs to uid \d+, not to "ohspawn-log"; remove it/,
  );
});

Deno.test({
  name:
    "prepareLogFile() creates the file 0600 for the user and keeps an existing one of theirs",
  ignore: notRoot,
  async fn() {
    await using dir = await tempDir();
    const path = `${dir.path}/log`;
    prepareLogFile(path, USER);
    let info = await Deno.stat(path);
    assert.deepEqual([info.uid, info.gid, info.mode! & 0o777], [
      USER.uid,
      USER.gid,
      0o600,
    ]);

    await Deno.writeTextFile(path, "kept\n", { append: true });
    await Deno.chmod(path, 0o644);
    prepareLogFile(path, USER);
    info = await Deno.stat(path);
    assert.equal(info.mode! & 0o777, 0o600);
    assert.equal(await Deno.readTextFile(path), "kept\n");
  },
});

Deno.test("assertTrustedDirectory() accepts a private directory under /tmp", async () => {
  await using dir = await tempDir();
  await assertTrustedDirectory(`${dir.path}/server.log`);
});

Deno.test("assertTrustedDirectory() refuses a directory others can write to, or one inside it", async () => {
  await using dir = await tempDir();
  await Deno.mkdir(`${dir.path}/open/inner`, { recursive: true });
  await Deno.chmod(`${dir.path}/open`, 0o777);
  for (const file of ["open/server.log", "open/inner/server.log"]) {
    await assert.rejects(
      assertTrustedDirectory(`${dir.path}/${file}`),
      (error: unknown) =>
        error instanceof SpawnError &&
        error.reason.includes(`other users can change "${dir.path}/open"`),
    );
  }
});

Deno.test(
  "assertTrustedDirectory() refuses a directory owned by another user",
  {
    ignore: notRoot,
  },
  async () => {
    await using dir = await tempDir();
    await Deno.mkdir(`${dir.path}/theirs`);
    await Deno.chown(`${dir.path}/theirs`, USER.uid, USER.gid);
    await assert.rejects(
      assertTrustedDirectory(`${dir.path}/theirs/server.log`),
      /other users can change/,
    );
  },
);
