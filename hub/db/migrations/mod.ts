/**
 * Every migration, listed statically so `deno compile` includes them (no
 * directory scanning at run time). Names sort in the order they apply.
 *
 * @module
 */
import type { Migration } from "kysely/migration";
import * as m0001 from "./0001_initial.ts";
import * as m0002 from "./0002_routes.ts";
import * as m0003 from "./0003_hub_state.ts";
import * as m0004 from "./0004_events.ts";
import * as m0005 from "./0005_services.ts";
import * as m0006 from "./0006_role_sources.ts";
import * as m0007 from "./0007_shares.ts";
import * as m0008 from "./0008_server_credentials.ts";
import * as m0009 from "./0009_share_base_scopes.ts";

/** name → migration, applied in name order. */
export const MIGRATIONS: Record<string, Migration> = {
  "0001_initial": m0001,
  "0002_routes": m0002,
  "0003_hub_state": m0003,
  "0004_events": m0004,
  "0005_services": m0005,
  "0006_role_sources": m0006,
  "0007_shares": m0007,
  "0008_server_credentials": m0008,
  "0009_share_base_scopes": m0009,
};
