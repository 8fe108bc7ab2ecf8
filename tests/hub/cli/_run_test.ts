/**
 * hub/cli/_run.ts, the one place a command's `run` ends: `--help` prints
 * the help on stdout (exit 0), a UsageError prints
 * `onehub <name>: <message>`, a blank line and the help on stderr (exit 2),
 * a ConfigError prints `onehub <name>: <message>` (exit 1). A command's
 * own refusals print its bare line (exit 1). Each row runs the real
 * `main.ts` (so `proxy` and `pam-helper` take main.ts's early paths) and
 * compares stdout, stderr and the status byte for byte.
 */
import assert from "node:assert/strict";
import { runMain } from "../../_helpers/serve_process.ts";
import { dbCommand } from "../../../hub/cli/db_command.ts";
import { eventsCommand } from "../../../hub/cli/events_command.ts";
import { pamHelperCommand } from "../../../hub/cli/pam_helper_command.ts";
import { proxyCommand } from "../../../hub/cli/proxy_command.ts";
import { tokenCommand } from "../../../hub/cli/token_command.ts";

interface Row {
  args: string[];
  env?: Record<string, string>;
  code: number;
  stdout?: string;
  stderr?: string;
}

/** What the dispatcher prints for a UsageError from `command`. */
function usage(command: { name: string; help: string }, message: string) {
  return `onehub ${command.name}: ${message}\n\n${command.help}\n`;
}

function rows(dir: string): Row[] {
  const ok = ["--config", `${dir}/ok.yaml`];
  const bad = `${dir}/bad.yaml`;
  const proxyEnv = { CONFIGPROXY_AUTH_TOKEN: "x" };
  return [
    {
      args: ["events", "--help"],
      code: 0,
      stdout: `${eventsCommand.help}\n`,
    },
    {
      args: ["events", "extra"],
      code: 2,
      stderr: usage(
        eventsCommand,
        "Unexpected argument 'extra'. This command does not take positional arguments",
      ),
    },
    {
      args: ["events", "--bogus"],
      code: 2,
      stderr: usage(eventsCommand, "Unknown option '--bogus'"),
    },
    {
      args: ["events", "--since", "yesterday"],
      code: 2,
      stderr: usage(
        eventsCommand,
        '--since "yesterday" is not a time: use a duration such as 30m, 6h, 2d, 1w or an ISO date such as 2026-12-01T08:00Z',
      ),
    },
    {
      args: ["events", "--limit", "0"],
      code: 2,
      stderr: usage(
        eventsCommand,
        '--limit must be a number from 1 to 100000, got "0"',
      ),
    },
    {
      args: ["events", "--config", bad],
      code: 1,
      stderr:
        `onehub events: Unknown key "no_such_key" in ${bad}; run "onehub config keys" to list the accepted keys\n`,
    },
    { args: ["events", ...ok], code: 0, stdout: "" },
    {
      args: ["token"],
      code: 2,
      stderr: usage(tokenCommand, "Expected exactly one user name, got 0"),
    },
    {
      args: ["token", "alice", "--expires-in", "0"],
      code: 2,
      stderr: usage(
        tokenCommand,
        '--expires-in must be a positive number of seconds, got "0"',
      ),
    },
    {
      args: ["token", "nobody", ...ok],
      code: 1,
      stderr:
        'No such user "nobody": create it first with "onehub user add nobody"\n',
    },
    {
      args: ["db", "restore", `${dir}/none`, ...ok],
      code: 1,
      stderr: `onehub db: Cannot restore "${dir}/none": it does not exist\n`,
    },
    {
      args: ["db", "sideways"],
      code: 2,
      stderr: usage(
        dbCommand,
        'Expected "db upgrade", "db status", "db check", "db restore BACKUP" or "db forget-auth-state", got "db sideways"',
      ),
    },
    {
      args: ["proxy", "--help"],
      env: proxyEnv,
      code: 0,
      stdout: `${proxyCommand.help}\n`,
    },
    {
      args: ["proxy", "x"],
      env: proxyEnv,
      code: 2,
      stderr: usage(proxyCommand, 'Unexpected argument "x"'),
    },
    {
      args: ["proxy", "--log-level", "loud"],
      env: proxyEnv,
      code: 2,
      stderr: usage(
        proxyCommand,
        '--log-level must be debug, info, warn or error, got "loud"',
      ),
    },
    {
      args: ["proxy", "--port", "0"],
      env: { CONFIGPROXY_AUTH_TOKEN: "" },
      code: 1,
      stderr:
        "onehub proxy: Set CONFIGPROXY_AUTH_TOKEN to a random secret before starting the proxy (the hub needs the same value in proxy.auth_token)\n",
    },
    {
      args: ["pam-helper", "--help"],
      code: 0,
      stdout: `${pamHelperCommand.help}\n`,
    },
    {
      args: ["pam-helper", "--bogus"],
      code: 2,
      stderr: usage(pamHelperCommand, "Unknown option '--bogus'"),
    },
  ];
}

Deno.test("every command ends its run with the same exit codes and bytes", async (t) => {
  const dir = await Deno.makeTempDir({ prefix: "onehub-cli-run-" });
  try {
    await Deno.writeTextFile(`${dir}/ok.yaml`, `data_dir: ${dir}/data\n`);
    await Deno.writeTextFile(`${dir}/bad.yaml`, "no_such_key: 1\n");
    for (const row of rows(dir)) {
      await t.step(row.args.join(" ").replaceAll(dir, "DIR"), async () => {
        const out = await runMain(row.args, row.env);
        assert.equal(out.code, row.code, out.stderr);
        assert.equal(out.stdout, row.stdout ?? "");
        assert.equal(out.stderr, row.stderr ?? "");
      });
    }
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
