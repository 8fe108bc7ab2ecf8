/**
 * Linux accounts for single-user servers: look one up (`getent passwd`),
 * create one on first login the TLJH way (`useradd -m`, home closed to
 * others, extra groups), and derive the account name from a hub user name
 * (TLJH's `generate_system_username`).
 *
 * @module
 */
import { createHash } from "node:crypto";
import { run } from "./_run.ts";
import { SpawnError } from "./_spawn_error.ts";
import type { SystemUser } from "./_types.ts";

/** Longest Linux user or group name (`LOGIN_NAME_MAX` − 1 in practice). */
const MAX_NAME = 32;

/**
 * Names `useradd` accepts everywhere and no program mistakes for an option
 * or a number: lowercase letter or `_` first, then letters, digits, `.`,
 * `_`, `-`, and an optional final `$` (Samba machine accounts).
 */
const NAME = /^[a-z_][a-z0-9._-]*\$?$/;

/** Whether `name` is a valid Linux user or group name (see {@linkcode NAME}). */
export function isValidSystemName(name: string): boolean {
  return name.length <= MAX_NAME && NAME.test(name);
}

/** Length from which TLJH shortens a name and appends a hash. */
const HASH_FROM = 26;

/**
 * The Linux account name of a hub user, TLJH's rule: `prefix + hubName`;
 * when that is 26 characters or longer, its first 26 characters, `-`, and
 * the first 5 hex digits of the SHA-256 of the whole prefixed name (TLJH
 * `tljh/normalize.py`, called with `"jupyter-" + name`). The result is at
 * most 32 characters. It is not validated: pass it to `lookupUser` or
 * `ensureUser`, which are.
 *
 * @example
 * ```ts
 * systemUsername("alice", "jupyter-"); // "jupyter-alice"
 * systemUsername("a-very-long-user-name-indeed", "jupyter-"); // "jupyter-a-very-long-user-na-<5 hex>"
 * ```
 */
export function systemUsername(hubName: string, prefix: string): string {
  const full = prefix + hubName;
  // Python's len() and slicing count code points, not UTF-16 units.
  const points = Array.from(full);
  if (points.length < HASH_FROM) return full;
  const hash = createHash("sha256").update(full, "utf8").digest("hex");
  return `${points.slice(0, HASH_FROM).join("")}-${hash.slice(0, 5)}`;
}

/** Parses one `getent passwd` line. */
function parsePasswd(line: string): SystemUser | null {
  const fields = line.split(":");
  if (fields.length < 7) return null;
  const [name, , uid, gid, , home, shell] = fields;
  if (!/^\d+$/.test(uid!) || !/^\d+$/.test(gid!)) return null;
  return {
    name: name!,
    uid: Number(uid),
    gid: Number(gid),
    home: home!,
    shell: shell!,
  };
}

/**
 * The account named `name` from the system's user database (files, LDAP,
 * …), through `getent passwd` without a shell.
 *
 * @returns the account, or null when unknown or when `name` is not a valid
 *   Linux name (so a hub user called "0" can never mean root)
 * @throws {SpawnError} when getent itself fails
 */
export async function lookupUser(name: string): Promise<SystemUser | null> {
  if (!isValidSystemName(name)) return null;
  // getent: 0 found, 2 key not found.
  const { code, stdout } = await run(["getent", "passwd", name], {
    okCodes: [0, 2],
  });
  if (code !== 0) return null;
  const user = parsePasswd(stdout.split("\n")[0] ?? "");
  return user?.name === name ? user : null;
}

/** Members of a group, or null when the group does not exist. */
async function groupMembers(group: string): Promise<string[] | null> {
  const { code, stdout } = await run(["getent", "group", group], {
    okCodes: [0, 2],
  });
  if (code !== 0) return null;
  const members = stdout.trim().split(":")[3] ?? "";
  return members ? members.split(",") : [];
}

/** Makes `user` a member of `group`, creating the group when missing. */
async function ensureMembership(user: string, group: string): Promise<void> {
  let members = await groupMembers(group);
  if (members === null) {
    // --force: success if another process created it meanwhile.
    await run(["groupadd", "--force", group]);
    members = [];
  }
  if (!members.includes(user)) await run(["gpasswd", "--add", user, group]);
}

/** Options of {@linkcode ensureUser}. */
export interface EnsureUserOptions {
  /** Supplementary groups the user must be in; created when missing. @default {[]} */
  groups?: string[];
}

/**
 * The account `name`, created first when missing (TLJH `ensure_user`):
 * `useradd -m -s /bin/bash`, then the home is closed to others
 * (`chmod o-rwx`). Group membership is ensured for new and existing
 * accounts alike. Needs root.
 *
 * @throws {SpawnError} for an invalid user or group name, or when useradd,
 *   groupadd or gpasswd fail
 */
export async function ensureUser(
  name: string,
  options: EnsureUserOptions = {},
): Promise<SystemUser> {
  if (!isValidSystemName(name)) {
    throw new SpawnError(
      `Cannot create a Linux account named "${name}": use at most ${MAX_NAME} lowercase letters, digits, ".", "_" or "-", starting with a letter or "_"`,
    );
  }
  const groups = options.groups ?? [];
  for (const group of groups) {
    if (!isValidSystemName(group)) {
      throw new SpawnError(
        `Cannot add "${name}" to group "${group}": not a valid Linux group name`,
      );
    }
  }
  let user = await lookupUser(name);
  if (!user) {
    // useradd exits 9 when the name is taken: another spawn won the race.
    const { code } = await run(["useradd", "-m", "-s", "/bin/bash", name], {
      okCodes: [0, 9],
    });
    user = await lookupUser(name);
    if (!user) {
      throw new SpawnError(
        `Cannot find the Linux account "${name}" after creating it (useradd exit code ${code})`,
      );
    }
    if (code === 0) await closeHome(user);
  }
  for (const group of groups) await ensureMembership(name, group);
  return user;
}

/** Removes all access for others from a freshly created home (TLJH does the same). */
async function closeHome(user: SystemUser): Promise<void> {
  try {
    const info = await Deno.lstat(user.home);
    if (info.isDirectory && info.mode !== null) {
      await Deno.chmod(user.home, info.mode & 0o770);
    }
  } catch (error) {
    throw new SpawnError(
      `Cannot restrict the home directory "${user.home}" of "${user.name}": ${
        (error as Error).message
      }`,
      { cause: error },
    );
  }
}

/**
 * `setpriv`'s arguments that drop to `user` (its uid, gid and groups), up
 * to and including `--`: put the program after them. One place for every
 * command onehub runs as a user (servers, services, course files).
 */
export function setprivArgs(user: { uid: number; gid: number }): string[] {
  return [
    "--reuid",
    String(user.uid),
    "--regid",
    String(user.gid),
    "--init-groups",
    "--",
  ];
}
