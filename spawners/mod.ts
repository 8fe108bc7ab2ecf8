/**
 * Spawners start, poll and stop single-user servers as Linux users, and
 * manage the accounts they run as. One interface, two drivers:
 *
 * - `local`: a process in its own session via `setpriv` (local_process.ts);
 * - `systemd`: a transient unit via `systemd-run` (systemd.ts).
 *
 * A driver gets a fully resolved {@linkcode SpawnRequest} (user, argv, the
 * complete environment, port, limits) and returns JSON state that the hub
 * stores and hands back after a restart; drivers keep nothing per user in
 * memory (jupyterhub's `get_state`/`load_state`). Failures are
 * {@linkcode SpawnError}s with a `reason` to show.
 *
 * This folder imports only Web/Deno APIs, `node:*` and its own files — never
 * `hub/`, `proxy/` or `templates/` (ARCHITECTURE.md §2 rule 2).
 *
 * @example
 * ```ts
 * // Defined, not run here: it makes a Linux account and starts its server.
 * async function serveAlice() {
 *   const spawner = createSpawner("local");
 *   const user = await ensureUser(systemUsername("alice", "jupyter-"));
 *   const port = await freePort();
 *   const { url, state } = await spawner.start({
 *     id: user.name, user, argv: ["/usr/bin/jupyterhub-singleuser"],
 *     env: { HOME: user.home }, ip: "127.0.0.1", port, cwd: user.home,
 *     logFile: "/var/lib/onehub/logs/alice.log",
 *   });
 *   await spawner.poll(state); // { running: true }
 *   await spawner.stop(state);
 *   return url;
 * }
 * ```
 *
 * @module
 */
import { createLocalProcessSpawner } from "./local_process.ts";
import { createSystemdSpawner } from "./systemd.ts";
import { SpawnError } from "./_spawn_error.ts";
import type { Spawner, SpawnerOptions } from "./_types.ts";

export type {
  PollResult,
  Spawner,
  SpawnerOptions,
  SpawnerState,
  SpawnLimits,
  SpawnRequest,
  StartResult,
  StopOptions,
  SystemUser,
} from "./_types.ts";
export { SpawnError };
export {
  ensureUser,
  lookupUser,
  setprivArgs,
  systemUsername,
} from "./system_user.ts";
export { freePort } from "./_ports.ts";
export { tailFile } from "./_log_file.ts";
export { groupAlive, readProcStat, signalGroup } from "./_proc.ts";
export { machineMemAvailable } from "./_memory.ts";

/**
 * The driver named `kind`.
 *
 * @param options paths of setpriv, systemd-run and systemctl, and a clock
 */
export function createSpawner(
  kind: "local" | "systemd",
  options: SpawnerOptions = {},
): Spawner {
  if (kind === "local") return createLocalProcessSpawner(options);
  if (kind === "systemd") return createSystemdSpawner(options);
  throw new SpawnError(
    `Cannot create spawner "${kind}": use "local" or "systemd"`,
  );
}
