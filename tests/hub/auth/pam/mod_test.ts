/**
 * Unit tests for the PAM login's hub side (hub/auth/pam/mod.ts), with
 * tests/_helpers/fake_pam_helper.ts standing in for the helper, and for the
 * parts of the helper side that run before libpam is touched. The real twin
 * is tests/integration/pam_integration_test.ts.
 *
 * @module
 */
import assert from "node:assert/strict";
import { fileURLToPath } from "node:url";
import {
  checkPamService,
  interpretPamHelperOutput,
  PAM_DENIED,
  PAM_SERVICE_FILE_TEXT,
  pamAuthenticate,
  pamHelperArgv,
  type PamResult,
} from "../../../../hub/auth/pam/mod.ts";
import { runPamHelper } from "../../../../hub/auth/pam/helper.ts";

const FAKE = fileURLToPath(
  new URL("../../../_helpers/fake_pam_helper.ts", import.meta.url),
);
const STUB = fileURLToPath(
  new URL("../../../_helpers/pam_main_stub.ts", import.meta.url),
);

function fakeArgv(...args: string[]): string[] {
  return [Deno.execPath(), "run", "-A", FAKE, ...args];
}

function answering(output: unknown, exitCode: number): string[] {
  return fakeArgv("answer", JSON.stringify(output), String(exitCode));
}

const OPTIONS = { service: "onehub", timeoutMs: 20_000 };

Deno.test("pamHelperArgv() runs main.ts next to hub/ with only FFI and read permissions under deno run", () => {
  const main = fileURLToPath(new URL("../../../../main.ts", import.meta.url));
  assert.ok(Deno.statSync(main).isFile, `${main} is the program`);
  assert.deepEqual(pamHelperArgv({ standalone: false }), [
    Deno.execPath(),
    "run",
    "--no-code-cache",
    "--allow-ffi",
    "--allow-read",
    main,
    "pam-helper",
  ]);
});

Deno.test("pamHelperArgv() re-executes the binary itself when compiled", () => {
  assert.deepEqual(
    pamHelperArgv({ standalone: true, execPath: "/usr/local/bin/onehub" }),
    ["/usr/local/bin/onehub", "pam-helper"],
  );
});

Deno.test("pamHelperArgv() uses the running deno and not Deno.mainModule by default", () => {
  const argv = pamHelperArgv();
  assert.equal(argv[0], Deno.execPath());
  assert.ok(argv[5]?.endsWith("/main.ts"));
  assert.ok(!argv.includes(fileURLToPath(Deno.mainModule)));
});

Deno.test("interpretPamHelperOutput() maps each helper answer to a result", async (t) => {
  const denied: PamResult = PAM_DENIED;
  const rows: [string, unknown, number, PamResult][] = [
    ["success", { ok: true }, 0, { ok: true }],
    [
      "auth error 7",
      { ok: false, stage: "auth", code: 7, message: "Authentication failure" },
      1,
      denied,
    ],
    [
      "unknown user 10, without naming it",
      { ok: false, stage: "auth", code: 10, message: "User not known" },
      1,
      denied,
    ],
    [
      "expired account 13",
      {
        ok: false,
        stage: "account",
        code: 13,
        message: "User account has expired",
      },
      1,
      { ok: false, reason: "account", message: "User account has expired" },
    ],
    [
      "account refused 7 with PAM's message",
      {
        ok: false,
        stage: "account",
        code: 7,
        message: "Your account has expired; please contact your admin.",
      },
      1,
      {
        ok: false,
        reason: "account",
        message: "Your account has expired; please contact your admin.",
      },
    ],
    [
      "password change required 12",
      {
        ok: false,
        stage: "account",
        code: 12,
        message: "You are required to change your password immediately",
      },
      1,
      {
        ok: false,
        reason: "account",
        message: "You are required to change your password immediately",
      },
    ],
    [
      "authinfo unavailable 9 (hub not root)",
      {
        ok: false,
        stage: "auth",
        code: 9,
        message: "Authentication service cannot retrieve authentication info",
      },
      1,
      {
        ok: false,
        reason: "unavailable",
        message:
          "PAM auth failed with code 9: Authentication service cannot retrieve authentication info",
      },
    ],
    [
      "setup failure",
      { ok: false, stage: "setup", code: -1, message: "Create the file" },
      1,
      { ok: false, reason: "unavailable", message: "Create the file" },
    ],
  ];
  for (const [name, output, exitCode, expected] of rows) {
    await t.step(name, () => {
      assert.deepEqual(
        interpretPamHelperOutput(output, { exitCode }),
        expected,
      );
    });
  }
  await t.step("no answer, quoting stderr", () => {
    const result = interpretPamHelperOutput(undefined, {
      exitCode: 70,
      stderr: "boom\n",
    });
    assert.deepEqual(result, {
      ok: false,
      reason: "unavailable",
      message: "PAM helper exited with status 70 and no answer: boom",
    });
  });
  await t.step("ok with a failing exit status", () => {
    const result = interpretPamHelperOutput({ ok: true }, { exitCode: 1 });
    assert.equal(result.ok, false);
    assert.equal(!result.ok && result.reason, "unavailable");
  });
  await t.step("malformed answer", () => {
    const result = interpretPamHelperOutput({ ok: false, stage: "x" }, {
      exitCode: 1,
    });
    assert.equal(!result.ok && result.reason, "unavailable");
  });
});

Deno.test("pamAuthenticate() resolves ok when the helper answers ok", async () => {
  const result = await pamAuthenticate({ username: "ada", password: "pw" }, {
    ...OPTIONS,
    helperArgv: answering({ ok: true }, 0),
  });
  assert.deepEqual(result, { ok: true });
});

Deno.test("pamAuthenticate() hides an unknown user behind the generic denial", async () => {
  const result = await pamAuthenticate({
    username: "nobody-here",
    password: "pw",
  }, {
    ...OPTIONS,
    helperArgv: answering(
      { ok: false, stage: "auth", code: 10, message: "User not known" },
      1,
    ),
  });
  assert.deepEqual(result, {
    ok: false,
    reason: "denied",
    message: "Invalid username or password",
  });
});

Deno.test("pamAuthenticate() passes PAM's account message on", async () => {
  const message = "Your account has expired; please contact your admin.";
  const result = await pamAuthenticate({ username: "ada", password: "pw" }, {
    ...OPTIONS,
    helperArgv: answering({ ok: false, stage: "account", code: 7, message }, 1),
  });
  assert.deepEqual(result, { ok: false, reason: "account", message });
});

Deno.test("pamAuthenticate() reports a helper setup failure as unavailable", async () => {
  const message =
    'Create the PAM service file "/etc/pam.d/x": it does not exist';
  const result = await pamAuthenticate({ username: "ada", password: "pw" }, {
    ...OPTIONS,
    helperArgv: answering({ ok: false, stage: "setup", code: -1, message }, 1),
  });
  assert.deepEqual(result, { ok: false, reason: "unavailable", message });
});

Deno.test("pamAuthenticate() reads the answer from the last line of stdout", async () => {
  const result = await pamAuthenticate({ username: "ada", password: "pw" }, {
    ...OPTIONS,
    helperArgv: fakeArgv("noise"),
  });
  assert.deepEqual(result, { ok: true });
});

Deno.test("pamAuthenticate() reports a crashed helper as unavailable with its stderr", async () => {
  const result = await pamAuthenticate({ username: "ada", password: "pw" }, {
    ...OPTIONS,
    helperArgv: fakeArgv("crash"),
  });
  assert.equal(result.ok, false);
  assert.equal(!result.ok && result.reason, "unavailable");
  assert.match(!result.ok ? result.message : "", /status 3 .*NotCapable/);
});

Deno.test("pamAuthenticate() reports a helper that cannot start as unavailable", async () => {
  const result = await pamAuthenticate({ username: "ada", password: "pw" }, {
    ...OPTIONS,
    helperArgv: ["/nonexistent/onehub", "pam-helper"],
  });
  assert.equal(!result.ok && result.reason, "unavailable");
  assert.match(!result.ok ? result.message : "", /\/nonexistent\/onehub/);
});

Deno.test("pamAuthenticate() sends the request on stdin with PATH as the only environment", async () => {
  const dir = await Deno.makeTempDir({ prefix: "onehub-pam-test-" });
  try {
    const record = `${dir}/record.json`;
    const login = {
      username: "ada",
      password: "s3cret pw",
      remoteHost: "192.0.2.7",
    };
    const result = await pamAuthenticate(login, {
      ...OPTIONS,
      helperArgv: fakeArgv("record", record),
    });
    assert.deepEqual(result, { ok: true });
    const seen = JSON.parse(await Deno.readTextFile(record));
    assert.deepEqual(seen.request, {
      service: "onehub",
      username: "ada",
      password: "s3cret pw",
      rhost: "192.0.2.7",
    });
    const expectedKeys = Deno.env.get("DENO_DIR")
      ? ["DENO_DIR", "PATH"]
      : ["PATH"];
    assert.deepEqual(Object.keys(seen.env).sort(), expectedKeys);
    assert.equal(seen.env.PATH, Deno.env.get("PATH"));
    assert.equal(seen.cwd, "/");
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("pamAuthenticate() denies an empty password without starting the helper", async () => {
  const result = await pamAuthenticate({ username: "ada", password: "" }, {
    ...OPTIONS,
    helperArgv: ["/nonexistent/onehub", "pam-helper"],
  });
  assert.deepEqual(result, PAM_DENIED);
});

Deno.test("pamAuthenticate() kills the helper and answers timeout after timeoutMs", async () => {
  const dir = await Deno.makeTempDir({ prefix: "onehub-pam-test-" });
  try {
    const pidFile = `${dir}/pid`;
    const started = performance.now();
    const result = await pamAuthenticate({ username: "ada", password: "pw" }, {
      service: "onehub",
      timeoutMs: 1_500,
      helperArgv: fakeArgv("hang", pidFile),
    });
    const elapsed = performance.now() - started;
    assert.deepEqual(result, {
      ok: false,
      reason: "timeout",
      message: "PAM did not answer within 1500 ms",
    });
    assert.ok(elapsed >= 1_500 && elapsed < 5_000, `took ${elapsed} ms`);
    const pid = Number(await Deno.readTextFile(pidFile));
    assert.ok(pid > 0);
    await assert.rejects(Deno.stat(`/proc/${pid}`), Deno.errors.NotFound);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("checkPamService() accepts an existing service file", async () => {
  const dir = await Deno.makeTempDir({ prefix: "onehub-pam-test-" });
  try {
    await Deno.writeTextFile(`${dir}/onehub`, PAM_SERVICE_FILE_TEXT);
    assert.equal(await checkPamService("onehub", { dir }), null);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("checkPamService() names the missing file and the fix", async () => {
  const dir = await Deno.makeTempDir({ prefix: "onehub-pam-test-" });
  try {
    const message = await checkPamService("onehub", { dir });
    assert.ok(message);
    assert.ok(message.includes(`"${dir}/onehub"`), message);
    assert.match(message, /does not exist/);
    assert.match(message, /onehub installer/);
    assert.match(message, /@include common-auth/);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("checkPamService() refuses a service name that is not a file name", async () => {
  const message = await checkPamService("../shadow");
  assert.match(message ?? "", /PAM service name/);
});

Deno.test("PAM_SERVICE_FILE_TEXT includes the common auth and account stacks", () => {
  const lines = PAM_SERVICE_FILE_TEXT.split("\n");
  assert.ok(lines.includes("@include common-auth"));
  assert.ok(lines.includes("@include common-account"));
  assert.ok(lines[0]?.startsWith("#"));
});

Deno.test("runPamHelper() refuses input that is not JSON without quoting it", async () => {
  const { result, exitCode } = await runPamHelper('{"password": "hunter2"');
  assert.equal(exitCode, 2);
  assert.equal(result.ok, false);
  assert.ok(!JSON.stringify(result).includes("hunter2"));
});

Deno.test("runPamHelper() refuses requests with missing or unusable fields", async (t) => {
  const rows: [string, unknown][] = [
    ["an array", []],
    ["no password", { service: "onehub", username: "ada" }],
    ["empty password", { service: "onehub", username: "ada", password: "" }],
    ["NUL in password", {
      service: "onehub",
      username: "ada",
      password: "a\0b",
    }],
    ["control character in username", {
      service: "onehub",
      username: "ada\n",
      password: "pw",
    }],
    ["path in service", {
      service: "../shadow",
      username: "ada",
      password: "pw",
    }],
    ["rhost not a string", {
      service: "onehub",
      username: "ada",
      password: "pw",
      rhost: 1,
    }],
  ];
  for (const [name, request] of rows) {
    await t.step(name, async () => {
      const { result, exitCode } = await runPamHelper(JSON.stringify(request));
      assert.equal(exitCode, 2);
      assert.equal(!result.ok && result.stage, "setup");
    });
  }
});

Deno.test("runPamHelper() refuses a service without a file in /etc/pam.d before calling PAM", async () => {
  const service = `onehub-missing-${crypto.randomUUID().slice(0, 8)}`;
  const { result, exitCode } = await runPamHelper(
    JSON.stringify({ service, username: "ada", password: "pw" }),
  );
  assert.equal(exitCode, 1);
  assert.equal(!result.ok && result.stage, "setup");
  assert.ok(!result.ok && result.message.includes(`/etc/pam.d/${service}`));
});

Deno.test("pam-helper command prints one JSON line and exits 2 on bad input", async () => {
  const child = new Deno.Command(Deno.execPath(), {
    args: ["run", "--allow-ffi", "--allow-read", STUB, "pam-helper"],
    stdin: "piped",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  const writer = child.stdin.getWriter();
  await writer.write(new TextEncoder().encode("not json hunter2"));
  await writer.close();
  const { code, stdout, stderr } = await child.output();
  const out = new TextDecoder().decode(stdout);
  assert.equal(code, 2);
  assert.equal(out.trim().split("\n").length, 1);
  assert.equal(JSON.parse(out).ok, false);
  assert.ok(!out.includes("hunter2"));
  assert.ok(!new TextDecoder().decode(stderr).includes("hunter2"));
});
