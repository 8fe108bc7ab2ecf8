/**
 * What running servers use: the memory each one has now (as the spawner
 * measures it) and the limit it was started with, for the admin page and
 * the metrics.
 *
 * @module
 */
import type { SpawnerState } from "../../spawners/mod.ts";
import { serversWithStatus } from "../db/servers.ts";
import type { ServerManagerDeps } from "./_types.ts";

/** A stored spawner state, or null when it is not a JSON object. */
function parsedState(text: string): SpawnerState | null {
  try {
    const state = JSON.parse(text);
    return state && typeof state === "object" ? state as SpawnerState : null;
  } catch {
    return null;
  }
}

/** Each running server's memory in bytes (`used`, where measurable) and limit (`limits`), keyed `user/server`. */
export async function memoryOfRunning(
  deps: Pick<ServerManagerDeps, "db" | "spawner">,
): Promise<{ used: Record<string, number>; limits: Record<string, number> }> {
  const rows = await serversWithStatus(deps.db, ["running"]);
  const used: Record<string, number> = {};
  const limits: Record<string, number> = {};
  await Promise.all(rows.map(async (row) => {
    const state = parsedState(row.state);
    if (!state) return;
    const key = `${row.user_name}/${row.name}`;
    const limit = (state as { limits?: { memoryBytes?: unknown } }).limits
      ?.memoryBytes;
    if (typeof limit === "number") limits[key] = limit;
    const bytes = await deps.spawner.memory(state).catch(() => null);
    if (bytes !== null) used[key] = bytes;
  }));
  return { used, limits };
}
