/**
 * The types of the spawner interface (ARCHITECTURE.md §2 rule 2). They live
 * here so the drivers can use them without importing `mod.ts`, which imports
 * the drivers.
 *
 * @module
 */

/** A Linux account, as `getent passwd` reports it. */
export interface SystemUser {
  name: string;
  uid: number;
  gid: number;
  home: string;
  shell: string;
}

/** Resource limits; only the systemd driver enforces them. */
export interface SpawnLimits {
  /** `MemoryMax=` in bytes. */
  memoryBytes?: number;
  /** CPU cores, e.g. 1.5 (`CPUQuota=150%`). */
  cpu?: number;
  /** `TasksMax=`: processes and threads. */
  tasks?: number;
}

/** Everything a driver needs, already resolved by the hub. */
export interface SpawnRequest {
  /** "alice" or "alice-gpu": unit name and log label, `[a-z0-9._@-]+`. */
  id: string;
  /** The account the server runs as; never root. */
  user: SystemUser;
  /** The command, e.g. `["/usr/bin/jupyterhub-singleuser"]`. */
  argv: string[];
  /** The complete environment of the server; nothing is added. */
  env: Record<string, string>;
  /** Where the server will listen (chosen by the hub, see `freePort`). */
  ip: string;
  port: number;
  /** Working directory, usually the user's home. */
  cwd: string;
  limits?: SpawnLimits;
  /** stdout and stderr are appended here (created 0600, owned by the user). */
  logFile?: string;
  /**
   * Niceness (0..19) the server starts with, absolute (never the hub's
   * own), until `answered` puts it back to 0: while a class starts, the
   * hub and the servers already running keep the CPU they need. The local
   * driver sets the niceness and the session's autogroup; the systemd
   * driver a lower `CPUWeight=`. @default {0}
   */
  startNice?: number;
}

/** JSON the hub stores and hands back after a restart. */
export type SpawnerState = Record<string, unknown>;

/** What `start` returns. */
export interface StartResult {
  /** Where to reach the server, e.g. "http://127.0.0.1:47213". */
  url: string;
  state: SpawnerState;
}

/** What `poll` returns; `exitCode` is null when unknown. */
export type PollResult =
  | { running: true }
  | { running: false; exitCode: number | null };

/** Options of `Spawner.stop`. */
export interface StopOptions {
  /** Time between SIGTERM and SIGKILL. @default {5000} */
  timeoutMs?: number;
}

/**
 * A way to run single-user servers. Drivers keep no per-user objects in
 * memory: everything they need later is in the returned state.
 */
export interface Spawner {
  kind: "local" | "systemd";
  /** Starts the server; resolves once the process exists (not once it answers). */
  start(request: SpawnRequest): Promise<StartResult>;
  /** Whether the server described by `state` still runs. */
  poll(state: SpawnerState): Promise<PollResult>;
  /** Stops the server; harmless when it is already gone. */
  stop(state: SpawnerState, options?: StopOptions): Promise<void>;
  /**
   * Stops a server whose state was never saved (the hub died between
   * starting it and writing the state down): local finds processes of
   * `user` whose environment holds `marker` ("NAME=value"); systemd stops
   * the unit named after `id`. Resolves with how many it stopped.
   */
  stopStray(id: string, user: SystemUser, marker: string): Promise<number>;
  /** Memory the server uses now in bytes, or null when unknown (gone, no cgroup v2…). */
  memory(state: SpawnerState): Promise<number | null>;
  /** The server answered: it leaves the start's lower priority (`startNice`), if the driver has one. */
  answered?(state: SpawnerState): Promise<void>;
}

/** Paths of the tools the drivers run, and a clock (for tests). */
export interface SpawnerOptions {
  /** @default {"setpriv"} */
  setprivPath?: string;
  /** @default {"systemd-run"} */
  systemdRunPath?: string;
  /** @default {"systemctl"} */
  systemctlPath?: string;
  /** Milliseconds clock for stop deadlines. @default {Date.now} */
  now?: () => number;
}
