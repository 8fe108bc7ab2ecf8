/**
 * The types the server lifecycle's modules share (manager.ts, spawn.ts,
 * reconcile.ts, credentials.ts, progress.ts), kept apart so those modules
 * import each other's types without an import cycle.
 *
 * @module
 */
import type { Spawner } from "../../spawners/mod.ts";
import type { HubConfig } from "../config/mod.ts";
import type { Db } from "../db/mod.ts";
import type { UserRow } from "../db/schema.ts";
import type { Logger } from "../observe/log.ts";
import type { EventLog } from "../observe/events.ts";
import type { HubMetrics } from "../observe/metrics.ts";
import type { CourseFiles } from "./course_files.ts";
import type { RouteService } from "./routes.ts";

/** Who owns a server: all a stop or a clean-up needs of the user. */
export type ServerOwner = Pick<UserRow, "id" | "name">;

/** One progress event (JupyterHub's REST API reference). */
export interface ProgressEvent {
  progress?: number;
  message: string;
  "html_message"?: string;
  ready?: boolean;
  failed?: boolean;
  url?: string;
}

/** Dependencies of the server manager; hub/mod.ts's buildParts() passes them all. */
export interface ServerManagerDeps {
  db: Db;
  config: HubConfig;
  routes: RouteService;
  spawner: Spawner;
  logger: Logger;
  /** Where spawns, stops and exits are recorded (the hub's one event log). */
  events: EventLog;
  /** Spawn, stop and poll durations (the hub's one set). */
  metrics: HubMetrics;
  /**
   * The time of every timestamp the manager writes (rows, tokens, OAuth
   * clients). Durations and deadlines are measured on the monotonic clock
   * instead: a wall-clock jump must not cut a spawn short.
   */
  now: () => Date;
  /** The hub API URL servers call, e.g. "http://127.0.0.1:8081/hub/api" (known once the hub listens). */
  hubApiUrl: () => string;
  /** Course files merged into the home before the server starts. */
  courseFiles: CourseFiles;
  /** Readiness check (a fake spawner brings its own). @default {an HTTP GET without redirects} */
  isReady?: (url: string) => Promise<boolean>;
  /**
   * This hub's instance id (hub/db/hub_state.ts), recorded with every
   * server it starts; `reconcile` adopts only its own. @default {""}
   */
  instanceId?: string;
  /**
   * Runs before a start is accepted (the sign-in's refresh,
   * hub/auth/oauth/signin.ts); what it returns is added to the server's
   * environment. A throw refuses the start.
   */
  beforeSpawn?: (user: UserRow) => Promise<Record<string, string>>;
  /**
   * Bytes of memory the machine has available, checked against
   * `spawner.min_free_memory` when a spawn's turn comes; null when unknown
   * (the check is skipped). @default {MemAvailable of /proc/meminfo}
   */
  memAvailable?: () => Promise<number | null>;
}

/** Who asked for a stop, and why (the event log's actor and reason). */
export interface StopCause {
  actor: string | null;
  reason: string;
  /** The event kind. @default {"server.stop"} */
  kind?: string;
}
