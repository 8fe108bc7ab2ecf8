/**
 * `onehub token <user>`: prints a new API token for an existing user, like
 * `jupyterhub token`.
 *
 * @module
 */
import { getUser } from "../db/users.ts";
import { issueToken } from "../api/mod.ts";
import { HubError, UsageError } from "../errors.ts";
import { type Command, COMMON_OPTIONS, parseCommandArgs } from "./_command.ts";
import { cliEvents, withConfiguredDb } from "./_context.ts";
import type { Db } from "../db/mod.ts";
import { tokenIdToWire } from "../secrets.ts";
import { printErr, printOut } from "./_print.ts";

const HELP =
  `Usage: onehub token <user> [--scopes S1,S2] [--note TEXT] [--expires-in SECONDS] [--config PATH]

Creates an API token for <user> and prints it (it is shown only once).
Without --scopes the token can do everything the user can ("inherit").

Examples:
  onehub token admin
  onehub token culler --scopes list:users,read:users:activity,read:servers,delete:servers --note idle-culler`;

const OPTIONS = {
  ...COMMON_OPTIONS,
  scopes: { type: "string" },
  note: { type: "string" },
  "expires-in": { type: "string" },
} as const;

async function run(args: string[]): Promise<number> {
  const { values, positionals } = parseCommandArgs(args, OPTIONS);
  if (positionals.length !== 1) {
    throw new UsageError(
      `Expected exactly one user name, got ${positionals.length}`,
    );
  }
  const name = positionals[0]!;
  let expires: number | null = null;
  if (values["expires-in"] !== undefined) {
    if (!/^[1-9]\d{0,9}$/.test(values["expires-in"])) {
      throw new UsageError(
        `--expires-in must be a positive number of seconds, got "${
          values["expires-in"]
        }"`,
      );
    }
    expires = Number(values["expires-in"]);
  }
  const scopes = values.scopes?.split(",").map((s) => s.trim()).filter((s) =>
    s
  );
  return await withConfiguredDb(values.config, async (db) => {
    try {
      return await issueFromCli(db, {
        name,
        scopes,
        expires,
        note: values.note,
      });
    } catch (error) {
      if (error instanceof HubError) {
        printErr(error.message);
        return 1;
      }
      throw error;
    }
  });
}

/** The token itself: the owner looked up, the token made, the event recorded, the secret printed. */
async function issueFromCli(
  db: Db,
  ask: {
    name: string;
    scopes: string[] | undefined;
    expires: number | null;
    note: string | undefined;
  },
): Promise<number> {
  const { name, scopes, expires, note } = ask;
  const owner = await getUser(db, name);
  if (!owner) {
    printErr(
      `No such user "${name}": create it first with "onehub user add ${name}"`,
    );
    return 1;
  }
  const { token, row } = await issueToken(db, owner, {
    scopes,
    note: note ?? "Requested via onehub token",
    expiresInSeconds: expires,
    now: new Date(),
  });
  const events = cliEvents(db);
  events.log.record("token.created", {
    user: owner.name,
    actor: events.actor,
    "token_id": tokenIdToWire(row.id),
    scopes: scopes?.join(" ") ?? "(default)",
  });
  await events.log.close();
  printOut(token);
  return 0;
}

/** The token command. */
export const tokenCommand: Command = {
  name: "token",
  summary: "Print a new API token for a user",
  help: HELP,
  run,
};
