import assert from "node:assert/strict";
import { runMain } from "../../_helpers/serve_process.ts";

async function tempConfig(): Promise<{ path: string } & AsyncDisposable> {
  const dir = await Deno.makeTempDir({ prefix: "onehub-cli-" });
  const path = `${dir}/config.yaml`;
  await Deno.writeTextFile(path, `data_dir: ${dir}/data\n`);
  return {
    path,
    [Symbol.asyncDispose]: () => Deno.remove(dir, { recursive: true }),
  };
}

Deno.test("onehub user add/list/admin/rm manage users in the configured database", async () => {
  await using cfg = await tempConfig();
  const c = ["--config", cfg.path];
  let out = await runMain(["user", "add", "Alice", "bob", ...c]);
  assert.equal(out.code, 0, out.stderr);
  assert.match(out.stdout, /added alice/);
  out = await runMain(["user", "add", "bob", ...c]);
  assert.match(out.stdout, /exists bob \(unchanged\)/);
  out = await runMain(["user", "admin", "bob", ...c]);
  assert.equal(out.code, 0);
  out = await runMain(["user", "list", ...c]);
  assert.match(out.stdout, /alice\tno\tnever/);
  assert.match(out.stdout, /bob\tyes\tnever/);
  out = await runMain(["user", "rm", "alice", "ghost", ...c]);
  assert.equal(out.code, 1);
  assert.match(out.stderr, /No such user "ghost": nothing was deleted/);
  out = await runMain(["user", "list", ...c]);
  assert.match(out.stdout, /alice/, "a failed rm deletes nothing");
  out = await runMain(["user", "rm", "alice", ...c]);
  assert.equal(out.code, 0);
  out = await runMain(["user", "add", "a/b", ...c]);
  assert.equal(out.code, 1);
  assert.match(out.stderr, /Invalid username "a\/b"/);
});

Deno.test("onehub token prints a working token with the asked scopes", async () => {
  await using cfg = await tempConfig();
  const c = ["--config", cfg.path];
  await runMain(["user", "add", "boss", "--admin", ...c]);
  let out = await runMain(["token", "ghost", ...c]);
  assert.equal(out.code, 1);
  assert.match(out.stderr, /onehub user add ghost/);
  out = await runMain(["token", "boss", "--scopes", "read:users", ...c]);
  assert.equal(out.code, 0, out.stderr);
  assert.match(out.stdout.trim(), /^[A-Za-z0-9_-]{43}$/);
  out = await runMain(["token", "boss", "--scopes", "bogus:scope", ...c]);
  assert.equal(out.code, 1);
  assert.match(out.stderr, /Scope 'bogus:scope' does not exist/);
  out = await runMain(["token", "boss", "--expires-in", "soon", ...c]);
  assert.equal(out.code, 2);
});

Deno.test("onehub db status/upgrade report the schema state", async () => {
  await using cfg = await tempConfig();
  let out = await runMain(["db", "status", "--config", cfg.path]);
  assert.match(out.stdout, /pending: 0001_initial/);
  out = await runMain(["db", "upgrade", "--config", cfg.path]);
  assert.match(out.stdout, /applied: 0001_initial/);
  out = await runMain(["db", "upgrade", "--config", cfg.path]);
  assert.match(out.stdout, /is up to date/);
});
