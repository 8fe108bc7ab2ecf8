/**
 * The local driver against real processes: a throwaway user
 * (`ohspawn-xxxxxx`, in a throwaway extra group) runs a tiny Python HTTP
 * server (./_server.ts) that reports who and where it is. Needs root; the
 * root-only tests are skipped with a printed reason otherwise.
 */
import assert from "node:assert/strict";
import os from "node:os";
import { dirname } from "node:path";
import { fromFileUrl } from "../_helpers/paths.ts";
import {
  createSpawner,
  freePort,
  lookupUser,
  type Spawner,
  SpawnError,
  type SpawnerState,
  type SpawnRequest,
  type SystemUser,
} from "../../spawners/mod.ts";
import {
  createSystemUser,
  run,
  skipUnlessRoot,
} from "../_helpers/system_users.ts";
import { waitFor } from "../_helpers/wait_for.ts";
import {
  askServer,
  parentPid,
  processAlive,
  SERVER_CODE,
  type ServerInfo,
} from "./_server.ts";

/** What poll() reports for a server that is not running. */
const NOT_RUNNING = { running: false, exitCode: null };

const ignore = skipUnlessRoot(
  "tests/spawners/local_process_test.ts",
  "start servers as another user",
);

/** A throwaway user who is also in a throwaway group. */
interface Account {
  user: SystemUser;
  extraGid: number;
}

/** Runs `body` with a fresh account; removes it, its group and its servers after. */
async function withAccount(
  body: (account: Account, started: SpawnerState[]) => Promise<void>,
): Promise<void> {
  await using created = await createSystemUser({ prefix: "ohspawn" });
  const group = `ohspawng-${crypto.getRandomValues(new Uint8Array(3)).toHex()}`;
  await run(["groupadd", group]);
  const started: SpawnerState[] = [];
  try {
    await run(["gpasswd", "--add", created.name, group]);
    const user = await lookupUser(created.name);
    assert.ok(user);
    const extraGid = Number(
      (await run(["getent", "group", group])).split(":")[2],
    );
    await body({ user, extraGid }, started);
  } finally {
    // Whatever happened, no server outlives the test.
    for (const state of started) {
      await createSpawner("local").stop(state, { timeoutMs: 100 });
    }
    await run(["groupdel", group]);
  }
}

/** A request for the test server as `user` on `port`. */
function serverRequest(
  user: SystemUser,
  port: number,
  extraEnv: Record<string, string> = {},
): SpawnRequest {
  return {
    id: user.name,
    user,
    argv: ["/usr/bin/python3", "-c", SERVER_CODE],
    env: {
      LANG: "C.UTF-8", // else Python's locale coercion adds LC_CTYPE
      HOME: user.home,
      USER: user.name,
      IP: "127.0.0.1",
      PORT: String(port),
      JUPYTERHUB_API_TOKEN: "the-token-of-this-server",
      ONEHUB_TEST_VALUE: `it's a "value" with $HOME and spaces`,
      ...extraEnv,
    },
    ip: "127.0.0.1",
    port,
    cwd: user.home,
    logFile: `${user.home}/onehub-server.log`,
  };
}

/** The test server, started as a fresh account's user. */
interface RunningServer {
  spawner: Spawner;
  state: SpawnerState;
  /** What the server reported about itself. */
  info: ServerInfo;
}

/** Runs `body` with the test server started (with `extraEnv`) as a fresh account's user. */
async function withRunningServer(
  body: (server: RunningServer) => Promise<void>,
  extraEnv: Record<string, string> = {},
): Promise<void> {
  await withAccount(async ({ user }, started) => {
    const spawner = createSpawner("local");
    const { url, state } = await startServer(
      serverRequest(user, await freePort(), extraEnv),
      started,
    );
    const info = await askServer(url);
    await body({ spawner, state, info });
  });
}

/** Declares a test that needs root (skipped with the printed reason otherwise). */
function rootTest(
  name: string,
  fn: (t: Deno.TestContext) => Promise<void>,
): void {
  Deno.test({ name, ignore, fn });
}

/** Starts the test server and remembers its state for cleanup. */
async function startServer(
  request: SpawnRequest,
  started: SpawnerState[],
) {
  const result = await createSpawner("local").start(request);
  started.push(result.state);
  return result;
}

rootTest(
  "start() runs the server as the user with their groups, in cwd, with exactly the given environment",
  async () => {
    const previous = Deno.env.get("JUPYTERHUB_CRYPT_KEY");
    Deno.env.set("JUPYTERHUB_CRYPT_KEY", "a-hub-secret-that-must-not-leak");
    try {
      await withAccount(async ({ user, extraGid }, started) => {
        const port = await freePort();
        const request = serverRequest(user, port);
        const { url, state } = await startServer(request, started);

        const info = await askServer(url);
        assert.equal(url, `http://127.0.0.1:${port}`);
        assert.equal(info.uid, user.uid);
        assert.equal(info.gid, user.gid);
        assert.deepEqual(
          info.groups,
          [user.gid, extraGid].sort((a, b) => a - b),
        );
        assert.equal(info.cwd, user.home);
        assert.deepEqual(info.env, Object.keys(request.env).sort());
        assert.equal(info.value, request.env.ONEHUB_TEST_VALUE);
        assert.equal(state.pid, info.pid);
        assert.equal(state.pgid, info.pid, "the server leads its own group");
        assert.deepEqual(
          Object.keys(state).sort(),
          ["ip", "pgid", "pid", "port", "starttime"],
        );
      });
    } finally {
      if (previous === undefined) Deno.env.delete("JUPYTERHUB_CRYPT_KEY");
      else Deno.env.set("JUPYTERHUB_CRYPT_KEY", previous);
    }
  },
);

rootTest(
  "start() appends stdout and stderr to a log file owned by the user with mode 0600",
  async () => {
    await withAccount(async ({ user }, started) => {
      const request = serverRequest(user, await freePort());
      await Deno.writeTextFile(request.logFile!, "an earlier run\n");
      await Deno.chown(request.logFile!, user.uid, user.gid);
      const { url } = await startServer(request, started);
      await askServer(url);

      const text = await waitFor(async () => {
        const t = await Deno.readTextFile(request.logFile!);
        return t.includes("this goes to stderr") ? t : null;
      }, { description: "both lines in the log" });
      assert.match(text, /^an earlier run\n/);
      assert.match(text, /listening on \d+/);
      const info = await Deno.stat(request.logFile!);
      assert.equal(info.uid, user.uid);
      assert.equal(info.mode! & 0o777, 0o600);
    });
  },
);

rootTest(
  "poll() reports running, and stop() returns once the whole process group is gone",
  async () => {
    await withRunningServer(async ({ spawner, state, info }) => {
      assert.deepEqual(await spawner.poll(state), { running: true });

      await spawner.stop(state);

      assert.equal(await processAlive(info.pid), false, "server still alive");
      assert.equal(
        await processAlive(info.child),
        false,
        "its child still alive",
      );
      assert.deepEqual(await spawner.poll(state), NOT_RUNNING);
      await spawner.stop(state); // a second stop is harmless
    });
  },
);

rootTest(
  "a new spawner polls and stops, from state alone, a server that an exited hub process started",
  async () => {
    await withAccount(async ({ user }, started) => {
      const script = `${
        dirname(fromFileUrl(import.meta.url))
      }/_spawn_and_exit.ts`;
      const request = serverRequest(user, await freePort());
      const hub = await new Deno.Command(Deno.execPath(), {
        args: ["run", "-A", "--quiet", script, JSON.stringify(request)],
        stdin: "null",
        stdout: "piped",
        stderr: "piped",
      }).output();
      assert.equal(hub.code, 0, new TextDecoder().decode(hub.stderr));
      const { url, state } = JSON.parse(new TextDecoder().decode(hub.stdout));
      started.push(state);
      const info = await askServer(url);
      assert.notEqual(await parentPid(info.pid), Deno.pid, "not reparented");

      const spawner = createSpawner("local"); // the "restarted hub"
      assert.deepEqual(await spawner.poll(state), { running: true });
      await spawner.stop(state);
      assert.equal(await processAlive(info.pid), false);
      assert.equal(await processAlive(info.child), false);
      assert.deepEqual(await spawner.poll(state), NOT_RUNNING);
      await spawner.stop(state);
    });
  },
);

rootTest(
  "stop() sends SIGKILL to the group after timeoutMs when SIGTERM is ignored",
  async () => {
    // Once the server has answered, SIGTERM is ignored.
    await withRunningServer(async ({ spawner, state, info }) => {
      const t0 = performance.now();
      await spawner.stop(state, { timeoutMs: 300 });
      const elapsed = performance.now() - t0;

      assert.ok(
        elapsed >= 300,
        `stopped after ${elapsed} ms, before the timeout`,
      );
      assert.ok(elapsed < 3000, `took ${elapsed} ms`);
      assert.equal(await processAlive(info.pid), false);
      assert.equal(await processAlive(info.child), false);
    }, { IGNORE_TERM: "1" });
  },
);

rootTest(
  "poll() and stop() leave alone a process whose start time differs from the state (PID reuse)",
  async () => {
    await withRunningServer(async ({ spawner, state, info }) => {
      const reused = { ...state, starttime: (state.starttime as number) + 1 };

      assert.deepEqual(await spawner.poll(reused), NOT_RUNNING);
      await spawner.stop(reused, { timeoutMs: 100 });

      assert.equal(await processAlive(info.pid), true);
      assert.deepEqual(await spawner.poll(state), { running: true });
    });
  },
);

rootTest(
  "start() writes the log as the user, 0600, whether the hub's directory is closed (0700) or traversable (0711)",
  async (t) => {
    // Root opens the file before dropping privileges, so even a directory
    // the user cannot traverse works.
    for (const mode of [0o700, 0o711]) {
      await t.step(`directory mode ${mode.toString(8)}`, async () => {
        await withAccount(async ({ user }, started) => {
          const dir = await Deno.makeTempDir({ prefix: "onehub-logs-" });
          await Deno.chmod(dir, mode);
          try {
            const request = {
              ...serverRequest(user, await freePort()),
              logFile: `${dir}/server.log`,
            };
            const { url } = await startServer(request, started);
            await askServer(url);
            const info = await Deno.stat(request.logFile);
            assert.equal(info.uid, user.uid);
            assert.equal(info.mode! & 0o777, 0o600);
            assert.equal((await Deno.stat(dir)).mode! & 0o777, mode);
          } finally {
            for (const state of started.splice(0)) {
              await createSpawner("local").stop(state);
            }
            await Deno.remove(dir, { recursive: true });
          }
        });
      });
    }
  },
);

/** A made-up account for tests that fail before anything runs. */
const NOBODY: SystemUser = {
  name: "ohspawn-nobody",
  uid: 64999,
  gid: 64999,
  home: "/nonexistent",
  shell: "/bin/sh",
};

function plainRequest(user: SystemUser): SpawnRequest {
  return {
    id: "alice",
    user,
    argv: ["/bin/true"],
    env: {},
    ip: "127.0.0.1",
    port: 8888,
    cwd: "/",
  };
}

Deno.test("start() refuses to run a server as root (uid 0 or gid 0)", async () => {
  const spawner = createSpawner("local");
  const root = { ...NOBODY, name: "root", uid: 0, gid: 0 };
  for (const user of [root, { ...NOBODY, uid: 0 }, { ...NOBODY, gid: 0 }]) {
    await assert.rejects(
      spawner.start(plainRequest(user)),
      (error: unknown) =>
        error instanceof SpawnError &&
        /^Refusing to run a server as root/.test(error.reason),
    );
  }
});

Deno.test("start() rejects a missing working directory and a bad id", async () => {
  const spawner = createSpawner("local");
  await assert.rejects(
    spawner.start({ ...plainRequest(NOBODY), cwd: "/nonexistent/home" }),
    /working directory "\/nonexistent\/home" does not exist/,
  );
  await assert.rejects(
    spawner.start({ ...plainRequest(NOBODY), id: "Alice/../x" }),
    SpawnError,
  );
});

Deno.test("poll() of an empty state reports not running and stop() does nothing", async () => {
  const spawner = createSpawner("local");
  assert.deepEqual(await spawner.poll({}), { running: false, exitCode: null });
  await spawner.stop({});
});

Deno.test("poll() and stop() reject a state this driver did not write", async () => {
  const spawner = createSpawner("local");
  for (
    const state of [
      { pid: "123", pgid: 123, starttime: 1 },
      { pid: 1, pgid: 1, starttime: 1 }, // never signal init or "-1"
      { pid: 1234, pgid: -1, starttime: 1 },
      { pid: 1234, pgid: 1234 },
    ]
  ) {
    await assert.rejects(spawner.poll(state), SpawnError);
    await assert.rejects(spawner.stop(state), SpawnError);
  }
});

rootTest(
  "start() hands the server only stdin, stdout and stderr, even with the hub holding a socket and a file open",
  async () => {
    const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
    const dir = await Deno.makeTempDir();
    const file = await Deno.open(`${dir}/held`, { create: true, write: true });
    try {
      await withAccount(async ({ user }, started) => {
        for (const log of [true, false]) {
          const request: SpawnRequest = {
            ...serverRequest(user, await freePort()),
            argv: ["/bin/sleep", "30"],
          };
          if (!log) delete request.logFile;
          const { state } = await startServer(request, started);
          // start() returns once the process exists: the exec chain (the
          // wrapper that closes the hub's descriptors, then sleep's own
          // dynamic loader, which holds fd 3 while it maps libc) settles at
          // its own pace on a loaded machine. A descriptor leaked from the
          // hub stays for good, so "only 0, 1, 2 in the end" still catches it.
          const fds = async () => {
            const out: string[] = [];
            for await (const e of Deno.readDir(`/proc/${state.pid}/fd`)) {
              out.push(
                `${e.name}:${await Deno.readLink(
                  `/proc/${state.pid}/fd/${e.name}`,
                )
                  .catch(() => "?")}`,
              );
            }
            return out.sort();
          };
          // sleep itself (the wrapper has exec'd: its environment is the
          // server's), with its loader done (only 0, 1, 2 left).
          const comm = () =>
            Deno.readTextFile(`/proc/${state.pid}/comm`).then((t) => t.trim());
          const settled = await waitFor(
            async () => await comm() === "sleep" && (await fds()).length === 3,
            { timeoutMs: 10_000, description: "sleep with only 0, 1, 2" },
          ).then(() => true, () => false);
          const seen = await fds();
          assert.ok(settled, `with log: ${log}: ${seen.join(" ")}`);
          assert.deepEqual(
            seen.map((f) => f.split(":")[0]),
            ["0", "1", "2"],
            `with log: ${log}`,
          );
          const env = (await Deno.readTextFile(`/proc/${state.pid}/environ`))
            .split("\0").filter(Boolean).map((kv) => kv.split("=")[0]).sort();
          assert.deepEqual(env, Object.keys(request.env).sort());
          await createSpawner("local").stop(state, { timeoutMs: 1000 });
        }
      });
    } finally {
      listener.close();
      file.close();
      await Deno.remove(dir, { recursive: true });
    }
  },
);

/** The niceness of a process (field 19 of /proc/<pid>/stat). */
async function niceOf(pid: number): Promise<number> {
  const stat = await Deno.readTextFile(`/proc/${pid}/stat`);
  return Number(stat.slice(stat.lastIndexOf(")") + 2).split(" ")[16]);
}

rootTest(
  "startNice starts the server (and its children) nicer; answered() puts the whole group back to 0",
  async () => {
    await withAccount(async ({ user }, started) => {
      const spawner = createSpawner("local");
      const { url, state } = await startServer(
        { ...serverRequest(user, await freePort()), startNice: 10 },
        started,
      );
      const info = await askServer(url);
      assert.equal(await niceOf(info.pid), 10);
      assert.equal(await niceOf(info.child), 10);
      // Each server leads its own session: its autogroup is what weighs
      // against other sessions (hub/priority.ts).
      assert.match(await autogroupOf(info.pid), / nice 10$/);
      await spawner.answered!(state);
      assert.equal(await niceOf(info.pid), 0);
      assert.equal(await niceOf(info.child), 0);
      assert.match(await autogroupOf(info.pid), / nice 0$/);
    });
  },
);

rootTest(
  "a hub at niceness -3 starts servers at their absolute startNice, never its own",
  async () => {
    await withThreadsNice(-3, async () => {
      await withAccount(async ({ user }, started) => {
        const nicer = await startServer(
          { ...serverRequest(user, await freePort()), startNice: 7 },
          started,
        );
        assert.equal(await niceOf((await askServer(nicer.url)).pid), 7);
        const plain = await startServer(
          { ...serverRequest(user, await freePort()), id: "plain" },
          started,
        );
        assert.equal(await niceOf((await askServer(plain.url)).pid), 0);
      });
    });
  },
);

/** The autogroup line of a process ("/autogroup-N nice K"). */
async function autogroupOf(pid: number): Promise<string> {
  return (await Deno.readTextFile(`/proc/${pid}/autogroup`)).trim();
}

/** Runs `body` with every thread of this test process at `nice`, then back to 0. */
async function withThreadsNice(
  nice: number,
  body: () => Promise<void>,
): Promise<void> {
  const all = (value: number) => {
    for (const t of Deno.readDirSync("/proc/self/task")) {
      try {
        os.setPriority(Number(t.name), value);
      } catch { /* a thread that ended */ }
    }
  };
  all(nice);
  try {
    await body();
  } finally {
    all(0);
  }
}
