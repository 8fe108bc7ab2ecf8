/**
 * The shared testbed (`../shared/testbed/testbed.sh`, or `$ONEHUB_TESTBED`):
 * a fresh Debian with a booted systemd in a container. `testbed(name)`
 * says whether this machine can run it (root and the script), printing why
 * not, and gives `tb(...args)` to drive it.
 *
 * @module
 */
import { IS_ROOT } from "./system_users.ts";
import { repoPath } from "./paths.ts";
import { printErr } from "../../hub/cli/_print.ts";

/** The testbed script. */
export const TESTBED = Deno.env.get("ONEHUB_TESTBED") ??
  repoPath("..", "shared", "testbed", "testbed.sh");

/** What `testbed.sh …` printed and its exit code. */
export interface TestbedResult {
  code: number;
  out: string;
  err: string;
}

/** Runs `testbed.sh ...args`. */
export async function tb(...args: string[]): Promise<TestbedResult> {
  const r = await new Deno.Command("bash", {
    args: [TESTBED, ...args],
    stdin: "null",
  }).output();
  const d = new TextDecoder();
  return { code: r.code, out: d.decode(r.stdout), err: d.decode(r.stderr) };
}

/**
 * `testbed.sh up name`, tried a second time (after `down`) when the first
 * fails: debootstrap fetches ~200 packages from the mirror, and one failed
 * download ("Couldn't download packages") is no verdict on onehub.
 */
export async function tbUp(name: string): Promise<TestbedResult> {
  const first = await tb("up", name);
  if (first.code === 0) return first;
  printErr(
    `testbed up ${name} failed, trying once more: ${first.err.slice(-300)}`,
  );
  await tb("down", name);
  return await tb("up", name);
}

/** Whether a test named `test` must be skipped here (printing the reason once). */
export async function skipWithoutTestbed(test: string): Promise<boolean> {
  let present = false;
  try {
    present = (await Deno.stat(TESTBED)).isFile;
  } catch { /* missing */ }
  const skip = !IS_ROOT || !present;
  if (skip) printErr(`${test}: skipped: needs root and ${TESTBED}`);
  return skip;
}
