/**
 * Users named in the config file exist in the database, as JupyterHub makes
 * every allowed and admin user at start-up (REST clients and the idle
 * culler list them before anyone has logged in): {@linkcode syncConfigUsers}
 * creates the missing ones, grants admin to `users.admin`, and takes admin
 * away from users the config made admin before and no longer lists (never
 * from admins made through the API or the CLI). The admins the config made
 * are remembered in `hub_state`.
 *
 * @module
 */
import type { HubConfig } from "./mod.ts";
import type { Db } from "../db/mod.ts";
import { getHubState, setHubState } from "../db/hub_state.ts";
import { createUsers, getUser, updateUser } from "../db/users.ts";
import { normalizeUsername, usernameProblem } from "../auth/usernames.ts";
import { ConfigError } from "../errors.ts";
import type { Logger } from "../observe/log.ts";

const CONFIG_ADMINS = "config_admins";

/** What {@linkcode syncConfigUsers} changed. */
export interface ConfigUsersReport {
  created: string[];
  madeAdmin: string[];
  adminRemoved: string[];
}

/**
 * Applies `users.allowed` and `users.admin` to the database (module doc)
 * and logs what changed.
 *
 * @throws {ConfigError} naming the key and the invalid username.
 */
export async function syncConfigUsers(
  db: Db,
  config: HubConfig,
  options: { logger: Logger; now?: () => Date },
): Promise<ConfigUsersReport> {
  const names = (key: string, list: readonly string[]) =>
    list.map((raw) => {
      const name = normalizeUsername(raw);
      const problem = usernameProblem(name, config.users.usernamePattern);
      if (problem) {
        throw new ConfigError(
          `Invalid username ${JSON.stringify(raw)} in ${key}: ${problem}`,
        );
      }
      return name;
    });
  const admins = new Set(names("users.admin", config.users.admin));
  const allowed = new Set(names("users.allowed", config.users.allowed));
  const report: ConfigUsersReport = {
    created: [],
    madeAdmin: [],
    adminRemoved: [],
  };
  const now = (options.now?.() ?? new Date()).toISOString();
  for (const name of new Set([...admins, ...allowed])) {
    const user = await getUser(db, name);
    if (!user) {
      await createUsers(db, [name], { admin: admins.has(name), now });
      report.created.push(name);
      if (admins.has(name)) report.madeAdmin.push(name);
    } else if (admins.has(name) && user.admin !== 1) {
      await updateUser(db, user.id, { admin: true });
      report.madeAdmin.push(name);
    }
  }
  const before = JSON.parse(
    await getHubState(db, CONFIG_ADMINS) ?? "[]",
  ) as string[];
  for (const name of before) {
    if (admins.has(name)) continue;
    const user = await getUser(db, name);
    if (user && user.admin === 1) {
      await updateUser(db, user.id, { admin: false });
      report.adminRemoved.push(name);
    }
  }
  await setHubState(db, CONFIG_ADMINS, JSON.stringify([...admins].sort()));
  if (
    report.created.length || report.madeAdmin.length ||
    report.adminRemoved.length
  ) {
    options.logger.info("users from config applied", {
      created: report.created.join(",") || "none",
      "made_admin": report.madeAdmin.join(",") || "none",
      "admin_removed": report.adminRemoved.join(",") || "none",
    });
  }
  return report;
}
