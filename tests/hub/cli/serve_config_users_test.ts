/** `onehub serve` creates the config file's users at start, as JupyterHub does. */
import assert from "node:assert/strict";
import { runMain, startServe } from "../../_helpers/serve_process.ts";

Deno.test("serve creates users.allowed and users.admin at start: an admin token lists them over HTTP", async () => {
  const dir = await Deno.makeTempDir({ prefix: "onehub-cfgusers-" });
  try {
    const config = `${dir}/config.yaml`;
    await Deno.writeTextFile(
      config,
      `data_dir: ${dir}\nusers:\n  allowed: [ada, grace]\n  admin: [teacher]\n`,
    );
    await using hub = await startServe(["--auth", "dummy", "--config", config]);
    assert.match(
      hub.log(),
      /users from config applied created=teacher,ada,grace/,
    );
    const token = await runMain(["token", "teacher", "--config", config]);
    assert.equal(token.code, 0, token.stderr);
    const res = await fetch(`${hub.url}hub/api/users`, {
      headers: { authorization: `token ${token.stdout.trim()}` },
    });
    assert.equal(res.status, 200);
    const users = await res.json() as Array<{ name: string; admin: boolean }>;
    assert.deepEqual(
      users.map((u) => [u.name, u.admin]).sort(),
      [["ada", false], ["grace", false], ["teacher", true]],
    );
    const one = await fetch(`${hub.url}hub/api/users/grace`, {
      headers: { authorization: `token ${token.stdout.trim()}` },
    });
    assert.equal(one.status, 200);
    await one.body?.cancel();
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
