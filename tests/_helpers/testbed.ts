/**
 * The shared testbed (`../shared/testbed/testbed.sh`, or `$ONEHUB_TESTBED`):
 * a fresh Debian with a booted systemd in a container. `testbed(name)`
 * says whether this machine can run it (root and the script), printing why
 * not, and gives `tb(...args)` to drive it; `tbUp(name, {suite: "trixie"})`
 * boots Debian 13. `serveCheckout()` serves install.sh and a tarball of
 * this checkout on loopback (the container shares it), and
 * `trustHostCAs(name)` gives the container this host's extra CAs.
 * `container(name)` bundles what a test does with one container: boot it
 * (up, then the CAs), run commands and shell lines inside, assert their
 * output, print its journal on a failure, tear it down.
 *
 * @module
 */
import assert from "node:assert/strict";
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
export function tb(...args: string[]): Promise<TestbedResult> {
  return tbWith({}, ...args);
}

/** Runs `testbed.sh ...args` with more environment (`SUITE=trixie`). */
export async function tbWith(
  env: Record<string, string>,
  ...args: string[]
): Promise<TestbedResult> {
  const r = await new Deno.Command("bash", {
    args: [TESTBED, ...args],
    stdin: "null",
    env,
  }).output();
  const d = new TextDecoder();
  return { code: r.code, out: d.decode(r.stdout), err: d.decode(r.stderr) };
}

/**
 * `testbed.sh up name`, tried a second time (after `down`) when the first
 * fails: debootstrap fetches ~200 packages from the mirror, and one failed
 * download ("Couldn't download packages") is no verdict on onehub.
 */
export async function tbUp(
  name: string,
  options: { suite?: "bookworm" | "trixie" } = {},
): Promise<TestbedResult> {
  const env: Record<string, string> = options.suite
    ? { SUITE: options.suite }
    : {};
  const first = await tbWith(env, "up", name);
  if (first.code === 0) return first;
  printErr(
    `testbed up ${name} failed, trying once more: ${first.err.slice(-300)}`,
  );
  await tb("down", name);
  return await tbWith(env, "up", name);
}

/** Runs a shell line inside container `name`; throws with its output on a non-zero exit. */
export async function insideOf(name: string, line: string): Promise<string> {
  const r = await tb("in", name, "bash", "-c", line);
  if (r.code !== 0) {
    throw new Error(`exit ${r.code} in ${name}: ${line}\n${r.out}\n${r.err}`);
  }
  return r.out;
}

/** The last `lines` journal lines of `units` in container `name` (for a failed test's log). */
export async function journalTail(
  name: string,
  units: readonly string[],
  lines = 60,
): Promise<string> {
  const r = await tb(
    "in",
    name,
    "journalctl",
    ...units.flatMap((u) => ["-u", u]),
    "-n",
    String(lines),
    "--no-pager",
  );
  return r.out;
}

/** Prints the last `lines` journal lines of `units` in container `name` to stderr, saying which `test` failed. */
export async function printJournalTail(
  name: string,
  options: { test: string; units: readonly string[]; lines: number },
): Promise<void> {
  const tail = await journalTail(name, options.units, options.lines);
  printErr(`${options.test}: the last log lines in the container:\n${tail}`);
}

/**
 * Gives the container this host's extra CAs: this machine reaches the
 * package registries through a TLS-inspecting proxy whose CA the host
 * trusts; a fresh VM elsewhere needs none of it.
 */
export async function trustHostCAs(name: string): Promise<void> {
  const dir = "/usr/local/share/ca-certificates";
  const cas = await Array.fromAsync(Deno.readDir(dir)).catch(() => []);
  for (const ca of cas) {
    if (ca.name.endsWith(".crt")) {
      await tb("cp", name, `${dir}/${ca.name}`, `${dir}/${ca.name}`);
    }
  }
  await tb("in", name, "bash", "-c", "update-ca-certificates >/dev/null 2>&1");
}

/** A tarball of this checkout (the working tree, without .git). */
async function sourceTarball(): Promise<Uint8Array<ArrayBuffer>> {
  const out = await new Deno.Command("tar", {
    args: [
      "-C",
      repoPath(),
      "--exclude=./.git",
      "--exclude=./node_modules",
      "--exclude=./test-output",
      "--exclude=./.bench",
      "--exclude=./.onehub-dev",
      "--exclude=./cov",
      "-czf",
      "-",
      ".",
    ],
    stdout: "piped",
  }).output();
  if (out.code !== 0) throw new Error("tar of the checkout failed");
  return new Uint8Array(out.stdout);
}

/** install.sh and a tarball of this checkout, served on loopback. */
export interface ServedCheckout extends AsyncDisposable {
  /** `curl -fsSL <installer> | bash -s -- ...` */
  installer: string;
  /** For `--from-source`. */
  tarball: string;
}

/** Serves install.sh and a tarball of this checkout on 127.0.0.1:`port` until disposed. */
export async function serveCheckout(port: number): Promise<ServedCheckout> {
  const tarball = await sourceTarball();
  const installer = await Deno.readFile(repoPath("install.sh"));
  const stop = new AbortController();
  const server = Deno.serve({
    hostname: "127.0.0.1",
    port,
    signal: stop.signal,
    onListen: () => {},
  }, (request) => {
    const path = new URL(request.url).pathname;
    if (path === "/install.sh") return new Response(installer);
    if (path === "/onehub-src.tar.gz") return new Response(tarball);
    return new Response("not found", { status: 404 });
  });
  return {
    installer: `http://127.0.0.1:${port}/install.sh`,
    tarball: `http://127.0.0.1:${port}/onehub-src.tar.gz`,
    async [Symbol.asyncDispose]() {
      stop.abort();
      await server.finished;
    },
  };
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

/** One container of the testbed, as a test drives it. */
export interface Container {
  name: string;
  /** Boots it (`tbUp`, which must succeed) and gives it this host's extra CAs. */
  boot(options?: { suite?: "bookworm" | "trixie" }): Promise<void>;
  /** Runs `argv` inside (`testbed.sh in`); its result whatever the exit. */
  run(...argv: string[]): Promise<TestbedResult>;
  /** Tears it down (`testbed.sh down`). */
  down(): Promise<TestbedResult>;
  /** Runs a shell line inside; throws with its output on a non-zero exit. */
  inside(line: string): Promise<string>;
  /** Asserts the trimmed output of a shell line inside. */
  expectInside(line: string, expected: string): Promise<void>;
  /** Prints its journal's last lines of `units` to stderr for a failed `test`. */
  printJournalTail(
    options: { test: string; units: readonly string[]; lines: number },
  ): Promise<void>;
}

/** The container `name` of the testbed (nothing is started until `boot`). */
export function container(name: string): Container {
  return {
    name,
    async boot(options = {}) {
      const up = await tbUp(name, options);
      assert.equal(up.code, 0, `testbed up failed: ${up.err}`);
      await trustHostCAs(name);
    },
    run: (...argv) => tb("in", name, ...argv),
    down: () => tb("down", name),
    inside: (line) => insideOf(name, line),
    async expectInside(line, expected) {
      assert.equal((await insideOf(name, line)).trim(), expected);
    },
    printJournalTail: (options) => printJournalTail(name, options),
  };
}
