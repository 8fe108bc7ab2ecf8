/**
 * install.sh without a machine to install on: its help, usage errors, the
 * PAM service text it writes, and the preflight's one line on a host
 * without systemd. The whole install runs in tests/integration/install_test.ts.
 */
import assert from "node:assert/strict";
import { repoPath } from "./_helpers/paths.ts";
import { PAM_SERVICE_FILE_TEXT } from "../hub/auth/pam/mod.ts";
import { printErr } from "../hub/cli/_print.ts";

async function installSh(...args: string[]) {
  const out = await new Deno.Command("bash", {
    args: [repoPath("install.sh"), ...args],
    stdin: "null",
  }).output();
  const d = new TextDecoder();
  return {
    code: out.code,
    out: d.decode(out.stdout),
    err: d.decode(out.stderr),
  };
}

Deno.test("install.sh --help documents every flag it accepts", async () => {
  const help = await installSh("--help");
  assert.equal(help.code, 0);
  const script = await Deno.readTextFile(repoPath("install.sh"));
  const accepted = [...script.matchAll(/^\s+(--[a-z-]+)\)/gm)].map((m) =>
    m[1]!
  );
  assert.ok(accepted.length >= 8, accepted.join(" "));
  for (const flag of accepted) {
    assert.match(help.out, new RegExp(`^\\s+${flag}\\b`, "m"), flag);
  }
});

Deno.test("install.sh refuses bad usage with exit 2 and a line saying what was wrong", async (t) => {
  const rows: Array<[string[], RegExp]> = [
    [["--port", "x"], /--port must be a number, got "x"/],
    [["--port", "70000"], /--port must be 1\.\.65535/],
    [["--spawner", "docker"], /--spawner must be systemd or local/],
    [
      ["--hub-port", "80"],
      /--hub-port must be 1\.\.65535 and differ from --port/,
    ],
    [["--binary", "a", "--from-source", "b"], /not both/],
    [["--purge"], /--purge only goes with --uninstall/],
    [["--admin", "Bad Name"], /is not a valid user name/],
    [["--frobnicate"], /unknown option "--frobnicate"/],
    [["--letsencrypt", "not a domain"], /is not a DNS name/],
    [["--email", "nobody"], /is not an e-mail address/],
  ];
  for (const [args, message] of rows) {
    await t.step(args.join(" "), async () => {
      const r = await installSh(...args);
      assert.equal(r.code, 2);
      assert.match(r.err, message);
      assert.match(r.err, /see install\.sh --help/);
    });
  }
});

Deno.test("install.sh writes the same PAM service file as the hub expects", async () => {
  const script = await Deno.readTextFile(repoPath("install.sh"));
  const heredoc = /cat >"\$PAM_FILE" <<'EOF'\n([\s\S]*?)\nEOF\n/.exec(script);
  assert.ok(heredoc, "the PAM heredoc");
  assert.equal(heredoc[1] + "\n", PAM_SERVICE_FILE_TEXT);
});

const systemdHost = Deno.readTextFileSync("/proc/1/comm").trim() === "systemd";
if (Deno.uid() !== 0 || systemdHost) {
  printErr(
    "install_script_test: preflight case skipped: needs root on a host without systemd as PID 1",
  );
}

Deno.test({
  name: "install.sh stops with one line on a host without systemd as PID 1",
  ignore: Deno.uid() !== 0 || systemdHost,
  fn: async () => {
    const r = await installSh("--admin", "teacher");
    assert.equal(r.code, 1);
    assert.match(
      r.err,
      /^onehub: error: systemd is not running as PID 1: .*$/m,
    );
  },
});

Deno.test("install.sh writes a new config the hub accepts, with admins, ports and Let's Encrypt", async () => {
  const dir = await Deno.makeTempDir({ prefix: "onehub-installcfg-" });
  try {
    const script = [
      "set -euo pipefail",
      `set -- --admin teacher --admin ta --port 8080 --hub-port 9091 --letsencrypt hub.example.org --letsencrypt www.example.org --email t@example.org`,
      `ONEHUB_INSTALL_NO_MAIN=1 source ${repoPath("install.sh")}`,
      `CONFIG_DIR=${dir} CONFIG=${dir}/config.yaml STATE_DIR=${dir}/state`,
      "ensure_config 2>/dev/null",
    ].join("\n");
    const made = await new Deno.Command("bash", { args: ["-c", script] })
      .output();
    assert.equal(made.code, 0, new TextDecoder().decode(made.stderr));
    assert.equal((await Deno.stat(`${dir}/config.yaml`)).mode! & 0o777, 0o600);
    const shown = await new Deno.Command(Deno.execPath(), {
      args: [
        "run",
        "-A",
        repoPath("main.ts"),
        "config",
        "show",
        "--resolved",
        "--config",
        `${dir}/config.yaml`,
      ],
    }).output();
    const text = new TextDecoder().decode(shown.stdout);
    assert.equal(shown.code, 0, new TextDecoder().decode(shown.stderr));
    assert.match(text, /^ {2}port: 8080$/m);
    assert.match(text, /^ {2}port: 9091$/m);
    assert.match(text, /admin:\n\s+- teacher\n\s+- ta/);
    assert.match(
      text,
      /domains:\n\s+- hub\.example\.org\n\s+- www\.example\.org/,
    );
    assert.match(text, /email: t@example\.org/);
    assert.match(text, /type: systemd/);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("install.sh --jupyterlab stops with one line when the package index cannot be reached", async () => {
  const script = [
    "set -euo pipefail",
    "set -- --jupyterlab",
    `ONEHUB_INSTALL_NO_MAIN=1 source ${repoPath("install.sh")}`,
    "PIP_INDEX=http://127.0.0.1:9/simple/",
    "ensure_jupyterlab",
  ].join("\n");
  const out = await new Deno.Command("bash", { args: ["-c", script] })
    .output();
  const err = new TextDecoder().decode(out.stderr);
  assert.equal(out.code, 1);
  assert.match(
    err,
    /^onehub: error: the Python package index http:\/\/127\.0\.0\.1:9\/simple\/ cannot be reached, so JupyterLab cannot be installed: run without --jupyterlab/m,
  );
});

/** Runs ensure_singleuser with apt stubbed: `candidate` is what apt-cache offers for jupyterlab. */
async function singleuserChoice(candidate: string, args: string[] = []) {
  const dir = await Deno.makeTempDir({ prefix: "onehub-installsu-" });
  try {
    await Deno.writeTextFile(
      `${dir}/apt-cache`,
      `#!/bin/sh\nprintf 'jupyterlab:\\n  Installed: (none)\\n  Candidate: ${candidate}\\n'\n`,
    );
    await Deno.chmod(`${dir}/apt-cache`, 0o755);
    const script = [
      "set -euo pipefail",
      `set -- ${args.join(" ")}`,
      `ONEHUB_INSTALL_NO_MAIN=1 source ${repoPath("install.sh")}`,
      `PATH=${dir}:$PATH`,
      "APT_UPDATED=1",
      "installed() { return 1; }",
      'apt_install() { echo "apt: $*"; }',
      "systemctl() { return 1; }",
      // As if no server were installed yet, whatever this machine has.
      `SINGLEUSER_BIN=${dir}/none`,
      "ensure_singleuser",
      'echo "lab: $LAB_FROM_APT"',
    ].join("\n");
    const out = await new Deno.Command("bash", { args: ["-c", script] })
      .output();
    const d = new TextDecoder();
    assert.equal(out.code, 0, d.decode(out.stderr));
    return d.decode(out.stdout);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

Deno.test("install.sh takes JupyterLab from apt where it has one (Debian 13), the classic notebook elsewhere (Debian 12), the venv with --jupyterlab", async () => {
  const trixie = await singleuserChoice("4.0.11+ds1+~cs4.0.11-2");
  assert.match(trixie, /^apt: jupyterhub jupyterlab$/m);
  assert.match(trixie, /^lab: 1$/m);
  const bookworm = await singleuserChoice("(none)");
  assert.match(bookworm, /^apt: jupyterhub python3-notebook$/m);
  assert.match(bookworm, /^lab: 0$/m);
  const venv = await singleuserChoice("4.0.11", ["--jupyterlab"]);
  assert.match(venv, /^apt: jupyterhub python3-notebook$/m);
  assert.match(venv, /^lab: 0$/m);
});

Deno.test("install.sh makes /lab the default page with apt's JupyterLab, but never over a page the config names", async () => {
  const dir = await Deno.makeTempDir({ prefix: "onehub-installlab-" });
  try {
    await Deno.writeTextFile(
      `${dir}/onehub`,
      `#!/bin/sh\nexec "${Deno.execPath()}" run -A "${
        repoPath("main.ts")
      }" "$@"\n`,
    );
    await Deno.chmod(`${dir}/onehub`, 0o755);
    const run = async (before: string) => {
      await Deno.writeTextFile(`${dir}/config.yaml`, before);
      const script = [
        "set -euo pipefail",
        "set --",
        `ONEHUB_INSTALL_NO_MAIN=1 source ${repoPath("install.sh")}`,
        `BIN=${dir}/onehub`,
        `CONFIG=${dir}/config.yaml`,
        "LAB_FROM_APT=1",
        "ensure_lab_default",
      ].join("\n");
      const out = await new Deno.Command("bash", { args: ["-c", script] })
        .output();
      assert.equal(out.code, 0, new TextDecoder().decode(out.stderr));
      return await Deno.readTextFile(`${dir}/config.yaml`);
    };
    assert.match(await run(`data_dir: ${dir}\n`), /default_url: \/lab/);
    assert.match(
      await run(`data_dir: ${dir}\nspawner:\n  default_url: /tree\n`),
      /default_url: \/tree/,
    );
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
