/**
 * Course files (hub/servers/course_files.ts) with a real Linux user and a git
 * repository made here: delivered at spawn and on the admin page's update,
 * owned by the user; a student's edit survives an update (the new version
 * lands beside it); untouched files follow the course; deleted ones come
 * back; a symlink the student planted is not followed. Needs root.
 */
import assert from "node:assert/strict";
import { createSystemUser, IS_ROOT, run } from "../../_helpers/system_users.ts";
import { fakeHub } from "../../_helpers/test_hub.ts";
import { waitFor } from "../../_helpers/wait_for.ts";
import { CourseFiles } from "../../../hub/servers/course_files.ts";
import { resolveConfig } from "../../../hub/config/mod.ts";
import { EventLog } from "../../../hub/observe/events.ts";
import { silentLogger } from "../../../hub/observe/log.ts";
import { lookupUser } from "../../../spawners/mod.ts";
import { migrateToLatest, openDatabase } from "../../../hub/db/mod.ts";
import { getUser } from "../../../hub/db/users.ts";
import { printErr } from "../../../hub/cli/_print.ts";

if (!IS_ROOT) {
  printErr(
    "course_files_test: skipped: needs root (a real Linux user, setpriv)",
  );
}

const git = (dir: string, ...args: string[]) =>
  run(["git", "-C", dir, "-c", "user.name=T", "-c", "user.email=t@x", ...args]);

/** Runs `argv` as `unix` (what the student does in their own home). */
function asStudent(
  unix: { uid: number; gid: number },
  ...argv: string[]
): Promise<string> {
  return run([
    "setpriv",
    "--reuid",
    String(unix.uid),
    "--regid",
    String(unix.gid),
    "--init-groups",
    "--",
    ...argv,
  ]);
}

/** An in-memory database and the event log a CourseFiles records to. */
async function eventLog(): Promise<{ events: EventLog } & AsyncDisposable> {
  const handle = openDatabase(":memory:");
  await migrateToLatest(handle);
  const events = new EventLog({ db: handle.db, logger: silentLogger });
  return {
    events,
    async [Symbol.asyncDispose]() {
      await events.close();
      await handle.close();
    },
  };
}

async function makeRepo(): Promise<string> {
  const dir = await Deno.makeTempDir({ prefix: "onehub-course-" });
  await Deno.chmod(dir, 0o755);
  await run(["git", "init", "--quiet", "-b", "main", dir]);
  await Deno.mkdir(`${dir}/week1`);
  await Deno.writeTextFile(`${dir}/README.md`, "Welcome\n");
  await Deno.writeTextFile(`${dir}/week1/intro.ipynb`, '{"cells": []}\n');
  await git(dir, "add", ".");
  await git(dir, "commit", "--quiet", "-m", "week 1");
  return dir;
}

Deno.test({
  name:
    "course files: delivered as the user; a student's edit survives; deleted files come back; symlinks are not followed",
  ignore: !IS_ROOT,
  fn: async () => {
    const repo = await makeRepo();
    const cache = await Deno.makeTempDir({ prefix: "onehub-course-cache-" });
    await Deno.chmod(cache, 0o755);
    await using student = await createSystemUser({ prefix: "ohcf" });
    const unix = (await lookupUser(student.name))!;
    await using log = await eventLog();
    const { events } = log;
    try {
      const config = resolveConfig({
        file: {
          "course_files": { source: `file://${repo}`, "cache_dir": cache },
        },
      });
      const cf = new CourseFiles({ config, logger: silentLogger, events });
      let summary = await cf.mergeFor(unix, "test", true);
      assert.deepEqual(summary, {
        added: 2,
        updated: 0,
        kept: 0,
        conflicts: 0,
        skipped: 0,
      });
      const home = `${unix.home}/course`;
      const info = await Deno.stat(`${home}/week1/intro.ipynb`);
      assert.equal(info.uid, unix.uid, "the student owns the copy");
      assert.equal((await Deno.stat(`${home}/week1`)).uid, unix.uid);

      // The student edits the README (as the student), deletes the notebook, plants a symlink.
      await asStudent(
        unix,
        "/bin/sh",
        "-c",
        `echo 'my notes' > ${home}/README.md && rm ${home}/week1/intro.ipynb && ln -s /etc/hostname ${home}/answers.txt`,
      );
      const hostname = await Deno.readTextFile("/etc/hostname");
      // The teacher changes the README, adds week 2 and an answers.txt.
      await Deno.writeTextFile(`${repo}/README.md`, "Welcome, week 2 is out\n");
      await Deno.mkdir(`${repo}/week2`);
      await Deno.writeTextFile(`${repo}/week2/lists.ipynb`, "{}\n");
      await Deno.writeTextFile(`${repo}/answers.txt`, "overwritten!\n");
      await git(repo, "add", ".");
      await git(repo, "commit", "--quiet", "-m", "week 2");

      summary = await cf.mergeFor(unix, "test", true);
      assert.deepEqual(summary, {
        added: 2, // week2/lists.ipynb, the deleted intro.ipynb
        updated: 0,
        kept: 0,
        conflicts: 1, // README.md
        skipped: 1, // answers.txt is a symlink
      });
      assert.equal(await Deno.readTextFile(`${home}/README.md`), "my notes\n");
      const date = new Date().toISOString().slice(0, 10);
      assert.equal(
        await Deno.readTextFile(`${home}/README.course-${date}.md`),
        "Welcome, week 2 is out\n",
      );
      assert.ok((await Deno.stat(`${home}/week2/lists.ipynb`)).isFile);
      assert.ok((await Deno.stat(`${home}/week1/intro.ipynb`)).isFile);
      assert.equal(await Deno.readTextFile("/etc/hostname"), hostname);

      // A file the student did not touch follows the course.
      await Deno.writeTextFile(`${repo}/week2/lists.ipynb`, '{"v": 2}\n');
      await git(repo, "commit", "--quiet", "-am", "fix");
      summary = await cf.mergeFor(unix, "test", true);
      assert.equal(summary.updated, 1);
      assert.equal(
        await Deno.readTextFile(`${home}/week2/lists.ipynb`),
        '{"v": 2}\n',
      );
    } finally {
      await Deno.remove(repo, { recursive: true });
      await Deno.remove(cache, { recursive: true });
    }
  },
});

Deno.test({
  name:
    "course files arrive at spawn, before the server starts, and on the admin page's update for everyone",
  ignore: !IS_ROOT,
  fn: async () => {
    const repo = await makeRepo();
    await using student = await createSystemUser({ prefix: "ohcf" });
    try {
      await using hub = await fakeHub({
        "course_files": { source: repo },
        // The test hub lowers it to spawn as daemon and bin; a real hub's:
        spawner: { "min_uid": 1000 },
      });
      await hub.addUser(student.name);
      await hub.addUser("teacher", { admin: true });
      const unix = (await lookupUser(student.name))!;
      // At spawn: the files are there before the spawner is asked to start.
      await hub.servers.start(
        (await getUser(hub.handle.db, student.name))!,
        "",
      );
      assert.equal(
        await hub.servers.waitReady(student.name, "", { timeoutMs: 10_000 }),
        true,
      );
      const readme = `${unix.home}/course/README.md`;
      assert.equal(await Deno.readTextFile(readme), "Welcome\n");
      assert.equal((await Deno.stat(readme)).uid, unix.uid);
      await hub.events.flush();
      const kinds = (await hub.handle.db.selectFrom("events").select("kind")
        .orderBy("id").execute()).map((r) => r.kind);
      assert.ok(
        kinds.indexOf("course_files.merged") < kinds.indexOf("server.ready"),
        kinds.join(","),
      );
      await Deno.remove(`${unix.home}/course`, { recursive: true });
      // The admin page's update, for everyone.
      const teacher = await hub.login("teacher");
      const page = await (await hub.request("/hub/admin", {
        headers: { cookie: teacher.cookie },
      })).text();
      assert.match(page, /Update course files for everyone/);
      const res = await hub.request("/hub/admin/course-files", {
        method: "POST",
        headers: {
          cookie: teacher.cookie,
          "content-type": "application/x-www-form-urlencoded",
        },
        body: new URLSearchParams({ _xsrf: teacher.xsrf }).toString(),
      });
      assert.equal(res.status, 302);
      await res.body?.cancel();
      // It runs in the background: the page shows it under way, then done.
      const adminPage = async () =>
        await (await hub.request("/hub/admin", {
          headers: { cookie: teacher.cookie },
        })).text();
      let after = await adminPage();
      assert.match(after, /id="course-running"|id="course-status"/);
      await waitFor(
        async () => /id="course-status"/.test(after = await adminPage()),
        {
          timeoutMs: 60_000,
          description: "the update to finish",
        },
      );
      assert.doesNotMatch(after, /id="course-running"/);
      assert.equal(await Deno.readTextFile(readme), "Welcome\n");
      // bin and daemon are system accounts (below spawner.min_uid), teacher
      // has none: the update, like a spawn, never writes into their homes.
      const status = /id="course-status">([^<]*)</.exec(after)![1]!;
      assert.match(status, /^Last update \S+: 1 users; skipped /);
      for (const name of ["bin", "daemon", "teacher"]) {
        assert.match(status, new RegExp(`skipped [^(]*\\b${name}\\b`));
      }
      assert.doesNotMatch(after, /failed for/);
    } finally {
      await Deno.remove(repo, { recursive: true });
    }
  },
});

Deno.test("course files: git gets the config's values after --end-of-options, the branch attached to its option", async () => {
  const dir = await Deno.makeTempDir({ prefix: "onehub-fake-git-" });
  const argvLog = `${dir}/argv.log`;
  // A git that records its arguments and makes an empty checkout.
  const fakeGit = `${dir}/git`;
  await Deno.writeTextFile(
    fakeGit,
    `#!/bin/sh\nprintf '%s\\n' "$@" >> ${argvLog}\necho -- >> ${argvLog}\nfor last; do :; done\nmkdir -p "$last/.git"\n`,
  );
  await Deno.chmod(fakeGit, 0o755);
  await using log = await eventLog();
  const { events } = log;
  try {
    const config = resolveConfig({
      file: {
        "course_files": {
          source: "https://example.org/course.git",
          branch: "2026/spring",
          "cache_dir": `${dir}/cache`,
        },
      },
    });
    const cf = new CourseFiles({
      config,
      logger: silentLogger,
      events,
      git: fakeGit,
    });
    await cf.source(true); // clone
    await cf.source(true); // fetch
    const calls = (await Deno.readTextFile(argvLog)).trim().split("\n--\n")
      .map((c) => c.split("\n"));
    const [clone, fetch] = calls as [string[], string[]];
    assert.deepEqual(clone.slice(0, 5), [
      "clone",
      "--quiet",
      "--depth",
      "1",
      "--branch=2026/spring",
    ]);
    assert.deepEqual(clone.slice(5, 7), [
      "--end-of-options",
      "https://example.org/course.git",
    ]);
    const end = fetch.indexOf("--end-of-options");
    assert.ok(end > 0, fetch.join(" "));
    assert.deepEqual(fetch.slice(end + 1), ["origin", "2026/spring"]);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test({
  name:
    "course files over course_files.max_file_size are skipped, and a student's file that large is never read",
  ignore: !IS_ROOT,
  fn: async () => {
    const repo = await makeRepo();
    await Deno.writeFile(`${repo}/big.bin`, new Uint8Array(4096));
    await using student = await createSystemUser({ prefix: "ohcf" });
    const unix = (await lookupUser(student.name))!;
    await using log = await eventLog();
    const { events } = log;
    try {
      const config = resolveConfig({
        file: {
          "course_files": { source: repo, "max_file_size": 2048 },
        },
      });
      const cf = new CourseFiles({ config, logger: silentLogger, events });
      let summary = await cf.mergeFor(unix, "test");
      assert.equal(summary.skipped, 1, "big.bin is over the limit");
      assert.equal(summary.added, 2);
      // The student turns README.md into a 50 GB sparse file.
      await asStudent(
        unix,
        "truncate",
        "-s",
        "50G",
        `${unix.home}/course/README.md`,
      );
      summary = await cf.mergeFor(unix, "test");
      assert.deepEqual(summary, {
        added: 0,
        updated: 0,
        kept: 1, // the student's README, never read
        conflicts: 0,
        skipped: 1,
      });
    } finally {
      await Deno.remove(repo, { recursive: true });
    }
  },
});
