/**
 * PAM login against the real libpam and /etc/shadow: throwaway system users
 * (`ohpam-xxxx`, removed in `finally`), the `onehub` PAM service as the
 * installer writes it, and the real helper started through
 * tests/_helpers/pam_main_stub.ts (and through `main.ts pam-helper` once
 * that exists). Needs root: it creates users and PAM reads /etc/shadow.
 *
 * @module
 */
import assert from "node:assert/strict";
import { existsSync } from "node:fs";
import { fileURLToPath } from "node:url";
import {
  PAM_DENIED,
  PAM_SERVICE_FILE_TEXT,
  pamAuthenticate,
  pamHelperArgv,
  type PamOptions,
  type PamResult,
} from "../../hub/auth/pam/mod.ts";
import { printErr } from "../../hub/cli/_print.ts";
import { run } from "../_helpers/system_users.ts";

const IS_ROOT = Deno.uid() === 0;
if (!IS_ROOT) {
  printErr(
    "pam_integration_test: skipped: needs root to create users with useradd and for PAM to read /etc/shadow",
  );
}
const MAIN = fileURLToPath(new URL("../../main.ts", import.meta.url));
const STUB = fileURLToPath(
  new URL("../_helpers/pam_main_stub.ts", import.meta.url),
);
const SERVICE = "onehub";
const OPTIONS: PamOptions = {
  service: SERVICE,
  timeoutMs: 15_000,
  helperArgv: [
    Deno.execPath(),
    "run",
    "--allow-ffi",
    "--allow-read",
    STUB,
    "pam-helper",
  ],
};

function randomName(): string {
  const bytes = crypto.getRandomValues(new Uint8Array(2));
  return `ohpam-${
    Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("")
  }`;
}

function failure(result: PamResult): { reason: string; message: string } {
  assert.equal(result.ok, false, "expected PAM to refuse");
  return result.ok ? { reason: "", message: "" } : result;
}

Deno.test({
  name: "pamAuthenticate() with real PAM",
  ignore: !IS_ROOT,
  async fn(t) {
    const servicePath = `/etc/pam.d/${SERVICE}`;
    // Left in place: it is exactly what the installer writes.
    if (!existsSync(servicePath)) {
      await Deno.writeTextFile(servicePath, PAM_SERVICE_FILE_TEXT, {
        mode: 0o644,
      });
    }
    const created: string[] = [];
    const addUser = async (password: string): Promise<string> => {
      const name = randomName();
      await run(["useradd", "-m", name]);
      created.push(name);
      await run(["chpasswd"], `${name}:${password}\n`);
      return name;
    };
    try {
      const password = `pw-${crypto.randomUUID()}`;
      const good = await addUser(password);
      const expired = await addUser(password);
      await run(["chage", "-E", "0", expired]);
      const locked = await addUser(password);
      await run(["usermod", "-L", locked]);

      await t.step("accepts the right password", async () => {
        const result = await pamAuthenticate(
          { username: good, password, remoteHost: "192.0.2.7" },
          OPTIONS,
        );
        assert.deepEqual(result, { ok: true });
      });

      await t.step(
        "denies a wrong password with the generic message and PAM's delay",
        async () => {
          const started = performance.now();
          const result = await pamAuthenticate({
            username: good,
            password: "wrong",
          }, OPTIONS);
          const elapsed = performance.now() - started;
          assert.deepEqual(result, PAM_DENIED);
          assert.ok(elapsed > 1_000, `failure delay missing: ${elapsed} ms`);
        },
      );

      await t.step("denies an unknown user with the same message", async () => {
        const result = await pamAuthenticate(
          { username: `${randomName()}x`, password },
          OPTIONS,
        );
        assert.deepEqual(result, PAM_DENIED);
      });

      await t.step(
        "refuses an expired account with PAM's expiry message",
        async () => {
          const result = failure(
            await pamAuthenticate({ username: expired, password }, OPTIONS),
          );
          assert.equal(result.reason, "account");
          assert.match(result.message, /expired/i);
        },
      );

      await t.step("denies a locked account", async () => {
        const result = await pamAuthenticate(
          { username: locked, password },
          OPTIONS,
        );
        assert.deepEqual(result, PAM_DENIED);
      });

      await t.step(
        "reports a missing service file as unavailable, naming it",
        async () => {
          const service = `onehub-missing-${crypto.randomUUID().slice(0, 8)}`;
          const result = failure(
            await pamAuthenticate({ username: good, password }, {
              ...OPTIONS,
              service,
            }),
          );
          assert.equal(result.reason, "unavailable");
          assert.ok(
            result.message.includes(`"/etc/pam.d/${service}"`),
            result.message,
          );
          assert.match(result.message, /does not exist/);
        },
      );

      await t.step(
        "keeps the event loop free during a failing attempt",
        async () => {
          let last = performance.now();
          let largestGap = 0;
          const interval = setInterval(() => {
            const now = performance.now();
            largestGap = Math.max(largestGap, now - last);
            last = now;
          }, 10);
          try {
            const result = await pamAuthenticate({
              username: good,
              password: "wrong",
            }, OPTIONS);
            assert.equal(!result.ok && result.reason, "denied");
          } finally {
            clearInterval(interval);
          }
          assert.ok(largestGap < 500, `event loop blocked ${largestGap} ms`);
        },
      );

      await t.step({
        name: "works through the default argv (main.ts pam-helper)",
        ignore: !existsSync(MAIN),
        async fn() {
          const result = await pamAuthenticate({ username: good, password }, {
            service: SERVICE,
            timeoutMs: 30_000,
          });
          assert.deepEqual(
            result,
            { ok: true },
            JSON.stringify(pamHelperArgv()),
          );
        },
      });
    } finally {
      const problems: string[] = [];
      for (const name of created) {
        try {
          await run(["userdel", "-r", name]);
        } catch (error) {
          problems.push(error instanceof Error ? error.message : String(error));
        }
      }
      assert.deepEqual(problems, [], "remove the test users");
    }
  },
});
