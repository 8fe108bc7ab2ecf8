import assert from "node:assert/strict";
import { runMain } from "../../_helpers/serve_process.ts";
import { COMMANDS, usage } from "../../../hub/cli/mod.ts";

Deno.test("usage() lists every visible command and hides pam-helper", () => {
  const text = usage();
  for (const c of COMMANDS) {
    if (c.hidden) assert.doesNotMatch(text, new RegExp(`\\b${c.name}\\b`));
    else assert.match(text, new RegExp(`\\b${c.name}\\b`));
  }
});

Deno.test("onehub --help and every command's --help exit 0", async () => {
  const top = await runMain(["--help"]);
  assert.equal(top.code, 0);
  assert.match(top.stdout, /Usage: onehub/);
  for (const c of COMMANDS.filter((c) => !c.hidden)) {
    const out = await runMain([c.name, "--help"]);
    assert.equal(out.code, 0, `${c.name} --help: ${out.stderr}`);
    assert.match(out.stdout, /Usage: onehub/);
  }
});

Deno.test("onehub reports wrong usage with what was wrong and exits 2", async (t) => {
  const rows: Array<[string[], RegExp]> = [
    [["frobnicate"], /unknown command "frobnicate"/],
    [["serve", "--nope"], /Unknown option '--nope'/],
    [["token"], /Expected exactly one user name/],
    [["user"], /Missing verb/],
    [["user", "explode"], /Unknown verb "explode"/],
    [
      ["db", "sideways"],
      /Expected "db upgrade", "db status", "db check", "db restore BACKUP" or "db forget-auth-state"/,
    ],
    [["version", "extra"], /takes no arguments/],
    [["config"], /verb/i],
  ];
  for (const [args, message] of rows) {
    await t.step(args.join(" "), async () => {
      const out = await runMain(args);
      assert.equal(out.code, 2, out.stderr);
      assert.match(out.stderr, message);
    });
  }
});

Deno.test("onehub version prints PEP 440 API version", async () => {
  const out = await runMain(["version"]);
  assert.equal(out.code, 0);
  assert.match(
    out.stdout,
    /^onehub \d+\.\d+\.\d+ \(JupyterHub API 5\.\d+\.\d+, deno /,
  );
});
