/**
 * The systemd driver against fake `systemd-run`/`systemctl` scripts
 * (tests/_helpers/fake_systemd.ts) that record their argv: the exact
 * commands, the environment file, polling and the stop sequence. The real
 * run on a systemd host is an integration test elsewhere.
 */
import assert from "node:assert/strict";
import {
  createSpawner,
  SpawnError,
  type SpawnRequest,
  type SystemUser,
} from "../../spawners/mod.ts";
import {
  cpuWeightOf,
  createSystemdSpawner,
  environmentFileText,
  parseShow,
  pollResultOf,
} from "../../spawners/systemd.ts";
import { skipUnlessRoot } from "../_helpers/system_users.ts";
import {
  createFakeSystemd,
  type FakeSystemd,
} from "../_helpers/fake_systemd.ts";

/** What poll() reports for a server that is not running. */
const NOT_RUNNING = { running: false, exitCode: null };

const ALICE: SystemUser = {
  name: "jupyter-alice",
  uid: 64998,
  gid: 64997,
  home: "/home/jupyter-alice",
  shell: "/bin/bash",
};

function aliceRequest(overrides: Partial<SpawnRequest> = {}): SpawnRequest {
  return {
    id: "jupyter-alice",
    user: ALICE,
    argv: ["/usr/bin/jupyterhub-singleuser", "--debug"],
    env: { JUPYTERHUB_API_TOKEN: "secret-token", HOME: ALICE.home },
    ip: "127.0.0.1",
    port: 47213,
    cwd: ALICE.home,
    ...overrides,
  };
}

function spawnerFor(fake: FakeSystemd) {
  return createSystemdSpawner({
    systemdRunPath: fake.systemdRunPath,
    systemctlPath: fake.systemctlPath,
    systemdRuntimeDir: fake.systemdRuntimeDir,
    envFileDir: fake.envFileDir,
  });
}

/** The `systemctl show` call poll() makes (before the unit's name). */
const SHOWN = ["ActiveState", "SubState", "ExecMainStatus", "LoadState"];
/** The state of alice's unit as start() would have stored it. */
function aliceState(): { unit: string; ip: string; port: number } {
  return { unit: "onehub-jupyter-alice.service", ip: "127.0.0.1", port: 1 };
}

const SHOW = ["systemctl", "show", ...SHOWN.flatMap((p) => ["-p", p])];

Deno.test("start() runs systemd-run with the user, directory, limits and command", async () => {
  await using fake = await createFakeSystemd();
  const request = aliceRequest({
    limits: { memoryBytes: 1073741824, cpu: 1.5, tasks: 500 },
  });

  const result = await spawnerFor(fake).start(request);

  assert.deepEqual(await fake.calls(), [[
    "systemd-run",
    "--unit",
    "onehub-jupyter-alice",
    "--uid",
    "64998",
    "--gid",
    "64997",
    "--working-directory",
    "/home/jupyter-alice",
    "--collect",
    "--service-type=exec",
    "--property=KillMode=mixed",
    "--property=MemoryAccounting=yes",
    "--property=MemoryMax=1073741824",
    "--property=CPUAccounting=yes",
    "--property=CPUQuota=150%",
    "--property=TasksAccounting=yes",
    "--property=TasksMax=500",
    `--property=EnvironmentFile=${fake.envFileDir}/onehub-jupyter-alice.env`,
    "--",
    "/usr/bin/jupyterhub-singleuser",
    "--debug",
  ]]);
  assert.deepEqual(result, {
    url: "http://127.0.0.1:47213",
    state: {
      unit: "onehub-jupyter-alice.service",
      ip: "127.0.0.1",
      port: 47213,
    },
  });
});

Deno.test("start() sets only the limits that are given", async () => {
  await using fake = await createFakeSystemd();
  const spawner = spawnerFor(fake);
  await spawner.start(aliceRequest({ limits: { cpu: 0.5 } }));
  await spawner.start(aliceRequest({ id: "bob" }));

  const [cpuOnly, none] = await fake.calls();
  const properties = (argv: string[]) =>
    argv.filter((a) => /Accounting|Max=|Quota/.test(a));
  assert.deepEqual(properties(cpuOnly!), [
    "--property=CPUAccounting=yes",
    "--property=CPUQuota=50%",
  ]);
  assert.deepEqual(properties(none!), []);
});

Deno.test("startNice starts the unit at a lower CPUWeight; answered() sets it back to 100", async () => {
  await using fake = await createFakeSystemd();
  const spawner = spawnerFor(fake);
  const { state } = await spawner.start(aliceRequest({ startNice: 10 }));
  await spawner.start(aliceRequest({ id: "bob" }));
  await spawner.answered!(state);

  const [nicer, plain, answered] = await fake.calls();
  const weights = (argv: string[]) => argv.filter((a) => /CPUWeight/.test(a));
  assert.deepEqual(weights(nicer!), ["--property=CPUWeight=11"]);
  assert.deepEqual(weights(plain!), []);
  assert.deepEqual(answered, [
    "systemctl",
    "set-property",
    "--runtime",
    "onehub-jupyter-alice.service",
    "CPUWeight=100",
  ]);
});

Deno.test("cpuWeightOf() weighs a unit as the kernel weighs a niceness", () => {
  assert.deepEqual([0, 1, 5, 10, 19].map(cpuWeightOf), [100, 80, 33, 11, 1]);
  assert.equal(cpuWeightOf(-3), 100);
  assert.equal(cpuWeightOf(40), 1);
});

Deno.test("start() rejects limits that are not positive numbers", async () => {
  await using fake = await createFakeSystemd();
  for (const limits of [{ memoryBytes: -1 }, { cpu: 0 }, { tasks: 1.5 }]) {
    await assert.rejects(
      spawnerFor(fake).start(aliceRequest({ limits })),
      SpawnError,
    );
  }
  assert.deepEqual(await fake.calls(), []);
});

Deno.test("start() passes the environment in a private EnvironmentFile, never on the command line", async () => {
  await using fake = await createFakeSystemd();
  const env = {
    JUPYTERHUB_API_TOKEN: "secret-token",
    QUOTED: `it's "quoted" $HOME \\ and\nmultiline`,
    A_FIRST: "",
  };

  await spawnerFor(fake).start(aliceRequest({ env }));

  const [argv] = await fake.calls();
  assert.ok(
    !argv!.some((a) => a.includes("secret-token")),
    "token on the command line",
  );
  assert.ok(!argv!.some((a) => a.startsWith("--setenv")));
  const file = `${fake.envFileDir}/onehub-jupyter-alice.env`;
  assert.equal(
    await Deno.readTextFile(file),
    `A_FIRST=""\nJUPYTERHUB_API_TOKEN="secret-token"\nQUOTED="it's \\"quoted\\" \\$HOME \\\\ and\nmultiline"\n`,
  );
  assert.equal((await Deno.stat(file)).mode! & 0o777, 0o600);
  assert.equal((await Deno.stat(fake.envFileDir)).mode! & 0o777, 0o700);
});

/**
 * systemd's environment-file reader for one `KEY="…"` line (the
 * double-quote states of src/basic/env-file.c, v250+).
 */
function readDoubleQuoted(line: string): [string, string] {
  const eq = line.indexOf("=");
  const key = line.slice(0, eq);
  let value = "";
  let state: "pre" | "double" | "escape" = "pre";
  for (const c of line.slice(eq + 1)) {
    if (state === "pre") {
      assert.equal(c, '"', "only double-quoted values are written");
      state = "double";
    } else if (state === "double") {
      if (c === '"') state = "pre";
      else if (c === "\\") state = "escape";
      else value += c;
    } else {
      value += '"\\`$'.includes(c) ? c : `\\${c}`;
      state = "double";
    }
  }
  assert.equal(state, "pre", "unterminated value");
  return [key, value];
}

Deno.test("environmentFileText() values read back unchanged", () => {
  const env = {
    A: "plain",
    B: `quotes ' and " and \\ and \\n and \` and $HOME and \${X}`,
    C: "line one\nline two\n",
    D: "",
  };
  const text = environmentFileText(env);
  // Split on the newlines that end a value: a closing quote then newline.
  const lines = text.split(/(?<=[^\\]")\n/).filter((l) => l !== "");
  assert.deepEqual(Object.fromEntries(lines.map(readDoubleQuoted)), env);
});

Deno.test("environmentFileText() rejects a variable name systemd would not accept", () => {
  assert.throws(() => environmentFileText({ "NOT-VALID": "x" }), SpawnError);
  assert.throws(() => environmentFileText({ "A=B": "x" }), SpawnError);
});

Deno.test("start() escapes @ in the unit name", async () => {
  await using fake = await createFakeSystemd();
  const { state } = await spawnerFor(fake).start(aliceRequest({ id: "a@b.c" }));
  const [argv] = await fake.calls();
  assert.equal(argv![2], "onehub-a\\x40b.c");
  assert.equal(state.unit, "onehub-a\\x40b.c.service");
});

Deno.test({
  name: "start() appends output to the log file, created 0600 for the user",
  ignore: skipUnlessRoot(
    "tests/spawners/systemd_test.ts",
    "chown a log file to another user",
  ),
  async fn() {
    await using fake = await createFakeSystemd();
    const logFile = `${fake.dir}/server.log`;
    await spawnerFor(fake).start(aliceRequest({ logFile }));

    const [argv] = await fake.calls();
    assert.deepEqual(argv!.slice(-5, -3), [
      `--property=StandardOutput=append:${logFile}`,
      `--property=StandardError=append:${logFile}`,
    ]);
    const info = await Deno.stat(logFile);
    assert.equal(info.uid, ALICE.uid);
    assert.equal(info.gid, ALICE.gid);
    assert.equal(info.mode! & 0o777, 0o600);
  },
});

Deno.test("start() refuses a log directory other users can write to", async () => {
  await using fake = await createFakeSystemd();
  await Deno.mkdir(`${fake.dir}/open`, { mode: 0o777 });
  await Deno.chmod(`${fake.dir}/open`, 0o777);
  await assert.rejects(
    spawnerFor(fake).start(
      aliceRequest({ logFile: `${fake.dir}/open/server.log` }),
    ),
    (error: unknown) =>
      error instanceof SpawnError &&
      /other users can change/.test(error.reason),
  );
  assert.deepEqual(await fake.calls(), []);
});

Deno.test("start() reports systemd-run's error and removes the environment file", async () => {
  await using fake = await createFakeSystemd();
  await fake.failStart(
    "Failed to start transient service unit: Unit onehub-jupyter-alice.service was already loaded",
  );

  await assert.rejects(
    spawnerFor(fake).start(aliceRequest()),
    (error: unknown) =>
      error instanceof SpawnError &&
      /^Cannot start server "jupyter-alice": .*exit code 1: Failed to start transient service unit/
        .test(error.reason),
  );
  await assert.rejects(
    Deno.stat(`${fake.envFileDir}/onehub-jupyter-alice.env`),
    Deno.errors.NotFound,
  );
});

Deno.test("start() says what to do when systemd is not PID 1", async () => {
  await using fake = await createFakeSystemd();
  const spawner = createSystemdSpawner({
    systemdRunPath: fake.systemdRunPath,
    systemctlPath: fake.systemctlPath,
    systemdRuntimeDir: `${fake.dir}/no-such-dir`,
    envFileDir: fake.envFileDir,
  });
  await assert.rejects(
    spawner.start(aliceRequest()),
    (error: unknown) =>
      error instanceof SpawnError &&
      error.reason ===
        'systemd is not running as PID 1 on this machine: set spawner to "local"',
  );
  assert.deepEqual(await fake.calls(), []);
});

Deno.test({
  name:
    'createSpawner("systemd").start() fails with the PID 1 message on this machine',
  ignore: (() => {
    try {
      Deno.statSync("/run/systemd/system");
      return true; // a systemd host: the message cannot be produced here
    } catch {
      return false;
    }
  })(),
  async fn() {
    await assert.rejects(
      createSpawner("systemd").start(aliceRequest()),
      /systemd is not running as PID 1 on this machine: set spawner to "local"/,
    );
  },
});

Deno.test("start() refuses to run a server as root", async () => {
  await using fake = await createFakeSystemd();
  await assert.rejects(
    spawnerFor(fake).start(
      aliceRequest({ user: { ...ALICE, uid: 0, gid: 0 } }),
    ),
    /Refusing to run a server as root/,
  );
  assert.deepEqual(await fake.calls(), []);
});

Deno.test("poll() reads the unit with systemctl show", async () => {
  await using fake = await createFakeSystemd();
  const spawner = spawnerFor(fake);
  const { state } = await spawner.start(aliceRequest());

  assert.deepEqual(await spawner.poll(state), { running: true });
  assert.deepEqual((await fake.calls())[1], [
    ...SHOW,
    "onehub-jupyter-alice.service",
  ]);
});

Deno.test("poll() reports the exit status of a failed unit and null for a collected one", async () => {
  await using fake = await createFakeSystemd();
  const spawner = spawnerFor(fake);
  const state = aliceState();

  await fake.setUnit({
    LoadState: "loaded",
    ActiveState: "failed",
    SubState: "failed",
    ExecMainStatus: "3",
  });
  assert.deepEqual(await spawner.poll(state), { running: false, exitCode: 3 });
  await fake.setUnit({
    LoadState: "not-found",
    ActiveState: "inactive",
    SubState: "dead",
    ExecMainStatus: "0",
  });
  assert.deepEqual(await spawner.poll(state), NOT_RUNNING);
});

Deno.test("pollResultOf() counts starting and stopping units as running", () => {
  const unit = (active: string) =>
    pollResultOf({
      LoadState: "loaded",
      ActiveState: active,
      ExecMainStatus: "0",
    });
  assert.deepEqual(unit("activating"), { running: true });
  assert.deepEqual(unit("deactivating"), { running: true });
  assert.deepEqual(unit("inactive"), { running: false, exitCode: 0 });
  assert.throws(() => pollResultOf({}), SpawnError);
});

Deno.test("parseShow() reads properties in any order", () => {
  assert.deepEqual(
    parseShow(
      "ExecMainStatus=0\nActiveState=active\nSubState=running\nLoadState=loaded\n",
    ),
    {
      ExecMainStatus: "0",
      ActiveState: "active",
      SubState: "running",
      LoadState: "loaded",
    },
  );
});

Deno.test("stop() stops the unit, waits until it is gone and removes the environment file", async () => {
  await using fake = await createFakeSystemd();
  const spawner = spawnerFor(fake);
  const { state } = await spawner.start(aliceRequest());

  await spawner.stop(state);

  const unit = "onehub-jupyter-alice.service";
  assert.deepEqual((await fake.calls()).slice(1), [
    [...SHOW, unit],
    ["systemctl", "stop", "--no-block", unit],
    [...SHOW, unit],
  ]);
  await assert.rejects(
    Deno.stat(`${fake.envFileDir}/onehub-jupyter-alice.env`),
    Deno.errors.NotFound,
  );
  assert.deepEqual(await spawner.poll(state), NOT_RUNNING);
});

Deno.test("stop() sends SIGKILL after timeoutMs when the unit does not stop", async () => {
  await using fake = await createFakeSystemd();
  const spawner = spawnerFor(fake);
  const { state } = await spawner.start(aliceRequest());
  await fake.ignoreStop();

  const t0 = performance.now();
  await spawner.stop(state, { timeoutMs: 200 });

  assert.ok(performance.now() - t0 >= 200);
  const calls = await fake.calls();
  assert.deepEqual(calls.at(-2), [
    "systemctl",
    "kill",
    "--signal=SIGKILL",
    "onehub-jupyter-alice.service",
  ]);
  assert.deepEqual(await spawner.poll(state), NOT_RUNNING);
});

Deno.test("stop() of a unit that is already gone only looks, and can be repeated", async () => {
  await using fake = await createFakeSystemd();
  const spawner = spawnerFor(fake);
  const state = aliceState();

  await spawner.stop(state);
  await spawner.stop(state);

  assert.deepEqual((await fake.calls()).map((c) => c[1]), ["show", "show"]);
});

Deno.test("poll() and stop() reject a state with a unit this driver would not create", async () => {
  await using fake = await createFakeSystemd();
  const spawner = spawnerFor(fake);
  for (const unit of ["--all", "sshd.service", 42]) {
    await assert.rejects(spawner.poll({ unit }), SpawnError);
    await assert.rejects(spawner.stop({ unit }), SpawnError);
  }
  assert.deepEqual(await spawner.poll({}), { running: false, exitCode: null });
  assert.deepEqual(await fake.calls(), []);
});
