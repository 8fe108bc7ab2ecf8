/**
 * What a test needs to build a hub in its own process from a resolved
 * config: `await hubParts(config)` opens and migrates the config's
 * database and returns the options `createHub`/`startHub` take besides
 * the test's own (the config's authenticator, a silent logger and a fixed
 * cookie secret), with the database handle to close afterwards.
 *
 * @module
 */
import type { HubConfig } from "../../hub/config/mod.ts";
import {
  type DatabaseHandle,
  migrateToLatest,
  openDatabase,
} from "../../hub/db/mod.ts";
import { createAuthenticator } from "../../hub/auth/mod.ts";
import { silentLogger } from "../../hub/observe/log.ts";
import type { HubOptions } from "../../hub/mod.ts";

/** The database handle and the `createHub` options every such test passes. */
export interface HubParts {
  handle: DatabaseHandle;
  options: Pick<
    HubOptions,
    "config" | "db" | "authenticator" | "logger" | "cookieSecret"
  >;
}

/**
 * Opens and migrates `config.dbPath`; the options for `createHub` with a
 * cookie secret of 32 bytes of `secretByte`.
 */
export async function hubParts(
  config: HubConfig,
  secretByte: number,
): Promise<HubParts> {
  const handle = openDatabase(config.dbPath);
  await migrateToLatest(handle);
  return {
    handle,
    options: {
      config,
      db: handle.db,
      authenticator: createAuthenticator(config),
      logger: silentLogger,
      cookieSecret: new Uint8Array(32).fill(secretByte),
    },
  };
}
