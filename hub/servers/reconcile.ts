/**
 * After a (re)start of the hub: which servers of the database are still
 * there. A server whose process is alive and answering is kept (its route
 * comes back); the rest are cleaned up, including spawns a killed hub left
 * half-done, whose process nobody recorded and which is found by its OAuth
 * client id (local spawner) or unit name (systemd).
 *
 * @module
 */
import { httpAnswers } from "../net.ts";
import {
  lookupUser,
  type SpawnerState,
  systemUsername,
} from "../../spawners/mod.ts";
import {
  serversWithStatus,
  type ServerWithUser,
  setServerStatus,
} from "../db/servers.ts";
import { clientIdFor } from "../db/oauth.ts";
import { serverLocation } from "./urls.ts";
import { spawnId } from "./spawn.ts";
import type { ServerManagerDeps, ServerOwner } from "./_types.ts";

/** What a reconcile uses of the manager. */
export interface ReconcileContext {
  deps: ServerManagerDeps;
  /** Removes route and credentials and marks the row stopped (the manager's clean-up). */
  cleanup(owner: ServerOwner, server: string, why: string): Promise<void>;
}

/** The owner of a server row read with its user's name (no second query). */
export function ownerOf(row: ServerWithUser): ServerOwner {
  return { id: row.user_id, name: row.user_name };
}

/** Where a stored server listens, from its spawner state (null: it never got that far). */
function targetOf(state: SpawnerState): string | null {
  return typeof state.ip === "string" && typeof state.port === "number"
    ? `http://${state.ip}:${state.port}`
    : null;
}

/** Whether a stored server's process is alive and answers at its prefix. */
async function answers(
  deps: ServerManagerDeps,
  row: ServerWithUser,
  state: SpawnerState,
): Promise<{ alive: boolean; target: string | null }> {
  const alive = Object.keys(state).length > 0 &&
    (await deps.spawner.poll(state).catch(() => ({ running: false })))
      .running;
  const target = targetOf(state);
  if (!alive || !target) return { alive, target: null };
  const { prefix } = serverLocation(deps.config, {
    user: row.user_name,
    server: row.name,
  });
  const ok = await (deps.isReady ?? httpAnswers)(target + prefix + "api");
  return { alive, target: ok ? target : null };
}

/** A kept server: its route (under today's key: subdomain_host may have changed) and `running`. */
async function adopt(
  deps: ServerManagerDeps,
  row: ServerWithUser,
  target: string,
): Promise<void> {
  const { routeKey } = serverLocation(deps.config, {
    user: row.user_name,
    server: row.name,
  });
  await deps.routes.removeOthers(
    { user: row.user_name, server: row.name },
    routeKey,
  );
  await deps.routes.add(routeKey, {
    target,
    data: {
      user: row.user_name,
      "server_name": row.name,
    },
  });
  await setServerStatus(
    deps.db,
    { userId: row.user_id, name: row.name },
    "running",
  );
}

/**
 * A hub killed between starting a process and saving its state leaves a
 * process nobody knows: find it by its OAuth client id in its environment
 * (local) or its unit name (systemd), and stop it.
 */
async function stopStray(
  deps: ServerManagerDeps,
  row: ServerWithUser,
): Promise<void> {
  const { user_name: userName, name: server } = row;
  const unixName = systemUsername(userName, deps.config.spawner.userPrefix);
  const unix = await lookupUser(unixName).catch(() => null);
  if (!unix) return;
  const marker = `JUPYTERHUB_CLIENT_ID=${clientIdFor(userName, server)}`;
  const stopped = await deps.spawner.stopStray(
    spawnId(unixName, server),
    unix,
    marker,
  ).catch((e) => {
    deps.logger.warn("could not look for a stray server", {
      user: userName,
      error: (e as Error).message,
    });
    return 0;
  });
  if (stopped) {
    deps.logger.info("stopped a server left by a killed hub", {
      user: userName,
      server,
    });
  }
}

/** Keeps or cleans up one stored server; true when kept. */
async function reconcileOne(
  ctx: ReconcileContext,
  row: ServerWithUser,
): Promise<boolean> {
  const { deps } = ctx;
  const own = deps.instanceId ?? "";
  if (row.hub_instance !== "" && row.hub_instance !== own) {
    // A copied data directory: the process belongs to the hub that
    // started it. Forget it here, and never stop it.
    deps.logger.warn(
      "server not adopted: another hub started it (this database was copied or moved)",
      { user: row.user_name, server: row.name },
    );
    await ctx.cleanup(ownerOf(row), row.name, "started by another hub");
    return false;
  }
  const state = JSON.parse(row.state) as SpawnerState;
  const { alive, target } = await answers(deps, row, state);
  if (alive && target) {
    await adopt(deps, row, target);
    // It answers: normal priority, in case the hub stopped while it was
    // still starting at spawner.start_nice (no-op for one already there).
    await deps.spawner.answered?.(state).catch(() => {});
    return true;
  }
  if (alive) {
    await deps.spawner.stop(state).catch(() => {});
  } else await stopStray(deps, row);
  await ctx.cleanup(ownerOf(row), row.name, "gone after restart");
  return false;
}

/**
 * After a (re)start of the hub: keeps servers whose process is alive and
 * answering (their routes come back), cleans up the rest, including spawns
 * a killed hub left half-done. Returns the `user/server` keys of each.
 */
export async function reconcileServers(
  ctx: ReconcileContext,
): Promise<{ kept: string[]; cleaned: string[] }> {
  const rows = await serversWithStatus(ctx.deps.db, [
    "spawning",
    "running",
    "stopping",
  ]);
  const kept: string[] = [];
  const cleaned: string[] = [];
  for (const row of rows) {
    const label = `${row.user_name}/${row.name}`;
    (await reconcileOne(ctx, row) ? kept : cleaned).push(label);
  }
  return { kept, cleaned };
}
