/**
 * `setHubPriority` in a real child process (so this test runner keeps its
 * own priority): as a session leader and not, as root and not.
 */
import assert from "node:assert/strict";
import { fromFileUrl } from "../_helpers/paths.ts";
import { skipUnlessRoot } from "../_helpers/system_users.ts";

const SOURCE = fromFileUrl(new URL("../../hub/priority.ts", import.meta.url));

/**
 * A folder the child can use even as nobody, who cannot always read this
 * checkout (a clone under a 0700 temp dir on a fresh machine): a copy of
 * the module (it imports only node:os) everyone can read, and a cache
 * everyone can write.
 */
async function workspace(): Promise<string> {
  const dir = await Deno.makeTempDir({ prefix: "onehub-priority-" });
  await Deno.chmod(dir, 0o755);
  await Deno.copyFile(SOURCE, `${dir}/priority.ts`);
  await Deno.chmod(`${dir}/priority.ts`, 0o644);
  await Deno.mkdir(`${dir}/cache`);
  await Deno.chmod(`${dir}/cache`, 0o777);
  return dir;
}

// Renicing below 0, autogroups and becoming nobody all need root.
const ignore = skipUnlessRoot(
  "tests/hub/priority_test.ts",
  "lower niceness and run a child as nobody",
);

/** What the child saw: the result, its autogroup line, each thread's niceness. */
interface Seen {
  result: { nice: number | null; autogroup: boolean; skipped?: string };
  autogroup: string;
  threads: number[];
  /** The niceness it started with (inherited from this runner). */
  before: number;
}

const CHILD = `
import os from "node:os";
import { setHubPriority } from "./priority.ts";
const before = os.getPriority();
const result = setHubPriority(Number(Deno.args[0]));
const threads = [...Deno.readDirSync("/proc/self/task")].map((t) =>
  os.getPriority(Number(t.name))
);
const autogroup = Deno.readTextFileSync("/proc/self/autogroup").trim();
console.log(JSON.stringify({ result, autogroup, threads, before }));
`;

/** Runs the child at `nice`, through `setsid` when `leader`, as `uid` when given. */
async function runChild(
  nice: number,
  options: { leader: boolean; asUser?: string },
): Promise<Seen> {
  const deno = [Deno.execPath(), "eval", "--no-check", CHILD, String(nice)];
  const su = options.asUser
    ? ["setpriv", "--reuid=nobody", "--regid=nogroup", "--clear-groups"]
    : [];
  const argv = [
    ...(options.leader ? ["setsid", "--wait"] : []),
    ...su,
    ...deno,
  ];
  const dir = await workspace();
  const out = await new Deno.Command(argv[0]!, {
    args: argv.slice(1),
    cwd: dir,
    env: { DENO_DIR: `${dir}/cache`, NO_COLOR: "1" },
    stdout: "piped",
    stderr: "piped",
  }).output().finally(() => Deno.remove(dir, { recursive: true }));
  const text = new TextDecoder().decode(out.stdout);
  assert.ok(out.success, new TextDecoder().decode(out.stderr));
  return JSON.parse(text) as Seen;
}

Deno.test({
  name:
    "the hub, leading its session as root, sets every thread and its autogroup",
  ignore,
  fn: async () => {
    const seen = await runChild(-4, { leader: true });
    assert.deepEqual(seen.result, { nice: -4, autogroup: true });
    assert.ok(seen.threads.length > 1, "Deno runs several threads");
    assert.deepEqual(new Set(seen.threads), new Set([-4]));
    assert.match(seen.autogroup, / nice -4$/);
  },
});

Deno.test({
  name:
    "inside someone else's session the hub leaves the session's autogroup alone",
  ignore,
  fn: async () => {
    const seen = await runChild(-4, { leader: false });
    assert.equal(seen.result.autogroup, false);
    assert.equal(seen.result.skipped, "the hub does not lead its session");
    assert.deepEqual(new Set(seen.threads), new Set([-4]));
    assert.doesNotMatch(seen.autogroup, / nice -4$/);
  },
});

Deno.test({
  name: "a hub not running as root changes nothing and says why",
  ignore,
  fn: async () => {
    const seen = await runChild(-4, { leader: true, asUser: "nobody" });
    assert.deepEqual(seen.result, {
      nice: null,
      autogroup: false,
      skipped: "not running as root",
    });
    // Unchanged: whatever it inherited (a hub test in this runner may have
    // set the runner to hub.nice already).
    assert.deepEqual(new Set(seen.threads), new Set([seen.before]));
  },
});
