/**
 * `onehub user list|add|rm|admin`: manage hub users from the shell (the hub
 * may be running; SQLite's WAL and busy timeout make this safe).
 *
 * @module
 */
import {
  createUsers,
  deleteUser,
  getUser,
  listUsers,
  updateUser,
} from "../db/users.ts";
import { normalizeUsername, usernameProblem } from "../auth/usernames.ts";
import { UsageError } from "../errors.ts";
import type { UserRow } from "../db/schema.ts";
import type { Db } from "../db/mod.ts";
import { type Command, COMMON_OPTIONS, parseCommandArgs } from "./_command.ts";
import { cliEvents, withConfiguredDb } from "./_context.ts";
import { printErr, printOut } from "./_print.ts";

const HELP = `Usage: onehub user <verb> [arguments] [--config PATH]

Verbs:
  list                      List users (name, admin, last activity)
  add NAME... [--admin]     Create users (existing ones are reported, not changed)
  rm NAME...                Delete users with their tokens, sessions and server records
  admin NAME [--off]        Make NAME an admin (or, with --off, not an admin)`;

const OPTIONS = {
  ...COMMON_OPTIONS,
  admin: { type: "boolean" },
  off: { type: "boolean" },
} as const;

/** The verb and names, checked against the verb's usage. */
function parseVerb(positionals: string[]): { verb: string; names: string[] } {
  const [verb, ...names] = positionals;
  if (!verb) throw new UsageError("Missing verb: use list, add, rm or admin");
  if (!["list", "add", "rm", "admin"].includes(verb)) {
    throw new UsageError(`Unknown verb "${verb}": use list, add, rm or admin`);
  }
  if (verb === "list" && names.length) {
    throw new UsageError("user list takes no arguments");
  }
  if ((verb === "add" || verb === "rm") && names.length === 0) {
    throw new UsageError(`user ${verb} needs at least one name`);
  }
  if (verb === "admin" && names.length !== 1) {
    throw new UsageError("user admin needs exactly one name");
  }
  return { verb, names };
}

/** `user list`: every user, a page of 500 at a time. */
async function listAll(db: Db): Promise<number> {
  printOut("NAME\tADMIN\tLAST_ACTIVITY");
  for (let offset = 0;; offset += 500) {
    const { rows } = await listUsers(db, { offset, limit: 500, sort: "name" });
    for (const u of rows) {
      printOut(
        `${u.name}\t${u.admin === 1 ? "yes" : "no"}\t${
          u.last_activity ?? "never"
        }`,
      );
    }
    if (rows.length < 500) return 0;
  }
}

/** `user add`: every name valid, or nothing is added. */
async function addUsers(
  db: Db,
  names: string[],
  pattern: string,
  admin: boolean,
): Promise<number> {
  const normalised = names.map(normalizeUsername);
  for (const name of normalised) {
    const problem = usernameProblem(name, pattern);
    if (problem) {
      printErr(`Invalid username "${name}": ${problem}`);
      return 1;
    }
  }
  const created = await createUsers(db, normalised, {
    admin,
    now: new Date().toISOString(),
  });
  const made = new Set(created.map((u) => u.name));
  const events = cliEvents(db);
  for (const u of created) {
    events.log.record("user.created", {
      user: u.name,
      actor: events.actor,
      admin,
    });
  }
  await events.log.close();
  for (const name of normalised) {
    printOut(made.has(name) ? `added ${name}` : `exists ${name} (unchanged)`);
  }
  return 0;
}

/** `user rm`: every name exists, or nothing is deleted. */
async function removeUsers(db: Db, names: string[]): Promise<number> {
  const rows: UserRow[] = [];
  for (const name of names) {
    const user = await getUser(db, name);
    if (!user) {
      printErr(`No such user "${name}": nothing was deleted`);
      return 1;
    }
    rows.push(user);
  }
  await db.transaction().execute(async (trx) => {
    for (const u of rows) await deleteUser(trx, u.id);
  });
  const events = cliEvents(db);
  for (const u of rows) {
    events.log.record("user.deleted", { user: u.name, actor: events.actor });
  }
  await events.log.close();
  for (const u of rows) printOut(`deleted ${u.name}`);
  return 0;
}

/** `user admin NAME [--off]`. */
async function setAdmin(db: Db, name: string, off: boolean): Promise<number> {
  const user = await getUser(db, name);
  if (!user) {
    printErr(
      `No such user "${name}": create it with "onehub user add ${name}"`,
    );
    return 1;
  }
  await updateUser(db, user.id, { admin: !off });
  const events = cliEvents(db);
  events.log.record("user.admin", {
    user: user.name,
    actor: events.actor,
    admin: !off,
  });
  await events.log.close();
  printOut(`${user.name} is ${off ? "no longer an admin" : "an admin"}`);
  return 0;
}

async function run(args: string[]): Promise<number> {
  const { values, positionals } = parseCommandArgs(args, OPTIONS);
  const { verb, names } = parseVerb(positionals);
  return await withConfiguredDb(values.config, (db, config) => {
    switch (verb) {
      case "list":
        return listAll(db);
      case "add":
        return addUsers(
          db,
          names,
          config.users.usernamePattern,
          values.admin ?? false,
        );
      case "rm":
        return removeUsers(db, names);
      default:
        return setAdmin(db, names[0]!, values.off ?? false);
    }
  });
}

/** The user command. */
export const userCommand: Command = {
  name: "user",
  summary: "List, add, remove users; grant admin",
  help: HELP,
  run,
};
