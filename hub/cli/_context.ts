/**
 * What several commands share: loading the configuration named by
 * `--config` and opening the configured database (migrated).
 *
 * @module
 */
import type { HubConfig } from "../config.ts";
import { loadConfig } from "../config_file.ts";
import {
  type DatabaseHandle,
  migrateToLatest,
  openDatabase,
} from "../db/mod.ts";

/** Loads config: defaults < file < env < flags. */
export function configFrom(
  path: string | undefined,
  flags: Record<string, unknown> = {},
): Promise<HubConfig> {
  return loadConfig({ ...(path ? { path } : {}), flags });
}

/** Opens the configured database, creating its folder and applying migrations. */
export async function openConfiguredDb(
  config: HubConfig,
): Promise<DatabaseHandle> {
  const dir = config.dbPath.replace(/\/[^/]*$/, "") || "/";
  await Deno.mkdir(dir, { recursive: true, mode: 0o700 });
  const handle = openDatabase(config.dbPath);
  await migrateToLatest(handle);
  return handle;
}
