/**
 * One spawn, step by step (what jupyterhub's `User.spawn` does):
 *
 * 0. when its turn comes (not when it joins the line), the machine must
 *    have `spawner.min_free_memory` available, else the spawn fails with
 *    the numbers before anything is made;
 * 1. the server row says `spawning` before anything starts, so a restarted
 *    hub knows to look;
 * 2. the Linux account (made when the config says so), then the course
 *    files merged as the user;
 * 3. the server's credentials (credentials.ts);
 * 4. the spawner starts the process, bounded by `spawner.start_timeout`;
 * 5. its state is saved at once (a SIGKILLed hub can find the process
 *    again), then it must answer: any status below 500 from `{prefix}api`,
 *    redirects not followed, within `spawner.http_timeout`;
 * 6. the proxy route, the row `running`, the event with its timings.
 *
 * Every step is reported to the progress stream; a failure undoes all of
 * it and keeps the reason for the spawn-pending page.
 *
 * @module
 */
import { httpAnswers } from "../net.ts";
import { sleep, withTimeout } from "../concurrency.ts";
import {
  ensureUser,
  freePort,
  lookupUser,
  machineMemAvailable,
  SpawnError,
  type SpawnerState,
  type StartResult,
  type SystemUser,
  systemUsername,
  tailFile,
} from "../../spawners/mod.ts";
import type { HubConfig } from "../config/mod.ts";
import type { ServerRow, UserRow } from "../db/schema.ts";
import {
  getServer,
  recordSpawning,
  saveServerState,
  setServerStatus,
} from "../db/servers.ts";
import {
  serverPrefix,
  singleUserEnv,
  type SingleUserEnvInput,
} from "./single_user_env.ts";
import { serverLocation } from "./urls.ts";
import { resolveSpawn, type SpawnChoice } from "./profiles.ts";
import { groupNamesByUser } from "../db/groups.ts";
import type { ServerManagerDeps, ServerOwner } from "./_types.ts";
import type { PendingSpawn } from "./progress.ts";
import { fillServerFilter, issueServerCredentials } from "./credentials.ts";

/** A unit/log label for a server: `alice` or `alice-gpu`, reduced to `[a-z0-9._@-]`. */
export function spawnId(unixName: string, server: string): string {
  if (!server) return unixName;
  const safe = server.toLowerCase().replace(/[^a-z0-9._@-]/g, "-");
  if (safe === server) return `${unixName}-${server}`;
  // Different names could reduce to the same label: keep them apart with a short checksum.
  let h = 0;
  for (const ch of server) h = (h * 31 + ch.codePointAt(0)!) >>> 0;
  return `${unixName}-${safe}-${h.toString(16).padStart(8, "0").slice(0, 6)}`;
}

/**
 * The Linux account a hub user's servers run as (`spawner.user_prefix`),
 * made when `create` (`spawner.create_system_users`); refused below
 * `spawner.min_uid`. The one rule for whose account a hub user gets: spawns
 * and the course files' update both ask it.
 *
 * @throws {SpawnError} naming the account and the fix.
 */
export async function unixAccountOf(
  name: string,
  config: HubConfig,
  options: { create: boolean },
): Promise<SystemUser> {
  const unixName = systemUsername(name, config.spawner.userPrefix);
  let unix = await lookupUser(unixName);
  if (!unix && options.create) unix = await ensureUser(unixName);
  if (!unix) {
    throw new SpawnError(
      `No Linux account named "${unixName}" exists for ${name}: create it (useradd -m ${unixName}) or set spawner.create_system_users`,
    );
  }
  // A hub user named after a system account (an OAuth login "daemon", say) must not become it.
  if (unix.uid < config.spawner.minUid) {
    throw new SpawnError(
      `The Linux account "${unixName}" (uid ${unix.uid}) is a system account: servers never run as accounts below uid ${config.spawner.minUid} (spawner.min_uid); give hub users accounts of their own with spawner.user_prefix and spawner.create_system_users`,
    );
  }
  return unix;
}

/**
 * The spawner settings of a server's environment, as JupyterHub's
 * Spawner.get_env uses them: env_keep from the hub's own environment,
 * the limits (MEM_LIMIT, CPU_LIMIT), notebook_dir, debug,
 * disable_user_config, then spawner.environment with the chosen
 * profile's over it.
 */
export function spawnSettings(
  config: HubConfig,
  of: { user: string; choice: SpawnChoice; server?: string },
): Partial<SingleUserEnvInput> {
  const { user, choice, server = "" } = of;
  const kept: Record<string, string> = {};
  for (const name of config.spawner.envKeep) {
    const value = Deno.env.get(name);
    if (value !== undefined) kept[name] = value;
  }
  const { notebookDir, debug, disableUserConfig } = config.spawner;
  return {
    kept,
    clientAllowedScopes: fillServerFilter(
      config.spawner.oauthClientAllowedScopes,
      { user, server },
    ),
    limits: choice.limits,
    ...(notebookDir
      ? { rootDir: notebookDir.replaceAll("{username}", user) }
      : {}),
    debug,
    disableUserConfig,
    extra: { ...config.spawner.environment, ...choice.environment },
  };
}

/**
 * Step 0, what a start gets: the user's options (the last ones when none
 * are given) and, from the profiles and group limits, its limits, default
 * URL and environment; the chosen profile is kept in the options.
 *
 * @throws {HubError} 400 for a profile the user may not pick.
 */
export async function chooseSpawn(
  deps: Pick<ServerManagerDeps, "config" | "db">,
  start: {
    user: UserRow;
    row: ServerRow | undefined;
    given: Record<string, unknown> | undefined;
  },
): Promise<{ options: Record<string, unknown>; choice: SpawnChoice }> {
  const { config, db } = deps;
  const { user, row, given } = start;
  const options = given ?? (row ? JSON.parse(row.user_options) : {});
  const groups = (await groupNamesByUser(db, [user.id])).get(user.id) ?? [];
  const { memoryBytes, cpu, tasks } = config.limits;
  const choice = resolveSpawn({
    profiles: config.profiles,
    groupLimits: config.limits.groups,
    global: {
      ...(memoryBytes !== null ? { memoryBytes } : {}),
      ...(cpu !== null ? { cpu } : {}),
      ...(tasks ? { tasks } : {}),
    },
    defaultUrl: config.spawner.defaultUrl,
    groups,
    userOptions: options,
  });
  return {
    options: choice.profile === null
      ? options
      : { ...options, profile: choice.profile },
    choice,
  };
}

/** What a spawn uses of the manager. */
export interface SpawnContext {
  deps: ServerManagerDeps;
  /** Removes route and credentials and marks the row stopped (the manager's clean-up). */
  cleanup(owner: ServerOwner, server: string, why: string): Promise<void>;
  /** The reason of each server's last failed spawn, by key. */
  failures: Map<string, string>;
}

/** One spawn's inputs. */
export interface SpawnJob {
  user: UserRow;
  server: string;
  /** The options the start was asked with (none: the last ones). */
  userOptions: Record<string, unknown> | undefined;
  pending: PendingSpawn;
}

const MIB = 1024 ** 2;

/**
 * Step 0: the machine has `spawner.min_free_memory` available (MemAvailable),
 * or the spawn fails here, before anything is made, and the hub logs a
 * warning with the numbers. An unreadable figure skips the check.
 *
 * @throws {SpawnError} saying how much there is, how much a server needs
 * and what to do.
 */
async function checkFreeMemory(
  ctx: SpawnContext,
  job: SpawnJob,
): Promise<void> {
  const { config, logger } = ctx.deps;
  const needed = config.spawner.minFreeMemoryBytes;
  if (needed === null) return;
  const read = ctx.deps.memAvailable ?? machineMemAvailable;
  const available = await read().catch(() => null);
  if (available === null || available >= needed) return;
  // Rounded so the numbers never read as enough: available down, needed up.
  const [have, need] = [Math.floor(available / MIB), Math.ceil(needed / MIB)];
  logger.warn("spawn refused: the machine is low on memory", {
    user: job.user.name,
    server: job.server,
    availableMiB: have,
    neededMiB: need,
  });
  throw new SpawnError(
    `The machine is out of memory for a new server: ${have} MiB available, a server needs ${need} MiB (spawner.min_free_memory). Stop servers that are not in use (the admin page lists them with their memory) or add memory to the machine.`,
  );
}

/** Step 1: the row says "spawning" before anything starts, so a restarted hub knows to look. */
async function markSpawning(ctx: SpawnContext, job: SpawnJob): Promise<void> {
  const { db, config, instanceId = "", now } = ctx.deps;
  const { user, server, userOptions } = job;
  const previous = await getServer(db, user.id, server);
  await recordSpawning(db, {
    userId: user.id,
    name: server,
    url: serverPrefix(config.baseUrl, { user: user.name, server }),
    userOptions: userOptions ??
      (previous ? JSON.parse(previous.user_options) : {}),
    hubInstance: instanceId,
    at: now().toISOString(),
  });
}

/** Step 2b: the course files, merged as the user; a failure is logged, never fatal. */
async function mergeCourseFiles(
  ctx: SpawnContext,
  job: SpawnJob,
  unix: SystemUser,
): Promise<void> {
  const { courseFiles, events } = ctx.deps;
  if (!courseFiles.enabled) return;
  const p = job.pending;
  p.emit({ progress: 25, message: "Updating course files..." });
  await courseFiles.mergeFor(unix, { actor: p.actor }).catch((error) =>
    events.record("course_files.failed", {
      user: job.user.name,
      actor: p.actor,
      reason: (error as Error).message,
    })
  );
}

/** Step 4: the spawner starts the process (bounded by spawner.start_timeout). */
async function launch(
  ctx: SpawnContext,
  job: SpawnJob,
  started: { unix: SystemUser; token: string },
): Promise<{ started: StartResult; logFile: string }> {
  const { config, spawner } = ctx.deps;
  const { user, server, pending: { choice } } = job;
  const { unix, token } = started;
  const ip = "127.0.0.1";
  const port = await freePort(ip);
  const env = singleUserEnv({
    user: user.name,
    serverName: server,
    apiToken: token,
    hubApiUrl: ctx.deps.hubApiUrl(),
    baseUrl: config.baseUrl,
    publicUrl: config.publicUrl,
    serverOrigin: serverLocation(config, { user: user.name, server }).origin,
    ip,
    port,
    ...(choice.defaultUrl ? { defaultUrl: choice.defaultUrl } : {}),
    unixUser: { name: unix.name, home: unix.home, shell: unix.shell },
    ...spawnSettings(config, { user: user.name, choice, server }),
  });
  const logFile = `${config.dataDir}/logs/${unix.name}${
    server ? "-" + server : ""
  }.log`;
  await Deno.mkdir(`${config.dataDir}/logs`, { recursive: true, mode: 0o700 });
  const starting = spawner.start({
    id: spawnId(unix.name, server),
    user: unix,
    argv: config.spawner.cmd,
    env,
    ip,
    port,
    cwd: unix.home,
    logFile,
    limits: choice.limits,
    ...(config.spawner.startNice
      ? { startNice: config.spawner.startNice }
      : {}),
  });
  const seconds = config.spawner.startTimeoutSeconds;
  const result = await withTimeout(starting, {
    ms: seconds * 1000,
    onTimeout: () => {
      // A start that returns after the hub gave up leaves no server behind.
      starting.then((late) => spawner.stop(late.state)).catch(() => {});
      return new SpawnError(
        `the spawner did not start the server within ${seconds} seconds (spawner.start_timeout)`,
      );
    },
  });
  return { started: result, logFile };
}

/** Step 5b: polls until the server answers, exits, the spawn is cancelled or http_timeout passes. */
async function waitHttp(
  ctx: SpawnContext,
  job: SpawnJob,
  server: { url: string; state: SpawnerState; logFile: string },
): Promise<void> {
  const { config, spawner } = ctx.deps;
  const isReady = ctx.deps.isReady ?? httpAnswers;
  const seconds = config.spawner.httpTimeoutSeconds;
  const deadline = performance.now() + seconds * 1000;
  let attempt = 0;
  let polledAt = -Infinity;
  while (true) {
    if (job.pending.cancelled) throw new Error("cancelled");
    if (await isReady(server.url)) return;
    // Is it still alive? Once a second, not per HTTP try: the systemd
    // driver's poll is a `systemctl show` process (measured: 105 per spawn
    // at every try, 7 starts at once 1.5 s slower than the local driver).
    const due = performance.now() - polledAt >= POLL_EVERY_MS;
    if (due) polledAt = performance.now();
    const poll = !due ? { running: true } : await spawner.poll(server.state)
      .catch(() => ({ running: true as const }));
    if (!poll.running) {
      const tail = await tailFile(server.logFile, 2000).catch(() => "");
      throw new SpawnError(
        `the server exited before answering${
          tail ? `; its last output:\n${tail}` : ""
        }`,
      );
    }
    if (performance.now() > deadline) {
      throw new SpawnError(
        `the server never answered at ${server.url} after ${seconds} seconds`,
      );
    }
    // Poll a local server often at first (its start is usually ~1 s; every poll is one loopback GET),
    // then back off: the hub's own overhead stays within one short interval.
    await sleep(attempt++ < 100 ? 20 : 200);
  }
}

/** How often {@linkcode waitHttp} asks the spawner whether the server still runs. */
const POLL_EVERY_MS = 1000;

/** Step 6: routed, marked running, logged with its timings (monotonic milliseconds). */
async function markReady(
  ctx: SpawnContext,
  job: SpawnJob,
  ready: { url: string; startedAt: number; readyAt: number },
): Promise<void> {
  const { routes, metrics, events, db, config } = ctx.deps;
  const { user, server, pending } = job;
  const { routeKey } = serverLocation(config, { user: user.name, server });
  const added = metrics.proxyAdd.time();
  await routes.add(routeKey, {
    target: ready.url,
    data: {
      user: user.name,
      "server_name": server,
    },
  });
  added({ status: "success" });
  await setServerStatus(db, { userId: user.id, name: server }, "running");
  const totalMs = performance.now() - pending.requestedAt;
  metrics.spawnDuration.observe(totalMs / 1000, { status: "success" });
  events.record("server.ready", {
    user: user.name,
    server,
    url: ready.url,
    "prepare_ms": Math.round(ready.startedAt - pending.requestedAt),
    "listen_ms": Math.round(ready.readyAt - ready.startedAt),
    "total_ms": Math.round(totalMs),
  });
}

/** A failed or cancelled spawn: the process stopped, everything cleaned up, the reason kept. */
async function spawnFailed(
  ctx: SpawnContext,
  job: SpawnJob,
  failure: { state: SpawnerState | null; error: unknown },
): Promise<void> {
  const { user, server, pending: p } = job;
  const { error, state } = failure;
  const reason = error instanceof SpawnError
    ? error.reason
    : error instanceof Error
    ? error.message
    : String(error);
  if (!p.cancelled) {
    const seconds = (performance.now() - p.requestedAt) / 1000;
    ctx.deps.metrics.spawnDuration.observe(seconds, { status: "failure" });
    ctx.deps.events.record("server.spawn_failed", {
      user: user.name,
      server,
      reason,
    });
  }
  if (state) await ctx.deps.spawner.stop(state).catch(() => {});
  await ctx.cleanup(user, server, p.cancelled ? "cancelled" : "failed");
  // A spawn stopped on request is no failure to show on the spawn-pending page.
  if (!p.cancelled) ctx.failures.set(p.key, reason);
  p.emit({
    progress: 100,
    failed: true,
    message: p.cancelled ? "Spawn cancelled" : `Spawn failed: ${reason}`,
  });
}

/**
 * Jupyter's words (notebook 6, jupyter_server 2) when the port chosen for a
 * server was bound by another process between `freePort()` and the
 * server's own bind: a kernel's random port, say. Measured: 1 spawn in 100
 * during a class start.
 */
const PORT_TAKEN = /\bport \d+ is (?:already in use|not available)/;

/** Launches tried per spawn when the port keeps being taken. */
const PORT_ATTEMPTS = 3;

/** What {@linkcode launchUntilAnswered} needs beside the job. */
interface LaunchInput {
  unix: SystemUser;
  token: string;
  /** Told each state as soon as it exists (cleanup on failure). */
  saved: (state: SpawnerState) => void;
}

/**
 * Steps 4–5: the spawner starts the process, its state is saved, the hub
 * waits for HTTP. A server that exits because its port was taken meanwhile
 * is started again on a new port (at most {@linkcode PORT_ATTEMPTS} times).
 */
async function launchUntilAnswered(
  ctx: SpawnContext,
  job: SpawnJob,
  input: LaunchInput,
): Promise<{ url: string; state: SpawnerState }> {
  const { user, server, pending: p } = job;
  const { config, db } = ctx.deps;
  const prefix = serverPrefix(config.baseUrl, { user: user.name, server });
  for (let attempt = 1;; attempt++) {
    const { started, logFile } = await launch(ctx, job, input);
    // The limits it got ride along (drivers ignore keys they do not know).
    const state = { ...started.state, limits: p.choice.limits };
    input.saved(state);
    if (p.cancelled) throw new Error("cancelled");
    await saveServerState(db, { userId: user.id, name: server }, state);
    p.emit({ progress: 75, message: "Waiting for the server to answer..." });
    try {
      await waitHttp(ctx, job, {
        url: started.url + prefix + "api",
        state,
        logFile,
      });
      return { url: started.url, state };
    } catch (error) {
      const taken = error instanceof SpawnError &&
        PORT_TAKEN.test(error.message);
      if (!taken || attempt >= PORT_ATTEMPTS) throw error;
      // Whatever is left of it (a failed unit keeps its name) goes first.
      await ctx.deps.spawner.stop(state).catch(() => {});
      ctx.deps.logger.warn(
        "the server's port was taken before it bound it; starting it again on another",
        {
          user: user.name,
          server,
          attempt,
        },
      );
      p.emit({
        progress: 50,
        message: "Its port was taken meanwhile: starting again on another...",
      });
    }
  }
}

/** Steps 2–5: the account, course files, credentials, then the process until it answers. */
async function startAndAnswer(
  ctx: SpawnContext,
  job: SpawnJob,
  saved: (state: SpawnerState) => void,
): Promise<{ url: string; startedAt: number; readyAt: number }> {
  const { user, server, pending: p } = job;
  const { config } = ctx.deps;
  const unix = await unixAccountOf(user.name, config, {
    create: config.spawner.createSystemUsers,
  });
  await mergeCourseFiles(ctx, job, unix);
  const token = await issueServerCredentials(ctx.deps, { user, server });
  p.emit({ progress: 50, message: "Spawning server..." });
  const startedAt = performance.now();
  const { url, state } = await launchUntilAnswered(ctx, job, {
    unix,
    token,
    saved,
  });
  const readyAt = performance.now();
  // It answers: back to normal priority (spawner.start_nice).
  await ctx.deps.spawner.answered?.(state).catch((e) =>
    ctx.deps.logger.warn("could not restore the server's priority", {
      user: user.name,
      error: (e as Error).message,
    })
  );
  return { url, startedAt, readyAt };
}

/** One spawn, as the steps above; progress events tell the browser where it is. */
export async function runSpawn(
  ctx: SpawnContext,
  job: SpawnJob,
): Promise<void> {
  const { user, server, pending: p } = job;
  let state: SpawnerState | null = null;
  try {
    ctx.deps.events.record("server.spawn", {
      user: user.name,
      server,
      actor: p.actor,
    });
    p.emit({ progress: 0, message: "Server requested" });
    await checkFreeMemory(ctx, job);
    await markSpawning(ctx, job);
    const ready = await startAndAnswer(ctx, job, (saved) => state = saved);
    await markReady(ctx, job, ready);
    const { url } = serverLocation(ctx.deps.config, {
      user: user.name,
      server,
    });
    p.emit({
      progress: 100,
      ready: true,
      message: `Server ready at ${url}`,
      "html_message": `Server ready at <a href="${url}">${url}</a>`,
      url,
    });
  } catch (error) {
    await spawnFailed(ctx, job, { state, error });
  } finally {
    p.finish();
  }
}
