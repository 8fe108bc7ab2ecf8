/** run(): argv without a shell, exit codes checked, output kept for errors. */
import assert from "node:assert/strict";
import { describeArgv, run } from "../../spawners/_run.ts";
import { SpawnError } from "../../spawners/mod.ts";

Deno.test("run() returns the output of a successful command", async () => {
  const result = await run([
    "/bin/sh",
    "-c",
    "echo out; echo err >&2",
    "ignored",
  ]);
  assert.deepEqual(result, { code: 0, stdout: "out\n", stderr: "err\n" });
});

Deno.test("run() throws a SpawnError naming the command and quoting stderr", async () => {
  await assert.rejects(
    run(["/bin/sh", "-c", "echo 'no such unit' >&2; exit 5"]),
    (error: unknown) =>
      error instanceof SpawnError &&
      error.reason ===
        `Command \`/bin/sh -c "echo 'no such unit' >&2; exit 5"\` failed with exit code 5: no such unit`,
  );
});

Deno.test("run() accepts the exit codes it is told to", async () => {
  const { code } = await run(["/bin/sh", "-c", "exit 2"], { okCodes: [0, 2] });
  assert.equal(code, 2);
});

Deno.test("run() reports a missing program", async () => {
  await assert.rejects(
    run(["/nonexistent/onehub-tool", "x"]),
    /Cannot run `\/nonexistent\/onehub-tool x`: not found/,
  );
});

Deno.test("run() with env gives the command exactly that environment", async () => {
  const { stdout } = await run(["/usr/bin/env"], { env: { ONLY: "this" } });
  assert.equal(stdout, "ONLY=this\n");
});

Deno.test("describeArgv() quotes only arguments that need it", () => {
  assert.equal(
    describeArgv(["systemctl", "stop", "onehub-a.service", "a b", ""]),
    'systemctl stop onehub-a.service "a b" ""',
  );
});
