import assert from "node:assert/strict";
import { runMain } from "../../_helpers/serve_process.ts";
import {
  ADMIN_TOKEN,
  startFakeJupyterHub,
} from "../migrate/_fake_jupyterhub.ts";

async function tempConfig(): Promise<{ path: string } & AsyncDisposable> {
  const dir = await Deno.makeTempDir({ prefix: "onehub-import-" });
  const path = `${dir}/config.yaml`;
  await Deno.writeTextFile(
    path,
    [
      `data_dir: ${dir}/data`,
      "roles:",
      "  - name: auditor",
      "    scopes: [list:users, read:users]",
      "",
    ].join("\n"),
  );
  return {
    path,
    [Symbol.asyncDispose]: () => Deno.remove(dir, { recursive: true }),
  };
}

Deno.test("onehub import jupyterhub brings users, groups and known roles; twice changes nothing", async () => {
  await using cfg = await tempConfig();
  await using hub = startFakeJupyterHub();
  hub.state.users.set("ann", {
    admin: true,
    roles: ["auditor"],
    servers: [""],
  });
  hub.state.users.set("ben", { admin: false, roles: [], servers: [""] });
  hub.state.groups.set("class", {
    users: ["ben"],
    properties: { course: "intro" },
    roles: [],
  });
  const args = ["import", "jupyterhub", "--url", hub.url, "--config", cfg.path];
  const env = { JUPYTERHUB_API_TOKEN: ADMIN_TOKEN };
  let r = await runMain([...args, "--dry-run"], env);
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /Plan \(dry run: nothing was changed\):/);
  r = await runMain(["user", "list", "--config", cfg.path]);
  assert.doesNotMatch(r.stdout, /ann/);
  r = await runMain(args, env);
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /\+ create user ann \(admin\)/);
  assert.match(r.stdout, /~ give role auditor to user ann/);
  assert.match(
    r.stdout,
    /\+ create group class with ben and properties \{"course":"intro"\}/,
  );
  r = await runMain(["user", "list", "--config", cfg.path]);
  assert.match(r.stdout, /ann\tyes\tnever/);
  assert.match(r.stdout, /ben\tno\tnever/);
  r = await runMain(["events", "--config", cfg.path]);
  assert.match(r.stdout, /user\.created/);
  r = await runMain(args, env);
  assert.equal(r.code, 0, r.stderr);
  assert.match(
    r.stdout,
    /Nothing to change: onehub already has all of it \(2 users, 1 group, 1 role assignment\)/,
  );
});

Deno.test("onehub import: wrong usage exits 2, a hub that refuses exits 1", async () => {
  await using cfg = await tempConfig();
  let r = await runMain(["import"]);
  assert.equal(r.code, 2);
  assert.match(r.stderr, /Missing source/);
  r = await runMain(["import", "tljh", "--url", "http://x/"]);
  assert.equal(r.code, 2);
  assert.match(r.stderr, /Unknown source "tljh"/);
  r = await runMain(["import", "jupyterhub", "--token", "t"]);
  assert.equal(r.code, 2);
  assert.match(r.stderr, /--url is missing/);
  r = await runMain(["import", "jupyterhub", "--help"]);
  assert.equal(r.code, 0);
  assert.match(r.stdout, /^Usage: onehub import jupyterhub/);
  await using hub = startFakeJupyterHub();
  r = await runMain([
    "import",
    "jupyterhub",
    "--url",
    hub.url,
    "--token",
    "wrong",
    "--config",
    cfg.path,
  ]);
  assert.equal(r.code, 1);
  assert.match(
    r.stderr,
    /onehub import jupyterhub: JupyterHub refused the token/,
  );
});
