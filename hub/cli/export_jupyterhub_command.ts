/**
 * `onehub export jupyterhub`: onehub's live state pushed into a running
 * JupyterHub 5 through its REST API (hub/migrate/export_jupyterhub.ts).
 * {@linkcode exportJupyterhub} is the verb the `export` command runs with
 * the arguments after `export jupyterhub`; it answers `--help` itself.
 *
 * @module
 */
import type { Db } from "../db/mod.ts";
import {
  type ExportPlan,
  exportToJupyterHub,
  type JupyterHubState,
} from "../migrate/export_jupyterhub.ts";
import {
  JupyterHubApiError,
  type JupyterHubClient,
} from "../migrate/jupyterhub_api.ts";
import { changeLine, formatReport } from "../migrate/report.ts";
import {
  JUPYTERHUB_OPTIONS_HELP,
  jupyterHubClient,
  parseJupyterHubArgs,
} from "./_jupyterhub_args.ts";
import { withConfiguredDb } from "./_context.ts";
import { printErr, printOut } from "./_print.ts";

/** `onehub export jupyterhub --help`. */
export const EXPORT_JUPYTERHUB_HELP =
  `Usage: onehub export jupyterhub --url URL --token TOKEN [--dry-run] [--config PATH]

Pushes what onehub holds beyond its config file into a running JupyterHub 5
through its REST API: users (with their admin flag), groups with members and
properties, and shares. It adds and updates, never removes or demotes: run it
twice and the second run changes nothing.

Not pushed, and reported with why: roles (JupyterHub has no REST API for
them; the report prints the c.JupyterHub.load_roles to paste), API tokens
(onehub keeps only their hashes; the report names whose to re-issue), shares
of a named server JupyterHub has never started.

Options:
${JUPYTERHUB_OPTIONS_HELP}

The token needs admin:users, admin:groups and shares (an admin user's token
has them). Exit status: 0 done, 1 JupyterHub unreachable or refusing (or an
item it refused), 2 wrong usage.`;

/** What {@linkcode exportJupyterhub} writes to and reads from, passed in so tests need no terminal. */
export interface ExportJupyterhubContext {
  /** A line to stdout. @default printOut */
  out?: (text: string) => void;
  /** A line to stderr. @default printErr */
  err?: (text: string) => void;
  /** For `$JUPYTERHUB_API_TOKEN`. @default Deno.env.toObject() */
  env?: Record<string, string>;
}

/** The line before any change: where to, whose token, what happens. */
function header(
  client: JupyterHubClient,
  jh: JupyterHubState,
  context: { plan: ExportPlan; dryRun: boolean },
): string {
  const who = `${jh.identity.kind} ${jh.identity.name}`;
  const line =
    `onehub -> JupyterHub ${jh.version} at ${client.apiUrl} (token of ${who})`;
  return context.dryRun || !context.plan.actions.length
    ? line
    : `${line}\nChanging JupyterHub:`;
}

/** The export on an open database; prints as it goes; the exit status. */
async function runExport(
  db: Db,
  client: JupyterHubClient,
  options: { dryRun: boolean; out: (text: string) => void },
): Promise<number> {
  const { dryRun, out } = options;
  const report = await exportToJupyterHub(db, client, {
    dryRun,
    onPlan: (jh, plan) => out(header(client, jh, { plan, dryRun })),
    onDone: (change) => out(changeLine(change)),
  });
  out(formatReport(report, { dryRun, other: "JupyterHub", streamed: true }));
  return report.failed.length ? 1 : 0;
}

/**
 * `onehub export jupyterhub …`: `args` are the words after `export
 * jupyterhub`; resolves to the exit status.
 *
 * @throws {UsageError} for wrong arguments (the caller prints the usage, exit 2).
 */
export async function exportJupyterhub(
  args: string[],
  ctx: ExportJupyterhubContext = {},
): Promise<number> {
  const out = ctx.out ?? printOut;
  const parsed = parseJupyterHubArgs(args, ctx.env ?? Deno.env.toObject());
  if (parsed.help) {
    out(EXPORT_JUPYTERHUB_HELP);
    return 0;
  }
  const client = jupyterHubClient(parsed, ctx.err ?? printErr);
  return await withConfiguredDb(parsed.config, async (db) => {
    try {
      return await runExport(db, client, { dryRun: parsed.dryRun, out });
    } catch (error) {
      if (!(error instanceof JupyterHubApiError)) throw error;
      (ctx.err ?? printErr)(`onehub export jupyterhub: ${error.message}`);
      return 1;
    }
  });
}
