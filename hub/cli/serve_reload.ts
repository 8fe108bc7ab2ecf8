/**
 * Config reload of a running hub (`onehub config reload`, `systemctl
 * reload onehub`, SIGHUP): the config file is read again with the same
 * environment and flags as at start, and every changed key a running hub
 * can take ({@linkcode RELOADABLE_KEYS}) is applied in place, so sessions,
 * proxy routes and servers stay; changed keys that need a restart are
 * named, not applied. Users from config are synced again. An invalid file
 * changes nothing. The outcome is logged and written to
 * `{data_dir}/reload.json`, where `onehub config reload` reads it.
 *
 * @module
 */
import { isDeepStrictEqual } from "node:util";
import {
  CONFIG_KEYS,
  getAt,
  type HubConfig,
  needsRestart,
  type RawConfig,
  resolveConfig,
  setAt,
  toRawConfig,
} from "../config/mod.ts";
import { loadConfig } from "../config/file.ts";
import type { Db } from "../db/mod.ts";
import { syncConfigUsers } from "../config/users.ts";
import { syncConfigAccess } from "../config/access.ts";
import type { Logger } from "../observe/log.ts";

/** What a reload did. */
export interface ReloadResult {
  /** When it ran (ISO 8601). */
  at: string;
  /** Changed keys now in force. */
  applied: string[];
  /** Changed keys that need `systemctl restart onehub`. */
  restartNeeded: string[];
  /** Why nothing was applied, when the file was unusable. */
  error: string | null;
}

/** The file a reload's outcome is written to. */
export function reloadResultPath(config: HubConfig): string {
  return `${config.dataDir}/reload.json`;
}

/** The file holding the serving hub's process id. */
export function pidFilePath(config: HubConfig): string {
  return `${config.dataDir}/onehub.pid`;
}

/** Copies `from` into `into` field by field, keeping every object's identity. */
function assignInPlace(
  into: Record<string, unknown>,
  from: Record<string, unknown>,
): void {
  for (const [key, value] of Object.entries(from)) {
    const current = into[key];
    if (
      value !== null && typeof value === "object" && !Array.isArray(value) &&
      current !== null && typeof current === "object" &&
      !Array.isArray(current)
    ) {
      assignInPlace(
        current as Record<string, unknown>,
        value as Record<string, unknown>,
      );
    } else into[key] = value;
  }
}

/** Options for {@linkcode reloadConfig}. */
export interface ReloadOptions {
  /** The config the hub runs with; changed in place. */
  live: HubConfig;
  /** The config file, environment and flags the hub started with. */
  path: string | undefined;
  flags: Record<string, unknown>;
  env?: Record<string, string>;
  db: Db;
  logger: Logger;
  now?: () => Date;
}

/** Reloads the config into the running hub (module doc). */
export async function reloadConfig(
  options: ReloadOptions,
): Promise<ReloadResult> {
  const at = (options.now?.() ?? new Date()).toISOString();
  let result: ReloadResult;
  try {
    result = { at, ...await applyFreshConfig(options), error: null };
  } catch (error) {
    result = {
      at,
      applied: [],
      restartNeeded: [],
      error: error instanceof Error ? error.message : String(error),
    };
  }
  logReload(options.logger, result);
  await writeReloadResult(options, result);
  return result;
}

/**
 * The file read again; the changed live keys merged into the running
 * config, users and access synced, then `live` changed in place.
 *
 * @throws when the file is unusable; nothing is changed then.
 */
async function applyFreshConfig(
  options: ReloadOptions,
): Promise<Pick<ReloadResult, "applied" | "restartNeeded">> {
  const { live } = options;
  const fresh = await loadConfig({
    ...(options.path ? { path: options.path } : {}),
    flags: options.flags,
    ...(options.env ? { env: options.env } : {}),
  });
  const before = toRawConfig(live);
  const after = toRawConfig(fresh);
  const changed = CONFIG_KEYS.map((k) => k.key).filter((key) =>
    !isDeepStrictEqual(getAt(before, key), getAt(after, key))
  );
  const applied = changed.filter((key) => !needsRestart(key));
  const restartNeeded = changed.filter(needsRestart);
  let merged: RawConfig = before;
  for (const key of applied) {
    merged = setAt(merged, { key, value: getAt(after, key) });
  }
  const next = resolveConfig({
    file: merged,
    fileName: "the reloaded config",
  });
  // Users first: an invalid name throws before anything is written.
  await syncConfigUsers(options.db, next, { logger: options.logger });
  await syncConfigAccess(options.db, next, { logger: options.logger });
  assignInPlace(
    live as unknown as Record<string, unknown>,
    next as unknown as Record<string, unknown>,
  );
  return { applied, restartNeeded };
}

/** One log line: what was applied and what needs a restart, or why nothing was. */
function logReload(logger: Logger, result: ReloadResult): void {
  if (result.error) {
    logger.error("config reload failed: nothing changed", {
      error: result.error,
    });
  } else {
    logger.info("config reloaded", {
      applied: result.applied.join(",") || "none",
      "restart_needed": result.restartNeeded.join(",") || "none",
    });
  }
}

/** `reload.json` for `onehub config reload`; a failure to write it is only logged. */
async function writeReloadResult(
  { live, logger }: ReloadOptions,
  result: ReloadResult,
): Promise<void> {
  await Deno.writeTextFile(
    reloadResultPath(live),
    JSON.stringify(result) + "\n",
    { mode: 0o600 },
  ).catch((error) =>
    logger.warn("could not write the reload result", {
      error: (error as Error).message,
    })
  );
}
