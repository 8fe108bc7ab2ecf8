/**
 * Throwaway Linux users for tests that need real accounts (PAM, spawning):
 * `await using user = await createSystemUser({ password })` runs `useradd -m`
 * and `chpasswd`, and `userdel -r` on dispose. Needs root; `IS_ROOT` and
 * `skipUnlessRoot(name)` let a test file skip with a printed reason.
 *
 * @module
 */
import { printErr } from "../../hub/cli/_print.ts";
import { PAM_SERVICE_FILE_TEXT } from "../../hub/auth/pam/mod.ts";

/** True when the tests run as root. */
export const IS_ROOT = Deno.uid() === 0;

/**
 * Deno.test options for a test that runs real servers and processes as
 * Linux users (their handles outlive a step): no op or resource sanitizer.
 */
export const REAL_PROCESSES = {
  sanitizeOps: false,
  sanitizeResources: false,
} as const;

/** The real single-user server (`apt-get install -y jupyterhub`). */
export const SINGLEUSER = "/usr/bin/jupyterhub-singleuser";

/** Whether {@linkcode SINGLEUSER} is installed. */
export const HAS_SINGLEUSER = (() => {
  try {
    return Deno.statSync(SINGLEUSER).isFile;
  } catch {
    return false;
  }
})();

/**
 * Whether a test file that runs the real single-user server must be skipped
 * here (not root, or no {@linkcode SINGLEUSER}); prints why once.
 */
export function skipWithoutSingleuser(test: string): boolean {
  const skip = !IS_ROOT || !HAS_SINGLEUSER;
  if (skip) {
    printErr(
      `${test}: skipped: needs root and ${SINGLEUSER} (apt-get install -y jupyterhub)`,
    );
  }
  return skip;
}

/**
 * Registers `fn` as the test of `test.file` that runs the real single-user
 * server as throwaway Linux users: skipped, saying why, without root or
 * {@linkcode SINGLEUSER}; no op or resource sanitizer ({@linkcode REAL_PROCESSES}).
 */
export function singleuserTest(
  test: { file: string; name: string },
  fn: (t: Deno.TestContext) => Promise<void>,
): void {
  Deno.test({
    name: test.name,
    ignore: skipWithoutSingleuser(test.file),
    ...REAL_PROCESSES,
    fn,
  });
}

/** Writes the `onehub` PAM service file, as the installer does, when it is missing. */
export async function ensurePamService(): Promise<void> {
  try {
    await Deno.stat("/etc/pam.d/onehub");
  } catch {
    await Deno.writeTextFile("/etc/pam.d/onehub", PAM_SERVICE_FILE_TEXT);
  }
}

/** Prints why a root-only test file is skipped; returns whether to ignore. */
export function skipUnlessRoot(file: string, why: string): boolean {
  if (!IS_ROOT) printErr(`${file}: skipped: needs root to ${why}`);
  return !IS_ROOT;
}

/** Runs argv without a shell; throws with stderr on a non-zero exit. */
export async function run(argv: string[], stdin?: string): Promise<string> {
  const [command, ...args] = argv;
  const child = new Deno.Command(command!, {
    args,
    stdin: stdin === undefined ? "null" : "piped",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  if (stdin !== undefined) {
    const writer = child.stdin.getWriter();
    await writer.write(new TextEncoder().encode(stdin));
    await writer.close();
  }
  const { code, stdout, stderr } = await child.output();
  if (code !== 0) {
    throw new Error(
      `${argv.join(" ")}: exit ${code}: ${
        new TextDecoder().decode(stderr).trim()
      }`,
    );
  }
  return new TextDecoder().decode(stdout);
}

/** A created user. */
export interface SystemUser extends AsyncDisposable {
  name: string;
  password: string;
}

/** Creates a user `ohtest-xxxxxx` with a home and a password. */
export async function createSystemUser(
  options: { password?: string; prefix?: string } = {},
): Promise<SystemUser> {
  const suffix = crypto.getRandomValues(new Uint8Array(3)).toHex();
  const name = `${options.prefix ?? "ohtest"}-${suffix}`;
  const password = options.password ?? `pw-${crypto.randomUUID()}`;
  await run(["useradd", "-m", "-s", "/bin/bash", name]);
  await run(["chpasswd"], `${name}:${password}\n`);
  return {
    name,
    password,
    async [Symbol.asyncDispose]() {
      // userdel refuses while the user still runs something (a server a failed test left behind).
      for (let i = 0; i < 50; i++) {
        const left = await new Deno.Command("pgrep", {
          args: ["-u", name],
          stdout: "null",
        }).output();
        if (left.code !== 0) break;
        await new Deno.Command("pkill", { args: ["-KILL", "-u", name] })
          .output();
        await new Promise((r) => setTimeout(r, 100));
      }
      await run(["userdel", "-r", name]).catch(() => run(["userdel", name]));
    },
  };
}
