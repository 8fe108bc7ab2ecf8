import assert from "node:assert/strict";
import { exportJupyterhub } from "../../../hub/cli/export_jupyterhub_command.ts";
import { runCommand } from "../../../hub/cli/_run.ts";
import { loadConfig } from "../../../hub/config/file.ts";
import {
  ADMIN_TOKEN,
  startFakeJupyterHub,
} from "../migrate/_fake_jupyterhub.ts";
import { classDb } from "../migrate/_onehub_db.ts";
import { freePorts } from "../../_helpers/free_ports.ts";

/** A config in a temp dir whose database holds the class of _onehub_db.ts. */
async function classConfig() {
  const dir = await Deno.makeTempDir({ prefix: "onehub-export-" });
  const path = `${dir}/config.yaml`;
  await Deno.writeTextFile(path, `data_dir: ${dir}/data\n`);
  const config = await loadConfig({ path });
  await Deno.mkdir(`${dir}/data`, { mode: 0o700 });
  await (await classDb(config.dbPath)).close();
  return {
    path,
    [Symbol.asyncDispose]: () => Deno.remove(dir, { recursive: true }),
  };
}

/** Runs `export jupyterhub ARGS` as the CLI would; its status and output. */
async function run(args: string[], env: Record<string, string> = {}) {
  const out: string[] = [];
  const err: string[] = [];
  const code = await runCommand({
    name: "export",
    summary: "",
    help: "USAGE",
    ownHelp: true,
    run: (a) =>
      exportJupyterhub(a, {
        out: (t) => out.push(t),
        err: (t) => err.push(t),
        env,
      }),
  }, args);
  return { code, out: out.join("\n"), err: err.join("\n") };
}

Deno.test("onehub export jupyterhub: dry run, run, and a second run that changes nothing", async () => {
  await using cfg = await classConfig();
  await using hub = startFakeJupyterHub();
  const base = ["--url", hub.url, "--config", cfg.path];
  let r = await run([...base, "--dry-run"], {
    JUPYTERHUB_API_TOKEN: ADMIN_TOKEN,
  });
  assert.equal(r.code, 0, r.err);
  assert.match(
    r.out,
    /^onehub -> JupyterHub 5\.2\.1 at http:\/\/127\.0\.0\.1:\d+\/hub\/api\/ \(token of user admin\)\nPlan \(dry run/,
  );
  assert.deepEqual(hub.writes(), []);
  r = await run([...base, "--token", ADMIN_TOKEN]);
  assert.equal(r.code, 0, r.err);
  assert.match(
    r.out,
    /Changing JupyterHub:\n {2}\+ create user ada \(admin\)\n/,
  );
  assert.match(r.out, /Summary: created 7; updated 1;/);
  assert.match(r.out, /c\.JupyterHub\.load_roles = \[/);
  assert.match(r.out, /API tokens to re-issue .*bob \(1\)/);
  r = await run([...base, "--token", ADMIN_TOKEN]);
  assert.equal(r.code, 0, r.err);
  assert.match(r.out, /Nothing to change: JupyterHub already has all of it/);
});

Deno.test("onehub export jupyterhub: wrong usage exits 2, an unreachable hub or a refused token 1, with what to do", async () => {
  await using cfg = await classConfig();
  let r = await run(["--token", "t", "--config", cfg.path]);
  assert.equal(r.code, 2);
  r = await run(["--url", "http://127.0.0.1:1/", "--config", cfg.path]);
  assert.equal(r.code, 2, "no token");
  r = await run(["--url", "ftp://x/", "--token", "t"]);
  assert.equal(r.code, 2);
  const [port] = freePorts(1) as [number];
  r = await run([
    "--url",
    `http://127.0.0.1:${port}/`,
    "--token",
    "t",
    "--config",
    cfg.path,
  ]);
  assert.equal(r.code, 1);
  assert.match(r.err, /^onehub export jupyterhub: Cannot reach JupyterHub at/);
  await using hub = startFakeJupyterHub();
  r = await run(["--url", hub.url, "--token", "nope", "--config", cfg.path]);
  assert.equal(r.code, 1);
  assert.match(
    r.err,
    /refused the token \(403: Missing or invalid credentials\.\)/,
  );
  r = await run(["--help"]);
  assert.equal(r.code, 0);
  assert.match(
    r.out,
    /^Usage: onehub export jupyterhub --url URL --token TOKEN/,
  );
});
