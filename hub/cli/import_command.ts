/**
 * `onehub import jupyterhub`: users, groups and roles of a running
 * JupyterHub brought into onehub's database, in one transaction
 * (hub/migrate/import_jupyterhub.ts). A running onehub sees them at once;
 * the config file is not edited.
 *
 * @module
 */
import type { HubConfig } from "../config/mod.ts";
import type { Db } from "../db/mod.ts";
import { UsageError } from "../errors.ts";
import {
  importEvents,
  importFromJupyterHub,
} from "../migrate/import_jupyterhub.ts";
import {
  JupyterHubApiError,
  type JupyterHubClient,
} from "../migrate/jupyterhub_api.ts";
import { formatReport } from "../migrate/report.ts";
import type { Command } from "./_command.ts";
import { cliEvents, withConfiguredDb } from "./_context.ts";
import {
  JUPYTERHUB_OPTIONS_HELP,
  jupyterHubClient,
  parseJupyterHubArgs,
} from "./_jupyterhub_args.ts";
import { printErr, printOut } from "./_print.ts";

const HELP =
  `Usage: onehub import jupyterhub --url URL --token TOKEN [--dry-run] [--config PATH]

Brings users (with their admin flag), groups with members and properties,
and the roles JupyterHub reports on users and groups from a running
JupyterHub (TLJH's too) into onehub's database, all in one transaction. It
adds and updates, never removes or demotes: run it twice and the second run
changes nothing. A running onehub sees the result at once.

Roles: JupyterHub's API names a role but never gives its scopes, so a role
is given only when onehub defines it (built in, or under roles: in the
config); the others are listed with what to do. Not imported: services,
shares, API tokens (JupyterHub keeps only their hashes).

Options:
${JUPYTERHUB_OPTIONS_HELP}

The token needs list:users, read:users, list:groups, read:groups and
read:roles (an admin user's token has them). Exit status: 0 done, 1
JupyterHub unreachable or refusing, 2 wrong usage.`;

/** The import on an open database; prints the report; records events. */
async function runImport(
  db: Db,
  config: HubConfig,
  options: { client: JupyterHubClient; dryRun: boolean },
): Promise<number> {
  const { client, dryRun } = options;
  const { report, actions } = await importFromJupyterHub(db, client, {
    dryRun,
    rules: {
      usernamePattern: config.users.usernamePattern,
      blocked: config.users.blocked,
    },
    configRoles: config.roles.map((r) => r.name),
  });
  if (actions.length) {
    const events = cliEvents(db);
    for (const e of importEvents(actions)) {
      events.log.record(e.kind, { ...e.fields, actor: events.actor });
    }
    await events.log.close();
  }
  printOut(`JupyterHub at ${client.apiUrl} -> onehub (${config.dbPath})`);
  printOut(formatReport(report, { dryRun, other: "onehub" }));
  return 0;
}

async function run(args: string[]): Promise<number> {
  const [what, ...rest] = args;
  if (what === "-h" || what === "--help") {
    printOut(HELP);
    return 0;
  }
  if (what !== "jupyterhub") {
    throw new UsageError(
      what === undefined
        ? 'Missing source: onehub imports from "jupyterhub" (onehub import jupyterhub --url URL --token TOKEN)'
        : `Unknown source "${what}": onehub imports from "jupyterhub"`,
    );
  }
  const parsed = parseJupyterHubArgs(rest, Deno.env.toObject());
  if (parsed.help) {
    printOut(HELP);
    return 0;
  }
  const client = jupyterHubClient(parsed, printErr);
  return await withConfiguredDb(parsed.config, async (db, config) => {
    try {
      return await runImport(db, config, { client, dryRun: parsed.dryRun });
    } catch (error) {
      if (!(error instanceof JupyterHubApiError)) throw error;
      printErr(`onehub import jupyterhub: ${error.message}`);
      return 1;
    }
  });
}

/** The import command. */
export const importCommand: Command = {
  name: "import",
  summary: "Bring users, groups and roles from a running JupyterHub",
  help: HELP,
  ownHelp: true,
  run,
};
